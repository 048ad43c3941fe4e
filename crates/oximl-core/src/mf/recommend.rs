//! Top-N: [`MfModel::recommend`], [`MfModel::recommend_batch`] (scores for blocks of users by the kernel GEMM,
//! blocks spread over oximl's pool), [`MfModel::similar_items`] (cosine) and [`MfModel::fold_in`] (a new user's
//! factors by one ALS solve against the fixed item factors, without retraining).

use super::cholesky_solve;
use super::model::{Algorithm, MfModel};
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, Axis, s};
use rayon::prelude::*;

/// One user's top list: `(item index, score)`, best first.
type TopList = Vec<(usize, f32)>;

/// Users scored per GEMM in [`MfModel::recommend_batch`].
const USER_BLOCK: usize = 256;

/// A user folded into a trained model: factors and bias solved from their ratings, and the items they rated.
///
/// ```
/// # use oximl_core::mf::{Als, Ratings};
/// # let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)],
/// #     Default::default()).unwrap();
/// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
/// let new = m.fold_in(&[("x", 5.0)]).unwrap();
/// assert_eq!(new.factors.len(), 2);
/// assert_eq!(m.recommend_folded(&new, 2, true).unwrap().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// The user's factors.
    pub factors: Array1<f32>,
    /// The user's bias (0 for unbiased and implicit models).
    pub bias: f32,
    /// Indices of the (known) items the user rated.
    pub seen: Vec<u32>,
}

/// The `k` best `(index, score)` of `scores` (descending; ties by index), skipping `-inf` and NaN: one pass
/// that keeps a sorted buffer of the best `k` and only touches it when a score beats the current k-th.
fn top_k(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    let mut floor = f32::NEG_INFINITY;
    for (i, &v) in scores.iter().enumerate() {
        if v == f32::NEG_INFINITY || v.is_nan() || (best.len() == k && v <= floor) {
            continue;
        }
        // Insert after every score ≥ v (earlier indices win ties).
        let at = best.partition_point(|&(_, b)| b >= v);
        best.insert(at, (i, v));
        if best.len() > k {
            best.pop();
        }
        if best.len() == k {
            floor = best[k - 1].1;
        }
    }
    best
}

impl MfModel {
    fn check_k(&self, k: usize) -> Result<()> {
        let n = self.items.len();
        if k == 0 || k > n {
            return Err(Error::invalid("k", format!("must be in 1..={n} (the number of items), got {k}")));
        }
        Ok(())
    }

    /// Scores of every item for a user given by factors and bias.
    fn score_row(&self, p: ArrayView1<'_, f32>, bias: f32, out: &mut [f32]) {
        let q = &self.item_factors;
        let (Some(ps), Some(qs)) = (p.as_slice(), q.as_slice()) else {
            return;
        };
        let k = q.ncols();
        let base = self.mean + bias;
        oximl_kernel::vectorized(
            #[inline(always)]
            || {
                for ((o, qi), &bi) in out.iter_mut().zip(qs.chunks_exact(k.max(1))).zip(self.item_bias.iter()) {
                    *o = base + bi + super::dot(ps, qi);
                }
            },
        );
    }

    /// Top-`k` for user indices (blocks of users scored by one GEMM each, blocks in parallel).
    pub(crate) fn recommend_indices(
        &self,
        users: &[usize],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Vec<Vec<(usize, f32)>>> {
        self.check_k(k)?;
        let ni = self.items.len();
        let blocks: Vec<&[usize]> = users.chunks(USER_BLOCK).collect();
        let results: Vec<Result<Vec<TopList>>> = oximl_kernel::install(|| {
            blocks
                .par_iter()
                .map(|blk| -> Result<Vec<TopList>> {
                    let p = self.user_factors.select(Axis(0), blk);
                    let mut scores = Array2::<f32>::zeros((blk.len(), ni));
                    oximl_kernel::gemm(1.0, p.view(), self.item_factors.t(), 0.0, scores.view_mut())?;
                    let mut out = Vec::with_capacity(blk.len());
                    for (mut row, &u) in scores.rows_mut().into_iter().zip(blk.iter()) {
                        let Some(row) = row.as_slice_mut() else { return Err(Error::shape("contiguous", "strided")) };
                        let base = self.mean + self.user_bias[u];
                        oximl_kernel::vectorized(
                            #[inline(always)]
                            || row.iter_mut().zip(self.item_bias.iter()).for_each(|(v, &b)| *v += base + b),
                        );
                        if exclude_seen {
                            for &i in self.seen.row(u).0 {
                                row[i as usize] = f32::NEG_INFINITY;
                            }
                        }
                        out.push(top_k(row, k));
                    }
                    Ok(out)
                })
                .collect()
        });
        let mut all = Vec::with_capacity(users.len());
        for r in results {
            all.extend(r?);
        }
        Ok(all)
    }

    fn named(&self, top: Vec<(usize, f32)>) -> Vec<(String, f32)> {
        top.into_iter().map(|(i, s)| (self.items.id(i).unwrap_or_default().to_string(), s)).collect()
    }

    /// The `k` items with the highest predicted score for `user` (unclipped predicted ratings, or implicit
    /// scores), best first, as `(item id, score)`; `exclude_seen` drops the items the user rated in training
    /// (fewer than `k` may remain). Errors: unknown user, `k = 0` or `k >` number of items.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)],
    /// #     Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let top = m.recommend("a", 3, false).unwrap();
    /// assert_eq!(top.len(), 3);
    /// assert_eq!(m.recommend("a", 3, true).unwrap().len(), 1); // only "z" is unseen
    /// assert!(m.recommend("a", 0, true).is_err() && m.recommend("a", 4, true).is_err());
    /// assert!(m.recommend("nobody", 1, true).unwrap_err().to_string().contains("nobody"));
    /// ```
    pub fn recommend(&self, user: impl ToString, k: usize, exclude_seen: bool) -> Result<Vec<(String, f32)>> {
        let u = self.user_index(&user.to_string())?;
        let mut top = self.recommend_indices(&[u], k, exclude_seen)?;
        Ok(self.named(top.pop().unwrap_or_default()))
    }

    /// [`MfModel::recommend`] for many users at once: their scores are computed a block of 256 users at a time by
    /// one GEMM `P_block·Qᵀ`, blocks in parallel on oximl's pool. Any unknown user fails the whole call.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)],
    /// #     Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let all = m.recommend_batch(&["a", "b"], 2, false).unwrap();
    /// assert_eq!(all[1], m.recommend("b", 2, false).unwrap());
    /// ```
    pub fn recommend_batch<S: ToString>(
        &self,
        users: &[S],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Vec<Vec<(String, f32)>>> {
        let idx = users.iter().map(|u| self.user_index(&u.to_string())).collect::<Result<Vec<_>>>()?;
        Ok(self.recommend_indices(&idx, k, exclude_seen)?.into_iter().map(|t| self.named(t)).collect())
    }

    /// The `k` items most similar to `item` by cosine of their factors (the item itself excluded).
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)],
    /// #     Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let near = m.similar_items("x", 2).unwrap();
    /// assert!(near.iter().all(|(id, s)| id != "x" && (-1.001..=1.001).contains(s)));
    /// assert!(m.similar_items("x", 3).is_err()); // only 2 other items
    /// ```
    pub fn similar_items(&self, item: impl ToString, k: usize) -> Result<Vec<(String, f32)>> {
        let i = self.item_index(&item.to_string())?;
        let ni = self.items.len();
        if k == 0 || k >= ni {
            return Err(Error::invalid("k", format!("must be in 1..={} (the other items), got {k}", ni - 1)));
        }
        let q = &self.item_factors;
        let mut sims = Array2::<f32>::zeros((1, ni));
        oximl_kernel::gemm(1.0, q.slice(s![i..i + 1, ..]), q.t(), 0.0, sims.view_mut())?;
        let qi = oximl_kernel::norm_l2(q.row(i));
        let mut sims = sims.into_raw_vec_and_offset().0;
        for (j, v) in sims.iter_mut().enumerate() {
            let d = qi * oximl_kernel::norm_l2(q.row(j));
            *v = if d > 0.0 { *v / d } else { 0.0 };
        }
        sims[i] = f32::NEG_INFINITY;
        Ok(self.named(top_k(&sims, k)))
    }

    /// Factors (and bias) for a user not seen in training from their `(item id, rating)` list, by one exact
    /// least-squares solve against the fixed item factors: ridge `λ·n` for [`crate::mf::Als`] and
    /// [`crate::mf::FunkSvd`] (λ = its factor regularization), the Hu–Koren–Volinsky system for
    /// [`crate::mf::ImplicitAls`]. Unknown items are ignored; no known item is an error.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 4.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// assert!(m.fold_in(&[("unknown", 3.0)]).is_err());
    /// ```
    pub fn fold_in<S: ToString>(&self, ratings: &[(S, f32)]) -> Result<Folded> {
        let mut known: Vec<(usize, f32)> = Vec::with_capacity(ratings.len());
        for (id, r) in ratings {
            if !r.is_finite() {
                return Err(Error::NonFinite(format!("rating {r} of item `{}`", id.to_string())));
            }
            if let Some(i) = self.items.index(&id.to_string()) {
                known.push((i, *r));
            }
        }
        if known.is_empty() {
            return Err(Error::invalid("ratings", "none of the rated items is known to the model"));
        }
        let k = self.factors();
        let q = &self.item_factors;
        let explicit = self.algorithm.is_explicit();
        let biased = match &self.algorithm {
            Algorithm::FunkSvd(a) => a.biased,
            Algorithm::Als(a) => a.biased,
            Algorithm::ImplicitAls(_) => false,
        };
        let d = if biased { k + 1 } else { k };
        let mut a = vec![0.0f64; d * d];
        let mut b = vec![0.0f64; d];
        let add = |a: &mut [f64], b: &mut [f64], z: &[f64], weight: f64, target: f64| {
            for r in 0..d {
                b[r] += weight * target * z[r];
                for c in 0..d {
                    a[r * d + c] += weight * z[r] * z[c];
                }
            }
        };
        let mut z = vec![0.0f64; d];
        for &(i, r) in &known {
            for (zv, &qv) in z.iter_mut().zip(q.row(i)) {
                *zv = f64::from(qv);
            }
            if biased {
                z[k] = 1.0;
            }
            if explicit {
                add(&mut a, &mut b, &z, 1.0, f64::from(r) - f64::from(self.mean) - f64::from(self.item_bias[i]));
            } else if let Algorithm::ImplicitAls(p) = &self.algorithm {
                let conf = 1.0 + f64::from(p.alpha) * f64::from(r);
                // A += (c − 1)·y yᵀ, b += c·y (preference 1).
                add(&mut a, &mut b, &z, conf - 1.0, 0.0);
                for (bv, &zv) in b.iter_mut().zip(&z) {
                    *bv += conf * zv;
                }
            }
        }
        let reg = match &self.algorithm {
            Algorithm::FunkSvd(p) => f64::from(p.reg_factors.max(1e-6)) * known.len() as f64,
            Algorithm::Als(p) => f64::from(p.regularization) * known.len() as f64,
            Algorithm::ImplicitAls(p) => {
                let gram = p.gram(q.view())?;
                for r in 0..k {
                    for c in 0..k {
                        a[r * d + c] += f64::from(gram[[r, c]]);
                    }
                }
                0.0
            }
        };
        for j in 0..d {
            a[j * d + j] += reg.max(1e-9);
        }
        if !cholesky_solve(&mut a, &mut b, d) {
            return Err(Error::NonFinite("fold-in normal equations are singular".into()));
        }
        let factors: Array1<f32> = b[..k].iter().map(|&v| v as f32).collect();
        let mut seen: Vec<u32> = known.iter().map(|&(i, _)| i as u32).collect();
        seen.sort_unstable();
        seen.dedup();
        Ok(Folded { factors, bias: if biased { b[k] as f32 } else { 0.0 }, seen })
    }

    /// Top-`k` for a folded-in user (see [`MfModel::fold_in`]).
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "y", 4.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let f = m.fold_in(&[("x", 4.0)]).unwrap();
    /// assert_eq!(m.recommend_folded(&f, 1, true).unwrap()[0].0, "y");
    /// ```
    pub fn recommend_folded(&self, user: &Folded, k: usize, exclude_seen: bool) -> Result<Vec<(String, f32)>> {
        self.check_k(k)?;
        if user.factors.len() != self.factors() {
            return Err(Error::shape(format!("{} factors", self.factors()), format!("{}", user.factors.len())));
        }
        let mut scores = vec![0.0f32; self.items.len()];
        self.score_row(user.factors.view(), user.bias, &mut scores);
        if exclude_seen {
            for &i in &user.seen {
                if let Some(v) = scores.get_mut(i as usize) {
                    *v = f32::NEG_INFINITY;
                }
            }
        }
        Ok(self.named(top_k(&scores, k)))
    }
}
