//! Top-N: [`MfModel::recommend`], [`MfModel::recommend_batch`] (scores for blocks of users by the kernel GEMM,
//! blocks spread over oximl's pool), [`MfModel::similar_items`] (cosine) and [`MfModel::fold_in`] (a new user's
//! factors by one ALS solve against the fixed item factors, without retraining).

use super::cholesky_solve;
use super::model::{Algorithm, MfModel};
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, s};
use rayon::prelude::*;

/// Users scored per GEMM in [`MfModel::recommend_batch`] (their scores, 128 × 3,706 items for MovieLens-1M, stay
/// in L3 between the product and the selection; the product is what costs: 2·factors flops per user and item).
const USER_BLOCK: usize = 128;

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

/// `a` ranks before `b`: higher score first, the lower index on ties (a total order on finite scores).
#[inline(always)]
fn better(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// Scores per chunk in [`top_k_into`]: the maxima of the chunks bound the k-th best score from below.
const CHUNK: usize = 32;

/// The largest score of `chunk` (`-inf` if empty), NaN ignored; eight lanes of `a > b ? a : b`, which compile
/// to packed max instructions.
#[inline(always)]
fn chunk_max(chunk: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut rows = chunk.chunks_exact(8);
    for row in &mut rows {
        for (m, &v) in lanes.iter_mut().zip(row) {
            *m = if v > *m { v } else { *m };
        }
    }
    rows.remainder().iter().chain(&lanes).fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// The `k` best `(index, score)` of `scores` (descending; ties by index), skipping `-inf` and NaN, written to
/// `out` (cleared first); `buf` is scratch reused across calls, so a caller looping over users allocates nothing.
///
/// The k-th largest of the chunk maxima is a floor no top-`k` score is below (`k` distinct scores reach it), so
/// only the scores of the chunks reaching it are candidates — for 10 of 3,706 items, a few hundred instead of
/// all; `select_nth_unstable_by` moves the best `k` candidates to the front and only those are sorted.
fn top_k_into(scores: &[f32], k: usize, buf: &mut Vec<(u32, f32)>, out: &mut Vec<(u32, f32)>) {
    out.clear();
    if k == 0 {
        return;
    }
    buf.clear();
    buf.extend(scores.chunks(CHUNK).enumerate().map(|(c, chunk)| (c as u32, chunk_max(chunk))));
    let floor = if buf.len() > k {
        buf.select_nth_unstable_by(k - 1, better);
        buf[k - 1].1
    } else {
        f32::NEG_INFINITY
    };
    buf.clear();
    for (c, chunk) in scores.chunks(CHUNK).enumerate() {
        if chunk_max(chunk) >= floor {
            let kept = chunk.iter().enumerate().filter(|&(_, &v)| v >= floor && v != f32::NEG_INFINITY);
            buf.extend(kept.map(|(j, &v)| ((c * CHUNK + j) as u32, v)));
        }
    }
    if buf.len() > k {
        buf.select_nth_unstable_by(k - 1, better);
        buf.truncate(k);
    }
    buf.sort_unstable_by(better);
    out.extend_from_slice(buf);
}

/// [`top_k_into`] into a new list.
fn top_k(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let (mut buf, mut out) = (Vec::new(), Vec::with_capacity(k.min(scores.len()) + 1));
    top_k_into(scores, k, &mut buf, &mut out);
    out.into_iter().map(|(i, v)| (i as usize, v)).collect()
}

/// Per-task scratch of [`MfModel::recommend_map`], reused for every block the task scores.
#[derive(Default)]
struct Scratch {
    /// The block's user factors (gathered rows).
    p: Vec<f32>,
    /// The block's scores (users × items).
    scores: Vec<f32>,
    /// Selection buffer.
    buf: Vec<(u32, f32)>,
    /// One user's top list.
    top: Vec<(u32, f32)>,
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
        self.recommend_map(users, k, exclude_seen, |top| top.iter().map(|&(i, v)| (i as usize, v)).collect())
    }

    /// Top-`k` for user indices, each list turned into a `T` by `f` on the worker that scored it: blocks of
    /// [`USER_BLOCK`] users, each scored by one kernel GEMM `P_block·Qᵀ` into a buffer the worker reuses, biases
    /// added and seen items masked in place, then a partial selection per row. Indices must be valid users.
    fn recommend_map<T: Send>(
        &self,
        users: &[usize],
        k: usize,
        exclude_seen: bool,
        f: impl Fn(&[(u32, f32)]) -> T + Sync,
    ) -> Result<Vec<T>> {
        self.check_k(k)?;
        let (ni, nf) = (self.items.len(), self.factors());
        let nu = self.user_factors.nrows();
        if let Some(&u) = users.iter().find(|&&u| u >= nu) {
            return Err(Error::invalid("user", format!("index {u} out of range (0..{nu})")));
        }
        let (Some(pf), Some(ib)) = (self.user_factors.as_slice(), self.item_bias.as_slice()) else {
            return Err(Error::shape("contiguous factors", "strided"));
        };
        let qt = self.item_factors.t();
        let blocks: Vec<&[usize]> = users.chunks(USER_BLOCK).collect();
        let results: Vec<Result<Vec<T>>> = oximl_kernel::install(|| {
            blocks
                .par_iter()
                .map_init(Scratch::default, |sc, blk| -> Result<Vec<T>> {
                    let m = blk.len();
                    sc.p.clear();
                    for &u in blk.iter() {
                        sc.p.extend_from_slice(&pf[u * nf..(u + 1) * nf]);
                    }
                    // Overwritten by the GEMM (β = 0): only grown, never cleared.
                    sc.scores.resize(m * ni, 0.0);
                    let p = ArrayView2::from_shape((m, nf), &sc.p[..])
                        .map_err(|e| Error::shape("factors", e.to_string()))?;
                    let scores = ArrayViewMut2::from_shape((m, ni), &mut sc.scores[..m * ni])
                        .map_err(|e| Error::shape("scores", e.to_string()))?;
                    // A separate pass adds the biases: a fused epilogue would cut the block into row tiles, each
                    // packing all of Qᵀ again (measured slower at 128 × 3,706 × 100).
                    oximl_kernel::gemm(1.0, p, qt, 0.0, scores)?;
                    let mut out = Vec::with_capacity(m);
                    for (row, &u) in sc.scores.chunks_exact_mut(ni.max(1)).zip(blk.iter()) {
                        let base = self.mean + self.user_bias[u];
                        oximl_kernel::vectorized(
                            #[inline(always)]
                            || row.iter_mut().zip(ib).for_each(|(v, &b)| *v += base + b),
                        );
                        if exclude_seen {
                            for &i in self.seen.row(u).0 {
                                if let Some(v) = row.get_mut(i as usize) {
                                    *v = f32::NEG_INFINITY;
                                }
                            }
                        }
                        top_k_into(row, k, &mut sc.buf, &mut sc.top);
                        out.push(f(&sc.top));
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

    /// [`MfModel::recommend`] for many users at once: their scores are computed a block of 128 users at a time by
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
        // The ids are looked up on the worker that scored the block.
        self.recommend_map(&idx, k, exclude_seen, |top| {
            top.iter().map(|&(i, s)| (self.items.id(i as usize).unwrap_or_default().to_string(), s)).collect()
        })
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

#[cfg(test)]
mod tests {
    use super::{CHUNK, top_k, top_k_into};

    /// The reference: every kept score, sorted by score descending then index.
    fn naive(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
        let mut all: Vec<(usize, f32)> =
            scores.iter().copied().enumerate().filter(|(_, v)| *v != f32::NEG_INFINITY && !v.is_nan()).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    #[test]
    fn selection_agrees_with_a_full_sort() {
        // Many ties, some masked (-inf) and NaN scores.
        let scores: Vec<f32> = (0..500u32)
            .map(|i| match i % 37 {
                0 => f32::NEG_INFINITY,
                5 => f32::NAN,
                _ => ((i * 7919) % 23) as f32 - 11.0,
            })
            .collect();
        // Many distinct scores over many chunks, the best ones in a few chunks or spread out.
        let spread: Vec<f32> = (0..3706u32).map(|i| (i.wrapping_mul(2654435761) >> 7) as f32).collect();
        let (mut buf, mut out) = (Vec::new(), Vec::new());
        for s in [&scores, &spread] {
            for k in [1, 2, 10, CHUNK - 1, CHUNK, CHUNK + 1, 100, 480, 500] {
                assert_eq!(top_k(s, k), naive(s, k), "k = {k}");
                top_k_into(s, k, &mut buf, &mut out);
                assert_eq!(out.len(), naive(s, k).len());
            }
        }
        assert!(top_k(&[], 3).is_empty());
        assert!(top_k(&[f32::NEG_INFINITY, f32::NAN], 1).is_empty());
        top_k_into(&scores, 0, &mut buf, &mut out);
        assert!(out.is_empty());
    }
}
