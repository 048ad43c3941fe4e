//! Losses, averaged as Keras does (`sum_over_batch_size`), each with its gradient with respect to the output
//! layer's pre-activation. Cross-entropies are fused with their softmax/sigmoid (the gradient is `p − y`), or
//! computed from logits with a stable log-softmax / log-sigmoid when `from_logits` is set.

use crate::error::{Error, Result};
use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut2};
use oximl_kernel::Activation;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Probabilities are clipped to [ε, 1 − ε] inside logarithms, as Keras does.
const EPSILON: f32 = 1e-7;

/// A training objective.
///
/// ```
/// use oximl_core::nn::Loss;
/// assert_eq!(Loss::from_name("mse").unwrap(), Loss::MeanSquaredError);
/// assert_eq!(Loss::from_name("categorical_crossentropy").unwrap(), Loss::CategoricalCrossentropy { from_logits: false });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Loss {
    /// Keras' MSE: the mean of (h − y)² over outputs and samples.
    #[serde(alias = "mse")]
    MeanSquaredError,
    /// The classical `J = 1/(2m) Σᵢ Σₖ (hᵢₖ − yᵢₖ)²` over m samples; its gradient is `(h − y)/m`.
    #[serde(alias = "half_mse")]
    HalfSquaredError,
    /// The mean of |h − y|.
    #[serde(alias = "mae")]
    MeanAbsoluteError,
    /// Quadratic within `delta` of the target, linear beyond: `½e²` if |e| ≤ δ, else `δ(|e| − ½δ)`; mean.
    Huber {
        /// The switch point δ > 0 (1 if left out of a JSON configuration).
        #[serde(default = "one")]
        delta: f32,
    },
    /// `−mean[y·ln p + (1−y)·ln(1−p)]` over outputs and samples; targets in [0, 1].
    #[serde(alias = "bce")]
    BinaryCrossentropy {
        /// The outputs are logits (a linear last layer) rather than sigmoid probabilities.
        #[serde(default)]
        from_logits: bool,
    },
    /// `−mean over samples of Σₖ yₖ·ln pₖ`; targets one-hot (or probability) rows.
    #[serde(alias = "cce")]
    CategoricalCrossentropy {
        /// The outputs are logits (a linear last layer) rather than softmax probabilities.
        #[serde(default)]
        from_logits: bool,
    },
    /// As categorical cross-entropy, with integer class labels (one column) as targets.
    SparseCategoricalCrossentropy {
        /// The outputs are logits (a linear last layer) rather than softmax probabilities.
        #[serde(default)]
        from_logits: bool,
    },
}

fn one() -> f32 {
    1.0
}

impl Loss {
    /// A loss by Keras name (case-insensitive), with its defaults: the names and aliases of the JSON `name` key
    /// (`mse`, `mae`, `huber`, `binary_crossentropy`/`bce`, `categorical_crossentropy`/`cce`,
    /// `sparse_categorical_crossentropy`, and `half_squared_error`/`half_mse` for the classical ½-MSE).
    ///
    /// ```
    /// assert!(oximl_core::nn::Loss::from_name("hinge").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Loss> {
        super::by_name("loss", name)
    }

    /// The loss's Keras name.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Loss::Huber { delta: 1.0 }.name(), "huber");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean_squared_error",
            Loss::HalfSquaredError => "half_squared_error",
            Loss::MeanAbsoluteError => "mean_absolute_error",
            Loss::Huber { .. } => "huber",
            Loss::BinaryCrossentropy { .. } => "binary_crossentropy",
            Loss::CategoricalCrossentropy { .. } => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
        }
    }

    /// Whether targets are integer class labels in one column.
    ///
    /// ```
    /// assert!(oximl_core::nn::Loss::from_name("sparse_categorical_crossentropy").unwrap().sparse_targets());
    /// ```
    pub fn sparse_targets(&self) -> bool {
        matches!(self, Loss::SparseCategoricalCrossentropy { .. })
    }

    /// The number of target columns this loss needs for a model with `outputs` outputs.
    pub(crate) fn target_cols(&self, outputs: usize) -> usize {
        if self.sparse_targets() { 1 } else { outputs }
    }

    pub(crate) fn is_from_logits(&self) -> bool {
        matches!(
            self,
            Loss::BinaryCrossentropy { from_logits: true }
                | Loss::CategoricalCrossentropy { from_logits: true }
                | Loss::SparseCategoricalCrossentropy { from_logits: true }
        )
    }

    /// Checks the loss against the output layer's activation, once, before training.
    pub(crate) fn check(&self, output: Activation, outputs: usize) -> Result<()> {
        if let Loss::Huber { delta } = self
            && !(*delta > 0.0 && delta.is_finite())
        {
            return Err(Error::invalid("delta", format!("the Huber δ must be finite and > 0, got {delta}")));
        }
        if self.is_from_logits() && output != Activation::Linear {
            return Err(Error::invalid(
                "loss",
                format!("from_logits expects a linear output layer, but it applies {}", output.name()),
            ));
        }
        if matches!(self, Loss::CategoricalCrossentropy { .. } | Loss::SparseCategoricalCrossentropy { .. })
            && outputs < 2
        {
            return Err(Error::invalid("loss", format!("{} needs at least 2 outputs, got {outputs}", self.name())));
        }
        Ok(())
    }

    /// Checks targets once, before training: shape, finiteness and range (labels in [0, outputs), binary
    /// targets in [0, 1]).
    pub(crate) fn check_targets(&self, y: ArrayView2<'_, f32>, outputs: usize) -> Result<()> {
        let cols = self.target_cols(outputs);
        if y.ncols() != cols {
            return Err(Error::shape(
                format!("targets with {cols} column(s) for {}", self.name()),
                format!("{} columns", y.ncols()),
            ));
        }
        if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("targets contain {bad}")));
        }
        match self {
            Loss::SparseCategoricalCrossentropy { .. } => {
                if let Some(bad) = y.iter().find(|&&v| v < 0.0 || v.fract() != 0.0 || v as usize >= outputs) {
                    return Err(Error::invalid("y", format!("label {bad} is not a class in 0..{outputs}")));
                }
            }
            Loss::BinaryCrossentropy { .. } => {
                if let Some(bad) = y.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                    return Err(Error::invalid("y", format!("binary targets must be in [0, 1], got {bad}")));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The loss of a batch and its gradient with respect to the output layer's pre-activation `z`, written into
    /// `dz`. `a = act(z)` is the layer's output; `y` the targets (checked by `check_targets`). As Keras' reduction
    /// `sum_over_batch_size`: each sample's loss is multiplied by its weight (1 without `sample_weight`) and the
    /// sum is divided by the number of samples (not by the sum of the weights).
    pub(crate) fn forward_backward(
        &self,
        act: Activation,
        z: ArrayView2<'_, f32>,
        a: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        sample_weight: Option<ArrayView1<'_, f32>>,
        mut dz: ArrayViewMut2<'_, f32>,
    ) -> Result<f64> {
        let (m, k) = a.dim();
        let weight = |i: usize| sample_weight.map_or(1.0, |w| w[i]);
        // The per-sample factors of the mean: 1/m for a sum over outputs, 1/(m·k) for a mean over them.
        let inv_m = 1.0 / m as f32;
        let inv_n = 1.0 / (m * k) as f32;
        let target = |i: usize, j: usize| -> f32 {
            if self.sparse_targets() { f32::from(y[[i, 0]] as usize == j) } else { y[[i, j]] }
        };
        let mut total = 0.0f64;
        match (*self, act) {
            // Fused softmax + cross-entropy: ∂/∂z = w·(p − y)/m.
            (Loss::CategoricalCrossentropy { from_logits: false }, Activation::Softmax)
            | (Loss::SparseCategoricalCrossentropy { from_logits: false }, Activation::Softmax) => {
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let (p, t, w) = (a[[i, j]], target(i, j), weight(i));
                    if t != 0.0 {
                        total -= (w * t) as f64 * (p.clamp(EPSILON, 1.0 - EPSILON) as f64).ln();
                    }
                    *d = (p - t) * w * inv_m;
                }
                total /= m as f64;
            }
            // From logits: log-softmax, ∂/∂z = w·(softmax(z) − y)/m.
            (Loss::CategoricalCrossentropy { from_logits: true }, _)
            | (Loss::SparseCategoricalCrossentropy { from_logits: true }, _) => {
                dz.assign(&z);
                oximl_kernel::log_softmax_rows(dz.view_mut());
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let (t, w) = (target(i, j), weight(i));
                    total -= (w * t * *d) as f64;
                    *d = (d.exp() - t) * w * inv_m;
                }
                total /= m as f64;
            }
            // Fused sigmoid + binary cross-entropy: ∂/∂z = w·(p − y)/(m·k).
            (Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid) => {
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let (t, w) = (y[[i, j]], weight(i));
                    let p = a[[i, j]].clamp(EPSILON, 1.0 - EPSILON) as f64;
                    total -= w as f64 * (t as f64 * p.ln() + (1.0 - t as f64) * (1.0 - p).ln());
                    *d = (p as f32 - t) * w * inv_n;
                }
                total /= (m * k) as f64;
            }
            // From logits: max(z, 0) − z·y + ln(1 + e^−|z|), ∂/∂z = w·(σ(z) − y)/(m·k).
            (Loss::BinaryCrossentropy { from_logits: true }, _) => {
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let (z, t, w) = (z[[i, j]], y[[i, j]], weight(i));
                    let z64 = z as f64;
                    total += w as f64 * (z64.max(0.0) - z64 * t as f64 + (-z64.abs()).exp().ln_1p());
                    *d = (1.0 / (1.0 + (-z).exp()) - t) * w * inv_n;
                }
                total /= (m * k) as f64;
            }
            // Everything else: ∂L/∂a, then back through the activation (row by row, so the weights commute).
            _ => {
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let (p, t) = (a[[i, j]], target(i, j));
                    let e = p - t;
                    let (value, grad) = match *self {
                        Loss::MeanSquaredError => ((e * e) as f64 * inv_n as f64, 2.0 * e * inv_n),
                        Loss::HalfSquaredError => (0.5 * (e * e) as f64 * inv_m as f64, e * inv_m),
                        Loss::MeanAbsoluteError => {
                            (e.abs() as f64 * inv_n as f64, e.signum() * f32::from(e != 0.0) * inv_n)
                        }
                        Loss::Huber { delta } if e.abs() <= delta => (0.5 * (e * e) as f64 * inv_n as f64, e * inv_n),
                        Loss::Huber { delta } => {
                            ((delta * (e.abs() - 0.5 * delta)) as f64 * inv_n as f64, delta * e.signum() * inv_n)
                        }
                        Loss::BinaryCrossentropy { .. } => {
                            let pc = p.clamp(EPSILON, 1.0 - EPSILON);
                            let v = -(t as f64 * (pc as f64).ln() + (1.0 - t as f64) * (1.0 - pc as f64).ln());
                            (v * inv_n as f64, (pc - t) / (pc * (1.0 - pc)) * inv_n)
                        }
                        Loss::CategoricalCrossentropy { .. } | Loss::SparseCategoricalCrossentropy { .. } => {
                            let pc = p.clamp(EPSILON, 1.0 - EPSILON);
                            (-(t as f64) * (pc as f64).ln() * inv_m as f64, -t / pc * inv_m)
                        }
                    };
                    let w = weight(i);
                    total += w as f64 * value;
                    *d = grad * w;
                }
                oximl_kernel::activate_backward(act, z, a, dz)?;
            }
        }
        Ok(total)
    }

    /// Keras' `class_weight`: each sample's weight is the weight of its class (the argmax of a one-hot row, or
    /// the rounded value of a one-column target: a label or a binary target), 1 for a class not in `weights`.
    ///
    /// ```
    /// use ndarray::array;
    /// use std::collections::BTreeMap;
    /// let weights = BTreeMap::from([(1, 5.0f32)]);
    /// let labels = array![[0.0f32], [1.0], [2.0]];
    /// assert_eq!(oximl_core::nn::Loss::class_weights(labels.view(), &weights), array![1.0, 5.0, 1.0]);
    /// let one_hot = array![[0.0f32, 1.0], [1.0, 0.0]];
    /// assert_eq!(oximl_core::nn::Loss::class_weights(one_hot.view(), &weights), array![5.0, 1.0]);
    /// ```
    pub fn class_weights(y: ArrayView2<'_, f32>, weights: &BTreeMap<usize, f32>) -> Array1<f32> {
        let class = |row: ArrayView1<'_, f32>| -> Option<usize> {
            if row.len() == 1 {
                let v = row[0].round();
                (v >= 0.0).then_some(v as usize)
            } else {
                Some((0..row.len()).fold(0, |best, j| if row[j] > row[best] { j } else { best }))
            }
        };
        y.rows().into_iter().map(|r| class(r).and_then(|c| weights.get(&c)).copied().unwrap_or(1.0)).collect()
    }
}
