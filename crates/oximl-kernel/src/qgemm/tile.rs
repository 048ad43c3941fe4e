//! The micro-kernel interface: one tile of `C` (up to `MR` rows × `NP` panels of 16 columns) over the whole of
//! `k`, and the choice of micro-kernel per CPU level.

use super::{GROUP, PANEL};
use crate::cpu::CpuLevel;

/// One tile of `C = A·B`: `rows` rows of `A` (each readable for `groups · 4` bytes; bytes past `k` may hold
/// anything, since `B` is zero there) times `panels` consecutive packed panels of `B`.
pub(super) struct Tile {
    pub a: *const u8,
    pub lda: usize,
    pub rows: usize,
    pub b: *const i8,
    pub panel_bytes: usize,
    pub panels: usize,
    pub groups: usize,
    pub c: *mut i32,
    pub ldc: usize,
    /// Valid columns from the tile's first one (the last panel of `B` may be partly padding).
    pub cols: usize,
}

impl Tile {
    /// Row `r` of `A`, clamped to the last row of the tile (a short tile recomputes that row and drops it).
    #[inline(always)]
    pub fn row(&self, r: usize) -> *const u8 {
        // SAFETY (for callers): the row exists, the tile has `rows ≥ 1`.
        self.a.wrapping_add(r.min(self.rows - 1) * self.lda)
    }

    /// Panel `p` of `B`, clamped to the tile's last panel.
    #[inline(always)]
    pub fn panel(&self, p: usize) -> *const i8 {
        self.b.wrapping_add(p.min(self.panels - 1) * self.panel_bytes)
    }

    /// The 4 bytes of group `g` of row `r` of `A` as one little-endian `i32` (the operand `vpdpbusd` takes).
    ///
    /// # Safety
    /// `r < MR` of the calling kernel and `g < groups`.
    #[inline(always)]
    pub unsafe fn a_group(&self, r: usize, g: usize) -> i32 {
        // SAFETY: every row of the tile is readable for `groups · 4` bytes.
        unsafe { self.row(r).add(g * GROUP).cast::<i32>().read_unaligned() }
    }

    /// Valid columns of panel `p` (0 for a panel past the tile).
    #[inline(always)]
    pub fn panel_cols(&self, p: usize) -> usize {
        if p < self.panels { self.cols.saturating_sub(p * PANEL).min(PANEL) } else { 0 }
    }

    /// Writes the first `panel_cols(p)` values of `acc` to row `r`, panel `p` of `C` (nothing when `r` or `p`
    /// is past the tile).
    ///
    /// # Safety
    /// `C` is writable for the tile's rows and columns.
    #[inline(always)]
    pub unsafe fn store(&self, r: usize, p: usize, acc: &[i32; PANEL]) {
        let cols = if r < self.rows { self.panel_cols(p) } else { 0 };
        let dst = self.c.wrapping_add(r * self.ldc + p * PANEL);
        // SAFETY: the destination holds `cols` values of row `r` inside the tile (a whole panel is copied with
        // a constant length, which compiles to two vector moves instead of a call).
        unsafe {
            if cols == PANEL {
                std::ptr::copy_nonoverlapping(acc.as_ptr(), dst, PANEL)
            } else {
                std::ptr::copy_nonoverlapping(acc.as_ptr(), dst, cols)
            }
        }
    }
}

/// A micro-kernel and the tile it is built for.
pub(super) struct Kernel {
    /// Rows per tile.
    pub mr: usize,
    /// Panels per tile.
    pub np: usize,
    /// Panels per tile for a single row (matrix × vector: more panels keep more accumulators busy).
    pub np_row: usize,
    /// Computes one tile of `mr` rows and `np` panels.
    pub run: unsafe fn(&Tile),
    /// Computes one tile of 1 row and `np_row` panels.
    pub run_row: unsafe fn(&Tile),
}

/// The micro-kernel for `level`; `narrow` says that every value of `A` is at most 127.
pub(super) fn kernel(level: CpuLevel, narrow: bool) -> Kernel {
    #[cfg(target_arch = "x86_64")]
    if level.is_supported() {
        use super::x86;
        match level {
            CpuLevel::Avx512Vnni => return x86::AVX512_VNNI,
            CpuLevel::AvxVnni => return x86::AVX_VNNI,
            CpuLevel::Avx2 | CpuLevel::Avx512 if narrow => return x86::AVX2_NARROW,
            CpuLevel::Avx2 | CpuLevel::Avx512 => return x86::AVX2,
            CpuLevel::Scalar => {}
        }
    }
    let _ = (level, narrow);
    PORTABLE
}

/// Portable code: plain integer loops.
const PORTABLE: Kernel = Kernel { mr: 2, np: 1, np_row: 1, run: portable_tile, run_row: portable_tile };

unsafe fn portable_tile(t: &Tile) {
    let rows = t.rows.min(2);
    let mut acc = [[0i32; PANEL]; 2];
    for g in 0..t.groups {
        // SAFETY: the group lies inside the packed panel.
        let b = unsafe { std::slice::from_raw_parts(t.panel(0).add(g * GROUP * PANEL), GROUP * PANEL) };
        for (r, acc) in acc.iter_mut().enumerate().take(rows) {
            // SAFETY: `r < rows ≤ 2` and `g < groups`.
            let a = unsafe { t.a_group(r, g) }.to_le_bytes();
            for (c, v) in acc.iter_mut().enumerate() {
                let bc = &b[c * GROUP..(c + 1) * GROUP];
                *v += (0..GROUP).map(|q| i32::from(a[q]) * i32::from(bc[q])).sum::<i32>();
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        // SAFETY: `store` writes only inside the tile.
        unsafe { t.store(r, 0, acc) }
    }
}
