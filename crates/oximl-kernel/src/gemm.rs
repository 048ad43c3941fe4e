//! `C ← α·A·B + β·C` over strided views, with an optional fused epilogue `C ← f(C + bias)`.
//!
//! Transposed operands are views with swapped strides (`a.t()`), never copies; any row and column strides,
//! negative ones included, are fine. Products run on the `gemm` crate (the GEMM of faer and candle): BLIS-style
//! loops whose panels of `B` and `A` are packed once and shared by the threads, blocking sized from the CPU's
//! caches, and micro-kernels chosen at run time (AVX-512 when the CPU has AVX-512F and the `avx512` feature is on,
//! else AVX2/FMA, else portable). Products of at least [`PAR_GEMM_MIN_FLOPS`] multiply-adds run on all of the
//! library's threads, smaller ones on the caller's thread. Products of a few rows or one column, and the few
//! other shapes the crate would sum in another order (see `packed_by_gemm_crate`), are streamed by this module (no
//! packing, no pool wake-up for a few rows), in the crate's order.
//!
//! Determinism: every element of `C` is one chain of multiply-adds in `k` order per `k` block, the blocks' depth
//! set by `k` and the CPU (its L1 cache and micro-kernel), never by `m`, `n` or the thread count: the crate's
//! packed kernels compute so, and the shapes for which the crate would sum otherwise (its matrix-vector,
//! dot-product and small-matrix paths) are streamed in that same order. So a row of a product has the same bits
//! whether it is computed alone or among any number of rows, on any number of threads. Across CPU levels the
//! bits may differ (AVX-512 and AVX2 have different tiles, hence different `k` blocks; the portable kernel does
//! not fuse its multiply-adds). The epilogue runs over blocks of rows right after the product, in parallel for
//! large outputs.
//!
//! With `β = 0`, `C` is overwritten and its old contents (even NaN) are ignored, as in BLAS.

use crate::elementwise::{Activation, activate_at};
use crate::error::{KernelError, Result};
use crate::float::Float;
use crate::parallel::{PAR_MIN_ELEMENTS, install, num_threads};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};
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

/// Products with at most this many rows of `A` are streamed (see [`streamed`]) whatever their width: one pass
/// over `B` per [`ROWS`] rows is faster than packing for inference on a few samples (one sample of a 256-512-256-10
/// network: 182 µs packed, 18 µs streamed, measured with `cargo bench --bench mlp`), allocates little and never
/// wakes the pool.
const SMALL_M: usize = 4;

/// Rows of `C` accumulated together by [`streamed`]: they share each loaded row of `B`, and their independent
/// sums hide the latency of the multiply-adds when `C` has one column.
const ROWS: usize = 4;

/// Rows of `C` per task when a streamed product is large enough for several threads.
const STREAM_TASK_ROWS: usize = 64;

/// Whether the `gemm` crate computes this product with its packed micro-kernels in `k` blocks of [`k_block`]
/// depth, each element one chain of multiply-adds in `k` order per block. Its other paths (matrix-vector for one
/// row or one column, a dot-product kernel when `m·n ≤ 256`, outer products for `k ≤ 2`) sum in other orders, and
/// when `m, n ≤ 64` it cuts `k` into blocks of 512 (the same blocks only if [`k_block`] gives them too), so a
/// row's bits would depend on how many rows share the call: those shapes, and a few rows, are [`streamed`]
/// instead, in the packed kernels' order.
fn packed_by_gemm_crate<T: Float>(m: usize, k: usize, n: usize) -> bool {
    m > SMALL_M && n > 1 && k > 2 && m * n > 256 && (m > 64 || n > 64 || k_block::<T>(k) == k.min(512))
}

/// The product for one call: [`streamed`] for the shapes of [`packed_by_gemm_crate`], the `gemm` crate otherwise.
fn product<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    threads: usize,
) {
    let ((m, k), n) = (a.dim(), c.ncols());
    if !packed_by_gemm_crate::<T>(m, k, n) {
        streamed(alpha, a, b, beta, c, threads);
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

/// `C ← α·A·B + β·C` computed element by element exactly as the `gemm` crate's packed micro-kernels compute it, so
/// that every row of a product has the same bits whatever the number of rows in the call: for each block of
/// [`k_block`] values of `k`, `s = Σₚ aᵢₚ·bₚⱼ` as one chain of multiply-adds in `p` order (fused when the CPU has
/// FMA, as the crate's kernels are), then `cᵢⱼ ← α·s` (first block, `β = 0`), `fma(α, s, cᵢⱼ)` (first block with
/// `β = 1`, and every later block), or `β·cᵢⱼ + α·s`. [`ROWS`] rows of `C` at a time share each loaded row of `B`
/// (copied to row-major order once if it is not); their sums stay in registers over a tile of columns as wide as
/// the CPU's registers allow ([`Stream::tile`]). Blocks of rows run on several threads for large products (each
/// row by one task: the thread count does not change the bits).
fn streamed<T: Float>(
    alpha: T,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    threads: usize,
) {
    let ((m, k), n) = (a.dim(), c.ncols());
    if k == 0 {
        // No product: C ← β·C (and C ← 0 for β = 0, whatever it held).
        c.mapv_inplace(|v| if beta == T::zero() { T::zero() } else { beta * v });
        return;
    }
    let b = b.as_standard_layout();
    let Some(b) = b.as_slice() else { unreachable!("a standard-layout array is contiguous") };
    let level = crate::CpuLevel::current();
    let stream = Stream { alpha, beta, b, k, n, kc: k_block::<T>(k), fused: crate::cpu::gemm_kernel(size_of::<T>()).2 };
    let rows = |row0: usize, mut cb: ArrayViewMut2<'_, T>| {
        // The group's rows of A and of C, contiguous, and the sums of the last few columns: one allocation each
        // per task.
        let (mut ar, mut out, mut sums) = (vec![T::zero(); ROWS * k], vec![T::zero(); ROWS * n], Vec::new());
        for (g, mut cg) in cb.axis_chunks_iter_mut(Axis(0), ROWS).enumerate() {
            let r = cg.nrows();
            let ag = a.slice(s![row0 + g * ROWS..row0 + g * ROWS + r, ..]);
            leading_rows(&mut ar, r, k).assign(&ag);
            if beta != T::zero() {
                leading_rows(&mut out, r, n).assign(&cg); // with β = 0 the old C is not read
            }
            crate::cpu::dispatch(
                level,
                #[inline(always)]
                || {
                    if r == ROWS {
                        stream.row_group::<ROWS>(level, &ar, &mut out, &mut sums);
                    } else {
                        for (ai, oi) in ar.chunks_exact(k).zip(out.chunks_exact_mut(n)).take(r) {
                            stream.row_group::<1>(level, ai, oi, &mut sums);
                        }
                    }
                },
            );
            cg.assign(&leading_rows(&mut out, r, n));
        }
    };
    if threads > 1 && m > STREAM_TASK_ROWS {
        install(|| {
            c.axis_chunks_iter_mut(Axis(0), STREAM_TASK_ROWS)
                .into_par_iter()
                .enumerate()
                .for_each(|(t, cb)| rows(t * STREAM_TASK_ROWS, cb))
        });
    } else {
        rows(0, c);
    }
}

/// The first `rows` rows of `cols` values of `v` as a matrix (`v` holds at least `rows·cols` values).
fn leading_rows<T>(v: &mut [T], rows: usize, cols: usize) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape((rows, cols), &mut v[..rows * cols]).expect("rows·cols values fit their shape")
}

/// One streamed product ([`streamed`]): its coefficients, `B` in row-major order, its sizes and `k` block depth,
/// and whether its multiply-adds are fused.
struct Stream<'a, T> {
    alpha: T,
    beta: T,
    b: &'a [T],
    k: usize,
    n: usize,
    kc: usize,
    fused: bool,
}

impl<T: Float> Stream<'_, T> {
    /// `R` rows of `C` (`out`, `R·n` values) from `R` rows of `A` (`a`, `R·k` values): tiles of columns as wide as
    /// the CPU's vector registers hold the sums of (16 registers for one row, 4 per row for four; the widths halve
    /// to fit the remaining columns), the last few columns summed in memory (`sums`, reused from call to call).
    #[inline(always)]
    fn row_group<const R: usize>(&self, level: crate::CpuLevel, a: &[T], out: &mut [T], sums: &mut Vec<T>) {
        use crate::CpuLevel::*;
        let vector_bytes = match level {
            Avx512 | Avx512Vnni => 64,
            Avx2 | AvxVnni => 32,
            Scalar => 16,
        };
        let widest = vector_bytes * if R == 1 { 16 } else { 4 } / size_of::<T>();
        let mut j = 0;
        macro_rules! tiles {
            ($($w:literal),*) => {$(
                if $w <= widest {
                    while j + $w <= self.n {
                        self.tile::<R, $w>(a, out, j);
                        j += $w;
                    }
                }
            )*};
        }
        if R == 1 {
            tiles!(256, 128, 64, 32, 16, 8, 4);
        } else {
            tiles!(64, 32, 16, 8, 4);
        }
        self.columns_in_memory::<R>(a, out, j, sums);
    }

    /// Columns `j..j + W` of the `R` rows: the sums of each `k` block in registers, then combined into `out`.
    #[inline(always)]
    fn tile<const R: usize, const W: usize>(&self, a: &[T], out: &mut [T], j: usize) {
        for (block, p0) in (0..self.k).step_by(self.kc).enumerate() {
            let mut sum = [[T::zero(); W]; R];
            for p in p0..(p0 + self.kc).min(self.k) {
                let Ok(brow) = <&[T; W]>::try_from(&self.b[p * self.n + j..p * self.n + j + W]) else {
                    unreachable!("a slice of W values")
                };
                for (i, si) in sum.iter_mut().enumerate() {
                    let ap = a[i * self.k + p];
                    for (s, &bv) in si.iter_mut().zip(brow) {
                        *s = self.madd(ap, bv, *s);
                    }
                }
            }
            for (i, si) in sum.iter().enumerate() {
                let o = &mut out[i * self.n + j..i * self.n + j + W];
                o.iter_mut().zip(si).for_each(|(o, &s)| *o = self.combine(block, *o, s));
            }
        }
    }

    /// Columns `j..n` of the `R` rows, the sums of each `k` block in memory, `sum` (fewer columns than a vector
    /// holds).
    #[inline(always)]
    fn columns_in_memory<const R: usize>(&self, a: &[T], out: &mut [T], j: usize, sum: &mut Vec<T>) {
        let w = self.n - j;
        if w == 0 {
            return;
        }
        sum.resize(R * w, T::zero());
        let sum = &mut sum[..R * w];
        for (block, p0) in (0..self.k).step_by(self.kc).enumerate() {
            sum.fill(T::zero());
            for p in p0..(p0 + self.kc).min(self.k) {
                let brow = &self.b[p * self.n + j..(p + 1) * self.n];
                for (i, si) in sum.chunks_exact_mut(w).enumerate() {
                    let ap = a[i * self.k + p];
                    si.iter_mut().zip(brow).for_each(|(s, &bv)| *s = self.madd(ap, bv, *s));
                }
            }
            for (i, si) in sum.chunks_exact(w).enumerate() {
                let o = &mut out[i * self.n + j..(i + 1) * self.n];
                o.iter_mut().zip(si).for_each(|(o, &s)| *o = self.combine(block, *o, s));
            }
        }
    }

    /// `a·b + s`, fused or not as the `gemm` crate's kernels on this CPU.
    #[inline(always)]
    fn madd(&self, a: T, b: T, s: T) -> T {
        if self.fused { a.mul_add(b, s) } else { a * b + s }
    }

    /// The new `cᵢⱼ` after the sum `s` of `k` block number `block`.
    #[inline(always)]
    fn combine(&self, block: usize, c: T, s: T) -> T {
        match (block, self.beta) {
            (0, b) if b == T::zero() => self.alpha * s,
            (0, b) if b != T::one() => b * c + self.alpha * s,
            _ if self.fused => self.alpha.mul_add(s, c),
            _ => self.alpha * s + c,
        }
    }
}

/// The depth of the `k` blocks of the `gemm` crate's packed products: its `kernel_params`, from the L1 cache's
/// geometry and the micro-kernel's tile ([`crate::cpu::gemm_kernel`]); `k` itself up to 512.
fn k_block<T: Float>(k: usize) -> usize {
    let size = std::mem::size_of::<T>();
    let (mr, nr, _) = crate::cpu::gemm_kernel(size);
    gemm_common::cache::kernel_params(1, 1, k, mr, nr, size).kc.max(1)
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
