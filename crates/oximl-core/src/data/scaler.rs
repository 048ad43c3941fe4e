//! Feature scalers as in scikit-learn: [`StandardScaler`], [`MinMaxScaler`] (per column, fitted) and
//! [`Normalizer`] (per row, stateless).
//!
//! Statistics are accumulated in `f64` (as scikit-learn's float64 accumulators) and each output value is computed
//! in `f64` and rounded once to `f32`. Fitted scalers are plain serde data: embed them in a model's JSON config,
//! or write them with `save(path)` / `load(path)`, which check the file's kind and content.

use super::check_finite;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, AsArray, Axis, Ix2, Zip};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Computes `out[i, j] = f(j, x[i, j])` row by row (on oximl's pool when large), and refuses an output that
/// overflowed `f32`.
fn map_columns(x: ArrayView2<'_, f32>, f: impl Fn(usize, f32) -> f32 + Sync) -> Result<Array2<f32>> {
    map_rows(x, |src, mut dst| {
        for (j, (d, &s)) in dst.iter_mut().zip(src.iter()).enumerate() {
            *d = f(j, s);
        }
    })
}

/// Computes each output row from the input row with `f(src, dst)`, in parallel when large.
fn map_rows(
    x: ArrayView2<'_, f32>,
    f: impl Fn(ArrayView1<'_, f32>, ArrayViewMut1<'_, f32>) + Sync,
) -> Result<Array2<f32>> {
    let mut out = Array2::<f32>::zeros(x.raw_dim());
    let zip = Zip::from(out.rows_mut()).and(x.rows());
    if x.len() >= oximl_kernel::PAR_MIN_ELEMENTS {
        oximl_kernel::install(|| zip.par_for_each(|dst, src| f(src, dst)));
    } else {
        zip.for_each(|dst, src| f(src, dst));
    }
    if !out.iter().all(|v| v.is_finite()) {
        return Err(Error::NonFinite("a scaled value overflowed f32".into()));
    }
    Ok(out)
}

/// Checks the input of `fit`: at least one row and one column, all finite.
fn check_fit_input(x: ArrayView2<'_, f32>) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::invalid("x", format!("cannot fit on an empty {}×{} array", x.nrows(), x.ncols())));
    }
    check_finite("x", x)
}

/// Checks the input of `transform`: the fitted column count, all finite.
fn check_transform_input(x: ArrayView2<'_, f32>, n_features: usize) -> Result<()> {
    if x.ncols() != n_features {
        return Err(Error::shape(format!("{n_features} columns (as fitted)"), format!("{} columns", x.ncols())));
    }
    check_finite("x", x)
}

/// Per-column mean and population variance, in `f64`.
fn column_moments(x: ArrayView2<'_, f32>) -> (Vec<f64>, Vec<f64>) {
    let n = x.nrows() as f64;
    let mut mean = vec![0.0f64; x.ncols()];
    for row in x.rows() {
        for (m, &v) in mean.iter_mut().zip(row.iter()) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; x.ncols()];
    for row in x.rows() {
        for ((s, &v), &m) in var.iter_mut().zip(row.iter()).zip(&mean) {
            let d = v as f64 - m;
            *s += d * d;
        }
    }
    var.iter_mut().for_each(|s| *s /= n);
    (mean, var)
}

/// The file envelope of a saved scaler.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    format: String,
    kind: String,
    version: u32,
    scaler: T,
}

const FORMAT: &str = "oximl-scaler";
const VERSION: u32 = 1;

/// Saving, loading and validating a scaler's JSON form.
trait Persist: Serialize + DeserializeOwned {
    const KIND: &'static str;
    /// Refuses an inconsistent state (as a deserialized one may be) with [`Error::Format`].
    fn validate(&self) -> Result<()>;

    /// The JSON text of a saved file: an envelope naming the format, kind and version around the scaler.
    fn to_json_text(&self) -> Result<String> {
        let env = Envelope { format: FORMAT.into(), kind: Self::KIND.into(), version: VERSION, scaler: self };
        serde_json::to_string_pretty(&env).map_err(|e| Error::Format(e.to_string()))
    }

    /// Reads [`to_json_text`](Self::to_json_text)'s output, checking kind, version and content; `origin` names
    /// the source in error messages.
    fn from_json_text(text: &str, origin: &str) -> Result<Self> {
        let bad = |msg: String| Error::Format(format!("{origin}: {msg}"));
        let env: Envelope<serde_json::Value> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if env.format != FORMAT {
            return Err(bad(format!("format `{}`, expected `{FORMAT}`", env.format)));
        }
        if env.kind != Self::KIND {
            return Err(bad(format!("a {} was saved here, not a {}", env.kind, Self::KIND)));
        }
        if env.version > VERSION {
            return Err(bad(format!("version {} is newer than this library's {VERSION}", env.version)));
        }
        let scaler: Self = serde_json::from_value(env.scaler).map_err(|e| bad(e.to_string()))?;
        scaler.validate().map_err(|e| match e {
            Error::Format(msg) => bad(msg),
            other => other,
        })?;
        Ok(scaler)
    }

    fn save_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json_text()?).map_err(|e| Error::io(path, e))
    }

    fn load_json(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json_text(&text, &path.display().to_string())
    }
}

/// Checks that fitted per-column vectors have one common, non-zero length, finite values and (for `positive`)
/// values above zero.
fn check_vectors(named: &[(&str, &[f64], bool)]) -> Result<()> {
    let n = named.first().map_or(0, |(_, v, _)| v.len());
    for (name, v, positive) in named {
        if v.len() != n || n == 0 {
            return Err(Error::Format(format!("`{name}` has {} values, expected {n} (and not 0)", v.len())));
        }
        if v.iter().any(|x| !x.is_finite() || (*positive && *x <= 0.0)) {
            return Err(Error::Format(format!("`{name}` holds a non-finite or out-of-range value")));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------

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

impl Persist for StandardScaler {
    const KIND: &'static str = "StandardScaler";
    fn validate(&self) -> Result<()> {
        match &self.state {
            None => Ok(()),
            Some(s) => check_vectors(&[("mean", &s.mean, false), ("var", &s.var, false), ("scale", &s.scale, true)]),
        }
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

    /// Writes the scaler (fitted or not) to a JSON file.
    ///
    /// ```
    /// use oximl_core::data::StandardScaler;
    /// let mut scaler = StandardScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// let path = std::env::temp_dir().join("oximl_doc_standard_scaler.json");
    /// scaler.save(&path)?;
    /// assert_eq!(StandardScaler::load(&path)?, scaler);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_json(path.as_ref())
    }

    /// Reads a scaler written by [`save`](Self::save). A file of another kind, a newer version or an
    /// inconsistent state is [`Error::Format`]; a missing file [`Error::Io`].
    ///
    /// ```
    /// let err = oximl_core::data::StandardScaler::load("/no/such/scaler.json").unwrap_err();
    /// assert!(matches!(err, oximl_core::Error::Io { .. }));
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<StandardScaler> {
        Self::load_json(path.as_ref())
    }

    /// The JSON text [`save`](Self::save) writes (for pickling or storing elsewhere than in a file).
    ///
    /// ```
    /// use oximl_core::data::StandardScaler;
    /// let mut scaler = StandardScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// assert_eq!(StandardScaler::from_json(&scaler.to_json()?)?, scaler);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        self.to_json_text()
    }

    /// Reads the text of [`to_json`](Self::to_json), with the checks of [`load`](Self::load).
    ///
    /// ```
    /// assert!(oximl_core::data::StandardScaler::from_json("{}").is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<StandardScaler> {
        Self::from_json_text(text, "StandardScaler JSON")
    }

    fn fitted(&self) -> Result<&StandardState> {
        self.validate()?;
        self.state.as_ref().ok_or_else(|| Error::NotFitted("StandardScaler: call fit before transform".into()))
    }
}

// ---------------------------------------------------------------------------------------------------------------

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

impl Persist for MinMaxScaler {
    const KIND: &'static str = "MinMaxScaler";
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

    /// Learns each column's minimum and maximum. Same errors as [`StandardScaler::fit`].
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
    /// [`StandardScaler::transform`].
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

    /// Writes the scaler to a JSON file (see [`StandardScaler::save`]).
    ///
    /// ```
    /// use oximl_core::data::MinMaxScaler;
    /// let mut scaler = MinMaxScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// let path = std::env::temp_dir().join("oximl_doc_minmax_scaler.json");
    /// scaler.save(&path)?;
    /// assert_eq!(MinMaxScaler::load(&path)?, scaler);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_json(path.as_ref())
    }

    /// Reads a scaler written by [`save`](Self::save) (errors as [`StandardScaler::load`]).
    ///
    /// ```
    /// assert!(oximl_core::data::MinMaxScaler::load("/no/such/scaler.json").is_err());
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<MinMaxScaler> {
        Self::load_json(path.as_ref())
    }

    /// The JSON text [`save`](Self::save) writes (for pickling or storing elsewhere than in a file).
    ///
    /// ```
    /// use oximl_core::data::MinMaxScaler;
    /// let mut scaler = MinMaxScaler::new();
    /// scaler.fit(&ndarray::array![[0.0f32], [2.0]])?;
    /// assert_eq!(MinMaxScaler::from_json(&scaler.to_json()?)?, scaler);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        self.to_json_text()
    }

    /// Reads the text of [`to_json`](Self::to_json), with the checks of [`load`](Self::load).
    ///
    /// ```
    /// assert!(oximl_core::data::MinMaxScaler::from_json("{}").is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<MinMaxScaler> {
        Self::from_json_text(text, "MinMaxScaler JSON")
    }

    fn fitted(&self) -> Result<&MinMaxState> {
        self.validate()?;
        self.state.as_ref().ok_or_else(|| Error::NotFitted("MinMaxScaler: call fit before transform".into()))
    }
}

// ---------------------------------------------------------------------------------------------------------------

/// The norm a [`Normalizer`] divides each row by.
///
/// ```
/// assert_eq!(oximl_core::data::Norm::default(), oximl_core::data::Norm::L2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Σ|xᵢ|.
    L1,
    /// √Σxᵢ² (the default).
    #[default]
    L2,
    /// max|xᵢ|.
    Max,
}

/// Scales each row to unit norm (L2 by default): `x / ‖x‖`, as scikit-learn's `Normalizer`; a zero row stays
/// zero. It is stateless: `fit` only checks its input and `transform` works without it. There is no
/// `inverse_transform`: the norms are not kept, so the original rows cannot be recovered.
///
/// ```
/// use ndarray::array;
/// let z = oximl_core::data::Normalizer::new().transform(&array![[3.0f32, 4.0], [0.0, 0.0]])?;
/// assert_eq!(z, array![[0.6f32, 0.8], [0.0, 0.0]]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalizer {
    norm: Norm,
}

impl Normalizer {
    /// An L2 normalizer.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::Normalizer::new().norm(), oximl_core::data::Norm::L2);
    /// ```
    pub fn new() -> Normalizer {
        Normalizer::default()
    }

    /// A normalizer with the given norm.
    ///
    /// ```
    /// use oximl_core::data::{Norm, Normalizer};
    /// let z = Normalizer::with_norm(Norm::L1).transform(&ndarray::array![[1.0f32, -3.0]])?;
    /// assert_eq!(z, ndarray::array![[0.25f32, -0.75]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn with_norm(norm: Norm) -> Normalizer {
        Normalizer { norm }
    }

    /// The norm used.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::Normalizer::new().norm(), oximl_core::data::Norm::L2);
    /// ```
    pub fn norm(&self) -> Norm {
        self.norm
    }

    /// Does nothing but check `x` (finite values), for symmetry with the other scalers.
    ///
    /// ```
    /// let mut n = oximl_core::data::Normalizer::new();
    /// n.fit(&ndarray::array![[1.0f32]])?;
    /// assert!(n.fit(&ndarray::array![[f32::NAN]]).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<()> {
        check_finite("x", x.into())
    }

    /// Divides each row by its norm (a zero row stays zero). A NaN or infinity is [`Error::NonFinite`].
    ///
    /// ```
    /// let z = oximl_core::data::Normalizer::new().transform(&ndarray::array![[0.0f32, -2.0]])?;
    /// assert_eq!(z, ndarray::array![[0.0f32, -1.0]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn transform<'a>(&self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        check_finite("x", x)?;
        let norm = self.norm;
        map_rows(x, |src, mut dst| {
            let n = match norm {
                // The kernel's vectorized f32 norm; if its squares may have overflowed or underflowed, redo it
                // in f64.
                Norm::L2 => match oximl_kernel::norm_l2(src) {
                    n if n.is_finite() && n > 1e-18 => n as f64,
                    _ => src.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt(),
                },
                Norm::L1 => src.iter().map(|&v| (v as f64).abs()).sum(),
                Norm::Max => src.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs())),
            };
            if n == 0.0 {
                dst.fill(0.0);
            } else {
                Zip::from(&mut dst).and(&src).for_each(|d, &s| *d = (s as f64 / n) as f32);
            }
        })
    }

    /// Same as [`transform`](Self::transform) (nothing to learn).
    ///
    /// ```
    /// let z = oximl_core::data::Normalizer::new().fit_transform(&ndarray::array![[2.0f32, 0.0]])?;
    /// assert_eq!(z, ndarray::array![[1.0f32, 0.0]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit_transform<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        self.transform(x)
    }
}
