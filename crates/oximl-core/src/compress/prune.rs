//! Magnitude pruning: which weights to zero ([`magnitude_masks`]), one-shot ([`PruneConfig`]) or on a schedule
//! during training ([`PruningSchedule`], TF-MOT's `ConstantSparsity` and `PolynomialDecay`).

use crate::error::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Which weights compete for pruning.
///
/// ```
/// let s: oximl_core::compress::Scope = serde_json::from_str("\"global\"").unwrap();
/// assert_eq!(s, oximl_core::compress::Scope::Global);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Each layer is pruned to the sparsity on its own (TF-MOT's behaviour).
    #[default]
    Layer,
    /// The smallest magnitudes over all the pruned kernels together: layers end at different sparsities.
    Global,
}

/// One-shot magnitude pruning of a trained model ([`crate::nn::Sequential::prune`]): the `sparsity` fraction of
/// the kernel weights with the smallest `|w|` become zero and stay zero through later `fit`s (biases are never
/// pruned). As JSON: `{"sparsity": 0.8, "scope": "global", "layers": [0, 2]}` (`scope` defaults to `"layer"`,
/// `layers` — indices of Dense layers — to all of them).
///
/// ```
/// use oximl_core::compress::{PruneConfig, Scope};
/// let c: PruneConfig = serde_json::from_str(r#"{"sparsity": 0.8, "scope": "global"}"#).unwrap();
/// assert_eq!(c, PruneConfig::global(0.8));
/// assert!(PruneConfig { sparsity: 1.0, scope: Scope::Layer, layers: None }.check().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneConfig {
    /// The fraction of weights to zero, in `[0, 1)`.
    pub sparsity: f64,
    /// Per layer or global.
    #[serde(default)]
    pub scope: Scope,
    /// The Dense layers to prune (their indices in the model), all of them if `None`.
    #[serde(default)]
    pub layers: Option<Vec<usize>>,
}

impl PruneConfig {
    /// Global pruning of every Dense layer to `sparsity`.
    ///
    /// ```
    /// assert_eq!(oximl_core::compress::PruneConfig::global(0.5).scope, oximl_core::compress::Scope::Global);
    /// ```
    pub fn global(sparsity: f64) -> PruneConfig {
        PruneConfig { sparsity, scope: Scope::Global, layers: None }
    }

    /// Validates the sparsity.
    ///
    /// ```
    /// assert!(oximl_core::compress::PruneConfig::global(-0.1).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        check_sparsity("sparsity", self.sparsity)
    }
}

fn check_sparsity(name: &str, s: f64) -> Result<()> {
    if (0.0..1.0).contains(&s) {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("a sparsity must be in [0, 1), got {s}")))
    }
}

fn minus_one() -> i64 {
    -1
}

fn hundred() -> u64 {
    100
}

fn three() -> f64 {
    3.0
}

/// When and how far pruning goes during training, as TF-MOT's `prune_low_magnitude` schedules: at each pruning
/// step (`begin_step`, then every `frequency` steps up to `end_step`) every pruned layer's mask is recomputed to the
/// schedule's sparsity; between those steps the mask is kept. Steps count optimizer steps from 0. As JSON:
/// `{"name": "polynomial_decay", "initial_sparsity": 0.5, "final_sparsity": 0.8, "begin_step": 0, "end_step": 1000}`.
///
/// ```
/// use oximl_core::compress::PruningSchedule;
/// let s = PruningSchedule::PolynomialDecay {
///     initial_sparsity: 0.0, final_sparsity: 0.8, begin_step: 0, end_step: 100, power: 3.0, frequency: 10,
/// };
/// assert_eq!(s.sparsity_at(5), None); // not a pruning step
/// assert_eq!(s.sparsity_at(0), Some(0.0));
/// assert!((s.sparsity_at(50).unwrap() - 0.7).abs() < 1e-12); // 0.8 − 0.8·0.5³
/// assert_eq!(s.sparsity_at(100), Some(0.8));
/// assert_eq!(s.sparsity_at(110), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum PruningSchedule {
    /// `target_sparsity` at every pruning step.
    ConstantSparsity {
        /// The sparsity, in `[0, 1)`.
        target_sparsity: f64,
        /// The first pruning step.
        begin_step: u64,
        /// The last step that may prune; `-1` (the default): no end.
        #[serde(default = "minus_one")]
        end_step: i64,
        /// Steps between two mask updates (100 by default).
        #[serde(default = "hundred")]
        frequency: u64,
    },
    /// `final + (initial − final)·(1 − p)^power`, `p = (step − begin)/(end − begin)` clamped to `[0, 1]`.
    PolynomialDecay {
        /// The sparsity at `begin_step`, in `[0, 1)`.
        initial_sparsity: f64,
        /// The sparsity from `end_step` on, in `[0, 1)`.
        final_sparsity: f64,
        /// The first pruning step.
        begin_step: u64,
        /// The last pruning step (after `begin_step`).
        end_step: u64,
        /// The exponent (3 by default).
        #[serde(default = "three")]
        power: f64,
        /// Steps between two mask updates (100 by default).
        #[serde(default = "hundred")]
        frequency: u64,
    },
}

impl PruningSchedule {
    /// Validates the settings.
    ///
    /// ```
    /// use oximl_core::compress::PruningSchedule;
    /// let bad = PruningSchedule::ConstantSparsity { target_sparsity: 0.5, begin_step: 0, end_step: -1, frequency: 0 };
    /// assert!(bad.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        let frequency = match *self {
            PruningSchedule::ConstantSparsity { target_sparsity, end_step, begin_step, frequency } => {
                check_sparsity("target_sparsity", target_sparsity)?;
                if end_step >= 0 && (end_step as u64) < begin_step {
                    return Err(Error::invalid("end_step", "must be -1 or at least begin_step"));
                }
                frequency
            }
            PruningSchedule::PolynomialDecay {
                initial_sparsity,
                final_sparsity,
                begin_step,
                end_step,
                power,
                frequency,
            } => {
                check_sparsity("initial_sparsity", initial_sparsity)?;
                check_sparsity("final_sparsity", final_sparsity)?;
                if end_step <= begin_step {
                    return Err(Error::invalid("end_step", "must be after begin_step"));
                }
                if !(power.is_finite() && power > 0.0) {
                    return Err(Error::invalid("power", format!("must be finite and positive, got {power}")));
                }
                frequency
            }
        };
        if frequency == 0 {
            return Err(Error::invalid("frequency", "must be at least 1"));
        }
        Ok(())
    }

    /// The sparsity to prune to at optimizer step `step`, or `None` if the mask is not updated at that step.
    ///
    /// ```
    /// use oximl_core::compress::PruningSchedule;
    /// let s = PruningSchedule::ConstantSparsity { target_sparsity: 0.5, begin_step: 10, end_step: -1, frequency: 5 };
    /// assert_eq!((s.sparsity_at(9), s.sparsity_at(10), s.sparsity_at(12)), (None, Some(0.5), None));
    /// assert_eq!(s.sparsity_at(1_000), Some(0.5));
    /// ```
    pub fn sparsity_at(&self, step: u64) -> Option<f64> {
        let (begin, end, frequency) = match *self {
            PruningSchedule::ConstantSparsity { begin_step, end_step, frequency, .. } => {
                (begin_step, u64::try_from(end_step).unwrap_or(u64::MAX), frequency)
            }
            PruningSchedule::PolynomialDecay { begin_step, end_step, frequency, .. } => {
                (begin_step, end_step, frequency)
            }
        };
        if step < begin || step > end || (step - begin) % frequency.max(1) != 0 {
            return None;
        }
        Some(match *self {
            PruningSchedule::ConstantSparsity { target_sparsity, .. } => target_sparsity,
            PruningSchedule::PolynomialDecay { initial_sparsity, final_sparsity, power, .. } => {
                let p = (step - begin) as f64 / (end - begin) as f64;
                final_sparsity + (initial_sparsity - final_sparsity) * (1.0 - p.min(1.0)).powf(power)
            }
        })
    }
}

/// The zero fraction of each Dense layer's kernel (`(layer index, fraction)`) and of all kernels together
/// (biases are not counted).
///
/// ```
/// use oximl_core::nn::{Dense, Initializer, Sequential};
/// let mut m = Sequential::new(2);
/// m.add(Dense::new(2).kernel_initializer(Initializer::Zeros))?;
/// assert_eq!(m.sparsity().layers, vec![(0, 1.0)]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sparsity {
    /// Per Dense layer.
    pub layers: Vec<(usize, f64)>,
    /// Over every kernel weight.
    pub total: f64,
}

/// Masks (`true` = kept) that zero the `sparsity` fraction of smallest `|w|` of each kernel
/// ([`Scope::Layer`]) or of all of them together ([`Scope::Global`]). Exactly `round(sparsity·n)` weights are
/// pruned (at least one kept per layer, or overall); ties are broken by position, so the masks are deterministic.
///
/// ```
/// use ndarray::array;
/// use oximl_core::compress::{Scope, magnitude_masks};
/// let (a, b) = (array![[1.0f32, -4.0]], array![[2.0f32, 3.0]]);
/// let masks = magnitude_masks(&[a.view(), b.view()], 0.5, Scope::Global);
/// assert_eq!(masks, vec![array![[false, true]], array![[false, true]]]);
/// let masks = magnitude_masks(&[a.view(), b.view()], 0.5, Scope::Layer);
/// assert_eq!(masks[1], array![[false, true]]);
/// ```
pub fn magnitude_masks(kernels: &[ArrayView2<'_, f32>], sparsity: f64, scope: Scope) -> Vec<Array2<bool>> {
    let mut masks: Vec<Array2<bool>> = kernels.iter().map(|k| Array2::from_elem(k.dim(), true)).collect();
    let groups: Vec<Vec<usize>> = match scope {
        Scope::Layer => (0..kernels.len()).map(|l| vec![l]).collect(),
        Scope::Global => vec![(0..kernels.len()).collect()],
    };
    for group in groups {
        // (|w|, layer, position): a total order, so the pruned set does not depend on the selection algorithm.
        let mut all: Vec<(f32, usize, usize)> =
            group.iter().flat_map(|&l| kernels[l].iter().enumerate().map(move |(i, w)| (w.abs(), l, i))).collect();
        let n = all.len();
        let pruned = ((sparsity * n as f64).round() as usize).min(n.saturating_sub(1));
        if pruned == 0 {
            continue;
        }
        let order = |a: &(f32, usize, usize), b: &(f32, usize, usize)| -> Ordering {
            a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
        };
        all.select_nth_unstable_by(pruned - 1, order);
        for &(_, l, i) in &all[..pruned] {
            let cols = masks[l].ncols();
            masks[l][[i / cols, i % cols]] = false;
        }
    }
    masks
}
