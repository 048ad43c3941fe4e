//! Top-N: [`MfModel::recommend`], [`MfModel::recommend_batch`] (scores for blocks of users by the kernel GEMM,
//! blocks spread over oximl's pool) and [`MfModel::similar_items`] (cosine). They rank item indices; the `*_ids`
//! spellings give item ids through the one lookup, [`MfModel::with_ids`].

use super::model::MfModel;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, s};
use rayon::prelude::*;

/// Users scored per GEMM in [`MfModel::recommend_batch`] (their scores, 128 × 3,706 items for MovieLens-1M, stay
/// in L3 between the product and the selection; the product is what costs: 2·factors flops per user and item).
const USER_BLOCK: usize = 128;

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
pub(crate) fn top_k(scores: &[f32], k: usize) -> Vec<(usize, f32)> {
    let (mut buf, mut out) = (Vec::new(), Vec::with_capacity(k.min(scores.len()) + 1));
    top_k_into(scores, k, &mut buf, &mut out);
    out.into_iter().map(|(i, v)| (i as usize, v)).collect()
}

/// [`Error::NonFinite`] if a score overflowed to +inf or NaN (`-inf` marks excluded items).
pub(crate) fn finite(what: &str, scores: &[f32]) -> Result<()> {
    match scores.iter().find(|v| v.is_nan() || **v == f32::INFINITY) {
        Some(v) => Err(Error::NonFinite(format!("a {what} overflowed to {v}"))),
        None => Ok(()),
    }
}

/// A ranked list of `(item index, score)`, best first.
type Ranked = Vec<(usize, f32)>;

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
    pub(crate) fn check_k(&self, k: usize) -> Result<()> {
        let n = self.items.len();
        if k == 0 || k > n {
            return Err(Error::invalid("k", format!("must be in 1..={n} (the number of items), got {k}")));
        }
        Ok(())
    }

    /// Scores of every item for a user given by factors and bias.
    pub(crate) fn score_row(&self, p: ArrayView1<'_, f32>, bias: f32, out: &mut [f32]) {
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

    /// Top-`k` `(item index, score)` for user indices: blocks of [`USER_BLOCK`] users, each scored by one kernel
    /// GEMM `P_block·Qᵀ` into a buffer the worker reuses, biases added and seen items masked in place, then a
    /// partial selection per row; blocks in parallel. Indices must be valid users.
    pub(crate) fn recommend_users(&self, users: &[usize], k: usize, exclude_seen: bool) -> Result<Vec<Ranked>> {
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
        let results: Vec<Result<Vec<Ranked>>> = oximl_kernel::install(|| {
            blocks
                .par_iter()
                .map_init(Scratch::default, |sc, blk| -> Result<Vec<Ranked>> {
                    // One user's list equals its place in any batch, bit for bit: the kernel's rows do not depend
                    // on the rows beside them.
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
                        out.push(sc.top.iter().map(|&(i, v)| (i as usize, v)).collect());
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

    /// Ranked `(item index, score)` pairs as `(item id, score)`: the one id lookup of the ranking APIs, which
    /// return indices (the `*_ids` spellings below call it).
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "y", 4.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.with_ids(vec![(1, 0.5)]), [("y".to_string(), 0.5)]);
    /// ```
    pub fn with_ids(&self, ranked: Vec<(usize, f32)>) -> Vec<(String, f32)> {
        ranked.into_iter().map(|(i, s)| (self.items.id(i).unwrap_or_default().to_string(), s)).collect()
    }

    /// The `k` items with the highest predicted score for `user` (unclipped predicted ratings, or implicit
    /// scores), best first, as `(item index, score)` (ids: [`MfModel::items`] or [`MfModel::recommend_ids`]);
    /// `exclude_seen` drops the items the user rated in training (fewer than `k` may remain). Errors: unknown
    /// user, `k = 0` or `k >` number of items.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)],
    /// #     Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let top = m.recommend("a", 3, false).unwrap();
    /// assert_eq!(top.len(), 3);
    /// assert_eq!(m.recommend("a", 3, true).unwrap()[0].0, 2); // only "z" (index 2) is unseen
    /// assert!(m.recommend("a", 0, true).is_err() && m.recommend("a", 4, true).is_err());
    /// assert!(m.recommend("nobody", 1, true).unwrap_err().to_string().contains("nobody"));
    /// ```
    pub fn recommend(&self, user: impl ToString, k: usize, exclude_seen: bool) -> Result<Vec<(usize, f32)>> {
        let u = self.user_index(&user.to_string())?;
        Ok(self.recommend_users(&[u], k, exclude_seen)?.pop().unwrap_or_default())
    }

    /// [`MfModel::recommend`] with item ids.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "z", 2.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.recommend_ids("a", 1, true).unwrap()[0].0, "z");
    /// ```
    pub fn recommend_ids(&self, user: impl ToString, k: usize, exclude_seen: bool) -> Result<Vec<(String, f32)>> {
        Ok(self.with_ids(self.recommend(user, k, exclude_seen)?))
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
    ) -> Result<Vec<Vec<(usize, f32)>>> {
        let idx = users.iter().map(|u| self.user_index(&u.to_string())).collect::<Result<Vec<_>>>()?;
        self.recommend_users(&idx, k, exclude_seen)
    }

    /// [`MfModel::recommend_batch`] with item ids.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "z", 2.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let all = m.recommend_batch_ids(&["a", "b"], 1, true).unwrap();
    /// assert_eq!((all[0][0].0.as_str(), all[1][0].0.as_str()), ("z", "x"));
    /// ```
    pub fn recommend_batch_ids<S: ToString>(
        &self,
        users: &[S],
        k: usize,
        exclude_seen: bool,
    ) -> Result<Vec<Vec<(String, f32)>>> {
        Ok(self.recommend_batch(users, k, exclude_seen)?.into_iter().map(|l| self.with_ids(l)).collect())
    }

    /// The `k` items most similar to `item` by cosine of their factors (the item itself excluded), as
    /// `(item index, cosine)`. A cosine that overflowed is an [`Error::NonFinite`].
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0), ("b", "z", 2.0)],
    /// #     Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let near = m.similar_items("x", 2).unwrap();
    /// assert!(near.iter().all(|&(i, s)| i != 0 && (-1.001..=1.001).contains(&s)));
    /// assert!(m.similar_items("x", 3).is_err()); // only 2 other items
    /// ```
    pub fn similar_items(&self, item: impl ToString, k: usize) -> Result<Vec<(usize, f32)>> {
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
        finite("cosine", &sims)?;
        sims[i] = f32::NEG_INFINITY;
        Ok(top_k(&sims, k))
    }

    /// [`MfModel::similar_items`] with item ids.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "z", 2.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.similar_items_ids("x", 1).unwrap()[0].0, "z");
    /// ```
    pub fn similar_items_ids(&self, item: impl ToString, k: usize) -> Result<Vec<(String, f32)>> {
        Ok(self.with_ids(self.similar_items(item, k)?))
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
