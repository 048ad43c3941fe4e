//! Activations quantized to `u8` per row at run time (asymmetric, as ONNX Runtime's dynamic quantization does).

use crate::cpu::{CpuLevel, dispatch};
use crate::error::{KernelError, Result};

/// Lanes of the range scan: independent minima and maxima that the compiler keeps in vector registers.
const LANES: usize = 16;
/// Adding 1.5·2²³ to an `f32` in `[0, 2²²]` rounds it to the nearest integer (ties to even), which then sits in
/// the low mantissa bits: an addition and an integer move that vectorize at every level (`roundps` needs SSE4.1).
const ROUND: f32 = 12_582_912.0;
/// The sign bit of an `f32`.
const SIGN: u32 = 0x8000_0000;
/// The bits of `f32::INFINITY`: a magnitude's bits at or above it are infinite or NaN.
const INFINITY: u32 = 0x7f80_0000;

/// The `u8` values activations are quantized to.
///
/// ```
/// use oximl_kernel::ActivationRange;
/// assert_eq!((ActivationRange::Full.max(), ActivationRange::Reduced.max()), (255, 127));
/// assert_eq!(ActivationRange::default(), ActivationRange::Full);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ActivationRange {
    /// `0..=255`, as ONNX Runtime's dynamic quantization: the most precise.
    #[default]
    Full,
    /// `0..=127`, as PyTorch's `reduce_range`: one bit less precise, and about 1.5× as fast on CPUs with AVX2
    /// but no VNNI, whose `vpmaddubsw` is exact only for 7-bit activations.
    Reduced,
}

impl ActivationRange {
    /// The largest quantized value.
    ///
    /// ```
    /// assert_eq!(oximl_kernel::ActivationRange::Reduced.max(), 127);
    /// ```
    pub fn max(self) -> u8 {
        match self {
            ActivationRange::Full => 255,
            ActivationRange::Reduced => 127,
        }
    }
}

/// How one row of activations maps to `u8`: `x ≈ scale · (q − zero_point)`.
///
/// The range always contains 0 (which is then represented exactly, so zero padding and ReLU zeros stay exact):
/// `scale = (max(hi, 0) − min(lo, 0)) / M`, `zero_point = round(−min(lo, 0) / scale)`, and
/// `q = clamp(round(x / scale) + zero_point, 0, M)` with `M` = [`ActivationRange::max`], so every `x` inside the
/// range comes back within `scale / 2`.
///
/// ```
/// use oximl_kernel::{ActivationRange, RowQuant};
/// let x = [-1.0f32, 0.0, 0.5, 3.0];
/// let rq = RowQuant::of(&x, ActivationRange::Full).unwrap();
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
    /// The values `q` takes.
    pub range: ActivationRange,
}

impl RowQuant {
    /// The quantization of the range `[lo, hi]` (widened to contain 0); a fixed range is static quantization
    /// (values outside it are clamped). An empty range (all zeros) gets scale 1 and zero point 0.
    ///
    /// ```
    /// use oximl_kernel::{ActivationRange, RowQuant};
    /// let rq = RowQuant::for_range(0.0, 25.5, ActivationRange::Full);
    /// assert_eq!((rq.scale, rq.zero_point), (0.1, 0));
    /// assert_eq!(RowQuant::for_range(-2.55, 0.0, ActivationRange::Full).zero_point, 255);
    /// assert_eq!(RowQuant::for_range(-1.0, 1.0, ActivationRange::Reduced).zero_point, 64);
    /// ```
    pub fn for_range(lo: f32, hi: f32, range: ActivationRange) -> RowQuant {
        let (lo, hi, max) = (lo.min(0.0), hi.max(0.0), f32::from(range.max()));
        if !(hi - lo > 0.0 && (hi - lo).is_finite()) {
            return RowQuant { scale: 1.0, zero_point: 0, range };
        }
        // At least the smallest normal number, so that its inverse is finite.
        let scale = ((hi - lo) / max).max(f32::MIN_POSITIVE);
        RowQuant { scale, zero_point: (-lo / scale).round_ties_even().clamp(0.0, max) as u8, range }
    }

    /// The quantization of the range of `x`; refuses NaN and infinite values.
    ///
    /// ```
    /// use oximl_kernel::{ActivationRange, RowQuant};
    /// let rq = RowQuant::of(&[0.0f32, 2.55], ActivationRange::Full).unwrap();
    /// assert_eq!((rq.scale, rq.zero_point), (0.01, 0));
    /// assert!(RowQuant::of(&[f32::NAN], ActivationRange::Full).is_err());
    /// ```
    pub fn of(x: &[f32], range: ActivationRange) -> Result<RowQuant> {
        Self::of_at(CpuLevel::current(), x, range)
    }

    pub(super) fn of_at(level: CpuLevel, x: &[f32], range: ActivationRange) -> Result<RowQuant> {
        let (lo, hi, magnitude) = dispatch(
            level,
            #[inline(always)]
            || scan(x),
        );
        if magnitude >= INFINITY {
            return Err(KernelError::InvalidArgument { name: "x", reason: "an input is NaN or infinite".into() });
        }
        Ok(Self::for_range(lo, hi, range))
    }

    /// Quantizes `x` into `q` (the same length).
    ///
    /// ```
    /// use oximl_kernel::{ActivationRange, RowQuant};
    /// let rq = RowQuant { scale: 0.5, zero_point: 10, range: ActivationRange::Reduced };
    /// let mut q = [0u8; 4];
    /// rq.quantize(&[1.0f32, -100.0, 0.25, 100.0], &mut q);
    /// assert_eq!(q, [12, 0, 10, 127]);
    /// ```
    pub fn quantize(self, x: &[f32], q: &mut [u8]) {
        self.quantize_at(CpuLevel::current(), x, q)
    }

    pub(super) fn quantize_at(self, level: CpuLevel, x: &[f32], q: &mut [u8]) {
        let (inverse, zp, max) = (1.0 / self.scale, f32::from(self.zero_point), f32::from(self.range.max()));
        dispatch(
            level,
            #[inline(always)]
            || {
                for (qv, &v) in q.iter_mut().zip(x) {
                    let shifted = v * inverse + zp;
                    let shifted = if shifted > 0.0 { shifted } else { 0.0 };
                    let shifted = if shifted < max { shifted } else { max };
                    // The low byte of `shifted + ROUND` is `shifted` rounded: its last mantissa bit is worth 1.
                    *qv = (shifted + ROUND).to_bits() as u8;
                }
            },
        );
    }

    /// The value `q` stands for.
    ///
    /// ```
    /// use oximl_kernel::{ActivationRange, RowQuant};
    /// assert_eq!(RowQuant { scale: 0.5, zero_point: 10, range: ActivationRange::Full }.dequantize(12), 1.0);
    /// ```
    pub fn dequantize(self, q: u8) -> f32 {
        self.scale * (f32::from(q) - f32::from(self.zero_point))
    }
}

/// `(min, max)` of `x` and 0, and the largest magnitude's bits (at least [`INFINITY`] if a value is NaN or
/// infinite), in one pass of `LANES` independent lanes that the compiler keeps in vector registers (the result does
/// not depend on the order of the scan).
#[inline(always)]
fn scan(x: &[f32]) -> (f32, f32, u32) {
    let (mut lo, mut hi, mut mag) = ([0.0f32; LANES], [0.0f32; LANES], [0u32; LANES]);
    let mut step = |i: usize, v: f32| {
        lo[i] = if v < lo[i] { v } else { lo[i] };
        hi[i] = if v > hi[i] { v } else { hi[i] };
        mag[i] = mag[i].max(v.to_bits() & !SIGN);
    };
    let chunks = x.chunks_exact(LANES);
    for (i, &v) in chunks.remainder().iter().enumerate() {
        step(i, v);
    }
    for c in chunks {
        for (i, &v) in c.iter().enumerate() {
            step(i, v);
        }
    }
    let lo = lo.into_iter().fold(0.0, |m, v| if v < m { v } else { m });
    let hi = hi.into_iter().fold(0.0, |m, v| if v > m { v } else { m });
    (lo, hi, mag.into_iter().max().unwrap_or(0))
}
