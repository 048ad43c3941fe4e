//! [`MfModel::fold_in`]: a new user's factors by one least-squares solve against the fixed item factors, without
//! retraining, and their top-N ([`MfModel::recommend_folded`]).

use super::cholesky_solve;
use super::model::{Algorithm, MfModel};
use super::recommend::{finite, top_k};
use crate::{Error, Result};
use ndarray::Array1;

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

impl MfModel {
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
        let biased = self.algorithm.is_biased();
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

    /// Top-`k` `(item index, score)` for a folded-in user (see [`MfModel::fold_in`]); a score that overflowed
    /// is an [`Error::NonFinite`].
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "y", 4.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let f = m.fold_in(&[("x", 4.0)]).unwrap();
    /// assert_eq!(m.recommend_folded(&f, 1, true).unwrap()[0].0, 1); // "y"
    /// ```
    pub fn recommend_folded(&self, user: &Folded, k: usize, exclude_seen: bool) -> Result<Vec<(usize, f32)>> {
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
        finite("score", &scores)?;
        Ok(top_k(&scores, k))
    }

    /// [`MfModel::recommend_folded`] with item ids.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "y", 4.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// let f = m.fold_in(&[("x", 4.0)]).unwrap();
    /// assert_eq!(m.recommend_folded_ids(&f, 1, true).unwrap()[0].0, "y");
    /// ```
    pub fn recommend_folded_ids(&self, user: &Folded, k: usize, exclude_seen: bool) -> Result<Vec<(String, f32)>> {
        Ok(self.with_ids(self.recommend_folded(user, k, exclude_seen)?))
    }
}
