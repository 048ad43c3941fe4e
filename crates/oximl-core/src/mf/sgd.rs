//! [`FunkSvd`]: biased matrix factorization by stochastic gradient descent, the update rule of Surprise's `SVD`:
//! for each rating, `e = r − ŷ`, `b_u += lr·(e − λ_b·b_u)`, `b_i += lr·(e − λ_b·b_i)`,
//! `p_u += lr·(e·q_i − λ·p_u)`, `q_i += lr·(e·p_u − λ·q_i)` (with the old `p_u` in the last one).
//!
//! **Parallel scheme: LIBMF-style stratified blocks.** Users and items are cut into `blocks` contiguous index
//! ranges each, holding about the same number of ratings, giving a `blocks × blocks` grid of rating blocks. An epoch
//! runs `blocks` sub-epochs; sub-epoch `s` (in an order shuffled per epoch) processes the blocks
//! `(g, (g + s) mod blocks)` for every `g` at the same time: they share no user and no item, so no two threads
//! ever touch the same parameter. Within a block the ratings are visited in one order fixed before training
//! (shuffled from the seed, then grouped by user, as LIBMF sorts its blocks for cache locality). The grid, the
//! orders and every update depend only on the data, the seed and `blocks` — **never on the thread count**, so
//! results are bit-identical on 1 or N threads.

use super::model::{Algorithm, MfModel};
use super::ratings::Ratings;
use super::{MAX_FACTORS, MAX_ITERATIONS, count, mix_seed, non_negative, positive, split_rows, zeroed};
use crate::{Cancel, Error, Result};
use ndarray::{Array1, Array2};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::seq::SliceRandom;
use ndarray_rand::rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Biased MF by SGD (ŷ = μ + b_u + b_i + p_u·q_i), hyper-parameters as data; the defaults are Surprise's `SVD`
/// defaults (100 factors, 20 epochs, lr 0.005, reg 0.02, init std 0.1).
///
/// ```
/// use oximl_core::mf::{FunkSvd, Ratings};
/// let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0)], Default::default()).unwrap();
/// let model = FunkSvd { factors: 8, epochs: 50, learning_rate: 0.02, ..Default::default() }.fit(&r).unwrap();
/// assert!(model.predict("a", "x") > model.predict("a", "y"));
/// assert!(FunkSvd { factors: 0, ..Default::default() }.fit(&r).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunkSvd {
    /// Number of latent factors (1 ..= [`super::MAX_FACTORS`]).
    pub factors: usize,
    /// Passes over the ratings (1 ..= [`super::MAX_ITERATIONS`]).
    pub epochs: usize,
    /// SGD step (> 0).
    pub learning_rate: f32,
    /// L2 regularization of the biases (≥ 0).
    pub reg_bias: f32,
    /// L2 regularization of the factors (≥ 0).
    pub reg_factors: f32,
    /// Standard deviation of the normal initialization of the factors (≥ 0; biases start at 0).
    pub init_std: f32,
    /// `false`: plain `ŷ = p_u·q_i` (no mean, no biases), as Surprise's `SVD(biased=False)`.
    pub biased: bool,
    /// Seed of the initialization and of the visiting order.
    pub seed: u64,
    /// Stratification: users and items are each cut into this many ranges (1 ..= 1024). Results depend on it (not on
    /// the thread count); use at least the number of threads for a good speed-up.
    pub blocks: usize,
}

impl Default for FunkSvd {
    fn default() -> FunkSvd {
        FunkSvd {
            factors: 100,
            epochs: 20,
            learning_rate: 0.005,
            reg_bias: 0.02,
            reg_factors: 0.02,
            init_std: 0.1,
            biased: true,
            seed: 0,
            blocks: 8,
        }
    }
}

/// The largest accepted `blocks` (the grid holds `blocks²` rating blocks).
const MAX_BLOCKS: usize = 1024;

/// Ratings between two polls of the cancellation token inside a block.
const POLL: usize = 4096;

/// One rating inside a block: local user row, local item row, value.
type Entry = (u32, u32, f32);

impl FunkSvd {
    /// Validates the hyper-parameters (called by [`FunkSvd::fit`] before any work).
    ///
    /// ```
    /// let e = oximl_core::mf::FunkSvd { learning_rate: -1.0, ..Default::default() }.check().unwrap_err();
    /// assert!(e.to_string().contains("learning_rate"));
    /// ```
    pub fn check(&self) -> Result<()> {
        count("factors", self.factors, MAX_FACTORS)?;
        count("epochs", self.epochs, MAX_ITERATIONS)?;
        count("blocks", self.blocks, MAX_BLOCKS)?;
        positive("learning_rate", self.learning_rate)?;
        non_negative("reg_bias", self.reg_bias)?;
        non_negative("reg_factors", self.reg_factors)?;
        non_negative("init_std", self.init_std)
    }

    /// Trains on `ratings` on oximl's thread pool (see the module docs for the parallel scheme).
    /// Returns [`Error::NonFinite`] if training diverges (learning rate too large).
    ///
    /// ```
    /// use oximl_core::mf::{FunkSvd, synthetic::Synthetic};
    /// let data = Synthetic { users: 50, items: 30, ratings: 900, ..Default::default() }.generate().unwrap();
    /// let m = FunkSvd { factors: 5, epochs: 5, ..Default::default() }.fit(&data.ratings).unwrap();
    /// assert_eq!(m.history().len(), 5);
    /// ```
    pub fn fit(&self, ratings: &Ratings) -> Result<MfModel> {
        self.fit_cancellable(ratings, &Cancel::new())
    }

    /// [`FunkSvd::fit`], stopped with [`Error::Cancelled`] soon after `cancel` is set (polled between sub-epochs
    /// and every few thousand ratings inside a block).
    ///
    /// ```
    /// use oximl_core::{Cancel, mf::{FunkSvd, synthetic::Synthetic}};
    /// let data = Synthetic { users: 50, items: 30, ratings: 900, ..Default::default() }.generate().unwrap();
    /// let cancel = Cancel::new();
    /// cancel.cancel();
    /// assert_eq!(FunkSvd::default().fit_cancellable(&data.ratings, &cancel).unwrap_err().code(), 7);
    /// ```
    pub fn fit_cancellable(&self, ratings: &Ratings, cancel: &Cancel) -> Result<MfModel> {
        self.check()?;
        let (nu, ni, k) = (ratings.users().len(), ratings.items().len(), self.factors);
        let nb = self.blocks.min(nu).min(ni).max(1);
        // Ranges holding about the same number of ratings each, so that the blocks run at the same time take
        // about the same time (contiguous index ranges of equal length would not on skewed data).
        let ubounds = balanced_bounds(ratings.by_user().indptr(), nb);
        let ibounds = balanced_bounds(ratings.by_item().indptr(), nb);
        let group = |bounds: &[usize], n: usize| {
            let mut of = vec![0u32; n];
            for g in 0..nb {
                of[bounds[g]..bounds[g + 1]].fill(g as u32);
            }
            of
        };
        let (ug, ig) = (group(&ubounds, nu), group(&ibounds, ni));
        let mut counts = vec![0usize; nb * nb];
        for (&u, &i) in ratings.user_indices().iter().zip(ratings.item_indices()) {
            counts[ug[u as usize] as usize * nb + ig[i as usize] as usize] += 1;
        }
        let mut blocks: Vec<Vec<Entry>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
        for ((&u, &i), &r) in ratings.user_indices().iter().zip(ratings.item_indices()).zip(ratings.values()) {
            let (g, h) = (ug[u as usize] as usize, ig[i as usize] as usize);
            blocks[g * nb + h].push(((u as usize - ubounds[g]) as u32, (i as usize - ibounds[h]) as u32, r));
        }
        // The visiting order within a block, fixed once: shuffled from the seed, then grouped by user (a stable
        // sort keeps the shuffled order of each user's items). Consecutive updates of one user keep `p_u` in L1,
        // as Surprise's own user-by-user pass does; reshuffling every epoch cost time without improving RMSE.
        oximl_kernel::install(|| {
            blocks.par_iter_mut().enumerate().for_each(|(b, blk)| {
                blk.shuffle(&mut StdRng::seed_from_u64(mix_seed(self.seed, 0, b as u64)));
                blk.sort_by_key(|e| e.0);
            })
        });

        let mut rng = StdRng::seed_from_u64(self.seed);
        let normal = Normal::new(0.0f32, self.init_std).map_err(|e| Error::invalid("init_std", e.to_string()))?;
        let mut p = zeroed("factors", nu, k)?;
        let mut q = zeroed("factors", ni, k)?;
        p.iter_mut().chain(q.iter_mut()).for_each(|v| *v = normal.sample(&mut rng));
        let (mut bu, mut bi) = (vec![0.0f32; nu], vec![0.0f32; ni]);
        let mean = if self.biased { ratings.mean() } else { 0.0 };
        // The whole loop runs on a pool thread: the sub-epochs fork from there instead of each being handed over
        // from the caller's thread and back.
        let history = oximl_kernel::install(|| -> Result<Vec<f64>> {
            let mut history = Vec::new();
            let mut order: Vec<usize> = (0..nb).collect();
            for epoch in 0..self.epochs {
                order.shuffle(&mut StdRng::seed_from_u64(mix_seed(self.seed, epoch as u64 + 1, u64::MAX)));
                let mut sse = 0.0f64;
                for &s in &order {
                    cancel.check("FunkSvd fit")?;
                    let mut qs: Vec<Option<&mut [f32]>> =
                        split_rows(&mut q, &ibounds, k).into_iter().map(Some).collect();
                    let mut bis: Vec<Option<&mut [f32]>> =
                        split_rows(&mut bi, &ibounds, 1).into_iter().map(Some).collect();
                    let mut tasks = Vec::with_capacity(nb);
                    for (g, (pc, buc)) in
                        split_rows(&mut p, &ubounds, k).into_iter().zip(split_rows(&mut bu, &ubounds, 1)).enumerate()
                    {
                        let h = (g + s) % nb;
                        if let (Some(qc), Some(bic)) = (qs[h].take(), bis[h].take()) {
                            tasks.push((&blocks[g * nb + h], pc, qc, buc, bic));
                        }
                    }
                    let parts: Vec<f64> = tasks
                        .into_par_iter()
                        .map(|(blk, pc, qc, buc, bic)| self.run_block(mean, blk, pc, qc, buc, bic, cancel))
                        .collect();
                    sse += parts.iter().sum::<f64>();
                }
                cancel.check("FunkSvd fit")?;
                let rmse = (sse / ratings.len() as f64).sqrt();
                if !rmse.is_finite() {
                    return Err(Error::NonFinite(format!(
                        "FunkSvd diverged at epoch {} (learning_rate {} too large?)",
                        epoch + 1,
                        self.learning_rate
                    )));
                }
                history.push(rmse);
            }
            Ok(history)
        })?;
        let shape = |v: Vec<f32>, n: usize| {
            Array2::from_shape_vec((n, k), v).map_err(|e| Error::shape("factors", e.to_string()))
        };
        MfModel::new(
            Algorithm::FunkSvd(self.clone()),
            ratings,
            shape(p, nu)?,
            shape(q, ni)?,
            Array1::from(bu),
            Array1::from(bi),
            mean,
            history,
        )
    }

    /// One pass over a block's ratings; returns the sum of squared errors seen. Stops early (the caller then
    /// reports the cancellation) when `cancel` is set, checked every [`POLL`] ratings.
    #[allow(clippy::too_many_arguments)]
    fn run_block(
        &self,
        mean: f32,
        blk: &[Entry],
        p: &mut [f32],
        q: &mut [f32],
        bu: &mut [f32],
        bi: &mut [f32],
        cancel: &Cancel,
    ) -> f64 {
        let k = self.factors;
        let (lr, rb, rf, biased) = (self.learning_rate, self.reg_bias, self.reg_factors, self.biased);
        oximl_kernel::vectorized(
            #[inline(always)]
            || {
                let mut sse = 0.0f64;
                for (n, &(u, i, r)) in blk.iter().enumerate() {
                    if n % POLL == POLL - 1 && cancel.is_cancelled() {
                        break;
                    }
                    let (u, i) = (u as usize, i as usize);
                    let pu = &mut p[u * k..(u + 1) * k];
                    let qi = &mut q[i * k..(i + 1) * k];
                    let mut pred = super::dot(pu, qi);
                    if biased {
                        pred += mean + bu[u] + bi[i];
                    }
                    let err = r - pred;
                    sse += f64::from(err * err);
                    if biased {
                        bu[u] += lr * (err - rb * bu[u]);
                        bi[i] += lr * (err - rb * bi[i]);
                    }
                    // p ← p + lr·(e·q − λ·p) = keep·p + step·q, and q likewise with the old p.
                    let (step, keep) = (lr * err, 1.0 - lr * rf);
                    for (pf, qf) in pu.iter_mut().zip(qi.iter_mut()) {
                        let (pv, qv) = (*pf, *qf);
                        *pf = keep * pv + step * qv;
                        *qf = keep * qv + step * pv;
                    }
                }
                sse
            },
        )
    }
}

/// `nb + 1` ascending bounds from 0 to the row count of a CSR `indptr`, cutting the rows into `nb` non-empty
/// contiguous ranges of about `nnz / nb` entries each (`1 ≤ nb ≤` rows).
fn balanced_bounds(indptr: &[usize], nb: usize) -> Vec<usize> {
    let n = indptr.len().saturating_sub(1);
    let nnz = indptr.last().copied().unwrap_or(0);
    let mut bounds = Vec::with_capacity(nb + 1);
    bounds.push(0);
    for g in 1..nb {
        let target = g * nnz / nb;
        // The first row boundary at or past the target, kept strictly increasing with room for the ranges left.
        let at = indptr.partition_point(|&c| c < target);
        bounds.push(at.max(bounds[g - 1] + 1).min(n - (nb - g)));
    }
    bounds.push(n);
    bounds
}

#[cfg(test)]
mod tests {
    use super::balanced_bounds;

    #[test]
    fn bounds_balance_ratings_and_stay_non_empty() {
        // Rows with 10, 1, 1, 1, 1, 6 entries: 2 ranges of ~10.
        assert_eq!(balanced_bounds(&[0, 10, 11, 12, 13, 14, 20], 2), [0, 1, 6]);
        // One heavy row cannot empty the other ranges.
        assert_eq!(balanced_bounds(&[0, 100, 101, 102], 3), [0, 1, 2, 3]);
        assert_eq!(balanced_bounds(&[0, 0, 0], 2), [0, 1, 2]);
        assert_eq!(balanced_bounds(&[0, 5], 1), [0, 1]);
    }
}
