//! [`MfModel`]: a trained factorization (whatever the algorithm), its id maps and the items each training user
//! rated; predictions with cold start, and save/load in the oximl format (kind [`KIND`]).

use super::ratings::{Csr, IdMap, Ratings};
use super::{Als, FunkSvd, ImplicitAls};
use crate::io::{self, TensorRef};
use crate::{Cancel, Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The `kind` of MF model files.
pub const KIND: &str = "mf";

/// The algorithm (with its hyper-parameters) a model was trained with.
///
/// ```
/// use oximl_core::mf::{Algorithm, FunkSvd};
/// let a = Algorithm::FunkSvd(FunkSvd::default());
/// assert!(a.is_explicit());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Algorithm {
    /// Biased SGD.
    FunkSvd(FunkSvd),
    /// Explicit ALS.
    Als(Als),
    /// Implicit-feedback ALS.
    ImplicitAls(ImplicitAls),
}

impl Algorithm {
    /// Whether the model predicts ratings (clipped to the scale) rather than implicit preference scores.
    ///
    /// ```
    /// assert!(!oximl_core::mf::Algorithm::ImplicitAls(Default::default()).is_explicit());
    /// ```
    pub fn is_explicit(&self) -> bool {
        !matches!(self, Algorithm::ImplicitAls(_))
    }

    /// Trains the algorithm it names on `ratings` (what C's and Python's `fit` call with the JSON config),
    /// stopped with [`Error::Cancelled`] soon after `cancel` is set.
    ///
    /// ```
    /// use oximl_core::{Cancel, mf::{Algorithm, Ratings}};
    /// let r = Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 3.0)], Default::default()).unwrap();
    /// let a: Algorithm = serde_json::from_str(r#"{"algorithm": "als", "factors": 2}"#).unwrap();
    /// assert_eq!(a.fit_cancellable(&r, &Cancel::new()).unwrap().factors(), 2);
    /// ```
    pub fn fit_cancellable(&self, ratings: &Ratings, cancel: &Cancel) -> Result<MfModel> {
        match self {
            Algorithm::FunkSvd(a) => a.fit_cancellable(ratings, cancel),
            Algorithm::Als(a) => a.fit_cancellable(ratings, cancel),
            Algorithm::ImplicitAls(a) => a.fit_cancellable(ratings, cancel),
        }
    }

    /// The number of latent factors it names.
    ///
    /// ```
    /// assert_eq!(oximl_core::mf::Algorithm::Als(Default::default()).factors(), 10);
    /// ```
    pub fn factors(&self) -> usize {
        match self {
            Algorithm::FunkSvd(a) => a.factors,
            Algorithm::Als(a) => a.factors,
            Algorithm::ImplicitAls(a) => a.factors,
        }
    }

    /// Whether the model has μ, user and item biases.
    ///
    /// ```
    /// assert!(!oximl_core::mf::Algorithm::ImplicitAls(Default::default()).is_biased());
    /// ```
    pub fn is_biased(&self) -> bool {
        match self {
            Algorithm::FunkSvd(a) => a.biased,
            Algorithm::Als(a) => a.biased,
            Algorithm::ImplicitAls(_) => false,
        }
    }

    fn check(&self) -> Result<()> {
        match self {
            Algorithm::FunkSvd(a) => a.check(),
            Algorithm::Als(a) => a.check(),
            Algorithm::ImplicitAls(a) => a.check(),
        }
    }
}

/// A trained matrix factorization: `ŷ(u, i) = μ + b_u + b_i + p_u·q_i` (biases and μ are zero for unbiased and
/// implicit models).
///
/// ```
/// use oximl_core::mf::{Als, Ratings};
/// let r = Ratings::from_triplets([("a", "x", 5.0), ("a", "y", 1.0), ("b", "x", 4.0)], Default::default()).unwrap();
/// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
/// assert!(m.predict("a", "x") > m.predict("a", "y"));
/// assert_eq!(m.predict("nobody", "nothing"), m.mean()); // cold start: the global mean
/// assert!(m.user_factors("nobody").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct MfModel {
    pub(crate) algorithm: Algorithm,
    pub(crate) users: Arc<IdMap>,
    pub(crate) items: Arc<IdMap>,
    pub(crate) user_factors: Array2<f32>,
    pub(crate) item_factors: Array2<f32>,
    pub(crate) user_bias: Array1<f32>,
    pub(crate) item_bias: Array1<f32>,
    pub(crate) mean: f32,
    pub(crate) scale: (f32, f32),
    pub(crate) seen: Csr,
    pub(crate) history: Vec<f64>,
}

impl MfModel {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        algorithm: Algorithm,
        ratings: &Ratings,
        user_factors: Array2<f32>,
        item_factors: Array2<f32>,
        user_bias: Array1<f32>,
        item_bias: Array1<f32>,
        mean: f32,
        history: Vec<f64>,
    ) -> Result<MfModel> {
        let csr = ratings.by_user();
        let seen = Csr::from_parts(csr.indptr().to_vec(), csr.indices().to_vec(), Vec::new());
        let model = MfModel {
            algorithm,
            users: Arc::clone(ratings.user_map()),
            items: Arc::clone(ratings.item_map()),
            user_factors,
            item_factors,
            user_bias,
            item_bias,
            mean,
            scale: ratings.scale(),
            seen,
            history,
        };
        model.check_bounded()?;
        Ok(model)
    }

    /// A model from factor matrices alone, as a foreign trainer exports them (Spark MLlib's `ALSModel`: no
    /// biases, nothing known of the training ratings): `algorithm` must be unbiased with `factors` = the
    /// matrices' width, `users`/`items` the ids of their rows (distinct). Explicit predictions are the plain
    /// `p_u·q_i`: the scale they are clipped to is `±max‖p_u‖·max‖q_i‖`, which no prediction exceeds.
    ///
    /// ```
    /// use oximl_core::mf::{Algorithm, Als, MfModel};
    /// use ndarray::array;
    /// let als = Algorithm::Als(Als { factors: 2, biased: false, ..Default::default() });
    /// let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    /// let m = MfModel::from_factors(als, ids(&["7"]), ids(&["1", "2"]), array![[1.0, 2.0]], array![[3.0, 0.5], [-1.0, 0.0]])
    ///     .unwrap();
    /// assert_eq!((m.predict("7", "1"), m.predict("7", "2")), (4.0, -1.0));
    /// assert_eq!(m.recommend_ids("7", 1, true).unwrap()[0].0, "1");
    /// ```
    pub fn from_factors(
        algorithm: Algorithm,
        users: Vec<String>,
        items: Vec<String>,
        user_factors: Array2<f32>,
        item_factors: Array2<f32>,
    ) -> Result<MfModel> {
        algorithm.check()?;
        if algorithm.is_biased() {
            return Err(Error::invalid("algorithm", "a model from factors alone has no biases: set biased to false"));
        }
        let k = algorithm.factors();
        for (what, ids, f) in [("user_factors", &users, &user_factors), ("item_factors", &items, &item_factors)] {
            if f.dim() != (ids.len(), k) {
                return Err(Error::shape(format!("{what}: {} ids × {k} factors", ids.len()), format!("{:?}", f.dim())));
            }
        }
        // Rounded up past any f32 rounding of a dot product (relative 2⁻¹⁰ ≫ k·ε for k ≤ MAX_FACTORS).
        let bound = ((max_sq_norm(&user_factors) * max_sq_norm(&item_factors)).sqrt() * (1.0 + 1.0 / 1024.0)) as f32;
        let (nu, ni) = (users.len(), items.len());
        let model = MfModel {
            algorithm,
            users: Arc::new(IdMap::from_ids(users)?),
            items: Arc::new(IdMap::from_ids(items)?),
            user_factors,
            item_factors,
            user_bias: Array1::zeros(nu),
            item_bias: Array1::zeros(ni),
            mean: 0.0,
            scale: (-bound, bound),
            seen: Csr::from_parts(vec![0; nu + 1], Vec::new(), Vec::new()),
            history: Vec::new(),
        };
        model.check_bounded()?;
        Ok(model)
    }

    /// Refuses parameters with which a prediction could be infinite or NaN: a scale that is not a finite
    /// `min <= max`, and any non-finite parameter or bound `|μ| + max|b_u| + max|b_i| + max‖p_u‖·max‖q_i‖`
    /// (which bounds every prediction and every partial sum of it, by Cauchy–Schwarz) over `f32::MAX / 2`.
    fn check_bounded(&self) -> Result<()> {
        let (lo, hi) = self.scale;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return Err(Error::NonFinite(format!("rating scale [{lo}, {hi}] is not a finite range")));
        }
        let max_abs = |v: &Array1<f32>| v.iter().fold(0.0f64, |m, &x| m.max(f64::from(x).abs()));
        let bound = f64::from(self.mean).abs()
            + max_abs(&self.user_bias)
            + max_abs(&self.item_bias)
            + (max_sq_norm(&self.user_factors) * max_sq_norm(&self.item_factors)).sqrt();
        let params = self.user_factors.iter().chain(&self.item_factors).chain(&self.user_bias).chain(&self.item_bias);
        let finite = self.mean.is_finite() && params.into_iter().all(|v| v.is_finite());
        if !finite || bound > f64::from(f32::MAX) / 2.0 {
            return Err(Error::NonFinite(format!("parameters can predict beyond f32 (bound {bound:e})")));
        }
        Ok(())
    }

    /// The algorithm and hyper-parameters it was trained with.
    ///
    /// ```
    /// # use oximl_core::mf::{Als, Ratings, Algorithm};
    /// # let r = Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// assert!(matches!(m.algorithm(), Algorithm::Als(a) if a.factors == 2));
    /// ```
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// The training users' ids.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als::default().fit(&r).unwrap();
    /// assert_eq!(m.users().ids(), ["a"]);
    /// ```
    pub fn users(&self) -> &IdMap {
        &self.users
    }

    /// The training items' ids.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als::default().fit(&r).unwrap();
    /// assert_eq!(m.items().ids(), ["x"]);
    /// ```
    pub fn items(&self) -> &IdMap {
        &self.items
    }

    /// Number of latent factors.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 3, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.factors(), 3);
    /// ```
    pub fn factors(&self) -> usize {
        self.item_factors.ncols()
    }

    /// The global mean μ (0 for unbiased and implicit models).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 3.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als::default().fit(&r).unwrap();
    /// assert_eq!(m.mean(), 4.0);
    /// ```
    pub fn mean(&self) -> f32 {
        self.mean
    }

    /// The rating scale predictions are clipped to.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 3.0)], Default::default()).unwrap();
    /// assert_eq!(oximl_core::mf::Als::default().fit(&r).unwrap().scale(), (3.0, 5.0));
    /// ```
    pub fn scale(&self) -> (f32, f32) {
        self.scale
    }

    /// The training loss after each epoch: the training RMSE seen during the epoch for [`FunkSvd`], the
    /// regularized objective for [`Als`], empty for [`ImplicitAls`].
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 3.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { iterations: 4, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.history().len(), 4);
    /// ```
    pub fn history(&self) -> &[f64] {
        &self.history
    }

    /// The user factor matrix (users × factors).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 3, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.user_factor_matrix().dim(), (1, 3));
    /// ```
    pub fn user_factor_matrix(&self) -> ArrayView2<'_, f32> {
        self.user_factors.view()
    }

    /// The item factor matrix (items × factors).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 3, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.item_factor_matrix().dim(), (1, 3));
    /// ```
    pub fn item_factor_matrix(&self) -> ArrayView2<'_, f32> {
        self.item_factors.view()
    }

    /// The user biases `b_u` (zeros for unbiased and implicit models).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 1.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 2, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.user_biases().len(), 2);
    /// ```
    pub fn user_biases(&self) -> ArrayView1<'_, f32> {
        self.user_bias.view()
    }

    /// The item biases `b_i` (zeros for unbiased and implicit models).
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0), ("b", "x", 1.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 2, biased: false, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.item_biases().to_vec(), [0.0]);
    /// ```
    pub fn item_biases(&self) -> ArrayView1<'_, f32> {
        self.item_bias.view()
    }

    pub(crate) fn user_index(&self, user: &str) -> Result<usize> {
        self.users.index(user).ok_or_else(|| Error::invalid("user", format!("unknown user id `{user}`")))
    }

    pub(crate) fn item_index(&self, item: &str) -> Result<usize> {
        self.items.index(item).ok_or_else(|| Error::invalid("item", format!("unknown item id `{item}`")))
    }

    /// The factors of a known user; an unknown user is an [`Error::InvalidArgument`] naming the id.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 3, ..Default::default() }.fit(&r).unwrap();
    /// assert_eq!(m.user_factors("a").unwrap().len(), 3);
    /// assert!(m.user_factors("zed").unwrap_err().to_string().contains("zed"));
    /// ```
    pub fn user_factors(&self, user: impl ToString) -> Result<ArrayView1<'_, f32>> {
        Ok(self.user_factors.row(self.user_index(&user.to_string())?))
    }

    /// The factors of a known item; an unknown item is an [`Error::InvalidArgument`] naming the id.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::Als { factors: 3, ..Default::default() }.fit(&r).unwrap();
    /// assert!(m.item_factors("x").is_ok() && m.item_factors("y").is_err());
    /// ```
    pub fn item_factors(&self, item: impl ToString) -> Result<ArrayView1<'_, f32>> {
        Ok(self.item_factors.row(self.item_index(&item.to_string())?))
    }

    /// Prediction for dense indices; `None` for an unknown side (cold start).
    pub(crate) fn predict_index(&self, u: Option<usize>, i: Option<usize>) -> f32 {
        let mut y = self.mean;
        if let Some(u) = u {
            y += self.user_bias[u];
        }
        if let Some(i) = i {
            y += self.item_bias[i];
        }
        if let (Some(u), Some(i)) = (u, i)
            && let (Some(p), Some(q)) = (self.user_factors.row(u).to_slice(), self.item_factors.row(i).to_slice())
        {
            y += super::dot(p, q);
        }
        if self.algorithm.is_explicit() { y.clamp(self.scale.0, self.scale.1) } else { y }
    }

    /// The predicted rating (clipped to the scale), or the implicit preference score. Cold start: an unknown
    /// user gets `μ + b_i`, an unknown item `μ + b_u`, both unknown `μ`.
    ///
    /// ```
    /// # let r = oximl_core::mf::Ratings::from_triplets([("a", "x", 5.0), ("b", "y", 1.0)], Default::default()).unwrap();
    /// let m = oximl_core::mf::FunkSvd::default().fit(&r).unwrap();
    /// let p = m.predict("a", "x");
    /// assert!((1.0..=5.0).contains(&p));
    /// ```
    pub fn predict(&self, user: impl ToString, item: impl ToString) -> f32 {
        self.predict_index(self.users.index(&user.to_string()), self.items.index(&item.to_string()))
    }
}

/// The largest squared row norm of a factor matrix, in f64.
fn max_sq_norm(f: &Array2<f32>) -> f64 {
    f.rows().into_iter().fold(0.0f64, |m, r| m.max(r.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>()))
}

impl io::Persist for MfModel {
    const KIND: &'static str = KIND;

    fn with_tensors<R>(&self, f: impl FnOnce(&serde_json::Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        let config = serde_json::json!({
            "model": self.algorithm,
            "mean": self.mean,
            "scale": [self.scale.0, self.scale.1],
            "users": self.users.ids(),
            "items": self.items.ids(),
        });
        let history = ndarray::ArrayView1::from(self.history.as_slice());
        let indptr: Array1<u64> = self.seen.indptr().iter().map(|&v| v as u64).collect();
        let indices: Array1<u64> = self.seen.indices().iter().map(|&v| u64::from(v)).collect();
        let tensors = [
            ("user_factors", TensorRef::new(self.user_factors.view())),
            ("item_factors", TensorRef::new(self.item_factors.view())),
            ("user_bias", TensorRef::new(self.user_bias.view())),
            ("item_bias", TensorRef::new(self.item_bias.view())),
            ("seen_indptr", TensorRef::new(indptr.view())),
            ("seen_indices", TensorRef::new(indices.view())),
            ("history", TensorRef::new(history)),
        ];
        f(&config, &tensors)
    }

    fn from_loaded(file: &io::Loaded) -> Result<MfModel> {
        #[derive(Deserialize)]
        struct Config {
            model: Algorithm,
            mean: f32,
            scale: (f32, f32),
            users: Vec<String>,
            items: Vec<String>,
        }
        let bad = |what: &str| Error::Format(format!("invalid mf model: {what}"));
        let c: Config = serde_json::from_value(file.config().clone())
            .map_err(|e| Error::Format(format!("invalid mf model config: {e}")))?;
        c.model.check().map_err(|e| bad(&e.to_string()))?;
        let factors = c.model.factors();
        let (nu, ni) = (c.users.len(), c.items.len());
        let users = IdMap::from_ids(c.users).map_err(|e| bad(&e.to_string()))?;
        let items = IdMap::from_ids(c.items).map_err(|e| bad(&e.to_string()))?;
        let user_factors = file.matrix::<f32>("user_factors", Some(nu), Some(factors))?;
        let item_factors = file.matrix::<f32>("item_factors", Some(ni), Some(factors))?;
        let vector = |name: &str, n: usize| -> Result<Array1<f32>> {
            file.tensor::<f32>(name, &[Some(n)])?.into_dimensionality().map_err(|e| bad(&e.to_string()))
        };
        let user_bias = vector("user_bias", nu)?;
        let item_bias = vector("item_bias", ni)?;
        let indptr: Vec<usize> =
            file.tensor::<u64>("seen_indptr", &[Some(nu + 1)])?.iter().map(|&v| v as usize).collect();
        let indices = file.tensor::<u64>("seen_indices", &[None])?;
        let history = file.tensor::<f64>("history", &[None])?.iter().copied().collect();
        if indptr.first() != Some(&0)
            || indptr.windows(2).any(|w| w[0] > w[1])
            || indptr.last() != Some(&indices.len())
            || indices.iter().any(|&i| i as usize >= ni)
        {
            return Err(bad("inconsistent seen-items index"));
        }
        let model = MfModel {
            algorithm: c.model,
            users: Arc::new(users),
            items: Arc::new(items),
            user_factors,
            item_factors,
            user_bias,
            item_bias,
            mean: c.mean,
            scale: c.scale,
            seen: Csr::from_parts(indptr, indices.iter().map(|&i| i as u32).collect(), Vec::new()),
            history,
        };
        model.check_bounded().map_err(|e| bad(&e.to_string()))?;
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn from_factors_refuses_biases_bad_shapes_and_duplicate_ids() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let unbiased = Algorithm::Als(Als { factors: 2, biased: false, ..Default::default() });
        let biased = Algorithm::Als(Als { factors: 2, ..Default::default() });
        let (p, q) = (array![[1.0f32, 2.0]], array![[3.0f32, 0.5]]);
        let make = |a: &Algorithm, u: &[&str], p: &Array2<f32>| {
            MfModel::from_factors(a.clone(), ids(u), ids(&["x"]), p.clone(), q.clone())
        };
        assert!(make(&unbiased, &["a"], &p).is_ok());
        assert!(make(&biased, &["a"], &p).unwrap_err().to_string().contains("biases"));
        assert!(matches!(make(&unbiased, &["a", "b"], &p), Err(Error::Shape { .. })));
        assert!(make(&unbiased, &["a", "a"], &array![[1.0, 2.0], [0.0, 1.0]]).is_err());
        assert!(make(&unbiased, &["a"], &array![[f32::NAN, 0.0]]).is_err());
    }
}
