//! int8 matrix products for quantized inference (dynamic quantization, as ONNX Runtime's `quantize_dynamic`
//! and PyTorch's dynamic `Linear` do): weights `i8`, symmetric per output column, packed once ([`PackedI8`]);
//! activations quantized per row at run time to `u8` with a zero point ([`RowQuant`]); exact `i32`
//! accumulation; then `out = act(scale_a[i]·scale_b[j]·(acc[i][j] − zero_point[i]·Σₖ q[k][j]) + bias[j])`.
//!
//! Why `u8 × i8`: it is the operand pair of `vpdpbusd` (AVX512-VNNI, AVX-VNNI), which multiplies 4 pairs and
//! adds them to an `i32` lane in one instruction. Asymmetric `u8` activations use all 256 values (a ReLU
//! output's range is not wasted on negatives), and the zero point costs one multiply-subtract per output with
//! the column sums computed at packing time.
//!
//! CPUs without VNNI have `vpmaddubsw`, whose `i16` pair sums saturate for 8-bit activations (`2·255·127 >
//! 32,767`): there the full range ([`ActivationRange::Full`]) is multiplied exactly in `i16` with `vpmaddwd`
//! (slower than `f32`), and the 7-bit range ([`ActivationRange::Reduced`], PyTorch's `reduce_range`) with
//! `vpmaddubsw`, exactly and about 1.5× faster. The range is a property of the quantized weights, never of the
//! CPU, so results stay the same on every CPU.
//!
//! Integer arithmetic is exact, so every CPU level ([`CpuLevel`]) and thread count gives the same `i32`
//! products, and the `f32` epilogue, computed by the same formula at every level, the same bits.
//!
//! ```
//! use ndarray::{array, Array2};
//! use oximl_kernel::{Activation, Epilogue, PackedI8, qgemm_fused};
//! let w = PackedI8::quantize(array![[1.0f32, -1.0], [0.5, 2.0]].view()).unwrap();
//! let x = array![[1.0f32, 2.0]];
//! let mut y = Array2::zeros((1, 2));
//! qgemm_fused(x.view(), &w, Epilogue { bias: None, activation: Activation::Relu }, y.view_mut()).unwrap();
//! assert!((y[[0, 0]] - 2.0).abs() < 0.02 && y[[0, 1]] > 2.9);
//! ```

mod pack;
mod rows;
mod tile;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use pack::PackedI8;
pub use rows::{ActivationRange, RowQuant};

use crate::cpu::{CpuLevel, dispatch};
use crate::elementwise::{Activation, activate_at};
use crate::error::{KernelError, Result};
use crate::gemm::{Epilogue, PAR_GEMM_MIN_FLOPS};
use crate::parallel::{install, num_threads};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use std::cell::RefCell;
use tile::Tile;

/// Columns of `B` per packed panel (16 `i32` lanes of a zmm register).
const PANEL: usize = 16;
/// Values of `k` per `i32` lane (what `vpdpbusd` sums).
const GROUP: usize = 4;
/// The largest `k` (input features) of an int8 product: `255 · 128 · k` must stay below 2³¹.
///
/// ```
/// assert!(255 * 128 * oximl_kernel::MAX_K as i64 <= i32::MAX as i64);
/// ```
pub const MAX_K: usize = 65_536;
/// Rows one task quantizes and multiplies at a time: their `u8` copy and their outputs stay in cache for the
/// epilogue, and all of `B` is streamed once per block.
const ROW_BLOCK: usize = 64;

thread_local! {
    /// Each thread's `u8` rows of `A`, reused from call to call (a single-row product allocates nothing).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The exact product `C = A·B` of `u8` rows and packed `i8` weights, in `i32` (no zero point: see
/// [`qgemm_fused`] for quantized inference). `A` may be any view; the rows of `C` must be contiguous.
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_kernel::{PackedI8, qgemm};
/// let b = PackedI8::from_quantized(array![[1i8, -128], [2, 127]].view(), array![1.0f32, 1.0].view()).unwrap();
/// let a = array![[255u8, 1], [0, 2]];
/// let mut c = Array2::zeros((2, 2));
/// qgemm(a.view(), &b, c.view_mut()).unwrap();
/// assert_eq!(c, array![[257, -32_513], [4, 254]]);
/// ```
pub fn qgemm(a: ArrayView2<'_, u8>, b: &PackedI8, c: ArrayViewMut2<'_, i32>) -> Result<()> {
    qgemm_at(CpuLevel::current(), a, b, c)
}

/// [`qgemm`] compiled for a given CPU level (for tests and benchmarks; an unsupported level runs portable code).
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_kernel::{CpuLevel, PackedI8, qgemm_at};
/// let b = PackedI8::from_quantized(array![[3i8]].view(), array![1.0f32].view()).unwrap();
/// let mut c = Array2::zeros((1, 1));
/// qgemm_at(CpuLevel::Scalar, array![[5u8]].view(), &b, c.view_mut()).unwrap();
/// assert_eq!(c[[0, 0]], 15);
/// ```
pub fn qgemm_at(level: CpuLevel, a: ArrayView2<'_, u8>, b: &PackedI8, mut c: ArrayViewMut2<'_, i32>) -> Result<()> {
    check_shapes("qgemm", a.dim(), b, c.dim())?;
    let ldc = row_stride(&c)?;
    split(b.k(), c.view_mut(), |row0, mut cb| {
        with_rows(b, cb.nrows(), |buf, lda| {
            for (blk, mut cblk) in cb.axis_chunks_iter_mut(Axis(0), ROW_BLOCK).enumerate() {
                let first = row0 + blk * ROW_BLOCK;
                let mut max = 0u8;
                for (i, arow) in a.slice(ndarray::s![first..first + cblk.nrows(), ..]).rows().into_iter().enumerate() {
                    buf[i * lda..].iter_mut().zip(arow).for_each(|(d, &v)| {
                        *d = v;
                        max = max.max(v);
                    });
                }
                product(
                    level,
                    max <= ActivationRange::Reduced.max(),
                    buf,
                    lda,
                    cblk.nrows(),
                    b,
                    cblk.as_mut_ptr(),
                    ldc,
                );
            }
            Ok(())
        })
    })
}

/// Quantized dense-layer inference: `out = act(x·W + bias)` with `W` packed int8 and each row of `x` quantized
/// to `u8` at run time ([`RowQuant::of`], in `w`'s [`PackedI8::activation_range`]), the product exact in `i32`, and the dequantization, bias and
/// activation fused into the pass that writes `out`. Refuses NaN and infinite inputs. The rows of `out` must be
/// contiguous.
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_kernel::{Activation, Epilogue, PackedI8, qgemm_fused};
/// let w = PackedI8::quantize(array![[0.5f32], [0.25]].view()).unwrap();
/// let bias = array![1.0f32];
/// let mut out = Array2::zeros((2, 1));
/// let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Linear };
/// qgemm_fused(array![[2.0f32, 4.0], [0.0, 0.0]].view(), &w, epi, out.view_mut()).unwrap();
/// assert!((out[[0, 0]] - 3.0).abs() < 0.01 && out[[1, 0]] == 1.0);
/// ```
pub fn qgemm_fused(
    x: ArrayView2<'_, f32>,
    w: &PackedI8,
    epilogue: Epilogue<'_, f32>,
    out: ArrayViewMut2<'_, f32>,
) -> Result<()> {
    qgemm_fused_at(CpuLevel::current(), x, w, epilogue, out)
}

/// [`qgemm_fused`] compiled for a given CPU level.
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_kernel::{CpuLevel, Epilogue, PackedI8, qgemm_fused_at};
/// let w = PackedI8::quantize(array![[1.0f32]].view()).unwrap();
/// let mut out = Array2::zeros((1, 1));
/// qgemm_fused_at(CpuLevel::Scalar, array![[-2.0f32]].view(), &w, Epilogue::none(), out.view_mut()).unwrap();
/// assert_eq!(out[[0, 0]], -2.0);
/// ```
pub fn qgemm_fused_at(
    level: CpuLevel,
    x: ArrayView2<'_, f32>,
    w: &PackedI8,
    epilogue: Epilogue<'_, f32>,
    mut out: ArrayViewMut2<'_, f32>,
) -> Result<()> {
    check_shapes("qgemm_fused", x.dim(), w, out.dim())?;
    if let Some(bias) = epilogue.bias
        && bias.len() != w.n()
    {
        return Err(KernelError::Shape {
            op: "qgemm_fused bias",
            expected: format!("{} values (one per output column)", w.n()),
            got: format!("{}", bias.len()),
        });
    }
    let ldc = row_stride(&out)?;
    let range = w.activation_range();
    let x = x.as_standard_layout();
    let bias = epilogue.bias.as_ref().map(|b| b.as_standard_layout());
    let bias = bias.as_ref().and_then(|b| b.as_slice());
    split(w.k(), out.view_mut(), |row0, mut ob| {
        with_rows(w, ob.nrows(), |buf, lda| {
            for (blk, mut oblk) in ob.axis_chunks_iter_mut(Axis(0), ROW_BLOCK).enumerate() {
                let mut params = [RowQuant { scale: 1.0, zero_point: 0, range }; ROW_BLOCK];
                let first = row0 + blk * ROW_BLOCK;
                for (i, (p, xr)) in params.iter_mut().zip(x.outer_iter().skip(first)).take(oblk.nrows()).enumerate() {
                    let xr = xr.to_slice().unwrap_or_default();
                    *p = RowQuant::of_at(level, xr, range)?;
                    p.quantize_at(level, xr, &mut buf[i * lda..i * lda + w.k()]);
                }
                // The `i32` products go into `out`'s memory, and the epilogue turns them into `f32` in place.
                let narrow = range == ActivationRange::Reduced;
                product(level, narrow, buf, lda, oblk.nrows(), w, oblk.as_mut_ptr().cast(), ldc);
                dequantize(level, &params, w, bias, epilogue.activation, oblk);
            }
            Ok(())
        })
    })
}

/// `out[i][j] ← act(scale_a[i]·scale_b[j]·(acc[i][j] − zero_point[i]·Σₖ q[k][j]) + bias[j])`, where `acc` holds
/// the `i32` products in the bits of `out`; row by row, so that each row is still in L1 for the activation.
fn dequantize(
    level: CpuLevel,
    params: &[RowQuant],
    w: &PackedI8,
    bias: Option<&[f32]>,
    activation: Activation,
    mut out: ArrayViewMut2<'_, f32>,
) {
    let (sums, scales) = (w.column_sums(), w.scales());
    for (mut row, p) in out.outer_iter_mut().zip(params) {
        let Some(values) = row.as_slice_mut() else { unreachable!("rows of `out` are contiguous") };
        let (zp, sa) = (i32::from(p.zero_point), p.scale);
        dispatch(
            level,
            #[inline(always)]
            || {
                for ((v, &sum), &sb) in values.iter_mut().zip(sums).zip(scales) {
                    *v = (v.to_bits() as i32 - zp * sum) as f32 * (sa * sb);
                }
                if let Some(bias) = bias {
                    values.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
                }
            },
        );
        activate_at(level, activation, row.insert_axis(Axis(0)));
    }
}

/// `C = A·B` for `rows` rows of `A` (`lda` bytes apart, each readable for `4·groups` bytes) into `C` (`ldc`
/// values apart), tile by tile: panels of `B` outside, rows inside, so a block of panels stays in L1 while the
/// rows stream past it. `narrow`: every value of `A` is at most 127.
#[expect(clippy::too_many_arguments, reason = "one raw view of each operand")]
fn product(level: CpuLevel, narrow: bool, a: &[u8], lda: usize, rows: usize, b: &PackedI8, c: *mut i32, ldc: usize) {
    let kernel = tile::kernel(level, narrow);
    let (mr, np, run) = if rows == 1 { (1, kernel.np_row, kernel.run_row) } else { (kernel.mr, kernel.np, kernel.run) };
    let (groups, n) = (b.groups(), b.n());
    let (panels, panel_bytes) = (n.div_ceil(PANEL), groups * GROUP * PANEL);
    debug_assert!(rows == 0 || a.len() >= (rows - 1) * lda + groups * GROUP);
    for p0 in (0..panels).step_by(np) {
        for r0 in (0..rows).step_by(mr) {
            let t = Tile {
                a: a[r0 * lda..].as_ptr(),
                lda,
                rows: mr.min(rows - r0),
                b: b.data()[p0 * panel_bytes..].as_ptr(),
                panel_bytes,
                panels: np.min(panels - p0),
                groups,
                c: c.wrapping_add(r0 * ldc + p0 * PANEL),
                ldc,
                cols: n - p0 * PANEL,
            };
            // SAFETY: `tile::kernel` returns a kernel the CPU supports; the tile's rows, panels and block of `C`
            // lie inside `a`, `b` and the caller's `C`.
            unsafe { run(&t) }
        }
    }
}

/// Runs `work(first_row, rows_of_c)` on `C` whole, or on row blocks across the pool when the product is large:
/// each element of `C` is computed by exactly one task.
fn split<T: Send>(
    k: usize,
    mut c: ArrayViewMut2<'_, T>,
    work: impl Fn(usize, ArrayViewMut2<'_, T>) -> Result<()> + Sync,
) -> Result<()> {
    let (m, n) = c.dim();
    let threads = num_threads();
    // int8 products run 3–4× the multiply-adds per second of f32 ones (benches/qgemm.rs), so the same time of
    // work stays on the caller's thread as in `gemm`.
    if threads == 1 || m < 2 || m.saturating_mul(n).saturating_mul(k) < 4 * PAR_GEMM_MIN_FLOPS {
        return work(0, c.view_mut());
    }
    let rows = m.div_ceil(threads);
    let tasks: Vec<_> = c.axis_chunks_iter_mut(Axis(0), rows).enumerate().collect();
    install(|| tasks.into_par_iter().map(|(i, cb)| work(i * rows, cb)).collect())
}

/// Runs `f` with this thread's scratch rows for `A`: `min(rows, ROW_BLOCK)` rows of `lda = 4·groups` bytes.
fn with_rows<R>(b: &PackedI8, rows: usize, f: impl FnOnce(&mut [u8], usize) -> R) -> R {
    let lda = b.groups() * GROUP;
    let len = rows.min(ROW_BLOCK) * lda;
    SCRATCH.with_borrow_mut(|buf| {
        if buf.len() < len {
            buf.resize(len, 0);
        }
        f(&mut buf[..len], lda)
    })
}

fn check_shapes(op: &'static str, a: (usize, usize), b: &PackedI8, c: (usize, usize)) -> Result<()> {
    if a.1 != b.k() || c != (a.0, b.n()) {
        return Err(KernelError::Shape {
            op,
            expected: format!(
                "A (m×k), B (k×n), C (m×n) with B = {}×{}: A = m×{} and C = m×{}",
                b.k(),
                b.n(),
                b.k(),
                b.n()
            ),
            got: format!("A = {}×{}, C = {}×{}", a.0, a.1, c.0, c.1),
        });
    }
    Ok(())
}

/// The distance between rows of `c`, which must be contiguous and in increasing order.
fn row_stride<T>(c: &ArrayViewMut2<'_, T>) -> Result<usize> {
    let ((m, n), s) = (c.dim(), c.strides());
    if m == 0 || n == 0 {
        return Ok(0);
    }
    if (n > 1 && s[1] != 1) || (m > 1 && s[0] < 0) {
        return Err(KernelError::InvalidArgument {
            name: "out",
            reason: format!("the rows of the output must be contiguous and in order (strides {s:?})"),
        });
    }
    Ok(if m > 1 { s[0] as usize } else { 0 })
}
