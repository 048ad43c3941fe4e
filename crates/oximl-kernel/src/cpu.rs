//! Runtime CPU-feature dispatch: hot loops are compiled once per instruction-set level and the best level the
//! CPU supports is chosen once, at first use.
//!
//! `OXIML_CPU_LEVEL=scalar|avx2|avxvnni|avx512|avx512vnni` forces a lower level (the best level the CPU has at
//! or below the one asked for is used). The VNNI levels only change the int8 products ([`mod@crate::qgemm`]); float
//! loops run their AVX2 code at `avxvnni` and their AVX-512 code at `avx512vnni`. Every level computes the same formula element by element, without re-association, so all levels give
//! bit-identical results; the tests check that. The one exception is the float GEMM of more than 4 rows
//! ([`mod@crate::gemm`]): its micro-kernels come from the `gemm` crate, which picks AVX-512 or AVX2/FMA by itself,
//! and their results may differ in the last bits between those two.

use std::sync::OnceLock;

/// An instruction-set level that the kernel's loops are compiled for.
///
/// ```
/// use oximl_kernel::CpuLevel;
/// assert!(CpuLevel::available().contains(&CpuLevel::Scalar));
/// assert!(CpuLevel::available().contains(&CpuLevel::current()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuLevel {
    /// Baseline code for the target (SSE2 on x86-64, NEON on aarch64); runs everywhere.
    Scalar,
    /// x86-64 with AVX2 and FMA.
    Avx2,
    /// x86-64 with AVX2, FMA and AVX-VNNI (the 256-bit `vpdpbusd`, e.g. Alder Lake).
    AvxVnni,
    /// x86-64 with AVX-512F/BW/DQ/VL (and AVX2 + FMA).
    Avx512,
    /// x86-64 with AVX-512 and AVX512-VNNI (the 512-bit `vpdpbusd`, e.g. Ice Lake, Sapphire Rapids, Zen 4).
    Avx512Vnni,
}

impl CpuLevel {
    /// The levels, lowest first.
    pub const ALL: [CpuLevel; 5] =
        [CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::AvxVnni, CpuLevel::Avx512, CpuLevel::Avx512Vnni];

    /// The level's name as `OXIML_CPU_LEVEL` spells it.
    ///
    /// ```
    /// assert_eq!(oximl_kernel::CpuLevel::Avx2.name(), "avx2");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            CpuLevel::Scalar => "scalar",
            CpuLevel::Avx2 => "avx2",
            CpuLevel::AvxVnni => "avxvnni",
            CpuLevel::Avx512 => "avx512",
            CpuLevel::Avx512Vnni => "avx512vnni",
        }
    }

    /// Parses a level name (case-insensitive).
    ///
    /// ```
    /// use oximl_kernel::CpuLevel;
    /// assert_eq!(CpuLevel::from_name("AVX2"), Some(CpuLevel::Avx2));
    /// assert_eq!(CpuLevel::from_name("sse9"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<CpuLevel> {
        CpuLevel::ALL.into_iter().find(|l| l.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run code of this level.
    ///
    /// ```
    /// assert!(oximl_kernel::CpuLevel::Scalar.is_supported());
    /// ```
    pub fn is_supported(self) -> bool {
        match self {
            CpuLevel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx512 => {
                CpuLevel::Avx2.is_supported()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512dq")
                    && is_x86_feature_detected!("avx512vl")
            }
            #[cfg(target_arch = "x86_64")]
            CpuLevel::AvxVnni => CpuLevel::Avx2.is_supported() && is_x86_feature_detected!("avxvnni"),
            #[cfg(target_arch = "x86_64")]
            CpuLevel::Avx512Vnni => CpuLevel::Avx512.is_supported() && is_x86_feature_detected!("avx512vnni"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// Every level this CPU supports, lowest first.
    ///
    /// ```
    /// assert_eq!(oximl_kernel::CpuLevel::available()[0], oximl_kernel::CpuLevel::Scalar);
    /// ```
    pub fn available() -> Vec<CpuLevel> {
        CpuLevel::ALL.into_iter().filter(|l| l.is_supported()).collect()
    }

    /// The level the kernel uses: the best one supported, or the best supported one at or below the one
    /// `OXIML_CPU_LEVEL` asks for. Decided once per process.
    ///
    /// ```
    /// println!("oximl runs its loops at {}", oximl_kernel::CpuLevel::current().name());
    /// ```
    pub fn current() -> CpuLevel {
        static LEVEL: OnceLock<CpuLevel> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let asked = std::env::var("OXIML_CPU_LEVEL").ok().and_then(|v| CpuLevel::from_name(&v));
            pick(asked, &CpuLevel::available())
        })
    }
}

/// The best of the `available` levels at or below the one `asked` for (all of them when nothing is asked).
fn pick(asked: Option<CpuLevel>, available: &[CpuLevel]) -> CpuLevel {
    let ceiling = asked.unwrap_or(CpuLevel::Avx512Vnni);
    available.iter().copied().filter(|&l| l <= ceiling).max().unwrap_or(CpuLevel::Scalar)
}

/// Runs `f` compiled for the current CPU level ([`CpuLevel::current`]), so that its loops vectorize for it.
/// `f` must be an `#[inline(always)]` closure (the attribute is what brings its body into the compiled-for-level
/// function); use it for a hot elementwise loop outside the kernel, e.g. an optimizer's update.
///
/// ```
/// let mut v = vec![1.0f32; 1000];
/// oximl_kernel::vectorized(
///     #[inline(always)]
///     || v.iter_mut().for_each(|x| *x *= 2.0),
/// );
/// assert!(v.iter().all(|&x| x == 2.0));
/// ```
#[inline(always)]
pub fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    dispatch(CpuLevel::current(), f)
}

/// Runs `f` compiled for `level`. `f` must be an `#[inline(always)]` closure so that its loop is compiled inside
/// the target-feature function; a level the CPU does not support runs the scalar code.
#[inline(always)]
pub(crate) fn dispatch<R>(level: CpuLevel, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        match level {
            // SAFETY: `is_supported` checked that the CPU has every feature the function is compiled for.
            CpuLevel::Avx512 | CpuLevel::Avx512Vnni if level.is_supported() => unsafe { avx512(f) },
            CpuLevel::Avx2 | CpuLevel::AvxVnni if level.is_supported() => unsafe { avx2(f) },
            _ => f(),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = level;
        f()
    }
}

/// The micro-kernel the `gemm` crate picks on this CPU for elements of `size` bytes, as `(MR, NR, fused)`: its
/// tile and whether its multiply-adds are fused (AVX-512F when the `avx512` feature is on: 4·lanes × 6; FMA:
/// 2·lanes × 6; NEON: 4·lanes × 4; portable: 2 × 4, unfused). The streamed products follow it (see `gemm.rs`).
pub(crate) fn gemm_kernel(size: usize) -> (usize, usize, bool) {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        if cfg!(feature = "avx512") && is_x86_feature_detected!("avx512f") {
            return (4 * 64 / size, 6, true);
        }
        if is_x86_feature_detected!("fma") {
            return (2 * 32 / size, 6, true);
        }
    }
    #[cfg(target_arch = "aarch64")]
    if std::arch::is_aarch64_feature_detected!("neon") {
        return (4 * 16 / size, 4, true);
    }
    let _ = size;
    (2, 4, false)
}

#[cfg(test)]
mod tests {
    use super::{CpuLevel, pick};

    #[test]
    fn a_level_the_cpu_lacks_falls_back_to_the_best_one_below_it() {
        // AVX-512 without any VNNI (Skylake-X), and AVX-VNNI without AVX-512 (Alder Lake).
        let skylake = [CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::Avx512];
        assert_eq!(pick(None, &skylake), CpuLevel::Avx512);
        assert_eq!(pick(Some(CpuLevel::AvxVnni), &skylake), CpuLevel::Avx2);
        assert_eq!(pick(Some(CpuLevel::Avx512Vnni), &skylake), CpuLevel::Avx512);
        let alder = [CpuLevel::Scalar, CpuLevel::Avx2, CpuLevel::AvxVnni];
        assert_eq!(pick(None, &alder), CpuLevel::AvxVnni);
        assert_eq!(pick(Some(CpuLevel::Avx512), &alder), CpuLevel::AvxVnni);
        assert_eq!(pick(Some(CpuLevel::Scalar), &alder), CpuLevel::Scalar);
        assert_eq!(CpuLevel::from_name("AVX512VNNI"), Some(CpuLevel::Avx512Vnni));
        assert_eq!(CpuLevel::ALL.map(CpuLevel::name).map(CpuLevel::from_name), CpuLevel::ALL.map(Some));
    }
}
