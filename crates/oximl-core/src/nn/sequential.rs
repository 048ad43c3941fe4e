//! The `Sequential` model: a stack of layers trained by back-propagation, Keras' vocabulary in Rust.

//! Building and inspecting it lives here; inference in `predict.rs`, training in `train.rs` and `fit.rs`, the
//! file format in `file.rs`.

use crate::error::{Error, Result};
use crate::nn::{Layer, Loss, Metric};
use crate::optim::{Optimizer, OptimizerState};
use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The weights of one dense layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `W`, `inputs × units`.
    pub kernel: Array2<f32>,
    /// `b`, one value per unit (absent when the layer has no bias).
    pub bias: Option<Array1<f32>>,
}

/// What `compile` fixes: how to train and what to report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compiled {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// The training objective.
    pub loss: Loss,
    /// Reported with the loss by `fit` and `evaluate`.
    pub metrics: Vec<Metric>,
    /// Reported too, each sample counted with its weight (Keras' `weighted_metrics`; as `metrics` without
    /// sample or class weights).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weighted_metrics: Vec<Metric>,
}

/// A feed-forward network: layers applied in order.
///
/// ```
/// use ndarray::array;
/// use oximl_core::kernel::Activation;
/// use oximl_core::nn::{Dense, FitOptions, Loss, Metric, Sequential};
/// use oximl_core::optim::Optimizer;
///
/// // XOR.
/// let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// let y = array![[0.0f32], [1.0], [1.0], [0.0]];
/// let mut model = Sequential::with_seed(2, 7);
/// model.add(Dense::new(8).activation(Activation::Tanh))?.add(Dense::new(1).activation(Activation::Sigmoid))?;
/// model.compile(Optimizer::adam(0.05), Loss::from_name("binary_crossentropy")?, &[Metric::Accuracy])?;
/// let history = model.fit(x.view(), y.view(), FitOptions { epochs: 300, batch_size: 4, ..Default::default() })?;
/// assert_eq!(history.last("accuracy"), Some(1.0));
/// assert_eq!(model.predict_classes(x.view())?, vec![0, 1, 1, 0]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sequential {
    pub(super) input_dim: usize,
    pub(super) layers: Vec<Layer>,
    /// One entry per layer: the weights of a dense layer, `None` for a dropout layer.
    pub(super) params: Vec<Option<Param>>,
    pub(super) compiled: Option<Compiled>,
    pub(super) optimizer_state: OptimizerState,
    pub(super) rng: StdRng,
    /// Quantization and pruning ([`crate::compress`]).
    pub(super) compression: super::compressed::Compression,
}

impl Sequential {
    /// An empty model for inputs of `input_dim` features; initial weights are drawn with seed 0.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Sequential::new(4).input_dim(), 4);
    /// ```
    pub fn new(input_dim: usize) -> Sequential {
        Sequential::with_seed(input_dim, 0)
    }

    /// An empty model whose initial weights are drawn with `seed`: the same seed gives the same model.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut a = Sequential::with_seed(3, 1);
    /// let mut b = Sequential::with_seed(3, 1);
    /// a.add(Dense::new(2)).unwrap();
    /// b.add(Dense::new(2)).unwrap();
    /// assert_eq!(a.get_weights(), b.get_weights());
    /// ```
    pub fn with_seed(input_dim: usize, seed: u64) -> Sequential {
        Sequential {
            input_dim,
            layers: Vec::new(),
            params: Vec::new(),
            compiled: None,
            optimizer_state: OptimizerState::default(),
            rng: StdRng::seed_from_u64(seed),
            compression: Default::default(),
        }
    }

    /// Appends a layer (its weights are drawn now) and returns the model for chaining.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Layer, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(8))?.add(Layer::Dropout { rate: 0.2 })?.add(Dense::new(2))?;
    /// assert_eq!(m.output_dim(), 2);
    /// assert!(m.add(Layer::Dropout { rate: 1.5 }).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn add(&mut self, layer: impl Into<Layer>) -> Result<&mut Sequential> {
        let layer = layer.into();
        layer.check()?;
        self.check_not_quantized("add layers to")?;
        if self.input_dim == 0 {
            return Err(Error::invalid("input_dim", "a model needs at least one input feature"));
        }
        let param = match &layer {
            Layer::Dense(d) => Some(Param {
                kernel: d.kernel_initializer.sample(self.output_dim(), d.units, &mut self.rng)?,
                bias: d.use_bias.then(|| Array1::zeros(d.units)),
            }),
            Layer::Dropout { .. } => None,
        };
        self.layers.push(layer);
        self.params.push(param);
        self.optimizer_state = OptimizerState::default();
        Ok(self)
    }

    /// The number of input features.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Sequential::new(7).input_dim(), 7);
    /// ```
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// The width of the output (the input width for an empty model).
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Sequential::new(7).output_dim(), 7);
    /// ```
    pub fn output_dim(&self) -> usize {
        self.layers.iter().fold(self.input_dim, |d, l| l.output_dim(d))
    }

    /// The layers, in order.
    ///
    /// ```
    /// assert!(oximl_core::nn::Sequential::new(2).layers().is_empty());
    /// ```
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The compile-time settings, once compiled.
    ///
    /// ```
    /// assert!(oximl_core::nn::Sequential::new(2).compiled().is_none());
    /// ```
    pub fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// The optimizer's base learning rate, once compiled.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// let mut m = Sequential::new(2);
    /// m.add(Dense::new(1))?;
    /// m.compile(oximl_core::optim::Optimizer::sgd(0.1), Loss::MeanSquaredError, &[])?;
    /// m.set_learning_rate(0.01)?;
    /// assert_eq!(m.learning_rate(), Some(0.01));
    /// assert!(m.set_learning_rate(-1.0).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn learning_rate(&self) -> Option<f32> {
        self.compiled.as_ref().map(|c| c.optimizer.learning_rate())
    }

    /// Changes the optimizer's base learning rate (finite and > 0), keeping its state.
    pub fn set_learning_rate(&mut self, rate: f32) -> Result<()> {
        let compiled = self.compiled.as_mut().ok_or_else(|| Error::invalid("model", "compile the model first"))?;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Error::invalid("learning_rate", format!("must be finite and > 0, got {rate}")));
        }
        compiled.optimizer.set_learning_rate(rate);
        Ok(())
    }

    /// The number of trainable parameters.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// assert_eq!(m.param_count(), 4 * 3 + 3);
    /// ```
    pub fn param_count(&self) -> usize {
        self.params.iter().flatten().map(|p| p.kernel.len() + p.bias.as_ref().map_or(0, |b| b.len())).sum()
    }

    /// Fixes the optimizer, the loss and the metrics (validating all of them), and resets the optimizer state.
    ///
    /// ```
    /// use oximl_core::kernel::Activation;
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3).activation(Activation::Softmax))?;
    /// assert!(m.compile(Optimizer::sgd(0.1), Loss::CategoricalCrossentropy { from_logits: true }, &[]).is_err());
    /// m.compile(Optimizer::sgd(0.1), Loss::CategoricalCrossentropy { from_logits: false }, &[])?;
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn compile(&mut self, optimizer: Optimizer, loss: Loss, metrics: &[Metric]) -> Result<()> {
        self.compile_with(Compiled { optimizer, loss, metrics: metrics.to_vec(), weighted_metrics: Vec::new() })
    }

    /// As [`compile`](Self::compile), from a whole configuration (with `weighted_metrics`).
    ///
    /// ```
    /// use oximl_core::nn::{Compiled, Dense, Loss, Metric, Sequential};
    /// let mut m = Sequential::new(2);
    /// m.add(Dense::new(1))?;
    /// let c: Compiled = serde_json::from_str(
    ///     r#"{"optimizer": {"name": "sgd"}, "loss": {"name": "mse"}, "metrics": [], "weighted_metrics": ["mae"]}"#,
    /// ).unwrap();
    /// m.compile_with(c)?;
    /// assert_eq!(m.compiled().unwrap().weighted_metrics, vec![Metric::Mae]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn compile_with(&mut self, compiled: Compiled) -> Result<()> {
        compiled.optimizer.check()?;
        let Some(Layer::Dense(last)) = self.layers.last() else {
            return Err(Error::invalid("layers", "the last layer of a model to train must be Dense"));
        };
        compiled.loss.check(last.activation, last.units)?;
        self.compiled = Some(compiled);
        self.optimizer_state = OptimizerState::default();
        Ok(())
    }

    /// The weights in Keras' order: for each dense layer its kernel, then its bias if it has one.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// let w = m.get_weights();
    /// assert_eq!((w[0].shape(), w[1].shape()), (&[4, 3][..], &[3][..]));
    /// ```
    pub fn get_weights(&self) -> Vec<ArrayD<f32>> {
        let mut out = Vec::new();
        for p in self.params.iter().flatten() {
            out.push(p.kernel.clone().into_dyn());
            if let Some(b) = &p.bias {
                out.push(b.clone().into_dyn());
            }
        }
        out
    }

    /// Replaces the weights (same order and shapes as [`Sequential::get_weights`]); nothing changes on error.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// let mut w = m.get_weights();
    /// w[1].fill(1.0);
    /// m.set_weights(w.clone()).unwrap();
    /// assert_eq!(m.get_weights(), w);
    /// assert!(m.set_weights(w[..1].to_vec()).is_err());
    /// ```
    pub fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        let expected: Vec<Vec<usize>> = self.get_weights().iter().map(|w| w.shape().to_vec()).collect();
        let got: Vec<Vec<usize>> = weights.iter().map(|w| w.shape().to_vec()).collect();
        if expected != got {
            return Err(Error::shape(format!("weights of shapes {expected:?}"), format!("{got:?}")));
        }
        if weights.iter().any(|w| w.iter().any(|v| !v.is_finite())) {
            return Err(Error::NonFinite("weights contain NaN or infinity".into()));
        }
        self.check_not_quantized("set the weights of")?;
        let mut it = weights.into_iter();
        for p in self.params.iter_mut().flatten() {
            p.kernel = it.next().and_then(|w| w.into_dimensionality::<Ix2>().ok()).unwrap_or_default();
            if let Some(b) = p.bias.as_mut() {
                *b = it.next().and_then(|w| w.into_dimensionality::<Ix1>().ok()).unwrap_or_default();
            }
        }
        self.apply_masks();
        Ok(())
    }

    /// A Keras-style table of the layers, their output shapes and parameter counts.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(64);
    /// m.add(Dense::new(10)).unwrap();
    /// assert!(m.summary().contains("Total params: 650"));
    /// ```
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let rule = "─".repeat(64);
        let _ = writeln!(s, "Model: \"sequential\"\n{rule}");
        let _ = writeln!(s, "{:<28}{:<20}{:>16}", "Layer (type)", "Output Shape", "Param #");
        let _ = writeln!(s, "{rule}");
        let mut dim = self.input_dim;
        for (i, (layer, param)) in self.layers.iter().zip(&self.params).enumerate() {
            dim = layer.output_dim(dim);
            let (name, count) = match (layer, param) {
                (Layer::Dense(d), Some(p)) => (
                    format!("dense_{i} ({})", d.activation.name()),
                    p.kernel.len() + p.bias.as_ref().map_or(0, |b| b.len()),
                ),
                _ => (format!("dropout_{i}"), 0),
            };
            let _ = writeln!(s, "{name:<28}{:<20}{count:>16}", format!("(None, {dim})"));
        }
        let _ = writeln!(s, "{rule}\nTotal params: {}", self.param_count());
        if let Some(q) = self.quantization() {
            let _ = writeln!(s, "Quantization: {}", serde_json::to_string(q).unwrap_or_default());
        }
        let _ = writeln!(s, "{rule}");
        s
    }
}
