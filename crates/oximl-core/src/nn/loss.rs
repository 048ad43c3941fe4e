//! Losses, averaged as Keras does (`sum_over_batch_size`), each with its gradient with respect to the output
//! layer's pre-activation. Cross-entropies are fused with their softmax/sigmoid (the gradient is `p − y`), or
//! computed from logits with a stable log-softmax / log-sigmoid when `from_logits` is set.

use crate::error::{Error, Result};
use ndarray::{ArrayView2, ArrayViewMut2, Zip};
use oximl_kernel::Activation;
use serde::{Deserialize, Serialize};

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

    /// The mean loss of a batch, and its gradient with respect to the output layer's pre-activation `z`
    /// written into `dz`. `a = act(z)` is the layer's output; `y` the targets (checked by `check_targets`).
    pub(crate) fn forward_backward(
        &self,
        act: Activation,
        z: ArrayView2<'_, f32>,
        a: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        mut dz: ArrayViewMut2<'_, f32>,
    ) -> Result<f64> {
        let (m, k) = a.dim();
        let inv_m = 1.0 / m as f32;
        let inv_n = 1.0 / (m * k) as f32;
        let target = |i: usize, j: usize| -> f32 {
            if self.sparse_targets() { f32::from(y[[i, 0]] as usize == j) } else { y[[i, j]] }
        };
        let mut total = 0.0f64;
        match (*self, act) {
            // Fused softmax + cross-entropy: ∂/∂z = (p − y)/m.
            (Loss::CategoricalCrossentropy { from_logits: false }, Activation::Softmax)
            | (Loss::SparseCategoricalCrossentropy { from_logits: false }, Activation::Softmax) => {
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let (p, t) = (a[[i, j]], target(i, j));
                    if t != 0.0 {
                        total -= t as f64 * (p.clamp(EPSILON, 1.0 - EPSILON) as f64).ln();
                    }
                    *d = (p - t) * inv_m;
                }
                total /= m as f64;
            }
            // From logits: log-softmax, ∂/∂z = (softmax(z) − y)/m.
            (Loss::CategoricalCrossentropy { from_logits: true }, _)
            | (Loss::SparseCategoricalCrossentropy { from_logits: true }, _) => {
                dz.assign(&z);
                oximl_kernel::log_softmax_rows(dz.view_mut());
                for ((i, j), d) in dz.indexed_iter_mut() {
                    let t = target(i, j);
                    total -= (t * *d) as f64;
                    *d = (d.exp() - t) * inv_m;
                }
                total /= m as f64;
            }
            // Fused sigmoid + binary cross-entropy: ∂/∂z = (p − y)/(m·k).
            (Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid) => {
                Zip::from(&mut dz).and(&a).and(&y).for_each(|d, &p, &t| {
                    let p = p.clamp(EPSILON, 1.0 - EPSILON) as f64;
                    total -= t as f64 * p.ln() + (1.0 - t as f64) * (1.0 - p).ln();
                    *d = (p as f32 - t) * inv_n;
                });
                total /= (m * k) as f64;
            }
            // From logits: max(z, 0) − z·y + ln(1 + e^−|z|), ∂/∂z = (σ(z) − y)/(m·k).
            (Loss::BinaryCrossentropy { from_logits: true }, _) => {
                Zip::from(&mut dz).and(&z).and(&y).for_each(|d, &z, &t| {
                    let z64 = z as f64;
                    total += z64.max(0.0) - z64 * t as f64 + (-z64.abs()).exp().ln_1p();
                    *d = (1.0 / (1.0 + (-z).exp()) - t) * inv_n;
                });
                total /= (m * k) as f64;
            }
            // Everything else: ∂L/∂a, then back through the activation.
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
                    total += value;
                    *d = grad;
                }
                oximl_kernel::activate_backward(act, z, a, dz)?;
            }
        }
        Ok(total)
    }
}
