//! Learning-rate schedules, evaluated at each optimizer step (Keras' `LearningRateSchedule`s).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the learning rate changes with the optimizer step `t` (0-based), starting from the optimizer's rate `lr`.
///
/// ```
/// use oximl_core::optim::Schedule;
/// let s = Schedule::Step { every: 10, gamma: 0.5 };
/// assert_eq!(s.rate(0.1, 9), 0.1);
/// assert_eq!(s.rate(0.1, 10), 0.05);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `lr`.
    #[default]
    Constant,
    /// `lr · gamma^⌊t / every⌋`.
    Step {
        /// Steps between two decays.
        every: u64,
        /// The factor applied at each decay.
        gamma: f32,
    },
    /// `lr · rate^(t / steps)` (Keras' `ExponentialDecay` without staircase).
    Exponential {
        /// Steps over which the rate is multiplied by `rate`.
        steps: u64,
        /// The decay factor.
        rate: f32,
    },
    /// `lr · (alpha + (1 − alpha)·(1 + cos(π·min(t, steps)/steps))/2)` (Keras' `CosineDecay`).
    Cosine {
        /// Steps to decay over.
        steps: u64,
        /// The final fraction of `lr`.
        alpha: f32,
    },
}

impl Schedule {
    /// The learning rate at step `t`.
    ///
    /// ```
    /// use oximl_core::optim::Schedule;
    /// assert!((Schedule::Cosine { steps: 100, alpha: 0.0 }.rate(1.0, 100)).abs() < 1e-7);
    /// ```
    pub fn rate(&self, lr: f32, t: u64) -> f32 {
        match *self {
            Schedule::Constant => lr,
            Schedule::Step { every, gamma } => lr * gamma.powi((t / every.max(1)).min(i32::MAX as u64) as i32),
            Schedule::Exponential { steps, rate } => lr * rate.powf(t as f32 / steps.max(1) as f32),
            Schedule::Cosine { steps, alpha } => {
                let p = t.min(steps) as f32 / steps.max(1) as f32;
                lr * (alpha + (1.0 - alpha) * 0.5 * (1.0 + (std::f32::consts::PI * p).cos()))
            }
        }
    }

    /// Refuses zero periods and factors outside their ranges.
    ///
    /// ```
    /// assert!(oximl_core::optim::Schedule::Step { every: 0, gamma: 0.5 }.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        let bad = |name: &str, why: String| Err(Error::invalid(name, why));
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { every: 0, .. }
            | Schedule::Exponential { steps: 0, .. }
            | Schedule::Cosine { steps: 0, .. } => bad("schedule", "the period must be at least 1 step".into()),
            Schedule::Step { gamma, .. } if !(gamma > 0.0 && gamma.is_finite()) => {
                bad("gamma", format!("must be finite and > 0, got {gamma}"))
            }
            Schedule::Exponential { rate, .. } if !(rate > 0.0 && rate.is_finite()) => {
                bad("rate", format!("must be finite and > 0, got {rate}"))
            }
            Schedule::Cosine { alpha, .. } if !(0.0..=1.0).contains(&alpha) => {
                bad("alpha", format!("must be in [0, 1], got {alpha}"))
            }
            _ => Ok(()),
        }
    }
}
