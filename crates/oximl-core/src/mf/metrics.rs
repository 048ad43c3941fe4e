//! Accuracy (RMSE, MAE) of rating predictions and ranking quality of top-k lists (precision@k, recall@k,
//! MAP@k, NDCG@k with binary relevance, catalogue coverage).
//!
//! Test ratings are matched to the model by their external ids, so any [`Ratings`] works (unknown users or items
//! get the cold-start prediction).

use super::model::MfModel;
use super::ratings::Ratings;
use crate::{Error, Result};
use std::collections::HashSet;
use std::hash::Hash;

fn errors(model: &MfModel, test: &Ratings) -> impl Iterator<Item = f64> {
    test.user_indices().iter().zip(test.item_indices()).zip(test.values()).map(move |((&u, &i), &r)| {
        let u = test.users().id(u as usize).and_then(|id| model.users().index(id));
        let i = test.items().id(i as usize).and_then(|id| model.items().index(id));
        f64::from(model.predict_index(u, i)) - f64::from(r)
    })
}

/// Root mean squared error of the model's predictions on `test`.
///
/// ```
/// # use oximl_core::mf::{Als, Ratings, metrics};
/// let r = Ratings::from_triplets([("a", "x", 4.0), ("b", "x", 4.0)], Default::default()).unwrap();
/// let m = Als::default().fit(&r).unwrap();
/// assert!(metrics::rmse(&m, &r).unwrap() < 1e-3);
/// ```
pub fn rmse(model: &MfModel, test: &Ratings) -> Result<f64> {
    Ok((errors(model, test).map(|e| e * e).sum::<f64>() / test.len().max(1) as f64).sqrt())
}

/// Mean absolute error of the model's predictions on `test`.
///
/// ```
/// # use oximl_core::mf::{Als, Ratings, metrics};
/// let r = Ratings::from_triplets([("a", "x", 4.0), ("b", "x", 4.0)], Default::default()).unwrap();
/// let m = Als::default().fit(&r).unwrap();
/// assert!(metrics::mae(&m, &r).unwrap() < 1e-3);
/// ```
pub fn mae(model: &MfModel, test: &Ratings) -> Result<f64> {
    Ok(errors(model, test).map(f64::abs).sum::<f64>() / test.len().max(1) as f64)
}

/// A NaN threshold would make no test item relevant: refused.
fn check_threshold(threshold: f32) -> Result<()> {
    if threshold.is_nan() { Err(Error::NonFinite("threshold is NaN".into())) } else { Ok(()) }
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 { Err(Error::invalid("k", "must be at least 1")) } else { Ok(()) }
}

/// Fraction of the first `k` recommendations that are relevant (divided by `k`).
///
/// ```
/// use std::collections::HashSet;
/// let rel: HashSet<u32> = [1, 2].into();
/// assert_eq!(oximl_core::mf::metrics::precision_at_k(&[1, 3, 2, 4], &rel, 2).unwrap(), 0.5);
/// ```
pub fn precision_at_k<T: Eq + Hash>(recommended: &[T], relevant: &HashSet<T>, k: usize) -> Result<f64> {
    check_k(k)?;
    Ok(recommended.iter().take(k).filter(|r| relevant.contains(r)).count() as f64 / k as f64)
}

/// Fraction of the relevant items found in the first `k` recommendations (0 if nothing is relevant).
///
/// ```
/// use std::collections::HashSet;
/// let rel: HashSet<u32> = [1, 2].into();
/// assert_eq!(oximl_core::mf::metrics::recall_at_k(&[1, 3, 2, 4], &rel, 2).unwrap(), 0.5);
/// ```
pub fn recall_at_k<T: Eq + Hash>(recommended: &[T], relevant: &HashSet<T>, k: usize) -> Result<f64> {
    check_k(k)?;
    if relevant.is_empty() {
        return Ok(0.0);
    }
    Ok(recommended.iter().take(k).filter(|r| relevant.contains(r)).count() as f64 / relevant.len() as f64)
}

/// Average precision at `k`: the mean of precision@j over the positions `j ≤ k` of hits, divided by
/// `min(k, |relevant|)`.
///
/// ```
/// use std::collections::HashSet;
/// let rel: HashSet<u32> = [1, 2].into();
/// assert_eq!(oximl_core::mf::metrics::average_precision_at_k(&[1, 3, 2], &rel, 3).unwrap(), (1.0 + 2.0 / 3.0) / 2.0);
/// ```
pub fn average_precision_at_k<T: Eq + Hash>(recommended: &[T], relevant: &HashSet<T>, k: usize) -> Result<f64> {
    check_k(k)?;
    if relevant.is_empty() {
        return Ok(0.0);
    }
    let (mut hits, mut sum) = (0usize, 0.0f64);
    for (j, r) in recommended.iter().take(k).enumerate() {
        if relevant.contains(r) {
            hits += 1;
            sum += hits as f64 / (j + 1) as f64;
        }
    }
    Ok(sum / k.min(relevant.len()) as f64)
}

/// Normalized discounted cumulative gain at `k` with binary relevance.
///
/// ```
/// use std::collections::HashSet;
/// let rel: HashSet<u32> = [1].into();
/// assert_eq!(oximl_core::mf::metrics::ndcg_at_k(&[1, 2], &rel, 2).unwrap(), 1.0);
/// assert!((oximl_core::mf::metrics::ndcg_at_k(&[2, 1], &rel, 2).unwrap() - 1.0 / 3f64.log2()).abs() < 1e-12);
/// ```
pub fn ndcg_at_k<T: Eq + Hash>(recommended: &[T], relevant: &HashSet<T>, k: usize) -> Result<f64> {
    check_k(k)?;
    let gain = |j: usize| 1.0 / ((j + 2) as f64).log2();
    let dcg: f64 =
        recommended.iter().take(k).enumerate().filter(|(_, r)| relevant.contains(r)).map(|(j, _)| gain(j)).sum();
    let ideal: f64 = (0..k.min(relevant.len())).map(gain).sum();
    Ok(if ideal > 0.0 { dcg / ideal } else { 0.0 })
}

/// Catalogue coverage: the number of distinct items in the `lists` divided by the number of `items` (0 when
/// there are no items).
///
/// ```
/// let lists = [vec![1u32, 2], vec![2, 3]];
/// assert_eq!(oximl_core::mf::metrics::coverage(&lists, 6), 0.5);
/// ```
pub fn coverage<T: Eq + Hash, L: AsRef<[T]>>(lists: &[L], items: usize) -> f64 {
    let distinct: HashSet<&T> = lists.iter().flat_map(|l| l.as_ref()).collect();
    if items == 0 { 0.0 } else { distinct.len() as f64 / items as f64 }
}

/// Ranking metrics averaged over the evaluated users.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ranking {
    /// Mean precision@k.
    pub precision: f64,
    /// Mean recall@k.
    pub recall: f64,
    /// MAP@k.
    pub map: f64,
    /// Mean NDCG@k.
    pub ndcg: f64,
    /// Distinct recommended items / number of items.
    pub coverage: f64,
    /// Users evaluated (known to the model, with at least one relevant test item).
    pub users: usize,
}

/// Top-`k` quality on `test`: for each user known to the model whose test ratings include a relevant item
/// (rating ≥ `threshold`; `f32::NEG_INFINITY` for all), the model's top-`k` with the training items excluded is
/// compared with those items. A NaN threshold is an [`Error::NonFinite`].
///
/// ```
/// use oximl_core::mf::{ImplicitAls, metrics, split, synthetic::SyntheticImplicit};
/// let r = SyntheticImplicit { users: 100, items: 60, per_user: 10, ..Default::default() }.generate().unwrap();
/// let (train, test) = split::per_user_fraction(&r, 0.2, 1).unwrap();
/// let m = ImplicitAls { factors: 8, ..Default::default() }.fit(&train).unwrap();
/// let q = metrics::ranking(&m, &test, 5, f32::NEG_INFINITY).unwrap();
/// assert!(q.users > 0 && (0.0..=1.0).contains(&q.precision));
/// ```
pub fn ranking(model: &MfModel, test: &Ratings, k: usize, threshold: f32) -> Result<Ranking> {
    check_threshold(threshold)?;
    let (users, relevant) = relevant_sets(model, test, threshold);
    let recs = model.recommend_users(&users, k, true)?;
    let lists: Vec<Vec<usize>> = recs.into_iter().map(|l| l.into_iter().map(|(i, _)| i).collect()).collect();
    summarize(&lists, &relevant, k, model.items().len())
}

/// The same metrics for the most-popular-items baseline: every user gets the items with the most ratings in
/// `train` that they have not rated (`train` and `test` must share id maps, as after a [`crate::mf::split`]).
///
/// ```
/// use oximl_core::mf::{metrics, split, synthetic::SyntheticImplicit};
/// let r = SyntheticImplicit { users: 50, items: 40, per_user: 8, ..Default::default() }.generate().unwrap();
/// let (train, test) = split::per_user_fraction(&r, 0.25, 1).unwrap();
/// let q = metrics::popularity_ranking(&train, &test, 5, f32::NEG_INFINITY).unwrap();
/// assert!(q.users > 0);
/// ```
pub fn popularity_ranking(train: &Ratings, test: &Ratings, k: usize, threshold: f32) -> Result<Ranking> {
    check_k(k)?;
    check_threshold(threshold)?;
    let ni = train.items().len();
    let mut order: Vec<usize> = (0..ni).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(train.by_item().row(i).0.len()), i));
    let mut users = Vec::new();
    let mut relevant = Vec::new();
    for u in 0..test.users().len() {
        let (items, vals) = test.by_user().row(u);
        let rel: HashSet<usize> =
            items.iter().zip(vals).filter(|&(_, &v)| v >= threshold).map(|(&i, _)| i as usize).collect();
        if !rel.is_empty() {
            users.push(u);
            relevant.push(rel);
        }
    }
    let lists: Vec<Vec<usize>> = users
        .iter()
        .map(|&u| {
            let seen: HashSet<u32> = train.by_user().row(u).0.iter().copied().collect();
            order.iter().copied().filter(|&i| !seen.contains(&(i as u32))).take(k).collect()
        })
        .collect();
    summarize(&lists, &relevant, k, ni)
}

fn relevant_sets(model: &MfModel, test: &Ratings, threshold: f32) -> (Vec<usize>, Vec<HashSet<usize>>) {
    let mut users = Vec::new();
    let mut relevant = Vec::new();
    for u in 0..test.users().len() {
        let Some(mu) = test.users().id(u).and_then(|id| model.users().index(id)) else { continue };
        let (items, vals) = test.by_user().row(u);
        let rel: HashSet<usize> = items
            .iter()
            .zip(vals)
            .filter(|&(_, &v)| v >= threshold)
            .filter_map(|(&i, _)| test.items().id(i as usize).and_then(|id| model.items().index(id)))
            .collect();
        if !rel.is_empty() {
            users.push(mu);
            relevant.push(rel);
        }
    }
    (users, relevant)
}

fn summarize(lists: &[Vec<usize>], relevant: &[HashSet<usize>], k: usize, items: usize) -> Result<Ranking> {
    check_k(k)?;
    let mut m = Ranking { users: lists.len(), ..Default::default() };
    if lists.is_empty() {
        return Ok(m);
    }
    for (list, rel) in lists.iter().zip(relevant) {
        m.precision += precision_at_k(list, rel, k)?;
        m.recall += recall_at_k(list, rel, k)?;
        m.map += average_precision_at_k(list, rel, k)?;
        m.ndcg += ndcg_at_k(list, rel, k)?;
    }
    let n = lists.len() as f64;
    m.precision /= n;
    m.recall /= n;
    m.map /= n;
    m.ndcg /= n;
    m.coverage = coverage(lists, items);
    Ok(m)
}
