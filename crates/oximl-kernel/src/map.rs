//! The drivers behind every elementwise operation: one pure per-element function, applied over contiguous memory
//! in chunks (in parallel on the pool when long), compiled for the chosen CPU level; strided arrays fall back to
//! `ndarray::Zip` with the same function, so they give the same bits.

use crate::cpu::{CpuLevel, dispatch};
use crate::float::Float;
use crate::parallel::{CHUNK_ELEMENTS, PAR_MIN_ELEMENTS, install};
use ndarray::{ArrayView, ArrayViewMut, Dimension, Zip};
use rayon::prelude::*;

/// `x[i] = f(x[i])`.
pub(crate) fn unary<T: Float, D: Dimension>(
    level: CpuLevel,
    mut x: ArrayViewMut<'_, T, D>,
    f: impl Fn(T) -> T + Copy + Send + Sync,
) {
    let kernel = move |s: &mut [T]| {
        dispatch(
            level,
            #[inline(always)]
            || {
                for v in s.iter_mut() {
                    *v = f(*v);
                }
            },
        )
    };
    match x.as_slice_memory_order_mut() {
        Some(s) if s.len() >= PAR_MIN_ELEMENTS => install(|| s.par_chunks_mut(CHUNK_ELEMENTS).for_each(kernel)),
        Some(s) => kernel(s),
        None => x.map_inplace(|v| *v = f(*v)),
    }
}

/// Contiguous slices of `a` and `b` in the same memory order, if both have them.
fn same_order_slices<'a, T, D: Dimension>(a: &'a ArrayView<'_, T, D>, b: &ArrayView<'_, T, D>) -> Option<&'a [T]> {
    if a.strides() == b.strides() { a.as_slice_memory_order() } else { None }
}

/// `y[i] = f(y[i], x[i])`; shapes are checked by the caller.
pub(crate) fn binary<T: Float, D: Dimension>(
    level: CpuLevel,
    mut y: ArrayViewMut<'_, T, D>,
    x: ArrayView<'_, T, D>,
    f: impl Fn(T, T) -> T + Copy + Send + Sync,
) {
    debug_assert_eq!(y.shape(), x.shape());
    let kernel = move |(ys, xs): (&mut [T], &[T])| {
        dispatch(
            level,
            #[inline(always)]
            || {
                for (v, &u) in ys.iter_mut().zip(xs) {
                    *v = f(*v, u);
                }
            },
        )
    };
    let xs = same_order_slices(&x, &y.view());
    match (y.as_slice_memory_order_mut(), xs) {
        (Some(ys), Some(xs)) if ys.len() >= PAR_MIN_ELEMENTS => {
            install(|| ys.par_chunks_mut(CHUNK_ELEMENTS).zip(xs.par_chunks(CHUNK_ELEMENTS)).for_each(kernel))
        }
        (Some(ys), Some(xs)) => kernel((ys, xs)),
        _ => Zip::from(&mut y).and(&x).for_each(|v, &u| *v = f(*v, u)),
    }
}

/// `g[i] = f(g[i], a[i], b[i])`; shapes are checked by the caller.
pub(crate) fn ternary<T: Float, D: Dimension>(
    level: CpuLevel,
    mut g: ArrayViewMut<'_, T, D>,
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
    f: impl Fn(T, T, T) -> T + Copy + Send + Sync,
) {
    debug_assert!(g.shape() == a.shape() && g.shape() == b.shape());
    let kernel = move |((gs, as_), bs): ((&mut [T], &[T]), &[T])| {
        dispatch(
            level,
            #[inline(always)]
            || {
                for ((v, &p), &q) in gs.iter_mut().zip(as_).zip(bs) {
                    *v = f(*v, p, q);
                }
            },
        )
    };
    let (as_, bs) = {
        let gv = g.view();
        (same_order_slices(&a, &gv), same_order_slices(&b, &gv))
    };
    match (g.as_slice_memory_order_mut(), as_, bs) {
        (Some(gs), Some(as_), Some(bs)) if gs.len() >= PAR_MIN_ELEMENTS => install(|| {
            gs.par_chunks_mut(CHUNK_ELEMENTS)
                .zip(as_.par_chunks(CHUNK_ELEMENTS))
                .zip(bs.par_chunks(CHUNK_ELEMENTS))
                .for_each(kernel)
        }),
        (Some(gs), Some(as_), Some(bs)) => kernel(((gs, as_), bs)),
        _ => Zip::from(&mut g).and(&a).and(&b).for_each(|v, &p, &q| *v = f(*v, p, q)),
    }
}
