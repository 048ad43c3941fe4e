//! The x86-64 micro-kernels. Each computes a tile of `C = A·B` with `A` as `u8` and `B` as packed `i8`, exactly
//! in `i32` (every product fits: `|a·b| ≤ 255·128`, and `k ≤ 65,536` keeps the sums in range):
//! - AVX512-VNNI: `vpdpbusd` on zmm, 4 rows × 4 panels (64 columns) in 16 accumulators; 1 row × 8 panels for a
//!   single row.
//! - AVX-VNNI: `vpdpbusd` on ymm, 6 rows × 1 panel (12 accumulators of the 16 ymm registers).
//! - AVX2 (also used at the AVX-512 level without VNNI), activations of 7 bits (`A ≤ 127`, see
//!   [`ActivationRange::Reduced`](super::ActivationRange)): `vpmaddubsw` (pair sums within `i16`, so exact) then
//!   `vpmaddwd` by 1 to `i32`, in the `vpdpbusd` layout: 4 rows × 1 panel.
//! - AVX2, any `u8`: `vpmaddubsw` would saturate (`255·127 + 255·127 > 32,767`), so `A` is zero-extended and `B`
//!   sign-extended to `i16` and multiplied with `vpmaddwd`, whose pair sums are exact in `i32`: each 32-bit lane
//!   accumulates two of a column's four products, and the halves are added at the end (`vphaddd`). 2 rows × 1
//!   panel; about 2/3 of the speed of the 7-bit kernel (benches/qgemm.rs).

use super::tile::{Kernel, Tile};
use super::{GROUP, PANEL};
use std::arch::x86_64::*;

pub(super) const AVX512_VNNI: Kernel =
    Kernel { mr: 4, np: 4, np_row: 8, run: avx512_vnni::<4, 4>, run_row: avx512_vnni::<1, 8> };
pub(super) const AVX_VNNI: Kernel =
    Kernel { mr: 6, np: 1, np_row: 2, run: avx_vnni::<6, 1>, run_row: avx_vnni::<1, 2> };
pub(super) const AVX2: Kernel = Kernel { mr: 2, np: 1, np_row: 2, run: avx2::<2, 1>, run_row: avx2::<1, 2> };
pub(super) const AVX2_NARROW: Kernel =
    Kernel { mr: 4, np: 1, np_row: 2, run: avx2_narrow::<4, 1>, run_row: avx2_narrow::<1, 2> };

/// Bytes of one group of a panel: 4 values of `k` for 16 columns.
const GROUP_BYTES: usize = GROUP * PANEL;

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn avx512_vnni<const MR: usize, const NP: usize>(t: &Tile) {
    let mut acc = [[_mm512_setzero_si512(); NP]; MR];
    let mut b = [_mm512_setzero_si512(); NP];
    for g in 0..t.groups {
        for (p, bp) in b.iter_mut().enumerate() {
            // SAFETY: the group lies inside the (clamped) panel.
            *bp = unsafe { _mm512_loadu_si512(t.panel(p).add(g * GROUP_BYTES).cast()) };
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            // SAFETY: `r < MR` rows (clamped to the tile) and `g < groups`.
            let a = _mm512_set1_epi32(unsafe { t.a_group(r, g) });
            for (v, &bp) in acc.iter_mut().zip(&b) {
                *v = _mm512_dpbusd_epi32(*v, a, bp);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (p, &v) in acc.iter().enumerate() {
            let cols = if r < t.rows { t.panel_cols(p) } else { 0 };
            // SAFETY: the mask selects the `cols` values of row `r`, panel `p` that lie inside the tile.
            unsafe {
                _mm512_mask_storeu_epi32(t.c.wrapping_add(r * t.ldc + p * PANEL), ((1u32 << cols) - 1) as u16, v)
            };
        }
    }
}

/// A ymm micro-kernel in the layout of `vpdpbusd`: each `i32` lane of `acc` sums a column's 4 products of a
/// group; `$dot` adds them (`acc`, `a` = the row's 4 bytes broadcast, `b` = 8 columns × 4 bytes).
macro_rules! ymm_kernel {
    ($name:ident, $features:literal, |$acc:ident, $a:ident, $b:ident| $dot:expr) => {
        #[target_feature(enable = $features)]
        unsafe fn $name<const MR: usize, const NP: usize>(t: &Tile) {
            let mut acc = [[[_mm256_setzero_si256(); 2]; NP]; MR];
            let mut b = [[_mm256_setzero_si256(); 2]; NP];
            for g in 0..t.groups {
                for (p, bp) in b.iter_mut().enumerate() {
                    for (h, half) in bp.iter_mut().enumerate() {
                        // SAFETY: the group lies inside the (clamped) panel.
                        *half = unsafe { _mm256_loadu_si256(t.panel(p).add(g * GROUP_BYTES + 32 * h).cast()) };
                    }
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: `r < MR` rows (clamped to the tile) and `g < groups`.
                    let $a = _mm256_set1_epi32(unsafe { t.a_group(r, g) });
                    for (v, bp) in acc.iter_mut().zip(&b) {
                        for (v, &$b) in v.iter_mut().zip(bp) {
                            let $acc = *v;
                            *v = $dot;
                        }
                    }
                }
            }
            let mut out = [0i32; PANEL];
            for (r, acc) in acc.iter().enumerate() {
                for (p, v) in acc.iter().enumerate() {
                    // SAFETY: `out` holds 16 values; `store` writes only inside the tile.
                    unsafe {
                        _mm256_storeu_si256(out.as_mut_ptr().cast(), v[0]);
                        _mm256_storeu_si256(out.as_mut_ptr().add(8).cast(), v[1]);
                        t.store(r, p, &out);
                    }
                }
            }
        }
    };
}

ymm_kernel!(avx_vnni, "avx2,avxvnni", |acc, a, b| _mm256_dpbusd_avx_epi32(acc, a, b));
// `a ≤ 127`, so each `vpmaddubsw` pair sum lies in [−32,512, 32,258]: exact in `i16`.
ymm_kernel!(avx2_narrow, "avx2", |acc, a, b| _mm256_add_epi32(
    acc,
    _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1))
));

#[target_feature(enable = "avx2")]
unsafe fn avx2<const MR: usize, const NP: usize>(t: &Tile) {
    // acc[r][p][q]: columns 4q..4q+4 of panel p, two partial sums per column.
    let mut acc = [[[_mm256_setzero_si256(); 4]; NP]; MR];
    let mut a = [_mm256_setzero_si256(); MR];
    for g in 0..t.groups {
        for (r, a) in a.iter_mut().enumerate() {
            // SAFETY: `r < MR` rows (clamped to the tile) and `g < groups`.
            *a = _mm256_cvtepu8_epi16(_mm_set1_epi32(unsafe { t.a_group(r, g) }));
        }
        for p in 0..NP {
            for q in 0..4 {
                // SAFETY: the 16 bytes lie inside the group of the (clamped) panel.
                let b =
                    _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(t.panel(p).add(g * GROUP_BYTES + 16 * q).cast()) });
                for (acc, &a) in acc.iter_mut().zip(&a) {
                    acc[p][q] = _mm256_add_epi32(acc[p][q], _mm256_madd_epi16(a, b));
                }
            }
        }
    }
    let mut out = [0i32; PANEL];
    for (r, acc) in acc.iter().enumerate() {
        for (p, v) in acc.iter().enumerate() {
            for h in 0..2 {
                // [c0 c1 c4 c5 | c2 c3 c6 c7] → [c0 .. c7]
                let sums = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_hadd_epi32(v[2 * h], v[2 * h + 1]));
                // SAFETY: `out` holds 16 values.
                unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(8 * h).cast(), sums) };
            }
            // SAFETY: `store` writes only inside the tile.
            unsafe { t.store(r, p, &out) };
        }
    }
}
