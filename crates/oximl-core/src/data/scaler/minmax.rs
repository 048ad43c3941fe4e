//! [`MinMaxScaler`]: each column mapped linearly onto a target interval.

use super::{
    Fitted, check_fit_input, check_transform_input, check_vectors, config_of, map_columns, vector, with_vectors,
};
use crate::io::{Loaded, Persist, TensorRef};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, AsArray, Axis, Ix2};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fitted state of a [`MinMaxScaler`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MinMaxState {
    data_min: Vec<f64>,
    data_max: Vec<f64>,
    scale: Vec<f64>,
    min: Vec<f64>,
}

/// Scales each column linearly onto `feature_range` (default `[0, 1]`): `x · scale + min` with
/// `scale = (hi − lo) / (max − min)`, as scikit-learn's `MinMaxScaler`. A constant column maps to `lo`.
/// Values outside the fitted range map outside `feature_range` unless [`clip`](Self::clip) is set.
///
/// ```
/// use ndarray::array;
/// use oximl_core::data::MinMaxScaler;
/// let x = array![[1.0f32, 5.0], [3.0, 5.0]];
/// let mut scaler = MinMaxScaler::with_range(-1.0, 1.0)?;
/// let z = scaler.fit_transform(&x)?;
/// assert_eq!(z, array![[-1.0f32, -1.0], [1.0, -1.0]]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    feature_range: (f32, f32),
    clip: bool,
    state: Option<MinMaxState>,
}

impl Default for MinMaxScaler {
    fn default() -> MinMaxScaler {
        MinMaxScaler { feature_range: (0.0, 1.0), clip: false, state: None }
    }
}

impl Fitted for MinMaxScaler {
    const LEGACY_KIND: &'static str = "MinMaxScaler";
    fn validate(&self) -> Result<()> {
        let (lo, hi) = self.feature_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::Format(format!("feature_range ({lo}, {hi}) is not an interval")));
        }
        match &self.state {
            None => Ok(()),
            Some(s) => check_vectors(&[
                ("data_min", &s.data_min, false),
                ("data_max", &s.data_max, false),
                ("scale", &s.scale, true),
                ("min", &s.min, false),
            ]),
        }
    }
}

/// The config of a saved [`MinMaxScaler`] (its statistics are the tensors `data_min`, `data_max`, `scale`, `min`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MinMaxConfig {
    feature_range: (f32, f32),
    clip: bool,
    fitted: bool,
}

/// Saved as kind `"minmax_scaler"`; `load`/`from_bytes` also read the JSON of older oximl.
///
/// ```
/// use oximl_core::Persist;
/// use oximl_core::data::MinMaxScaler;
/// let mut scaler = MinMaxScaler::with_range(-1.0, 1.0)?.clip(true);
/// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
/// assert_eq!(MinMaxScaler::from_bytes(&scaler.to_bytes()?)?, scaler);
/// assert!(MinMaxScaler::from_bytes(&MinMaxScaler::new().to_bytes()?)?.feature_range() == (0.0, 1.0));
/// # Ok::<(), oximl_core::Error>(())
/// ```
impl Persist for MinMaxScaler {
    const KIND: &'static str = "minmax_scaler";

    fn with_tensors<R>(&self, f: impl FnOnce(&Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        let s = self.state.as_ref();
        let config = MinMaxConfig { feature_range: self.feature_range, clip: self.clip, fitted: s.is_some() };
        let vectors = s.map(|s| {
            [("data_min", &s.data_min[..]), ("data_max", &s.data_max[..]), ("scale", &s.scale[..]), ("min", &s.min[..])]
        });
        with_vectors(&config, vectors.as_ref().map_or(&[][..], |v| &v[..]), f)
    }

    fn from_loaded(file: &Loaded) -> Result<MinMaxScaler> {
        let c: MinMaxConfig = config_of(file)?;
        let state = match c.fitted {
            false => None,
            true => Some(MinMaxState {
                data_min: vector(file, "data_min")?,
                data_max: vector(file, "data_max")?,
                scale: vector(file, "scale")?,
                min: vector(file, "min")?,
            }),
        };
        let scaler = MinMaxScaler { feature_range: c.feature_range, clip: c.clip, state };
        scaler.validate()?;
        Ok(scaler)
    }

    fn from_legacy(bytes: &[u8]) -> Option<Result<MinMaxScaler>> {
        super::legacy::from_json(bytes)
    }
}

impl MinMaxScaler {
    /// An unfitted scaler onto `[0, 1]`.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::MinMaxScaler::new().feature_range(), (0.0, 1.0));
    /// ```
    pub fn new() -> MinMaxScaler {
        MinMaxScaler::default()
    }

    /// An unfitted scaler onto `[lo, hi]`; `lo < hi`, both finite, else [`Error::InvalidArgument`].
    ///
    /// ```
    /// assert!(oximl_core::data::MinMaxScaler::with_range(1.0, 1.0).is_err());
    /// ```
    pub fn with_range(lo: f32, hi: f32) -> Result<MinMaxScaler> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Error::invalid("feature_range", format!("({lo}, {hi}) must be finite with lo < hi")));
        }
        Ok(MinMaxScaler { feature_range: (lo, hi), ..MinMaxScaler::default() })
    }

    /// Whether `transform` clips its results into `feature_range` (default `false`).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::MinMaxScaler::new().clip(true);
    /// scaler.fit(&ndarray::array![[0.0f32], [1.0]])?;
    /// assert_eq!(scaler.transform(&ndarray::array![[2.0f32]])?, ndarray::array![[1.0f32]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn clip(mut self, yes: bool) -> MinMaxScaler {
        self.clip = yes;
        self
    }

    /// Whether `transform` clips (as set by [`clip`](Self::clip)).
    ///
    /// ```
    /// assert!(oximl_core::data::MinMaxScaler::new().clip(true).clips());
    /// ```
    pub fn clips(&self) -> bool {
        self.clip
    }

    /// The target interval `(lo, hi)`.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::MinMaxScaler::with_range(-1.0, 1.0)?.feature_range(), (-1.0, 1.0));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn feature_range(&self) -> (f32, f32) {
        self.feature_range
    }

    /// Learns each column's minimum and maximum. Same errors as [`StandardScaler::fit`](super::StandardScaler::fit).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::MinMaxScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [4.0]])?;
    /// assert_eq!((scaler.data_min(), scaler.data_max()), (Some(&[0.0][..]), Some(&[4.0][..])));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<()> {
        let x: ArrayView2<'a, f32> = x.into();
        self.validate().map_err(|e| Error::invalid("feature_range", e.to_string()))?;
        check_fit_input(x)?;
        let data_min: Vec<f64> =
            x.fold_axis(Axis(0), f32::INFINITY, |a, &b| a.min(b)).iter().map(|&v| v as f64).collect();
        let data_max: Vec<f64> =
            x.fold_axis(Axis(0), f32::NEG_INFINITY, |a, &b| a.max(b)).iter().map(|&v| v as f64).collect();
        let (lo, hi) = (self.feature_range.0 as f64, self.feature_range.1 as f64);
        let scale: Vec<f64> = data_min
            .iter()
            .zip(&data_max)
            .map(|(&a, &b)| {
                let range = b - a;
                (hi - lo) / if range == 0.0 { 1.0 } else { range }
            })
            .collect();
        let min = data_min.iter().zip(&scale).map(|(&a, &s)| lo - a * s).collect();
        self.state = Some(MinMaxState { data_min, data_max, scale, min });
        Ok(())
    }

    /// `x · scale + min` per column (clipped if [`clip`](Self::clip)). Same errors as
    /// [`StandardScaler::transform`](super::StandardScaler::transform).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::MinMaxScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [4.0]])?;
    /// assert_eq!(scaler.transform(&ndarray::array![[1.0f32]])?, ndarray::array![[0.25f32]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn transform<'a>(&self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        let s = self.fitted()?;
        check_transform_input(x, s.scale.len())?;
        let (lo, hi) = (self.feature_range.0 as f64, self.feature_range.1 as f64);
        let clip = self.clip;
        map_columns(x, |j, v| {
            let z = v as f64 * s.scale[j] + s.min[j];
            (if clip { z.clamp(lo, hi) } else { z }) as f32
        })
    }

    /// [`fit`](Self::fit) then [`transform`](Self::transform) on the same data.
    ///
    /// ```
    /// let z = oximl_core::data::MinMaxScaler::new().fit_transform(&ndarray::array![[2.0f32], [4.0]])?;
    /// assert_eq!(z, ndarray::array![[0.0f32], [1.0]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit_transform<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        self.fit(x)?;
        self.transform(x)
    }

    /// Undoes [`transform`](Self::transform): `(z − min) / scale` (a constant column comes back as its value).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::MinMaxScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [4.0]])?;
    /// assert_eq!(scaler.inverse_transform(&ndarray::array![[0.25f32]])?, ndarray::array![[1.0f32]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn inverse_transform<'a>(&self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        let s = self.fitted()?;
        check_transform_input(x, s.scale.len())?;
        map_columns(x, |j, v| ((v as f64 - s.min[j]) / s.scale[j]) as f32)
    }

    /// Whether `fit` (or `load`) has set the statistics.
    ///
    /// ```
    /// assert!(!oximl_core::data::MinMaxScaler::new().is_fitted());
    /// ```
    pub fn is_fitted(&self) -> bool {
        self.state.is_some()
    }

    /// The number of columns seen by `fit`.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::MinMaxScaler::new().n_features(), None);
    /// ```
    pub fn n_features(&self) -> Option<usize> {
        self.state.as_ref().map(|s| s.scale.len())
    }

    /// The per-column minima seen by `fit` (`data_min_`).
    ///
    /// ```
    /// assert!(oximl_core::data::MinMaxScaler::new().data_min().is_none());
    /// ```
    pub fn data_min(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.data_min.as_slice())
    }

    /// The per-column maxima seen by `fit` (`data_max_`).
    ///
    /// ```
    /// assert!(oximl_core::data::MinMaxScaler::new().data_max().is_none());
    /// ```
    pub fn data_max(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.data_max.as_slice())
    }

    /// The per-column factors `(hi − lo) / (max − min)` of `transform` (`scale_`).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::MinMaxScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [4.0]])?;
    /// assert_eq!(scaler.scale(), Some(&[0.25][..]));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn scale(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.scale.as_slice())
    }

    /// The per-column offsets `lo − min · scale` of `transform` (`min_`).
    ///
    /// ```
    /// let mut scaler = oximl_core::data::MinMaxScaler::with_range(-1.0, 1.0)?;
    /// scaler.fit(&ndarray::array![[0.0f32], [4.0]])?;
    /// assert_eq!(scaler.min(), Some(&[-1.0][..]));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn min(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.min.as_slice())
    }

    fn fitted(&self) -> Result<&MinMaxState> {
        self.validate()?;
        self.state.as_ref().ok_or_else(|| Error::NotFitted("MinMaxScaler: call fit before transform".into()))
    }
}
