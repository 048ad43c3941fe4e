//! `Sequential` → ONNX: one `Gemm` per dense layer, its activation as ONNX ops, dropout left out.

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto, tensor_proto, tensor_shape_proto, type_proto,
};
use super::{INPUT, OUTPUT};
use crate::nn::{Layer, Sequential};
use ndarray::ArrayD;
use oximl_kernel::Activation;

/// The opset of models without GELU: 17, what every current runtime reads.
const OPSET: i64 = 17;
/// The opset of models with GELU, which became an operator (`Gelu`) in opset 20.
const OPSET_GELU: i64 = 20;

/// The model as an ONNX `ModelProto`.
pub(super) fn model(seq: &Sequential) -> ModelProto {
    let mut graph = Graph::default();
    let mut cur = INPUT.to_string(); // the name of the value flowing through the graph
    let mut width = seq.input_dim();
    let mut weights = seq.get_weights().into_iter();
    let mut dense_index = 0;
    for layer in seq.layers() {
        let Layer::Dense(d) = layer else { continue };
        let name = format!("dense_{dense_index}");
        dense_index += 1;
        let mut inputs = vec![cur, format!("{name}/kernel")];
        graph.initializer(&inputs[1], weights.next());
        if d.use_bias {
            inputs.push(format!("{name}/bias"));
            graph.initializer(&inputs[2], weights.next());
        }
        cur = graph.node("Gemm", &name, inputs, Vec::new());
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
    let uses_gelu = seq.layers().iter().any(|l| matches!(l, Layer::Dense(d) if d.activation == Activation::Gelu));
    let opset = if uses_gelu { OPSET_GELU } else { OPSET };
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
        metadata_props: vec![StringStringEntryProto {
            key: Some("oximl.kind".into()),
            value: Some(crate::nn::KIND.into()),
        }],
        ..Default::default()
    }
}

/// Nodes and initializers being collected.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph {
    /// Appends a node of the default domain; returns the name of its one output (`{name}/{op}`).
    fn node(&mut self, op: &str, name: &str, inputs: Vec<String>, attribute: Vec<AttributeProto>) -> String {
        let node_name = format!("{name}/{op}");
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
        let dims = values.shape().iter().map(|&d| d as i64).collect();
        let raw = values.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.initializers.push(TensorProto {
            dims,
            data_type: Some(tensor_proto::DataType::Float as i32),
            name: Some(name.into()),
            raw_data: Some(raw),
            ..Default::default()
        });
    }
}

fn float_attribute(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        f: Some(f),
        r#type: Some(attribute_proto::AttributeType::Float as i32),
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
