//! The model file: one serde struct, [`ModelFile`], is the schema both ways (written by `save`, read by
//! `load`); tensors are the weights (`layers.{l}.kernel`, `layers.{l}.bias`; int8 or sparse kernels of
//! compressed models, see `compressed.rs`) and the optimizer state (`optimizer.{t}.{k}`). Loading checks every
//! shape, refuses unknown keys and non-finite weights or state.

use super::compressed::{KernelReader, PruningRecord};
use crate::compress::QuantizeConfig;
use crate::error::{Error, Result};
use crate::io::{self, TensorRef};
use crate::nn::{Compiled, Dense, Layer, Param, Sequential};
use crate::optim::OptimizerState;
use ndarray::Ix1;
use serde::{Deserialize, Serialize};

/// The file kind of a saved `Sequential` model.
pub const KIND: &str = "sequential";

/// The JSON configuration stored in a model file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    input_dim: usize,
    layers: Vec<Layer>,
    compile: Option<Compiled>,
    optimizer_step: u64,
    /// Per parameter tensor, how many state vectors the optimizer keeps.
    optimizer_slots: Vec<usize>,
    /// Set when the kernels are int8 (`layers.{l}.kernel` `I8` and `layers.{l}.kernel_scale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quantization: Option<QuantizeConfig>,
    /// Set when some kernels are pruned (stored as `layers.{l}.kernel_bits` and `layers.{l}.kernel_values`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pruning: Option<PruningRecord>,
}

impl io::Persist for Sequential {
    const KIND: &'static str = KIND;

    /// ONNX and Keras files, recognized by their content, load too (see [`crate::interchange`]).
    fn from_legacy(bytes: &[u8]) -> Option<Result<Sequential>> {
        use crate::interchange::{keras::looks_like_keras, onnx::looks_like_onnx};
        (looks_like_onnx(bytes).then(|| Sequential::from_onnx(bytes)))
            .or_else(|| looks_like_keras(bytes).then(|| Sequential::from_keras(bytes)))
    }

    fn with_tensors<R>(&self, f: impl FnOnce(&serde_json::Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        let slots = &self.optimizer_state.slots;
        let (kernels, quantization, pruning) = self.stored_kernels();
        let file = ModelFile {
            input_dim: self.input_dim,
            layers: self.layers.clone(),
            compile: self.compiled.clone(),
            optimizer_step: self.optimizer_state.step,
            optimizer_slots: slots.iter().map(Vec::len).collect(),
            quantization,
            pruning,
        };
        let config = serde_json::to_value(&file).map_err(|e| Error::Format(format!("model config: {e}")))?;
        let mut names = Vec::new();
        for (l, (p, kernel)) in self.params.iter().zip(&kernels).enumerate() {
            if let (Some(p), Some(kernel)) = (p, kernel) {
                names.extend(kernel.tensors(l));
                if let Some(b) = &p.bias {
                    names.push((format!("layers.{l}.bias"), TensorRef::new(b.view())));
                }
            }
        }
        for (t, tensor_slots) in slots.iter().enumerate() {
            for (k, slot) in tensor_slots.iter().enumerate() {
                names.push((format!("optimizer.{t}.{k}"), TensorRef::new(ndarray::ArrayView1::from(slot.as_slice()))));
            }
        }
        let tensors: Vec<(&str, TensorRef<'_>)> = names.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
        f(&config, &tensors)
    }

    fn from_loaded(file: &io::Loaded) -> Result<Sequential> {
        let bad = |e: Error| Error::Format(format!("invalid sequential model: {e}"));
        let config: ModelFile = serde_json::from_value(file.config().clone())
            .map_err(|e| Error::Format(format!("invalid sequential model config: {e}")))?;
        let mut model = Sequential::new(config.input_dim);
        let mut kernels = KernelReader::new(config.quantization, config.pruning, &config.layers)?;
        let mut dim = config.input_dim;
        for (l, layer) in config.layers.into_iter().enumerate() {
            layer.check().map_err(bad)?;
            let param = match &layer {
                Layer::Dense(Dense { units, use_bias, .. }) => {
                    let kernel = kernels.kernel(file, l, dim, *units)?;
                    let bias = match use_bias {
                        true => Some(file.tensor::<f32>(&format!("layers.{l}.bias"), &[Some(*units)])?),
                        false => None,
                    };
                    let bias = bias
                        .map(|b| b.into_dimensionality::<Ix1>())
                        .transpose()
                        .map_err(|e| Error::Format(e.to_string()))?;
                    Some(Param { kernel, bias })
                }
                Layer::Dropout { .. } => None,
            };
            dim = layer.output_dim(dim);
            model.layers.push(layer);
            model.params.push(param);
        }
        if model.params.iter().flatten().any(|p| p.kernel.iter().chain(p.bias.iter().flatten()).any(|v| !v.is_finite()))
        {
            return Err(Error::Format("the weights contain NaN or infinity".into()));
        }
        model.compression = kernels.finish();
        if let Some(c) = config.compile {
            model.compile(c.optimizer, c.loss, &c.metrics).map_err(bad)?;
        }
        model.optimizer_state = optimizer_state(file, &model, config.optimizer_step, &config.optimizer_slots)?;
        Ok(model)
    }
}

/// Reads the optimizer state and checks it against the model: one entry per parameter tensor at most, each
/// with as many vectors as the compiled optimizer keeps (or none), every value finite.
fn optimizer_state(file: &io::Loaded, model: &Sequential, step: u64, counts: &[usize]) -> Result<OptimizerState> {
    let lengths: Vec<usize> = model.get_weights().iter().map(|w| w.len()).collect();
    if counts.len() > lengths.len() {
        return Err(Error::Format(format!(
            "optimizer state for {} parameter tensors, the model has {}",
            counts.len(),
            lengths.len()
        )));
    }
    let expected = model.compiled.as_ref().map_or(0, |c| c.optimizer.slots());
    let mut slots = Vec::new();
    for (t, &count) in counts.iter().enumerate() {
        if count != 0 && count != expected {
            return Err(Error::Format(format!(
                "optimizer state of parameter tensor {t} has {count} vectors, the optimizer keeps {expected}"
            )));
        }
        let mut tensor_slots = Vec::new();
        for k in 0..count {
            let name = format!("optimizer.{t}.{k}");
            let values = file.tensor::<f32>(&name, &[Some(lengths[t])])?.into_raw_vec_and_offset().0;
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::Format(format!("optimizer state {name} holds {} at index {i}", values[i])));
            }
            tensor_slots.push(values);
        }
        slots.push(tensor_slots);
    }
    Ok(OptimizerState { step, slots })
}
