//! Activations quantized to `u8` per row at run time (asymmetric, as ONNX Runtime's dynamic quantization does).

use crate::cpu::{CpuLevel, dispatch};
use crate::error::{KernelError, Result};

/// Lanes of the range scan: independent minima and maxima that the compiler keeps in vector registers.
const LANES: usize = 16;
/// Adding and subtracting 1.5·2²³ rounds an `f32` in `[0, 2²²]` to the nearest integer (ties to even) with two
/// additions that vectorize at every level (`roundps` needs SSE4.1).
const ROUND: f32 = 12_582_912.0;

/// How one row of activations maps to `u8`: `x ≈ scale · (q − zero_point)`.
///
/// The range always contains 0 (which is then represented exactly, so zero padding and ReLU zeros stay exact):
/// `scale = (max(hi, 0) − min(lo, 0)) / 255`, `zero_point = round(−min(lo, 0) / scale)`, and
/// `q = clamp(round(x / scale) + zero_point, 0, 255)`, so every `x` inside the range comes back within
/// `scale / 2`.
///
/// ```
/// use oximl_kernel::RowQuant;
/// let x = [-1.0f32, 0.0, 0.5, 3.0];
/// let rq = RowQuant::of(&x).unwrap();
/// let mut q = [0u8; 4];
/// rq.quantize(&x, &mut q);
/// assert_eq!(q[1], rq.zero_point);
/// for (&v, &qv) in x.iter().zip(&q) {
///     assert!((rq.dequantize(qv) - v).abs() <= rq.scale / 2.0 * 1.0001);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowQuant {
    /// The step between two consecutive `u8` values.
    pub scale: f32,
    /// The `u8` value that represents 0.
    pub zero_point: u8,
}

impl RowQuant {
    /// The quantization of the range `[lo, hi]` (widened to contain 0); a fixed range is static quantization
    /// (values outside it are clamped). An empty range (all zeros) gets scale 1 and zero point 0.
    ///
    /// ```
    /// let rq = oximl_kernel::RowQuant::for_range(0.0, 25.5);
    /// assert_eq!((rq.scale, rq.zero_point), (0.1, 0));
    /// assert_eq!(oximl_kernel::RowQuant::for_range(-2.55, 0.0).zero_point, 255);
    /// ```
    pub fn for_range(lo: f32, hi: f32) -> RowQuant {
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let scale = (hi - lo) / 255.0;
        if !(scale > 0.0 && scale.is_finite()) {
            return RowQuant { scale: 1.0, zero_point: 0 };
        }
        RowQuant { scale, zero_point: (-lo / scale).round_ties_even().clamp(0.0, 255.0) as u8 }
    }

    /// The quantization of the range of `x`; refuses NaN and infinite values.
    ///
    /// ```
    /// let rq = oximl_kernel::RowQuant::of(&[0.0f32, 2.55]).unwrap();
    /// assert_eq!((rq.scale, rq.zero_point), (0.01, 0));
    /// assert!(oximl_kernel::RowQuant::of(&[f32::NAN]).is_err());
    /// ```
    pub fn of(x: &[f32]) -> Result<RowQuant> {
        Self::of_at(CpuLevel::current(), x)
    }

    pub(super) fn of_at(level: CpuLevel, x: &[f32]) -> Result<RowQuant> {
        let ((lo, hi), finite) = dispatch(
            level,
            #[inline(always)]
            || (range(x), x.iter().fold(true, |ok, v| ok & v.is_finite())),
        );
        if !finite {
            return Err(KernelError::InvalidArgument { name: "x", reason: "an input is NaN or infinite".into() });
        }
        Ok(Self::for_range(lo, hi))
    }

    /// Quantizes `x` into `q` (the same length).
    ///
    /// ```
    /// let rq = oximl_kernel::RowQuant { scale: 0.5, zero_point: 10 };
    /// let mut q = [0u8; 3];
    /// rq.quantize(&[1.0f32, -100.0, 0.25], &mut q);
    /// assert_eq!(q, [12, 0, 10]);
    /// ```
    pub fn quantize(self, x: &[f32], q: &mut [u8]) {
        self.quantize_at(CpuLevel::current(), x, q)
    }

    pub(super) fn quantize_at(self, level: CpuLevel, x: &[f32], q: &mut [u8]) {
        let (scale, zp) = (self.scale, f32::from(self.zero_point));
        dispatch(
            level,
            #[inline(always)]
            || {
                for (qv, &v) in q.iter_mut().zip(x) {
                    let shifted = (v / scale + zp).max(0.0).min(255.0);
                    *qv = ((shifted + ROUND) - ROUND) as u8;
                }
            },
        );
    }

    /// The value `q` stands for.
    ///
    /// ```
    /// assert_eq!(oximl_kernel::RowQuant { scale: 0.5, zero_point: 10 }.dequantize(12), 1.0);
    /// ```
    pub fn dequantize(self, q: u8) -> f32 {
        self.scale * (f32::from(q) - f32::from(self.zero_point))
    }
}

/// `(min, max)` of `x` and 0, in `LANES` independent lanes (the result does not depend on the order).
#[inline(always)]
fn range(x: &[f32]) -> (f32, f32) {
    let (mut lo, mut hi) = ([0.0f32; LANES], [0.0f32; LANES]);
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            lo[i] = if c[i] < lo[i] { c[i] } else { lo[i] };
            hi[i] = if c[i] > hi[i] { c[i] } else { hi[i] };
        }
    }
    for (i, &v) in tail.iter().enumerate() {
        lo[i] = if v < lo[i] { v } else { lo[i] };
        hi[i] = if v > hi[i] { v } else { hi[i] };
    }
    let lo = lo.iter().fold(0.0f32, |m, &v| if v < m { v } else { m });
    let hi = hi.iter().fold(0.0f32, |m, &v| if v > m { v } else { m });
    (lo, hi)
}
