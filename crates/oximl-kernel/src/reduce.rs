//! Reductions: sums (all, per row, per column), dot, L2 norm, argmax per row, and the row-wise softmax and
//! log-softmax (stable: the row maximum is subtracted first, so inputs of ±1e4 are fine).
//!
//! Sums keep 16 independent partial sums and combine them in a fixed order, and long arrays are cut into chunks
//! of a fixed length whose sums are added in order: the result depends neither on the CPU level nor on the
//! thread count. Non-finite inputs propagate as IEEE arithmetic does (a NaN in a row makes that row's sum,
//! softmax and norm NaN); `argmax_rows` follows numpy and returns the first NaN of a row.

use crate::cpu::{CpuLevel, dispatch};
use crate::error::{Result, check_shape};
use crate::float::Float;
use crate::map::binary;
use crate::parallel::{CHUNK_ELEMENTS, PAR_MIN_ELEMENTS, install};
use ndarray::{Array1, ArrayView, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Dimension, Zip};
use rayon::prelude::*;

const LANES: usize = 16;

#[inline(always)]
fn combine<T: Float>(mut acc: [T; LANES]) -> T {
    let mut n = LANES;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            acc[i] = acc[i] + acc[i + n];
        }
    }
    acc[0]
}

/// `Σ f(sᵢ)` with 16 partial sums.
#[inline(always)]
fn lane_sum_map<T: Float>(s: &[T], f: impl Fn(T) -> T) -> T {
    let mut acc = [T::zero(); LANES];
    let mut chunks = s.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] = acc[i] + f(c[i]);
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a = *a + f(v);
    }
    combine(acc)
}

#[inline(always)]
fn lane_dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let (mut xc, mut yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    for (a, b) in (&mut xc).zip(&mut yc) {
        for i in 0..LANES {
            acc[i] = acc[i] + a[i] * b[i];
        }
    }
    for ((s, &a), &b) in acc.iter_mut().zip(xc.remainder()).zip(yc.remainder()) {
        *s = *s + a * b;
    }
    combine(acc)
}

#[inline(always)]
fn lane_max<T: Float>(s: &[T]) -> T {
    let mut acc = [T::neg_infinity(); LANES];
    let mut chunks = s.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a = if v > *a { v } else { *a };
    }
    acc.into_iter().fold(T::neg_infinity(), |m, v| if v > m { v } else { m })
}

/// Sums a contiguous slice in fixed chunks (in parallel when long) whose partial sums are added in order.
fn chunked_sum<T: Float>(level: CpuLevel, s: &[T], f: impl Fn(T) -> T + Copy + Send + Sync) -> T {
    let part = move |c: &[T]| {
        dispatch(
            level,
            #[inline(always)]
            || lane_sum_map(c, f),
        )
    };
    if s.len() >= PAR_MIN_ELEMENTS {
        let parts: Vec<T> = install(|| s.par_chunks(CHUNK_ELEMENTS).map(part).collect());
        parts.into_iter().fold(T::zero(), |a, b| a + b)
    } else {
        s.chunks(CHUNK_ELEMENTS).map(part).fold(T::zero(), |a, b| a + b)
    }
}

/// The sum of all elements.
///
/// ```
/// use ndarray::array;
/// assert_eq!(oximl_kernel::sum(array![[1.0f32, 2.0], [3.0, 4.0]].view()), 10.0);
/// ```
pub fn sum<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> T {
    sum_at(CpuLevel::current(), x)
}

/// [`sum`] compiled for a given CPU level.
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{CpuLevel, sum_at};
/// assert_eq!(sum_at(CpuLevel::Scalar, array![1.0f32, 2.0].view()), 3.0);
/// ```
pub fn sum_at<T: Float, D: Dimension>(level: CpuLevel, x: ArrayView<'_, T, D>) -> T {
    match x.as_slice_memory_order() {
        Some(s) => chunked_sum(level, s, |v| v),
        None => x.iter().fold(T::zero(), |a, &b| a + b),
    }
}

/// Sums along `axis`: `Axis(1)` gives one sum per row, `Axis(0)` one per column.
///
/// ```
/// use ndarray::{array, Axis};
/// let x = array![[1.0f32, 2.0], [3.0, 4.0]];
/// assert_eq!(oximl_kernel::sum_axis(x.view(), Axis(1)).unwrap(), array![3.0, 7.0]);
/// assert_eq!(oximl_kernel::sum_axis(x.view(), Axis(0)).unwrap(), array![4.0, 6.0]);
/// ```
pub fn sum_axis<T: Float>(x: ArrayView2<'_, T>, axis: Axis) -> Result<Array1<T>> {
    let level = CpuLevel::current();
    match axis.index() {
        1 => Ok(row_map(x, move |r| {
            dispatch(
                level,
                #[inline(always)]
                || lane_sum_map(r, |v| v),
            )
        })),
        0 if x.ncols() > 0 && x.t().row(0).as_slice().is_some() => Ok(row_map(x.t(), move |r| {
            dispatch(
                level,
                #[inline(always)]
                || lane_sum_map(r, |v| v),
            )
        })),
        0 => {
            let mut out = Array1::zeros(x.ncols());
            for row in x.rows() {
                binary(level, out.view_mut(), row, |a, b| a + b);
            }
            Ok(out)
        }
        a => Err(crate::KernelError::InvalidArgument { name: "axis", reason: format!("{a} is not 0 or 1") }),
    }
}

/// One value per row of `x`, computed from the row as a contiguous slice (rows in parallel when large).
fn row_map<T: Float>(x: ArrayView2<'_, T>, f: impl Fn(&[T]) -> T + Send + Sync) -> Array1<T> {
    let one = |row: ArrayView1<'_, T>, out: &mut T| {
        *out = match row.as_slice() {
            Some(s) => f(s),
            None => f(&row.to_vec()),
        }
    };
    let mut out = Array1::zeros(x.nrows());
    if x.len() >= PAR_MIN_ELEMENTS {
        install(|| Zip::from(x.rows()).and(&mut out).par_for_each(one));
    } else {
        Zip::from(x.rows()).and(&mut out).for_each(one);
    }
    out
}

/// Applies `f` to each row of `x` as a contiguous slice (copying strided rows in and out), rows in parallel when
/// large.
fn rows_mut<T: Float>(mut x: ArrayViewMut2<'_, T>, f: impl Fn(&mut [T]) + Send + Sync) {
    let one = |mut row: ArrayViewMut1<'_, T>| match row.as_slice_mut() {
        Some(s) => f(s),
        None => {
            let mut buf = row.to_vec();
            f(&mut buf);
            row.assign(&ArrayView1::from(&buf));
        }
    };
    if x.len() >= PAR_MIN_ELEMENTS {
        install(|| x.axis_iter_mut(Axis(0)).into_par_iter().for_each(one));
    } else {
        x.axis_iter_mut(Axis(0)).for_each(one);
    }
}

/// `Σ xᵢ·yᵢ`.
///
/// ```
/// use ndarray::array;
/// assert_eq!(oximl_kernel::dot(array![1.0f32, 2.0].view(), array![3.0f32, 4.0].view()).unwrap(), 11.0);
/// ```
pub fn dot<T: Float>(x: ArrayView1<'_, T>, y: ArrayView1<'_, T>) -> Result<T> {
    dot_at(CpuLevel::current(), x, y)
}

/// [`dot`] compiled for a given CPU level.
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{CpuLevel, dot_at};
/// assert_eq!(dot_at(CpuLevel::Scalar, array![2.0f32].view(), array![3.0f32].view()).unwrap(), 6.0);
/// ```
pub fn dot_at<T: Float>(level: CpuLevel, x: ArrayView1<'_, T>, y: ArrayView1<'_, T>) -> Result<T> {
    check_shape("dot", x.shape(), y.shape())?;
    Ok(match (x.as_slice(), y.as_slice()) {
        (Some(a), Some(b)) => dispatch(
            level,
            #[inline(always)]
            || lane_dot(a, b),
        ),
        _ => dispatch(
            level,
            #[inline(always)]
            || lane_dot(&x.to_vec(), &y.to_vec()),
        ),
    })
}

/// The Euclidean norm `‖x‖₂`.
///
/// ```
/// use ndarray::array;
/// assert_eq!(oximl_kernel::norm_l2(array![3.0f32, 4.0].view()), 5.0);
/// ```
pub fn norm_l2<T: Float, D: Dimension>(x: ArrayView<'_, T, D>) -> T {
    let level = CpuLevel::current();
    match x.as_slice_memory_order() {
        Some(s) => chunked_sum(level, s, |v| v * v),
        None => x.iter().fold(T::zero(), |a, &b| a + b * b),
    }
    .sqrt()
}

/// The index of the largest element of each row: the first one on ties, the first NaN if the row has one
/// (as numpy's `argmax`). A row of length 0 is an error.
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0f32, 3.0, 3.0], [f32::NAN, 9.0, 1.0]];
/// assert_eq!(oximl_kernel::argmax_rows(x.view()).unwrap(), vec![1, 0]);
/// ```
pub fn argmax_rows<T: Float>(x: ArrayView2<'_, T>) -> Result<Vec<usize>> {
    if x.ncols() == 0 && x.nrows() > 0 {
        return Err(crate::KernelError::InvalidArgument { name: "x", reason: "argmax of an empty row".into() });
    }
    Ok(x.rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v.is_nan() {
                    return j;
                }
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect())
}

/// Softmax of each row, in place.
///
/// ```
/// use ndarray::array;
/// let mut x = array![[1e4f32, 1e4], [-1e4, 0.0]];
/// oximl_kernel::softmax_rows(x.view_mut());
/// assert_eq!(x, array![[0.5, 0.5], [0.0, 1.0]]);
/// ```
pub fn softmax_rows<T: Float>(x: ArrayViewMut2<'_, T>) {
    softmax_rows_at(CpuLevel::current(), x)
}

/// [`softmax_rows`] compiled for a given CPU level.
///
/// ```
/// use ndarray::array;
/// let mut x = array![[0.0f32, 0.0]];
/// oximl_kernel::softmax_rows_at(oximl_kernel::CpuLevel::Scalar, x.view_mut());
/// assert_eq!(x, array![[0.5, 0.5]]);
/// ```
pub fn softmax_rows_at<T: Float>(level: CpuLevel, x: ArrayViewMut2<'_, T>) {
    rows_mut(x, move |r| {
        dispatch(
            level,
            #[inline(always)]
            || {
                let m = lane_max(r);
                for v in r.iter_mut() {
                    *v = T::expv(*v - m);
                }
                let s = lane_sum_map(r, |v| v);
                for v in r.iter_mut() {
                    *v = *v / s;
                }
            },
        )
    })
}

/// Log-softmax of each row, in place: `xᵢ − max − ln Σⱼ e^(xⱼ − max)`.
///
/// ```
/// use ndarray::array;
/// let mut x = array![[0.0f32, 0.0]];
/// oximl_kernel::log_softmax_rows(x.view_mut());
/// assert!((x[[0, 0]] + std::f32::consts::LN_2).abs() < 1e-7);
/// ```
pub fn log_softmax_rows<T: Float>(x: ArrayViewMut2<'_, T>) {
    let level = CpuLevel::current();
    rows_mut(x, move |r| {
        dispatch(
            level,
            #[inline(always)]
            || {
                let m = lane_max(r);
                // (x − max) − ln Σ: subtracting max first keeps large inputs from cancelling.
                let ln_sum = lane_sum_map(r, |v| T::expv(v - m)).ln();
                for v in r.iter_mut() {
                    *v = (*v - m) - ln_sum;
                }
            },
        )
    })
}

/// Back-propagation through a row softmax with output `y`: `g ← y ⊙ (g − ⟨g, y⟩)` per row.
pub(crate) fn softmax_rows_backward_at<T: Float>(level: CpuLevel, y: ArrayView2<'_, T>, mut g: ArrayViewMut2<'_, T>) {
    let one = |mut g: ArrayViewMut1<'_, T>, y: ArrayView1<'_, T>| {
        let d = match (g.as_slice(), y.as_slice()) {
            (Some(gs), Some(ys)) => dispatch(
                level,
                #[inline(always)]
                || lane_dot(gs, ys),
            ),
            _ => lane_dot(&g.to_vec(), &y.to_vec()),
        };
        Zip::from(&mut g).and(&y).for_each(|g, &y| *g = y * (*g - d));
    };
    if g.len() >= PAR_MIN_ELEMENTS {
        install(|| Zip::from(g.rows_mut()).and(y.rows()).par_for_each(one));
    } else {
        Zip::from(g.rows_mut()).and(y.rows()).for_each(one);
    }
}

/// Sums of gathered rows, segment by segment (as numpy's `np.add.reduceat(x[rows], offsets)`, optionally
/// weighted): `out[i, :] = Σₖ cₖ·x[rows[k], :]` over `k ∈ offsets[i]..offsets[i + 1]`, with `cₖ = weights[k]`
/// (or 1 without weights). An empty segment gives a zero row.
///
/// Each output row starts at zero and the rows are added one after another in the order given (`o = o + x`, or
/// `o = c·x + o` as [`axpy`](crate::axpy)), so the result is bit-identical at every CPU level and equal to
/// summing the rows with `axpy` in order. The rows of the next segments are prefetched while a segment is summed,
/// which keeps a gather of random rows from a large table close to memory speed. It runs on the calling thread:
/// split large batches over the pool (by output rows) at the call site.
///
/// Errors: [`KernelError::Shape`](crate::KernelError::Shape) if `out` has not `x.ncols()` columns, `offsets` is
/// not `out.nrows() + 1` long, or `weights` not `rows.len()`; [`KernelError::InvalidArgument`](crate::KernelError::InvalidArgument)
/// if `offsets` decreases or passes `rows.len()`, or a row index is out of `x`.
///
/// ```
/// use ndarray::{array, Array2};
/// let x = array![[1.0f32, 0.0], [0.0, 1.0], [2.0, 2.0]];
/// let mut out = Array2::zeros((3, 2));
/// // Segment 0 = rows 0, 2, 2; segment 1 is empty; segment 2 = row 1.
/// oximl_kernel::reduce::segment_sum_rows(x.view(), &[0, 2, 2, 1], None, &[0, 3, 3, 4], out.view_mut()).unwrap();
/// assert_eq!(out, array![[5.0, 4.0], [0.0, 0.0], [0.0, 1.0]]);
/// let w = [0.5f32, 1.0];
/// oximl_kernel::reduce::segment_sum_rows(x.view(), &[0, 1], Some(&w[..]), &[0, 2], out.slice_mut(ndarray::s![..1, ..]))
///     .unwrap();
/// assert_eq!(out.row(0), array![0.5, 1.0]);
/// ```
pub fn segment_sum_rows<T: Float>(
    x: ArrayView2<'_, T>,
    rows: &[usize],
    weights: Option<&[T]>,
    offsets: &[usize],
    out: ArrayViewMut2<'_, T>,
) -> Result<()> {
    segment_sum_rows_at(CpuLevel::current(), x, rows, weights, offsets, out)
}

/// [`segment_sum_rows`] compiled for a given CPU level.
///
/// ```
/// use ndarray::{array, Array2};
/// use oximl_kernel::{CpuLevel, reduce::segment_sum_rows_at};
/// let mut out = Array2::zeros((1, 1));
/// segment_sum_rows_at(CpuLevel::Scalar, array![[2.0f32]].view(), &[0, 0], None, &[0, 2], out.view_mut()).unwrap();
/// assert_eq!(out[[0, 0]], 4.0);
/// ```
pub fn segment_sum_rows_at<T: Float>(
    level: CpuLevel,
    x: ArrayView2<'_, T>,
    rows: &[usize],
    weights: Option<&[T]>,
    offsets: &[usize],
    mut out: ArrayViewMut2<'_, T>,
) -> Result<()> {
    let op = "segment_sum_rows";
    check_shape(op, &[out.nrows(), x.ncols()], out.shape())?;
    check_shape(op, &[out.nrows() + 1], &[offsets.len()])?;
    if let Some(w) = weights {
        check_shape(op, &[rows.len()], &[w.len()])?;
    }
    let invalid = |name, reason: String| crate::KernelError::InvalidArgument { name, reason };
    if let Some(i) = offsets.windows(2).position(|w| w[1] < w[0]) {
        return Err(invalid("offsets", format!("decrease at {}: {} then {}", i, offsets[i], offsets[i + 1])));
    }
    if let Some(&last) = offsets.last().filter(|&&l| l > rows.len()) {
        return Err(invalid("offsets", format!("end at {last}, past the {} rows", rows.len())));
    }
    if let Some(&r) = rows.iter().find(|&&r| r >= x.nrows()) {
        return Err(invalid("rows", format!("row {r} is out of a matrix of {} rows", x.nrows())));
    }
    let weight = |k: usize| weights.map_or(T::one(), |w| w[k]);
    let n = x.ncols();
    match (x.as_slice(), out.as_slice_mut()) {
        (Some(xs), Some(os)) if n > 0 => dispatch(
            level,
            #[inline(always)]
            || {
                for (i, o) in os.chunks_exact_mut(n).enumerate() {
                    o.fill(T::zero());
                    for k in offsets[i]..offsets[i + 1] {
                        if let Some(&ahead) = rows.get(k + PREFETCH_ROWS_AHEAD) {
                            prefetch(&xs[ahead * n..(ahead + 1) * n]);
                        }
                        let row = &xs[rows[k] * n..(rows[k] + 1) * n];
                        match weights {
                            None => {
                                for (o, &u) in o.iter_mut().zip(row) {
                                    *o = *o + u;
                                }
                            }
                            Some(w) => {
                                let c = w[k];
                                for (o, &u) in o.iter_mut().zip(row) {
                                    *o = c * u + *o;
                                }
                            }
                        }
                    }
                }
            },
        ),
        _ => {
            for (i, mut o) in out.rows_mut().into_iter().enumerate() {
                o.fill(T::zero());
                for (k, &r) in rows.iter().enumerate().take(offsets[i + 1]).skip(offsets[i]) {
                    let c = weight(k);
                    match weights {
                        None => Zip::from(&mut o).and(x.row(r)).for_each(|o, &u| *o = *o + u),
                        Some(_) => Zip::from(&mut o).and(x.row(r)).for_each(|o, &u| *o = c * u + *o),
                    }
                }
            }
        }
    }
    Ok(())
}

/// How many rows ahead [`segment_sum_rows`] prefetches.
const PREFETCH_ROWS_AHEAD: usize = 2;

/// Asks the CPU to bring `s` into the cache (a hint: no effect on results, nothing on targets without it).
#[inline(always)]
fn prefetch<T>(s: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let step = (64 / size_of::<T>().max(1)).max(1);
        let last = s.len().saturating_sub(1);
        for i in (0..s.len()).step_by(step).chain((!s.is_empty()).then_some(last)) {
            // SAFETY: a prefetch is a hint that never faults or changes memory, `s[i]` is in bounds, and SSE (which
            // has the instruction) is part of the x86-64 baseline.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(s[i..].as_ptr().cast()) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}
