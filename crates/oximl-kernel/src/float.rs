//! The element types the kernel computes with (`f32` and `f64`) and the scalar functions its loops inline.
//!
//! The `f32` transcendental functions are branch-free polynomial approximations written in plain arithmetic, so
//! a loop over them vectorizes at every CPU level and gives the same bits at every level:
//! `exp` is Cephes' `expf` (relative error ≤ 2 ulp over the normal range; results below `f32::MIN_POSITIVE` are
//! flushed to zero), `tanh` and `erf` are Eigen's rational approximations (absolute error ≤ 2e-7), exactly ±1 where the true value
//! rounds to ±1.
//! `f64` calls the platform's libm (`std` and the `libm` crate): exact to an ulp, not vectorized.

use std::fmt::{Debug, Display};
use std::iter::Sum;

/// An element type of the kernel: `f32` (the default everywhere) or `f64`.
///
/// ```
/// use oximl_kernel::Float;
/// assert!((1.0f32.expv() - std::f32::consts::E).abs() < 1e-6);
/// assert_eq!(0.0f64.tanhv(), 0.0);
/// ```
pub trait Float:
    num_traits::Float + Copy + Default + Debug + Display + Send + Sync + Sum + 'static + num_traits::FromPrimitive
{
    /// `eˣ`, in a form whose loops vectorize (`v`).
    fn expv(self) -> Self;
    /// `tanh(x)`, in a form whose loops vectorize.
    fn tanhv(self) -> Self;
    /// The error function, in a form whose loops vectorize.
    fn erfv(self) -> Self;
    /// Converts an `f64` constant (rounding to nearest).
    fn c(x: f64) -> Self;

    /// `C = α·A·B + β·C` on raw strided storage, on `threads` threads of the current rayon pool (the `gemm`
    /// crate's call; `β = 0` does not read `C`).
    ///
    /// # Safety
    /// The pointers and strides must describe valid, non-overlapping `m×k`, `k×n` and `m×n` matrices, with `c`
    /// writable; when `β = 0`, `c` need not be initialized.
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    unsafe fn gemm_raw(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
        threads: usize,
    ) {
        let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
        let read_c = beta != Self::zero();
        // SAFETY: forwarded from the caller's contract. `gemm` computes `dst ← alpha·dst + beta·lhs·rhs` (the two
        // coefficients named the other way round from BLAS) for `f32` and `f64`, the only implementors.
        unsafe {
            gemm::gemm(m, n, k, c, csc, rsc, read_c, a, csa, rsa, b, csb, rsb, beta, alpha, false, false, false, par)
        }
    }
}

impl Float for f32 {
    #[inline(always)]
    fn expv(self) -> f32 {
        let x = self;
        const LOG2E: f32 = std::f32::consts::LOG2_E;
        const HI: f32 = 88.722_84;
        const LO: f32 = -87.336_55;
        // 1.5·2^23: adding it rounds to an integer, which then sits in the low mantissa bits.
        const MAGIC: f32 = 12_582_912.0;
        let xc = x.clamp(LO, HI);
        let t = xc * LOG2E + MAGIC;
        let n = t - MAGIC;
        let ni = t.to_bits() as i32 - MAGIC.to_bits() as i32; // n ∈ [-126, 128]
        let r = xc - n * 0.693_359_4 - n * -2.121_944_4e-4;
        let mut p = 1.987_569_1e-4f32;
        p = p * r + 1.398_2e-3;
        p = p * r + 8.333_452e-3;
        p = p * r + 4.166_579_6e-2;
        p = p * r + 1.666_666_5e-1;
        p = p * r + 5e-1;
        let y = p * (r * r) + r + 1.0;
        // 2^n as 2^min(n, 127) · (1 or 2), so that n = 128 does not overflow the exponent field.
        let scale = f32::from_bits(((ni.min(127) + 127) as u32) << 23);
        let e = y * scale * if ni > 127 { 2.0 } else { 1.0 };
        if x > HI {
            f32::INFINITY
        } else if x < LO {
            0.0
        } else if x.is_nan() {
            x
        } else {
            e
        }
    }

    #[inline(always)]
    fn tanhv(self) -> f32 {
        let x = self;
        const CLAMP: f32 = 7.905_311;
        let xc = x.clamp(-CLAMP, CLAMP);
        let x2 = xc * xc;
        let mut p = -2.760_768_5e-16f32;
        p = p * x2 + 2.000_188e-13;
        p = p * x2 + -8.604_672e-11;
        p = p * x2 + 5.122_297e-8;
        p = p * x2 + 1.485_722_4e-5;
        p = p * x2 + 6.372_619e-4;
        p = p * x2 + 4.893_524_6e-3;
        p *= xc;
        let mut q = 1.198_258_4e-6f32;
        q = q * x2 + 1.185_347_1e-4;
        q = q * x2 + 2.268_434_6e-3;
        q = q * x2 + 4.893_525e-3;
        let t = p / q;
        // tanh rounds to ±1 beyond 9; below 4e-4 it rounds to x.
        if x.abs() >= 9.0 {
            if x > 0.0 { 1.0 } else { -1.0 }
        } else if x.abs() < 4e-4 || x.is_nan() {
            x
        } else {
            t
        }
    }

    #[inline(always)]
    fn erfv(self) -> f32 {
        let x = self;
        let xc = x.clamp(-4.0, 4.0);
        let x2 = xc * xc;
        let mut p = -2.726_142_3e-10f32;
        p = p * x2 + 2.770_681_4e-8;
        p = p * x2 + -2.101_024e-6;
        p = p * x2 + -5.692_506_4e-5;
        p = p * x2 + -7.349_906_3e-4;
        p = p * x2 + -2.954_6e-3;
        p = p * x2 + -1.609_603_3e-2;
        p *= xc;
        let mut q = -1.456_607_2e-5f32;
        q = q * x2 + -2.133_740_6e-4;
        q = q * x2 + -1.682_827e-3;
        q = q * x2 + -7.373_329_2e-3;
        q = q * x2 + -1.426_473_9e-2;
        // erf rounds to ±1 beyond 3.92.
        if x.abs() >= 3.92 {
            if x > 0.0 { 1.0 } else { -1.0 }
        } else if x.is_nan() {
            x
        } else {
            p / q
        }
    }

    #[inline(always)]
    fn c(x: f64) -> f32 {
        x as f32
    }
}

impl Float for f64 {
    #[inline(always)]
    fn expv(self) -> f64 {
        let x = self;
        x.exp()
    }

    #[inline(always)]
    fn tanhv(self) -> f64 {
        let x = self;
        x.tanh()
    }

    #[inline(always)]
    fn erfv(self) -> f64 {
        let x = self;
        libm::erf(x)
    }

    #[inline(always)]
    fn c(x: f64) -> f64 {
        x
    }
}
