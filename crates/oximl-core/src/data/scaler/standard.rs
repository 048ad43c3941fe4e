//! [`StandardScaler`]: `(x − mean) / std` per column.

use super::{
    Fitted, check_fit_input, check_transform_input, check_vectors, column_moments, config_of, map_columns, vector,
    with_vectors,
};
use crate::io::{Loaded, Persist, TensorRef};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, AsArray, Ix2};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fitted state of a [`StandardScaler`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StandardState {
    mean: Vec<f64>,
    var: Vec<f64>,
    scale: Vec<f64>,
    n_samples_seen: usize,
}

/// Standardizes each column to zero mean and unit variance: `(x − mean) / std`, as scikit-learn's
/// `StandardScaler` (population std; a constant column gets std 1, so it becomes 0).
///
/// ```
/// use ndarray::array;
/// use oximl_core::data::StandardScaler;
/// let x = array![[1.0f32, 10.0], [3.0, 10.0]];
/// let mut scaler = StandardScaler::new();
/// let z = scaler.fit_transform(&x)?;
/// assert_eq!(z, array![[-1.0f32, 0.0], [1.0, 0.0]]);
/// assert_eq!(scaler.inverse_transform(&z)?, x);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    with_mean: bool,
    with_std: bool,
    state: Option<StandardState>,
}

impl Default for StandardScaler {
    fn default() -> StandardScaler {
        StandardScaler { with_mean: true, with_std: true, state: None }
    }
}

impl Fitted for StandardScaler {
    const LEGACY_KIND: &'static str = "StandardScaler";
    fn validate(&self) -> Result<()> {
        match &self.state {
            None => Ok(()),
            Some(s) => check_vectors(&[("mean", &s.mean, false), ("var", &s.var, false), ("scale", &s.scale, true)]),
        }
    }
}

/// The config of a saved [`StandardScaler`] (its statistics are the tensors `mean`, `var`, `scale`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardConfig {
    with_mean: bool,
    with_std: bool,
    /// `None` for an unfitted scaler (no tensors).
    n_samples_seen: Option<usize>,
}

/// Saved as kind `"standard_scaler"`; `load`/`from_bytes` also read the JSON of older oximl.
///
/// ```
/// use oximl_core::Persist;
/// use oximl_core::data::StandardScaler;
/// let mut scaler = StandardScaler::new();
/// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
/// let path = std::env::temp_dir().join("oximl_doc_standard_scaler.oximl");
/// scaler.save(&path)?;
/// assert_eq!(StandardScaler::load(&path)?, scaler);
/// assert_eq!(StandardScaler::from_bytes(&scaler.to_bytes()?)?, scaler);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), oximl_core::Error>(())
/// ```
impl Persist for StandardScaler {
    const KIND: &'static str = "standard_scaler";

    fn with_tensors<R>(&self, f: impl FnOnce(&Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        let s = self.state.as_ref();
        let config = StandardConfig {
            with_mean: self.with_mean,
            with_std: self.with_std,
            n_samples_seen: s.map(|s| s.n_samples_seen),
        };
        let vectors = s.map(|s| [("mean", &s.mean[..]), ("var", &s.var[..]), ("scale", &s.scale[..])]);
        with_vectors(&config, vectors.as_ref().map_or(&[][..], |v| &v[..]), f)
    }

    fn from_loaded(file: &Loaded) -> Result<StandardScaler> {
        let c: StandardConfig = config_of(file)?;
        let state = match c.n_samples_seen {
            None => None,
            Some(n_samples_seen) => Some(StandardState {
                mean: vector(file, "mean")?,
                var: vector(file, "var")?,
                scale: vector(file, "scale")?,
                n_samples_seen,
            }),
        };
        let scaler = StandardScaler { with_mean: c.with_mean, with_std: c.with_std, state };
        scaler.validate()?;
        Ok(scaler)
    }

    fn from_legacy(bytes: &[u8]) -> Option<Result<StandardScaler>> {
        super::legacy::from_json(bytes)
    }
}

impl StandardScaler {
    /// An unfitted scaler that centers and scales.
    ///
    /// ```
    /// assert!(!oximl_core::data::StandardScaler::new().is_fitted());
    /// ```
    pub fn new() -> StandardScaler {
        StandardScaler::default()
    }

    /// Whether `transform` subtracts the mean (default `true`).
    ///
    /// ```
    /// let scaler = oximl_core::data::StandardScaler::new().with_mean(false);
    /// # let _ = scaler;
    /// ```
    pub fn with_mean(mut self, yes: bool) -> StandardScaler {
        self.with_mean = yes;
        self
    }

    /// Whether `transform` divides by the standard deviation (default `true`).
    ///
    /// ```
    /// let scaler = oximl_core::data::StandardScaler::new().with_std(false);
    /// # let _ = scaler;
    /// ```
    pub fn with_std(mut self, yes: bool) -> StandardScaler {
        self.with_std = yes;
        self
    }

    /// Whether `transform` subtracts the mean (as set by [`with_mean`](Self::with_mean)).
    ///
    /// ```
    /// assert!(!oximl_core::data::StandardScaler::new().with_mean(false).centers());
    /// ```
    pub fn centers(&self) -> bool {
        self.with_mean
    }

    /// Whether `transform` divides by the standard deviation (as set by [`with_std`](Self::with_std)).
    ///
    /// ```
    /// assert!(oximl_core::data::StandardScaler::new().divides_by_std());
    /// ```
    pub fn divides_by_std(&self) -> bool {
        self.with_std
    }

    /// Learns each column's mean and standard deviation. An empty `x` is [`Error::InvalidArgument`], a NaN or
    /// infinity [`Error::NonFinite`].
    ///
    /// ```
    /// let mut scaler = oximl_core::data::StandardScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// assert_eq!((scaler.mean(), scaler.scale()), (Some(&[1.0][..]), Some(&[1.0][..])));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<()> {
        let x: ArrayView2<'a, f32> = x.into();
        check_fit_input(x)?;
        let (mean, var) = column_moments(x);
        let n = x.nrows() as f64;
        let eps = f64::EPSILON;
        let scale = mean
            .iter()
            .zip(&var)
            .map(|(&m, &v)| {
                // scikit-learn's `_is_constant_feature`: a variance within the rounding error of its computation.
                let constant = v <= n * eps * v + (n * m * eps).powi(2);
                if constant { 1.0 } else { v.sqrt() }
            })
            .collect();
        self.state = Some(StandardState { mean, var, scale, n_samples_seen: x.nrows() });
        Ok(())
    }

    /// `(x − mean) / std` per column. Before `fit`: [`Error::NotFitted`]; another column count:
    /// [`Error::Shape`]; a NaN or infinity: [`Error::NonFinite`].
    ///
    /// ```
    /// let mut scaler = oximl_core::data::StandardScaler::new();
    /// assert!(matches!(scaler.transform(&ndarray::array![[1.0f32]]), Err(oximl_core::Error::NotFitted(_))));
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// assert_eq!(scaler.transform(&ndarray::array![[4.0f32]])?, ndarray::array![[3.0f32]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn transform<'a>(&self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        let s = self.fitted()?;
        check_transform_input(x, s.mean.len())?;
        let (wm, ws) = (self.with_mean, self.with_std);
        map_columns(x, |j, v| {
            let c = if wm { v as f64 - s.mean[j] } else { v as f64 };
            (if ws { c / s.scale[j] } else { c }) as f32
        })
    }

    /// [`fit`](Self::fit) then [`transform`](Self::transform) on the same data.
    ///
    /// ```
    /// let z = oximl_core::data::StandardScaler::new().fit_transform(&ndarray::array![[1.0f32], [3.0]])?;
    /// assert_eq!(z, ndarray::array![[-1.0f32], [1.0]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit_transform<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        self.fit(x)?;
        self.transform(x)
    }

    /// Undoes [`transform`](Self::transform): `z · std + mean`. Same errors as `transform`.
    ///
    /// ```
    /// let mut scaler = oximl_core::data::StandardScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// assert_eq!(scaler.inverse_transform(&ndarray::array![[3.0f32]])?, ndarray::array![[4.0f32]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn inverse_transform<'a>(&self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        let s = self.fitted()?;
        check_transform_input(x, s.mean.len())?;
        let (wm, ws) = (self.with_mean, self.with_std);
        map_columns(x, |j, v| {
            let c = if ws { v as f64 * s.scale[j] } else { v as f64 };
            (if wm { c + s.mean[j] } else { c }) as f32
        })
    }

    /// Whether `fit` (or `load`) has set the statistics.
    ///
    /// ```
    /// assert!(!oximl_core::data::StandardScaler::new().is_fitted());
    /// ```
    pub fn is_fitted(&self) -> bool {
        self.state.is_some()
    }

    /// The number of columns seen by `fit`.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::StandardScaler::new().n_features(), None);
    /// ```
    pub fn n_features(&self) -> Option<usize> {
        self.state.as_ref().map(|s| s.mean.len())
    }

    /// The per-column means (scikit-learn's `mean_`).
    ///
    /// ```
    /// assert!(oximl_core::data::StandardScaler::new().mean().is_none());
    /// ```
    pub fn mean(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.mean.as_slice())
    }

    /// The per-column population variances (`var_`).
    ///
    /// ```
    /// assert!(oximl_core::data::StandardScaler::new().var().is_none());
    /// ```
    pub fn var(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.var.as_slice())
    }

    /// The per-column divisors (`scale_`): the standard deviation, or 1 for a constant column.
    ///
    /// ```
    /// assert!(oximl_core::data::StandardScaler::new().scale().is_none());
    /// ```
    pub fn scale(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.scale.as_slice())
    }

    /// The number of rows `fit` saw (`n_samples_seen_`).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::StandardScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// assert_eq!(scaler.n_samples_seen(), Some(2));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn n_samples_seen(&self) -> Option<usize> {
        self.state.as_ref().map(|s| s.n_samples_seen)
    }

    fn fitted(&self) -> Result<&StandardState> {
        self.validate()?;
        self.state.as_ref().ok_or_else(|| Error::NotFitted("StandardScaler: call fit before transform".into()))
    }
}
