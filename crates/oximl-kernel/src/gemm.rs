//! `C ← α·A·B + β·C` over strided views, with an optional fused epilogue `C ← f(C + bias)`.
//!
//! Transposed operands are views with swapped strides (`a.t()`), never copies; any row and column strides,
//! negative ones included, are fine. Each product runs as `matrixmultiply` calls (which pick their AVX2/FMA
//! micro-kernel at run time and run single-threaded). Products of at least [`PAR_GEMM_MIN_FLOPS`] are split over
//! output blocks — rows, or columns when the output is wider than tall — on the library's pool, one block a task.
//! Every output element is computed by exactly one call, whose summation order over `k` does not depend on
//! where the block starts, so the result is bit-identical for any thread count. The epilogue runs on each block
//! of rows right after its product, while it is still in cache.
//!
//! With `β = 0`, `C` is overwritten and its old contents (even NaN) are ignored, as in BLAS.

use crate::elementwise::{Activation, activate};
use crate::error::{KernelError, Result};
use crate::float::Float;
use crate::parallel::{install, num_threads};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;

/// Products with fewer multiply-adds (m·k·n) than this stay on the caller's thread. Measured on 2 cores with
/// `benches/compare/gemm.rs`: 2 threads give 1.1× at 64×64×64 in isolation but lose inside a training loop
/// (waking the pool costs more: digits training took 2× longer), 1.5× at 96×96×96, 1.8× from 128×128×128.
pub const PAR_GEMM_MIN_FLOPS: usize = 1 << 19;

/// Output rows per epilogue tile: a tile of `C` this tall stays in a 256 KiB L2 cache between the product and
/// the epilogue.
const EPILOGUE_TILE_BYTES: usize = 128 * 1024;

/// The shortest epilogue tile: each tile is one `matrixmultiply` call, which packs all of `B` again, so tiles
/// much shorter than its 64-row blocks of `A` spend more time packing than multiplying (scores of 128 users ×
/// 3,706 items × 100 factors with 8-row tiles: 2× slower than without the epilogue).
const EPILOGUE_TILE_MIN_ROWS: usize = 64;

/// What to do with each output block right after its product: add `bias` (one value per column) and apply
/// `activation`.
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{Activation, Epilogue};
/// let bias = array![1.0f32, 2.0];
/// let e = Epilogue { bias: Some(bias.view()), activation: Activation::Relu };
/// assert!(!e.is_identity());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Epilogue<'a, T> {
    /// Added to every row of the product (length = number of columns of `C`).
    pub bias: Option<ArrayView1<'a, T>>,
    /// Applied after the bias.
    pub activation: Activation,
}

impl<T> Epilogue<'_, T> {
    /// No bias, linear activation.
    ///
    /// ```
    /// assert!(oximl_kernel::Epilogue::<f32>::none().is_identity());
    /// ```
    pub fn none() -> Self {
        Epilogue { bias: None, activation: Activation::Linear }
    }

    /// Whether the epilogue leaves the product as it is.
    ///
    /// ```
    /// assert!(oximl_kernel::Epilogue::<f64>::none().is_identity());
    /// ```
    pub fn is_identity(&self) -> bool {
        self.bias.is_none() && self.activation == Activation::Linear
    }
}

/// `C ← α·A·B + β·C`.
///
/// ```
/// use ndarray::{array, Array2};
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let mut c = Array2::zeros((2, 2));
/// oximl_kernel::gemm(1.0, a.view(), a.t(), 0.0, c.view_mut()).unwrap(); // A·Aᵀ, no copy of Aᵀ
/// assert_eq!(c, array![[5.0, 11.0], [11.0, 25.0]]);
/// ```
pub fn gemm<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    gemm_fused(alpha, a, b, beta, c, Epilogue::none())
}

/// `C ← f(α·A·B + β·C + bias)`, the epilogue fused into the pass that writes each block of `C`.
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_kernel::{Activation, Epilogue, gemm_fused};
/// let x = array![[1.0f32, -1.0]];
/// let w = array![[1.0f32, 0.0], [0.0, 1.0]];
/// let b = array![0.5f32, 0.5];
/// let mut h = Array2::zeros((1, 2));
/// let epi = Epilogue { bias: Some(b.view()), activation: Activation::Relu };
/// gemm_fused(1.0, x.view(), w.view(), 0.0, h.view_mut(), epi).unwrap();
/// assert_eq!(h, array![[1.5, 0.0]]);
/// ```
pub fn gemm_fused<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    epilogue: Epilogue<'_, T>,
) -> Result<()> {
    let ((m, k), (kb, n)) = (a.dim(), b.dim());
    if kb != k || c.dim() != (m, n) {
        return Err(KernelError::Shape {
            op: "gemm",
            expected: format!("A (m×k), B (k×n), C (m×n) with A = {m}×{k}: B = {k}×n and C = {m}×n"),
            got: format!("B = {kb}×{n}, C = {}×{}", c.nrows(), c.ncols()),
        });
    }
    if let Some(bias) = epilogue.bias
        && bias.len() != n
    {
        return Err(KernelError::Shape {
            op: "gemm bias",
            expected: format!("{n} values (one per output column)"),
            got: format!("{}", bias.len()),
        });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let threads = num_threads();
    if threads == 1 || m.saturating_mul(n).saturating_mul(k) < PAR_GEMM_MIN_FLOPS {
        block(alpha, a, b, beta, c.view_mut(), epilogue);
        return Ok(());
    }
    if n > m && !epilogue.activation.is_row_wise() {
        let cols = n.div_ceil(threads);
        let mut tasks = Vec::with_capacity(threads);
        for (j, (cb, bb)) in c.axis_chunks_iter_mut(Axis(1), cols).zip(b.axis_chunks_iter(Axis(1), cols)).enumerate() {
            let bias = epilogue.bias.map(|v| v.slice_move(ndarray::s![j * cols..j * cols + cb.ncols()]));
            tasks.push((cb, bb, Epilogue { bias, activation: epilogue.activation }));
        }
        install(|| tasks.into_par_iter().for_each(|(cb, bb, e)| block(alpha, a, bb, beta, cb, e)));
    } else {
        let rows = m.div_ceil(threads);
        let tasks: Vec<_> = c.axis_chunks_iter_mut(Axis(0), rows).zip(a.axis_chunks_iter(Axis(0), rows)).collect();
        install(|| tasks.into_par_iter().for_each(|(cb, ab)| block(alpha, ab, b, beta, cb, epilogue)));
    }
    Ok(())
}

/// One task's product on the caller's thread, cut into row tiles that stay in cache when there is an epilogue.
fn block<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    e: Epilogue<'_, T>,
) {
    if e.is_identity() {
        product(alpha, a, b, beta, c);
        return;
    }
    let tile = (EPILOGUE_TILE_BYTES / (c.ncols() * std::mem::size_of::<T>()).max(1)).max(EPILOGUE_TILE_MIN_ROWS);
    for (cb, ab) in c.axis_chunks_iter_mut(Axis(0), tile).zip(a.axis_chunks_iter(Axis(0), tile)) {
        let mut cb = cb;
        product(alpha, ab, b, beta, cb.view_mut());
        if let Some(bias) = e.bias {
            Zip::from(cb.rows_mut()).for_each(|row| {
                // Safe: shapes were checked once in `gemm_fused`.
                let _ = crate::elementwise::axpy(T::one(), bias, row);
            });
        }
        activate(e.activation, cb);
    }
}

/// Products with at most this many rows of `A` skip `matrixmultiply`, whose packing of all of `B` costs more
/// than the product itself (inference on one sample of a 256-512-256-10 network: 182 µs → 45 µs, measured with
/// `benches/compare/mlp.rs`).
const SMALL_M: usize = 4;

/// The product for one block: a streaming row-times-matrix loop for a few rows, `matrixmultiply` otherwise.
fn product<T: Float>(alpha: T, a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, beta: T, mut c: ArrayViewMut2<'_, T>) {
    let ((m, k), n) = (a.dim(), c.ncols());
    if k > 0 && m <= SMALL_M && few_rows(alpha, a, b, beta, c.view_mut()) {
        return;
    }
    if k == 0 {
        // An empty sum: C ← β·C (β = 0 overwrites, as in BLAS).
        if beta == T::zero() {
            c.fill(T::zero());
        } else {
            c.map_inplace(|v| *v = beta * *v);
        }
        return;
    }
    let (sa, sb, sc) =
        ([a.strides()[0], a.strides()[1]], [b.strides()[0], b.strides()[1]], [c.strides()[0], c.strides()[1]]);
    // SAFETY: the three views are valid for their shapes and strides, `c` is a unique mutable view (so it
    // aliases neither `a` nor `b`), and the dimensions agree (checked by `gemm_fused`).
    unsafe {
        T::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            sa[0],
            sa[1],
            b.as_ptr(),
            sb[0],
            sb[1],
            beta,
            c.as_mut_ptr(),
            sc[0],
            sc[1],
        );
    }
}

/// `cᵢ ← β·cᵢ + Σₚ (α·aᵢₚ)·bₚ` row by row, streaming the rows of `B` once each (they must be contiguous, as
/// must the rows of `C`); returns false, doing nothing, when the layout does not allow it.
fn few_rows<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
) -> bool {
    if b.strides()[1] != 1 || c.strides()[1] != 1 || b.row(0).as_slice().is_none() {
        return false;
    }
    let level = crate::CpuLevel::current();
    for (arow, mut crow) in a.rows().into_iter().zip(c.rows_mut()) {
        let Some(cs) = crow.as_slice_mut() else { return false };
        crate::cpu::dispatch(
            level,
            #[inline(always)]
            || {
                if beta == T::zero() {
                    cs.fill(T::zero());
                } else {
                    cs.iter_mut().for_each(|v| *v = beta * *v);
                }
                for (p, &ap) in arow.iter().enumerate() {
                    let coef = alpha * ap;
                    let brow = b.row(p);
                    let Some(bs) = brow.as_slice() else { return };
                    for (v, &bv) in cs.iter_mut().zip(bs) {
                        *v = *v + coef * bv;
                    }
                }
            },
        );
    }
    true
}

/// `A·B` into a new matrix.
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0f32, 2.0]];
/// assert_eq!(oximl_kernel::matmul(a.view(), a.t()).unwrap(), array![[5.0]]);
/// ```
pub fn matmul<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Result<Array2<T>> {
    let mut c = Array2::zeros((a.nrows(), b.ncols()));
    gemm(T::one(), a, b, T::zero(), c.view_mut())?;
    Ok(c)
}
