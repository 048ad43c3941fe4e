//! `C ← α·A·B + β·C` over strided views, with an optional fused epilogue `C ← f(C + bias)`.
//!
//! Transposed operands are views with swapped strides (`a.t()`), never copies; any row and column strides,
//! negative ones included, are fine. Products run on the `gemm` crate (the GEMM of faer and candle): BLIS-style
//! loops whose panels of `B` and `A` are packed once and shared by the threads, blocking sized from the CPU's
//! caches, and micro-kernels chosen at run time (AVX-512 when the CPU has AVX-512F and the `avx512` feature is on,
//! else AVX2/FMA, else portable). Products of at least [`PAR_GEMM_MIN_FLOPS`] multiply-adds run on all of the
//! library's threads, smaller ones on the caller's thread; products of at most 4 rows stream `B` once
//! (inference on a few samples), without packing, allocation or waking the pool.
//!
//! Determinism: each `MR×NR` tile of `C` is computed by one thread, and the sum over `k` runs in blocks whose size
//! depends on the shape and the CPU (cache sizes, micro-kernel), never on the thread count, so results are
//! bit-identical for any thread count on a given machine. Across CPU levels they may differ in the last bits
//! (the AVX-512 and AVX2 micro-kernels have different tiles, hence different `k` blocks and reduction orders).
//! The epilogue runs over blocks of rows right after the product, in parallel for large outputs.
//!
//! With `β = 0`, `C` is overwritten and its old contents (even NaN) are ignored, as in BLAS.

use crate::elementwise::{Activation, activate_at};
use crate::error::{KernelError, Result};
use crate::float::Float;
use crate::parallel::{PAR_MIN_ELEMENTS, install, num_threads};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

/// Products with fewer multiply-adds (m·k·n) than this stay on the caller's thread. Measured on 2 cores with
/// `benches/compare/gemm.rs`: 2 threads give 1.1× at 64×64×64 in isolation but lose inside a training loop
/// (waking the pool costs more: digits training took 2× longer), 1.5× at 96×96×96, 1.8× from 128×128×128.
pub const PAR_GEMM_MIN_FLOPS: usize = 1 << 19;

/// Rows of `C` per epilogue task: a block this tall of a 512-column `f32` output is 128 KiB, in L2.
const EPILOGUE_ROWS: usize = 64;

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
    let small = m <= SMALL_M || m.saturating_mul(n).saturating_mul(k) < PAR_GEMM_MIN_FLOPS;
    let threads = if small { 1 } else { num_threads() };
    if threads == 1 {
        product(alpha, a, b, beta, c.view_mut(), 1);
        apply_epilogue(c, epilogue, 1);
    } else {
        install(|| {
            product(alpha, a, b, beta, c.view_mut(), threads);
            apply_epilogue(c, epilogue, threads);
        });
    }
    Ok(())
}

/// `C ← f(C + bias)` by blocks of [`EPILOGUE_ROWS`] rows, in parallel when there are several threads.
fn apply_epilogue<T: Float>(mut c: ArrayViewMut2<'_, T>, e: Epilogue<'_, T>, threads: usize) {
    if e.is_identity() {
        return;
    }
    let level = crate::CpuLevel::current();
    let rows = |mut cb: ArrayViewMut2<'_, T>| {
        if let Some(bias) = e.bias {
            for row in cb.rows_mut() {
                // Safe: shapes were checked once in `gemm_fused`.
                let _ = crate::elementwise::axpy(T::one(), bias, row);
            }
        }
        activate_at(level, e.activation, cb);
    };
    if threads > 1 && c.len() >= PAR_MIN_ELEMENTS {
        c.axis_chunks_iter_mut(Axis(0), EPILOGUE_ROWS).into_par_iter().for_each(rows);
    } else {
        c.axis_chunks_iter_mut(Axis(0), EPILOGUE_ROWS).for_each(rows);
    }
}

/// Products with at most this many rows of `A` skip packing: streaming each row of `B` once is faster (inference
/// on one sample of a 256-512-256-10 network: 182 µs → 45 µs with `matrixmultiply`, measured with
/// `benches/compare/mlp.rs`), allocates nothing and never wakes the pool.
const SMALL_M: usize = 4;

/// The product for one call: a streaming row-times-matrix loop for a few rows, the `gemm` crate otherwise.
fn product<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    threads: usize,
) {
    let ((m, k), n) = (a.dim(), c.ncols());
    if k > 0 && m <= SMALL_M && few_rows(alpha, a, b, beta, c.view_mut()) {
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
            threads,
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
