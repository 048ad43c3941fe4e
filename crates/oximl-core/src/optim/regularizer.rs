//! Weight penalties added to the loss and to its gradient (Keras' `l1`, `l2`, `l1_l2`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A penalty `l1·Σ|w| + l2·Σw²` on a weight tensor.
///
/// ```
/// use oximl_core::optim::Regularizer;
/// let r = Regularizer::l1_l2(0.25, 0.5);
/// assert_eq!(r.penalty(&[1.0, -2.0]), 0.25 * 3.0 + 0.5 * 5.0);
/// let mut g = [0.0f32; 2];
/// r.add_gradient(&[1.0, -2.0], &mut g);
/// assert_eq!(g, [0.25 + 1.0, -0.25 - 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regularizer {
    /// The L1 factor.
    pub l1: f32,
    /// The L2 factor.
    pub l2: f32,
}

impl Regularizer {
    /// `l·Σ|w|`.
    ///
    /// ```
    /// assert_eq!(oximl_core::optim::Regularizer::l1(0.01).l1, 0.01);
    /// ```
    pub fn l1(l1: f32) -> Regularizer {
        Regularizer { l1, l2: 0.0 }
    }

    /// `l·Σw²`.
    ///
    /// ```
    /// assert_eq!(oximl_core::optim::Regularizer::l2(0.01).l2, 0.01);
    /// ```
    pub fn l2(l2: f32) -> Regularizer {
        Regularizer { l1: 0.0, l2 }
    }

    /// `l1·Σ|w| + l2·Σw²`.
    ///
    /// ```
    /// let r = oximl_core::optim::Regularizer::l1_l2(0.1, 0.2);
    /// assert_eq!((r.l1, r.l2), (0.1, 0.2));
    /// ```
    pub fn l1_l2(l1: f32, l2: f32) -> Regularizer {
        Regularizer { l1, l2 }
    }

    /// Refuses negative or non-finite factors.
    ///
    /// ```
    /// assert!(oximl_core::optim::Regularizer::l2(-1.0).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        for (name, v) in [("l1", self.l1), ("l2", self.l2)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(name, format!("a regularization factor must be finite and ≥ 0, got {v}")));
            }
        }
        Ok(())
    }

    /// The penalty of `w`, accumulated in f64.
    ///
    /// ```
    /// assert_eq!(oximl_core::optim::Regularizer::l2(1.0).penalty(&[3.0, 4.0]), 25.0);
    /// ```
    pub fn penalty(&self, w: &[f32]) -> f64 {
        let (mut abs, mut sq) = (0.0f64, 0.0f64);
        for &v in w {
            abs += v.abs() as f64;
            sq += (v as f64) * (v as f64);
        }
        self.l1 as f64 * abs + self.l2 as f64 * sq
    }

    /// `grad += l1·sign(w) + 2·l2·w` (the subgradient of |w| at 0 is 0).
    ///
    /// ```
    /// let mut g = [1.0f32];
    /// oximl_core::optim::Regularizer::l2(0.5).add_gradient(&[2.0], &mut g);
    /// assert_eq!(g, [3.0]);
    /// ```
    pub fn add_gradient(&self, w: &[f32], grad: &mut [f32]) {
        let (l1, l2x2) = (self.l1, 2.0 * self.l2);
        for (g, &v) in grad.iter_mut().zip(w) {
            let sign = if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            };
            *g += l1 * sign + l2x2 * v;
        }
    }
}
