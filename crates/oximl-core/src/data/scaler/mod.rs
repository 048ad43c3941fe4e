//! Feature scalers as in scikit-learn: [`StandardScaler`], [`MinMaxScaler`] (per column, fitted) and
//! [`Normalizer`] (per row, stateless).
//!
//! Statistics are accumulated in `f64` (as scikit-learn's float64 accumulators) and each output value is computed
//! in `f64` and rounded once to `f32`. Fitted scalers are plain serde data (embed them in a model's JSON config)
//! and [`Persist`](crate::io::Persist) kinds: `save`/`load`/`to_bytes`/`from_bytes` use the one oximl file
//! format (atomic writes, checksummed), with the per-column statistics as `F64` tensors. `load` and `from_bytes`
//! also read the JSON files that oximl wrote for scalers before (envelope `{"format": "oximl-scaler", ...}`).

use super::check_finite;
use crate::io::{Loaded, TensorRef};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut1, Zip};
use serde::de::DeserializeOwned;
use serde_json::Value;

mod legacy;
mod minmax;
mod normalizer;
mod standard;

pub use minmax::MinMaxScaler;
pub use normalizer::{Norm, Normalizer};
pub use standard::StandardScaler;

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

/// What a fitted scaler checks of a state it did not compute itself (a loaded one), and its name in the JSON
/// files of older oximl.
trait Fitted: DeserializeOwned {
    /// The `kind` of the former JSON envelope.
    const LEGACY_KIND: &'static str;
    /// Refuses an inconsistent state with [`Error::Format`].
    fn validate(&self) -> Result<()>;
}

/// Calls `f` with `config` as JSON and the fitted per-column vectors as one-dimensional `F64` tensors.
fn with_vectors<R>(
    config: &impl serde::Serialize,
    vectors: &[(&str, &[f64])],
    f: impl FnOnce(&Value, &[(&str, TensorRef<'_>)]) -> Result<R>,
) -> Result<R> {
    let config = serde_json::to_value(config).map_err(|e| Error::invalid("config", e.to_string()))?;
    let tensors: Vec<(&str, TensorRef<'_>)> =
        vectors.iter().map(|&(n, v)| (n, TensorRef::new(ArrayView1::from(v)))).collect();
    f(&config, &tensors)
}

/// The config of a loaded scaler file (unknown keys refused).
fn config_of<T: DeserializeOwned>(file: &Loaded) -> Result<T> {
    T::deserialize(file.config()).map_err(|e| Error::Format(format!("scaler config: {e}")))
}

/// The one-dimensional `F64` tensor `name` of a loaded scaler file.
fn vector(file: &Loaded, name: &str) -> Result<Vec<f64>> {
    Ok(file.tensor::<f64>(name, &[None])?.into_raw_vec_and_offset().0)
}
