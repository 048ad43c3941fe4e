//! Keras' model JSON (`config.json` of a `.keras` file, the `model_config` attribute of an `.h5` file) and its
//! compile config, read into oximl's vocabulary: every name goes through the core's own parsers
//! ([`Activation::from_name`], [`Loss::from_name`], [`Metric::from_name`], [`Optimizer::from_name`]).

use crate::error::{Error, Result};
use crate::nn::{Compiled, Dense, Loss, Metric};
use crate::optim::{Optimizer, Regularizer};
use oximl_kernel::Activation;
use serde_json::{Map, Value};

/// The layers oximl reads.
pub const SUPPORTED: [&str; 4] = ["InputLayer", "Dense", "Dropout", "Activation"];

/// A model's layers in order, its input width if the config says, and its compile config.
pub(super) struct ModelConfig {
    pub input_dim: Option<usize>,
    pub layers: Vec<KerasLayer>,
    pub compile: Option<Compiled>,
}

/// A layer with weights or an effect (input layers only give the width).
pub(super) struct KerasLayer {
    /// Its name: where its weights are in an `.h5` file (`model_weights/{name}`).
    pub name: String,
    /// Where its weights are in a `.keras` file (`layers/{path}/vars`): Keras 3 names them by class in snake
    /// case, numbered from the second of a class on (`dense`, `dense_1`, ...), not by layer name.
    pub path: String,
    pub kind: Kind,
}

pub(super) enum Kind {
    Dense(Dense),
    Dropout(f32),
    Activation(Activation),
}

impl ModelConfig {
    /// Reads the model JSON and the compile (`.keras`) or training (`.h5`) config, if any.
    pub fn read(model: &Value, compile: Option<&Value>) -> Result<ModelConfig> {
        let class = str_of(model, "class_name")?;
        let config = model.get("config").ok_or_else(|| Error::Format("a Keras model without config".into()))?;
        let layers = config.get("layers").and_then(Value::as_array).ok_or_else(|| {
            Error::Format(format!("a Keras {class} without a list of layers (oximl reads Sequential and Functional)"))
        })?;
        match class {
            "Sequential" => {}
            "Functional" | "Model" => check_chain(layers)?,
            _ => return Err(Error::Format(format!("unsupported Keras model class {class:?}"))),
        }
        let mut input_dim = None;
        let mut read = Vec::new();
        let mut used = rustc_hash::FxHashMap::<&str, usize>::default();
        for layer in layers {
            let class = str_of(layer, "class_name")?;
            let c = layer
                .get("config")
                .and_then(Value::as_object)
                .ok_or_else(|| Error::Format(format!("Keras layer of class {class} without a config object")))?;
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let in_layer = |m: String| Error::Format(format!("Keras layer '{name}' ({class}): {m}"));
            let kind = match class {
                "InputLayer" => {
                    input_dim = Some(input_width(c).map_err(in_layer)?);
                    continue;
                }
                "Dense" => Kind::Dense(dense(c).map_err(in_layer)?),
                "Dropout" => Kind::Dropout(number(c, "rate").map_err(in_layer)? as f32),
                "Activation" => Kind::Activation(activation(c.get("activation")).map_err(in_layer)?),
                other => {
                    return Err(Error::Format(format!(
                        "unsupported Keras layer '{name}' ({other}): oximl reads {}",
                        SUPPORTED.join(", ")
                    )));
                }
            };
            let count = used.entry(class).or_default();
            let snake = class.to_ascii_lowercase(); // the snake case of the one-word classes read here
            let path = if *count == 0 { snake.to_string() } else { format!("{snake}_{count}") };
            *count += 1;
            read.push(KerasLayer { name, path, kind });
        }
        let compile = compile.filter(|c| !c.is_null()).map(compiled).transpose()?;
        Ok(ModelConfig { input_dim, layers: read, compile })
    }
}

/// Checks that each layer of a functional model takes the previous layer's output, and only that.
fn check_chain(layers: &[Value]) -> Result<()> {
    for pair in layers.windows(2) {
        let previous = pair[0].get("name").and_then(Value::as_str).unwrap_or_default();
        let name = pair[1].get("name").and_then(Value::as_str).unwrap_or_default();
        let mut inputs = Vec::new();
        inbound(pair[1].get("inbound_nodes").unwrap_or(&Value::Null), &mut inputs);
        if inputs != [previous] {
            return Err(Error::Format(format!(
                "Keras layer '{name}' takes {inputs:?}, not the layer before it ('{previous}'): oximl reads \
                 functional models that are one chain of layers"
            )));
        }
    }
    Ok(())
}

/// The names of the layers whose outputs `nodes` refers to: Keras 3's `keras_history: [name, node, tensor]`, or
/// Keras 2's `[name, node, tensor, kwargs]` lists.
fn inbound<'v>(nodes: &'v Value, names: &mut Vec<&'v str>) {
    match nodes {
        Value::Object(map) => match map.get("keras_history").and_then(|h| h.get(0)).and_then(Value::as_str) {
            Some(name) => names.push(name),
            None => map.values().for_each(|v| inbound(v, names)),
        },
        Value::Array(items) => match items.first().and_then(Value::as_str) {
            Some(name) => names.push(name),
            None => items.iter().for_each(|v| inbound(v, names)),
        },
        _ => {}
    }
}

/// The input width of an `InputLayer`: `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2), `[null, width]`.
fn input_width(c: &Map<String, Value>) -> std::result::Result<usize, String> {
    let shape = c.get("batch_shape").or_else(|| c.get("batch_input_shape")).and_then(Value::as_array);
    match shape.map(Vec::as_slice) {
        Some([_, width]) => width.as_u64().and_then(|w| usize::try_from(w).ok()).filter(|&w| w > 0),
        _ => None,
    }
    .ok_or_else(|| format!("input shape {shape:?}: oximl takes rows of features, [null, width]"))
}

fn dense(c: &Map<String, Value>) -> std::result::Result<Dense, String> {
    let units = c.get("units").and_then(Value::as_u64).and_then(|u| usize::try_from(u).ok()).filter(|&u| u > 0);
    let mut d = Dense::new(units.ok_or("units must be a positive integer")?);
    d.activation = activation(c.get("activation"))?;
    d.use_bias = c.get("use_bias").map_or(Some(true), Value::as_bool).ok_or("use_bias must be true or false")?;
    d.kernel_regularizer = regularizer(c.get("kernel_regularizer"))?;
    d.bias_regularizer = regularizer(c.get("bias_regularizer"))?;
    Ok(d)
}

/// An activation: a name (`"relu"`), or a serialized function whose config is the name.
fn activation(v: Option<&Value>) -> std::result::Result<Activation, String> {
    let name = match v {
        None | Some(Value::Null) => "linear",
        Some(Value::String(s)) => s,
        Some(other) => other.get("config").and_then(Value::as_str).unwrap_or_default(),
    };
    Activation::from_name(name)
        .ok_or_else(|| format!("unsupported activation {v:?} (oximl has {})", Activation::NAMES.join(", ")))
}

/// An `L1`, `L2` or `L1L2` regularizer (by class or by name), or none.
fn regularizer(v: Option<&Value>) -> std::result::Result<Option<Regularizer>, String> {
    let (class, config) = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => (s.as_str(), None),
        Some(o) => (o.get("class_name").and_then(Value::as_str).unwrap_or_default(), o.get("config")),
    };
    let factor =
        |k: &str, default: f64| config.and_then(|c| c.get(k)).and_then(Value::as_f64).unwrap_or(default) as f32;
    let r = match class.to_ascii_lowercase().as_str() {
        "l1" => Regularizer::l1(factor("l1", 0.01)),
        "l2" => Regularizer::l2(factor("l2", 0.01)),
        "l1l2" | "l1_l2" => Regularizer::l1_l2(factor("l1", 0.0), factor("l2", 0.0)),
        _ => return Err(format!("unsupported regularizer {class:?} (oximl has L1, L2, L1L2)")),
    };
    r.check().map_err(|e| e.to_string())?;
    Ok(Some(r))
}

/// The compile config: `optimizer` (`.keras`) or `optimizer_config` (`.h5`), `loss`, `metrics`,
/// `weighted_metrics`.
fn compiled(c: &Value) -> Result<Compiled> {
    let bad = |e: Error| Error::Format(format!("Keras compile config: {e}"));
    let optimizer = match c.get("optimizer").or_else(|| c.get("optimizer_config")) {
        None | Some(Value::Null) => Optimizer::from_name("rmsprop").map_err(bad)?, // Keras' compile() default
        Some(o) => {
            let name = o.get("class_name").or_else(|| o.get("config").and_then(|c| c.get("name"))).or(Some(o));
            let name = name.and_then(Value::as_str).unwrap_or_default();
            with_keras_values(Optimizer::from_name(name).map_err(bad)?, o.get("config")).map_err(bad)?
        }
    };
    let loss = match c.get("loss") {
        Some(Value::String(name)) => Loss::from_name(name).map_err(bad)?,
        Some(o @ Value::Object(_)) => {
            let config = o.get("config");
            let name = config.and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or_default();
            with_keras_values(Loss::from_name(name).map_err(bad)?, config).map_err(bad)?
        }
        other => return Err(Error::Format(format!("Keras compile config: unsupported loss {other:?}"))),
    };
    let metrics = |key: &str| {
        let mut names = Vec::new();
        metric_names(c.get(key).unwrap_or(&Value::Null), &mut names);
        names.into_iter().map(Metric::from_name).collect::<Result<Vec<_>>>().map_err(bad)
    };
    Ok(Compiled { optimizer, loss, metrics: metrics("metrics")?, weighted_metrics: metrics("weighted_metrics")? })
}

/// The metric names of Keras' `metrics` (a list, possibly nested per output, of names or serialized metrics).
fn metric_names<'v>(v: &'v Value, names: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => names.push(s),
        Value::Array(items) => items.iter().for_each(|i| metric_names(i, names)),
        Value::Object(o) => match o.get("config").and_then(|c| c.get("name")).and_then(Value::as_str) {
            Some(name) => names.push(name),
            None => o.values().for_each(|i| metric_names(i, names)),
        },
        _ => {}
    }
}

/// `value` with the fields it shares with Keras' `config` (same key, non-null) taken from it: the core's serde
/// type decides which fields exist, so no name is restated here.
fn with_keras_values<T: serde::Serialize + serde::de::DeserializeOwned>(value: T, config: Option<&Value>) -> Result<T> {
    let mut json = serde_json::to_value(value).map_err(|e| Error::Format(e.to_string()))?;
    if let (Some(fields), Some(Value::Object(keras))) = (json.as_object_mut(), config) {
        for (key, v) in fields.iter_mut().filter(|(k, _)| k.as_str() != "name") {
            match keras.get(key) {
                Some(Value::Null) | None => {}
                Some(k) => *v = k.clone(),
            }
        }
    }
    serde_json::from_value(json).map_err(|e| Error::Format(e.to_string()))
}

fn str_of<'v>(v: &'v Value, key: &str) -> Result<&'v str> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| Error::Format(format!("a Keras config without {key}")))
}

fn number(c: &Map<String, Value>, key: &str) -> std::result::Result<f64, String> {
    c.get(key).and_then(Value::as_f64).ok_or_else(|| format!("{key} must be a number"))
}
