//! `Sequential` → ONNX: one `Gemm` per dense layer, its activation as ONNX ops, dropout left out. A quantized
//! model's layers become the int8 product it computes (see [`Graph::int8_dense`]).

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto, tensor_proto, tensor_shape_proto, type_proto,
};
use super::{INPUT, OUTPUT};
use crate::nn::{Layer, Sequential};
use ndarray::{ArrayD, ArrayView2};
use oximl_kernel::{Activation, PackedI8};

/// The opset of models without GELU: 17, what every current runtime reads.
const OPSET: i64 = 17;
/// The opset of models with GELU, which became an operator (`Gelu`) in opset 20.
const OPSET_GELU: i64 = 20;

/// The model as an ONNX `ModelProto`.
pub(super) fn model(seq: &Sequential) -> ModelProto {
    let uses_gelu = seq.layers().iter().any(|l| matches!(l, Layer::Dense(d) if d.activation == Activation::Gelu));
    let opset = if uses_gelu { OPSET_GELU } else { OPSET };
    let mut graph = Graph { opset, ..Graph::default() };
    let mut cur = INPUT.to_string(); // the name of the value flowing through the graph
    let mut width = seq.input_dim();
    let mut weights = seq.get_weights().into_iter();
    let mut dense_index = 0;
    for (l, layer) in seq.layers().iter().enumerate() {
        let Layer::Dense(d) = layer else { continue };
        let name = format!("dense_{dense_index}");
        dense_index += 1;
        let (kernel, bias) = (weights.next(), if d.use_bias { weights.next() } else { None });
        cur = match seq.quantized_kernel(l) {
            Some(packed) => graph.int8_dense(&name, cur, packed, bias),
            None => {
                let mut inputs = vec![cur, format!("{name}/kernel")];
                graph.initializer(&inputs[1], kernel);
                if bias.is_some() {
                    inputs.push(format!("{name}/bias"));
                    graph.initializer(&inputs[2], bias);
                }
                graph.node("Gemm", &name, inputs, Vec::new())
            }
        };
        cur = graph.activation(d.activation, &name, cur);
        width = d.units;
    }
    if graph.nodes.is_empty() {
        graph.node("Identity", "identity", vec![cur], Vec::new());
    }
    // The last node writes the graph's output.
    if let Some(last) = graph.nodes.last_mut() {
        last.output = vec![OUTPUT.to_string()];
    }
    let mut metadata_props =
        vec![StringStringEntryProto { key: Some("oximl.kind".into()), value: Some(crate::nn::KIND.into()) }];
    if seq.quantization().is_some() {
        metadata_props.push(StringStringEntryProto {
            key: Some("oximl.quantization".into()),
            value: Some("int8 dynamic, per-row u8 activations".into()),
        });
    }
    ModelProto {
        // IR version 8 came with opset 17, 9 with opset 20.
        ir_version: Some(if uses_gelu { 9 } else { 8 }),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }],
        producer_name: Some("oximl".into()),
        producer_version: Some(crate::VERSION.into()),
        graph: Some(GraphProto {
            name: Some("sequential".into()),
            node: graph.nodes,
            initializer: graph.initializers,
            input: vec![value_info(INPUT, seq.input_dim())],
            output: vec![value_info(OUTPUT, width)],
            ..Default::default()
        }),
        metadata_props,
        ..Default::default()
    }
}

/// Nodes and initializers being collected.
#[derive(Default)]
struct Graph {
    opset: i64,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph {
    /// Appends a node of the default domain; returns the name of its one output (`{name}/{op}`, numbered from
    /// the second node of an op under one name).
    fn node(&mut self, op: &str, name: &str, inputs: Vec<String>, attribute: Vec<AttributeProto>) -> String {
        let base = format!("{name}/{op}");
        let taken = |n: &String| self.nodes.iter().any(|node| node.name.as_ref() == Some(n));
        let node_name = (1..).map(|i| if i == 1 { base.clone() } else { format!("{base}_{i}") }).find(|n| !taken(n));
        let node_name = node_name.unwrap_or(base);
        self.nodes.push(NodeProto {
            input: inputs,
            output: vec![node_name.clone()],
            name: Some(node_name.clone()),
            op_type: Some(op.into()),
            attribute,
            ..Default::default()
        });
        node_name
    }

    /// Appends `activation` applied to `x`; returns the result's name (`x` itself for `Linear`).
    fn activation(&mut self, activation: Activation, name: &str, x: String) -> String {
        let (op, attributes) = match activation {
            Activation::Linear => return x,
            Activation::Relu => ("Relu", vec![]),
            Activation::LeakyRelu { alpha } => ("LeakyRelu", vec![float_attribute("alpha", alpha as f32)]),
            Activation::Elu { alpha } => ("Elu", vec![float_attribute("alpha", alpha as f32)]),
            Activation::Gelu => ("Gelu", vec![]),
            Activation::Sigmoid => ("Sigmoid", vec![]),
            Activation::Tanh => ("Tanh", vec![]),
            Activation::Softmax => ("Softmax", vec![int_attribute("axis", -1)]),
        };
        self.node(op, name, vec![x], attributes)
    }

    /// Adds a float initializer (`None`, which [`Sequential::get_weights`] never gives for a dense layer's
    /// weights, would be an empty one).
    fn initializer(&mut self, name: &str, values: Option<ArrayD<f32>>) {
        let values = values.unwrap_or_else(|| ArrayD::zeros(vec![0]));
        let raw = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.raw_initializer(name, tensor_proto::DataType::Float, values.shape(), raw);
    }

    /// Adds an initializer of `data_type` from its little-endian bytes.
    fn raw_initializer(&mut self, name: &str, data_type: tensor_proto::DataType, shape: &[usize], raw: Vec<u8>) {
        self.initializers.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: Some(data_type as i32),
            name: Some(name.into()),
            raw_data: Some(raw),
            ..Default::default()
        });
    }

    /// [`Graph::raw_initializer`] unless an initializer of that name exists (constants shared by the layers).
    fn shared_initializer(&mut self, name: &str, data_type: tensor_proto::DataType, shape: &[usize], raw: Vec<u8>) {
        if !self.initializers.iter().any(|t| t.name.as_deref() == Some(name)) {
            self.raw_initializer(name, data_type, shape, raw);
        }
    }

    /// A float scalar initializer named `{name}` (added once).
    fn scalar(&mut self, name: &str, value: f32) -> String {
        self.shared_initializer(name, tensor_proto::DataType::Float, &[], value.to_le_bytes().to_vec());
        name.to_string()
    }

    /// `op` (`ReduceMin` or `ReduceMax`) over the last axis of a matrix, keeping it: the axes are an attribute
    /// up to opset 17 and an input from 18.
    fn reduce_rows(&mut self, op: &str, name: &str, x: String) -> String {
        if self.opset >= 18 {
            let axes = format!("{name}/axes");
            self.shared_initializer(&axes, tensor_proto::DataType::Int64, &[1], 1i64.to_le_bytes().to_vec());
            self.node(op, name, vec![x, axes], vec![int_attribute("keepdims", 1)])
        } else {
            self.node(op, name, vec![x], vec![ints_attribute("axes", &[1]), int_attribute("keepdims", 1)])
        }
    }

    /// The int8 product of a quantized Dense layer (before its activation), operation for operation as
    /// [`oximl_kernel::qgemm_fused`] computes it, so that onnxruntime gives oximl's numbers: each row of `x` is
    /// quantized to `u8` with its own scale and zero point ([`oximl_kernel::RowQuant`]; `DynamicQuantizeLinear`
    /// has one per tensor, and onnxruntime's `MatMulInteger` takes only a scalar zero point, so the zero point is
    /// subtracted after the product: `q·W − zp·Σₖ W`), multiplied by the int8 kernel in `i32` (`MatMulInteger`),
    /// then scaled by `row scale · column scale` and offset by the bias in `f32`.
    fn int8_dense(&mut self, name: &str, x: String, w: &PackedI8, bias: Option<ArrayD<f32>>) -> String {
        use tensor_proto::DataType;
        let (zero, one) = (self.scalar("quant/zero", 0.0), self.scalar("quant/one", 1.0));
        let levels =
            self.scalar(&format!("quant/levels_{}", w.activation_range().max()), w.activation_range().max().into());
        let tiny = self.scalar("quant/min_positive", f32::MIN_POSITIVE);
        // The row's range, widened to contain 0, and its scale (1 for an all-zero row).
        let lo = self.reduce_rows("ReduceMin", name, x.clone());
        let lo = self.node("Min", name, vec![lo, zero.clone()], vec![]);
        let hi = self.reduce_rows("ReduceMax", name, x.clone());
        let hi = self.node("Max", name, vec![hi, zero.clone()], vec![]);
        let range = self.node("Sub", name, vec![hi, lo.clone()], vec![]);
        let step = self.node("Div", name, vec![range.clone(), levels.clone()], vec![]);
        let step = self.node("Max", name, vec![step, tiny], vec![]);
        let nonempty = self.node("Greater", name, vec![range, zero.clone()], vec![]);
        let scale = self.node("Where", name, vec![nonempty, step, one], vec![]);
        // zero point = clamp(round(−lo / scale)); q = round(clamp(x · (1/scale) + zero point)).
        let neg = self.node("Neg", name, vec![lo], vec![]);
        let zp = self.node("Div", name, vec![neg, scale.clone()], vec![]);
        let zp = self.node("Round", name, vec![zp], vec![]);
        let zp = self.node("Clip", name, vec![zp, zero.clone(), levels.clone()], vec![]);
        let inverse = self.node("Reciprocal", name, vec![scale.clone()], vec![]);
        let shifted = self.node("Mul", name, vec![x, inverse], vec![]);
        let shifted = self.node("Add", name, vec![shifted, zp.clone()], vec![]);
        let shifted = self.node("Clip", name, vec![shifted, zero, levels], vec![]);
        let q = self.node("Round", name, vec![shifted], vec![]);
        let q = self.node("Cast", name, vec![q], vec![int_attribute("to", DataType::Uint8 as i64)]);
        // The i32 product, less zero point × column sums.
        let (kernel, sums, scales) =
            (format!("{name}/kernel_int8"), format!("{name}/kernel_column_sums"), format!("{name}/kernel_scale"));
        let quantized = w.quantized();
        self.raw_initializer(&kernel, DataType::Int8, quantized.shape(), bytes_i8(quantized.view()));
        let sum_bytes = w.column_sums().iter().flat_map(|s| s.to_le_bytes()).collect();
        self.raw_initializer(&sums, DataType::Int32, &[w.n()], sum_bytes);
        let scale_bytes = w.scales().iter().flat_map(|s| s.to_le_bytes()).collect();
        self.raw_initializer(&scales, DataType::Float, &[w.n()], scale_bytes);
        let acc = self.node("MatMulInteger", name, vec![q, kernel], vec![]);
        let zp = self.node("Cast", name, vec![zp], vec![int_attribute("to", DataType::Int32 as i64)]);
        let offset = self.node("Mul", name, vec![zp, sums], vec![]);
        let acc = self.node("Sub", name, vec![acc, offset], vec![]);
        let acc = self.node("Cast", name, vec![acc], vec![int_attribute("to", DataType::Float as i64)]);
        let product_scale = self.node("Mul", name, vec![scale, scales], vec![]);
        let y = self.node("Mul", name, vec![acc, product_scale], vec![]);
        match bias {
            Some(bias) => {
                let b = format!("{name}/bias");
                self.initializer(&b, Some(bias));
                self.node("Add", name, vec![y, b], vec![])
            }
            None => y,
        }
    }
}

/// The bytes of an int8 matrix in row-major order.
fn bytes_i8(q: ArrayView2<'_, i8>) -> Vec<u8> {
    q.iter().map(|&v| v.to_le_bytes()[0]).collect()
}

fn float_attribute(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        f: Some(f),
        r#type: Some(attribute_proto::AttributeType::Float as i32),
        ..Default::default()
    }
}

fn ints_attribute(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        ints: ints.to_vec(),
        r#type: Some(attribute_proto::AttributeType::Ints as i32),
        ..Default::default()
    }
}

fn int_attribute(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        i: Some(i),
        r#type: Some(attribute_proto::AttributeType::Int as i32),
        ..Default::default()
    }
}

/// A float matrix input or output of `width` columns and a dynamic batch dimension named `batch`.
fn value_info(name: &str, width: usize) -> ValueInfoProto {
    use tensor_shape_proto::{Dimension as Dim, dimension::Value};
    let dim = |value| Dim { value: Some(value), ..Default::default() };
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(tensor_proto::DataType::Float as i32),
                shape: Some(TensorShapeProto {
                    dim: vec![dim(Value::DimParam("batch".into())), dim(Value::DimValue(width as i64))],
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
