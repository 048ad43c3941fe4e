//! Recommenders by matrix factorization: a user `u` and an item `i` get vectors `p_u`, `q_i` (and biases) whose
//! product predicts the rating, `ŷ = μ + b_u + b_i + p_u·q_i`.
//!
//! - [`Ratings`]: triplets with external ids ↔ dense indices, CSR per user and per item, CSV/TSV and MovieLens
//!   loaders ([`RatingsCsvOptions`], [`Preset`]); [`split`]: random, per-user fraction, per-user leave-last-k; [`synthetic`]:
//!   seeded ratings from a known low-rank model.
//! - Algorithms (validated hyper-parameters, `fit(&Ratings) -> MfModel`): [`FunkSvd`] (biased SGD as Surprise's
//!   `SVD`, parallel by LIBMF-style stratified blocks, deterministic for any thread count), [`Als`] (explicit,
//!   weighted-λ) and [`ImplicitAls`] (Hu–Koren–Volinsky with conjugate gradient, as the `implicit` library).
//! - [`MfModel`]: predictions with cold start, `recommend`, `recommend_batch`, `similar_items`, `fold_in`,
//!   save/load in the oximl format (kind `"mf"`) with the id maps.
//! - [`metrics`]: RMSE, MAE, precision@k, recall@k, MAP@k, NDCG@k, coverage.
//!
//! ```
//! use oximl_core::mf::{FunkSvd, synthetic::Synthetic, split, metrics};
//! let data = Synthetic { users: 60, items: 40, ratings: 1200, ..Default::default() }.generate().unwrap();
//! let (train, test) = split::random(&data.ratings, 0.2, 7).unwrap();
//! let model = FunkSvd { factors: 4, epochs: 30, ..Default::default() }.fit(&train).unwrap();
//! assert!(metrics::rmse(&model, &test).unwrap() < 1.0);
//! let top = model.recommend_ids("u0", 5, true).unwrap();
//! assert_eq!(top.len(), 5);
//! ```

pub mod als;
pub mod fold_in;
pub mod metrics;
pub mod model;
pub mod ratings;
pub mod recommend;
pub mod sgd;
pub mod split;
pub mod synthetic;

pub use als::{Als, ImplicitAls};
pub use fold_in::Folded;
pub use model::{Algorithm, MfModel};
pub use ratings::{Csr, Duplicates, IdMap, Preset, Ratings, RatingsBuilder, RatingsCsvOptions, RatingsOptions};
pub use sgd::FunkSvd;

use crate::{Error, Result};

/// `a·b` with 32 independent partial sums (four 8-lane accumulators, so neither the vector width nor the add
/// latency limits the loop), combined in a fixed order.
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [[0.0f32; 8]; 4];
    let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for (j, lanes) in acc.iter_mut().enumerate() {
            for (l, s) in lanes.iter_mut().enumerate() {
                *s += x[8 * j + l] * y[8 * j + l];
            }
        }
    }
    let (ca, cb) = (ra.chunks_exact(8), rb.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for (l, s) in acc[0].iter_mut().enumerate() {
            *s += x[l] * y[l];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    let lanes: [f32; 8] = std::array::from_fn(|l| (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]));
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + tail
}

/// Solves `A·x = b` in place (`b ← x`) for a symmetric positive definite `d × d` row-major `A` by Cholesky
/// (`A` is overwritten by its factor). Returns false if `A` is not positive definite.
pub(crate) fn cholesky_solve(a: &mut [f64], b: &mut [f64], d: usize) -> bool {
    for j in 0..d {
        let mut s = a[j * d + j];
        for p in 0..j {
            s -= a[j * d + p] * a[j * d + p];
        }
        if s.is_nan() || s <= 0.0 || !s.is_finite() {
            return false;
        }
        let l = s.sqrt();
        a[j * d + j] = l;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for p in 0..j {
                s -= a[i * d + p] * a[j * d + p];
            }
            a[i * d + j] = s / l;
        }
    }
    for i in 0..d {
        let mut s = b[i];
        for p in 0..i {
            s -= a[i * d + p] * b[p];
        }
        b[i] = s / a[i * d + i];
    }
    for i in (0..d).rev() {
        let mut s = b[i];
        for p in i + 1..d {
            s -= a[p * d + i] * b[p];
        }
        b[i] = s / a[i * d + i];
    }
    true
}

/// Splits a row-major buffer of rows of `width` at row `bounds` (ascending, from 0 to the row count) into
/// disjoint mutable parts.
pub(crate) fn split_rows<'a, T>(mut data: &'a mut [T], bounds: &[usize], width: usize) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(bounds.len().saturating_sub(1));
    for w in bounds.windows(2) {
        let (head, rest) = std::mem::take(&mut data).split_at_mut((w[1] - w[0]) * width);
        parts.push(head);
        data = rest;
    }
    parts
}

pub(crate) fn positive(name: &str, v: f32) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("must be > 0 and finite, got {v}")))
    }
}

pub(crate) fn non_negative(name: &str, v: f32) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(name, format!("must be >= 0 and finite, got {v}")))
    }
}

/// The largest accepted number of latent factors (a model holds `(users + items) × factors` of them, and ALS
/// solves `factors × factors` systems).
///
/// ```
/// use oximl_core::mf::{FunkSvd, MAX_FACTORS};
/// assert!(FunkSvd { factors: MAX_FACTORS + 1, ..Default::default() }.check().is_err());
/// ```
pub const MAX_FACTORS: usize = 1 << 12;

/// The largest accepted number of epochs, sweeps, conjugate-gradient steps or blocks.
///
/// ```
/// use oximl_core::mf::{Als, MAX_ITERATIONS};
/// assert!(Als { iterations: MAX_ITERATIONS + 1, ..Default::default() }.check().is_err());
/// ```
pub const MAX_ITERATIONS: usize = 1 << 20;

/// A count hyper-parameter: `1 ..= max`.
pub(crate) fn count(name: &str, v: usize, max: usize) -> Result<()> {
    if (1..=max).contains(&v) { Ok(()) } else { Err(Error::invalid(name, format!("must be in 1..={max}, got {v}"))) }
}

/// A zeroed `rows × cols` buffer: the product is checked and the memory reserved fallibly, so sizes no machine
/// can hold are an error instead of an abort.
pub(crate) fn zeroed(name: &str, rows: usize, cols: usize) -> Result<Vec<f32>> {
    let len = rows.checked_mul(cols).ok_or_else(|| Error::invalid(name, format!("{rows} × {cols} overflows")))?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|e| Error::invalid(name, format!("{rows} × {cols} values: {e}")))?;
    v.resize(len, 0.0);
    Ok(v)
}

/// A seed for one (seed, a, b) combination (SplitMix64 of the mixed words).
pub(crate) fn mix_seed(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_spd() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        assert!(cholesky_solve(&mut a, &mut b, 2));
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12);
        let mut bad = vec![0.0, 0.0, 0.0, 0.0];
        assert!(!cholesky_solve(&mut bad, &mut [1.0, 1.0], 2));
    }

    #[test]
    fn dot_matches_naive() {
        for n in [0, 1, 7, 8, 19, 32, 45, 100] {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
            let naive: f32 = a.iter().map(|x| x * x).sum();
            assert!((dot(&a, &a) - naive).abs() <= 1e-6 * naive, "n = {n}");
        }
    }

    #[test]
    fn split_rows_is_disjoint() {
        let mut v: Vec<u32> = (0..10).collect();
        let parts = split_rows(&mut v, &[0, 2, 5], 2);
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [4, 6]);
    }
}
