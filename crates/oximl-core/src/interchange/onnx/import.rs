//! ONNX → `Sequential`: the chain of nodes from the graph's input to an output, read as dense layers.

use super::proto::{GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, tensor_proto, type_proto};
use crate::error::{Error, Result};
use crate::interchange::stack::{Stack, Stage, matrix};
use crate::nn::{Dense, Sequential};
use ndarray::{Array1, ArrayD, IxDyn};
use oximl_kernel::Activation;
use rustc_hash::FxHashMap;

/// The operators an importable graph may use; `Concat` only as scikit-learn's two-class probabilities `[1 − p, p]`
/// of a one-unit sigmoid layer.
#[rustfmt::skip]
pub const SUPPORTED: [&str; 16] = [
    "Gemm", "MatMul", "Add", "Relu", "LeakyRelu", "Elu", "Gelu", "Sigmoid", "Tanh", "Softmax", "Identity", "Flatten",
    "Dropout", "Cast", "Reshape", "Concat",
];

/// Reads `model` as a `Sequential`.
pub(super) fn model(model: &ModelProto) -> Result<Sequential> {
    let graph = model.graph.as_ref().ok_or_else(|| Error::Format("an ONNX model without a graph".into()))?;
    let opset = model.opset_import.iter().find(|o| matches!(o.domain(), "" | "ai.onnx")).map_or(1, |o| o.version());
    let initializers: FxHashMap<&str, &TensorProto> = graph.initializer.iter().map(|t| (t.name(), t)).collect();
    let input = graph_input(graph, &initializers)?;
    let chain = chain(graph, input.name(), &initializers)?;
    let mut stack = Stack::new(input_width(input)?);
    for node in chain {
        stack.node(node, opset, &initializers).map_err(|e| match e {
            Error::Format(m) => Error::Format(format!("ONNX node '{}' ({}): {m}", node.name(), node.op_type())),
            other => other,
        })?;
    }
    stack.finish()
}

/// The graph's one data input (inputs that are initializers too are weights, as older exporters list them).
fn graph_input<'g>(graph: &'g GraphProto, initializers: &FxHashMap<&str, &TensorProto>) -> Result<&'g ValueInfoProto> {
    let inputs: Vec<&ValueInfoProto> = graph.input.iter().filter(|i| !initializers.contains_key(i.name())).collect();
    match inputs[..] {
        [one] => Ok(one),
        _ => Err(Error::Format(format!(
            "an oximl model has one input, the ONNX graph has {}: {:?}",
            inputs.len(),
            inputs.iter().map(|i| i.name()).collect::<Vec<_>>()
        ))),
    }
}

/// The input's width if its type says (a float matrix; the batch dimension may be dynamic).
fn input_width(input: &ValueInfoProto) -> Result<Option<usize>> {
    let Some(type_proto::Value::TensorType(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(Error::Format(format!("ONNX input '{}' is not a tensor", input.name())));
    };
    if t.elem_type() != tensor_proto::DataType::Float as i32 {
        return Err(Error::Format(format!("ONNX input '{}' is not float32 (type {})", input.name(), t.elem_type())));
    }
    let Some(shape) = &t.shape else { return Ok(None) };
    if shape.dim.len() != 2 {
        return Err(Error::Format(format!(
            "ONNX input '{}' has {} dimensions, oximl takes matrices",
            input.name(),
            shape.dim.len()
        )));
    }
    use super::proto::tensor_shape_proto::dimension::Value;
    Ok(match shape.dim[1].value {
        Some(Value::DimValue(v)) if v > 0 => Some(to_usize(v)?),
        _ => None,
    })
}

/// The nodes from `input` to the first graph output reachable through supported operators only, in order. A
/// classifier's other outputs (labels by `ArgMax`, ...) are left out; if no output is reachable, the error of the
/// first output says which operator is in the way.
fn chain<'g>(
    graph: &'g GraphProto,
    input: &str,
    initializers: &FxHashMap<&str, &TensorProto>,
) -> Result<Vec<&'g NodeProto>> {
    let producers: FxHashMap<&str, &NodeProto> =
        graph.node.iter().flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n))).collect();
    let walk = |output: &str| -> Result<Vec<&'g NodeProto>> {
        let mut nodes = Vec::new();
        let mut name = output;
        while name != input {
            let node = producers.get(name).ok_or_else(|| {
                Error::Format(format!("ONNX value '{name}' is neither the input '{input}' nor computed by a node"))
            })?;
            if nodes.len() == graph.node.len() {
                return Err(Error::Format("the ONNX graph has a cycle".into()));
            }
            supported(node)?;
            nodes.push(*node);
            let data: Vec<&str> = match node.op_type() {
                "Concat" => vec![two_class_input(node, &producers, initializers)?],
                _ => node
                    .input
                    .iter()
                    .map(String::as_str)
                    .filter(|i| !i.is_empty() && !initializers.contains_key(i))
                    .collect(),
            };
            name = match data[..] {
                [one] => one,
                _ => {
                    return Err(Error::Format(format!(
                        "ONNX node '{}' ({}) takes {} computed inputs, oximl reads chains of one",
                        node.name(),
                        node.op_type(),
                        data.len()
                    )));
                }
            };
        }
        nodes.reverse();
        Ok(nodes)
    };
    let mut first_error = None;
    for output in &graph.output {
        match walk(output.name()) {
            Ok(nodes) => return Ok(nodes),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    Err(first_error.unwrap_or_else(|| Error::Format("the ONNX graph has no output".into())))
}

/// The `p` of `Concat([Sub(1, p), p])`, scikit-learn's two-class probabilities: the one form of `Concat` read.
fn two_class_input<'g>(
    concat: &'g NodeProto,
    producers: &FxHashMap<&str, &'g NodeProto>,
    initializers: &FxHashMap<&str, &TensorProto>,
) -> Result<&'g str> {
    let refuse = || {
        let name = concat.name();
        Error::Format(format!("ONNX node '{name}' (Concat): oximl reads only [1 − p, p] (two-class probabilities)"))
    };
    let [complement, p] = &concat.input[..] else { return Err(refuse()) };
    let sub = producers.get(complement.as_str()).filter(|n| n.op_type() == "Sub" && n.domain().is_empty());
    let one = sub.and_then(|n| n.input.first()).and_then(|name| initializers.get(name.as_str()));
    let one = one.map(|t| floats(t)).transpose()?;
    match (one, sub.and_then(|n| n.input.get(1))) {
        (Some(one), Some(q)) if q == p && one.len() == 1 && one.iter().all(|&v| v == 1.0) => Ok(p),
        _ => Err(refuse()),
    }
}

/// Refuses nodes of other domains and operators oximl has no layer for.
fn supported(node: &NodeProto) -> Result<()> {
    if !matches!(node.domain(), "" | "ai.onnx") || !SUPPORTED.contains(&node.op_type()) {
        let domain = if node.domain().is_empty() { String::new() } else { format!("{}.", node.domain()) };
        return Err(Error::Format(format!(
            "unsupported ONNX operator {domain}{} in node '{}' (oximl imports MLPs of {})",
            node.op_type(),
            node.name(),
            SUPPORTED.join("/")
        )));
    }
    Ok(())
}

/// Reads ONNX nodes into the stack.
impl Stack {
    fn node(&mut self, node: &NodeProto, opset: i64, inits: &FxHashMap<&str, &TensorProto>) -> Result<()> {
        let weight = |i: usize| -> Result<Option<ArrayD<f32>>> {
            match node.input.get(i).filter(|n| !n.is_empty()) {
                None => Ok(None),
                Some(n) => inits.get(n.as_str()).map(|t| floats(t)).transpose()?.map(Some).ok_or_else(|| {
                    Error::Format(format!("input {i} ('{n}') must be an initializer (a constant weight)"))
                }),
            }
        };
        let float =
            |name: &str, default: f32| node.attribute.iter().find(|a| a.name() == name).map_or(default, |a| a.f());
        let int =
            |name: &str, default: i64| node.attribute.iter().find(|a| a.name() == name).map_or(default, |a| a.i());
        match node.op_type() {
            "Gemm" => {
                if int("transA", 0) != 0 {
                    return Err(Error::Format("transA = 1 is not a layer on a batch of rows".into()));
                }
                let b = matrix(weight(1)?.ok_or_else(|| Error::Format("no B input".into()))?)?;
                let b = if int("transB", 0) != 0 { b.reversed_axes() } else { b };
                let kernel = b * float("alpha", 1.0);
                let bias = match weight(2)? {
                    Some(c) => Some(vector(c, kernel.ncols())? * float("beta", 1.0)),
                    None => None,
                };
                self.dense(Dense::new(kernel.ncols()), kernel, bias)
            }
            "MatMul" => {
                if inits.contains_key(node.input.first().map_or("", String::as_str)) {
                    return Err(Error::Format("the weights must be the second operand".into()));
                }
                let w = matrix(weight(1)?.ok_or_else(|| Error::Format("no weights".into()))?)?;
                self.dense(Dense::new(w.ncols()), w, None)
            }
            "Add" => {
                let (a, b) = (weight(0).ok().flatten(), weight(1).ok().flatten());
                let c = a.or(b).ok_or_else(|| Error::Format("one operand must be an initializer".into()))?;
                let width = self.width.ok_or_else(|| Error::Format("a bias before any weights".into()))?;
                self.bias(vector(c, width)?)
            }
            "Relu" => self.activate(Activation::Relu),
            "Sigmoid" => self.activate(Activation::Sigmoid),
            "Tanh" => self.activate(Activation::Tanh),
            "LeakyRelu" => self.activate(Activation::LeakyRelu { alpha: f64::from(float("alpha", 0.01)) }),
            "Elu" => self.activate(Activation::Elu { alpha: f64::from(float("alpha", 1.0)) }),
            "Gelu" => match node.attribute.iter().find(|a| a.name() == "approximate").map_or(&b"none"[..], |a| a.s()) {
                b"none" => self.activate(Activation::Gelu),
                other => Err(Error::Format(format!(
                    "approximate = '{}' (oximl's GELU is the exact one)",
                    String::from_utf8_lossy(other)
                ))),
            },
            "Softmax" => match int("axis", if opset >= 13 { -1 } else { 1 }) {
                1 | -1 => self.activate(Activation::Softmax),
                axis => Err(Error::Format(format!("softmax over axis {axis}, not over each row"))),
            },
            "Flatten" => match int("axis", 1) {
                1 | -1 => Ok(()),
                axis => Err(Error::Format(format!("flattening from axis {axis} changes the batch dimension"))),
            },
            "Cast" if int("to", 0) == tensor_proto::DataType::Float as i64 => Ok(()),
            "Cast" => Err(Error::Format(format!("a cast to type {}, not float32", int("to", 0)))),
            "Reshape" => self.reshape(node, inits),
            "Concat" => match int("axis", 0) {
                1 | -1 => self.two_class(),
                axis => Err(Error::Format(format!("concatenation over axis {axis}, not of columns"))),
            },
            _ => Ok(()), // Identity, Dropout (the identity at inference)
        }
    }

    /// `Reshape` to `[-1 or 0, width]`: the identity on a matrix of rows (scikit-learn's regressors end with one).
    fn reshape(&self, node: &NodeProto, inits: &FxHashMap<&str, &TensorProto>) -> Result<()> {
        let shape = node.input.get(1).and_then(|n| inits.get(n.as_str())).map(|t| ints(t)).transpose()?;
        match (shape.as_deref(), self.width) {
            (Some([-1 | 0, w]), Some(width)) if usize::try_from(*w) == Ok(width) => Ok(()),
            _ => Err(Error::Format(format!(
                "only a reshape to [-1, {}] is a no-op here, got {shape:?}",
                self.width.unwrap_or(0)
            ))),
        }
    }

    /// Turns a last layer `σ(z)` of one unit into `[1 − σ(z), σ(z)]` = `softmax([−z/2, z/2])`: two units.
    fn two_class(&mut self) -> Result<()> {
        let Some(Stage::Dense { config, kernel, bias }) = self.stages.last_mut() else {
            return Err(Error::Format("[1 − p, p] needs p from a sigmoid layer of one unit".into()));
        };
        if config.activation != Activation::Sigmoid || kernel.ncols() != 1 {
            return Err(Error::Format("[1 − p, p] needs p from a sigmoid layer of one unit".into()));
        }
        let halves = |a: ndarray::ArrayView2<'_, f32>| {
            ndarray::concatenate![ndarray::Axis(1), a.mapv(|v| -v / 2.0), a.mapv(|v| v / 2.0)]
        };
        *kernel = halves(kernel.view());
        *bias = bias.as_ref().map(|b| halves(b.view().insert_axis(ndarray::Axis(0))).row(0).to_owned());
        config.activation = Activation::Softmax;
        config.units = 2;
        self.width = Some(2);
        Ok(())
    }
}

/// A bias of `len` values: `[len]`, `[1, len]`, or one value for all.
fn vector(a: ArrayD<f32>, len: usize) -> Result<Array1<f32>> {
    let shape = a.shape().to_vec();
    match a.len() {
        n if n == len && shape.iter().rev().skip(1).all(|&d| d == 1) => Ok(a.into_iter().collect()),
        1 => Ok(Array1::from_elem(len, a.iter().copied().next().unwrap_or(0.0))),
        _ => Err(Error::Format(format!("a bias of shape {shape:?} for {len} units"))),
    }
}

fn to_usize(v: i64) -> Result<usize> {
    usize::try_from(v).map_err(|_| Error::Format(format!("a negative dimension {v}")))
}

/// The dimensions of `t` and their product, checked.
fn dims(t: &TensorProto) -> Result<(Vec<usize>, usize)> {
    if t.data_location() == tensor_proto::DataLocation::External {
        return Err(Error::Format(format!("initializer '{}' is stored in an external file", t.name())));
    }
    let dims = t.dims.iter().map(|&d| to_usize(d)).collect::<Result<Vec<_>>>()?;
    let len = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    len.map(|n| (dims, n)).ok_or_else(|| Error::Format(format!("initializer '{}' is too large", t.name())))
}

/// A float (or double, narrowed) initializer.
fn floats(t: &TensorProto) -> Result<ArrayD<f32>> {
    let (shape, len) = dims(t)?;
    let raw = t.raw_data();
    let values: Vec<f32> = match tensor_proto::DataType::try_from(t.data_type()) {
        Ok(tensor_proto::DataType::Float) if !raw.is_empty() => {
            sized(t, raw.len(), len, 4)?;
            raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        }
        Ok(tensor_proto::DataType::Float) => {
            sized(t, t.float_data.len(), len, 1)?;
            t.float_data.clone()
        }
        Ok(tensor_proto::DataType::Double) if !raw.is_empty() => {
            sized(t, raw.len(), len, 8)?;
            raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or_default()) as f32).collect()
        }
        Ok(tensor_proto::DataType::Double) => {
            sized(t, t.double_data.len(), len, 1)?;
            t.double_data.iter().map(|&v| v as f32).collect()
        }
        _ => return Err(Error::Format(format!("initializer '{}' is of type {}, not float", t.name(), t.data_type()))),
    };
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| Error::Format(e.to_string()))
}

/// An int64 initializer (a shape).
fn ints(t: &TensorProto) -> Result<Vec<i64>> {
    let (_, len) = dims(t)?;
    if t.data_type() != tensor_proto::DataType::Int64 as i32 {
        return Err(Error::Format(format!("initializer '{}' is not int64", t.name())));
    }
    let raw = t.raw_data();
    if raw.is_empty() {
        sized(t, t.int64_data.len(), len, 1)?;
        return Ok(t.int64_data.clone());
    }
    sized(t, raw.len(), len, 8)?;
    Ok(raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default())).collect())
}

/// Checks that `t` holds `got` units of `size` bytes for `len` values.
fn sized(t: &TensorProto, got: usize, len: usize, size: usize) -> Result<()> {
    if len.checked_mul(size) != Some(got) {
        return Err(Error::Format(format!("initializer '{}' has {got} bytes/values for {len} elements", t.name())));
    }
    Ok(())
}
