//! `oximl._oximl` scalers, split and missing rows: the core `data` module behind `oximl.preprocessing`.
//! Arrays come in as numpy float32 views (zero-copy; `oximl.preprocessing` converts other dtypes, lists and
//! pandas frames once); the work runs with the GIL released.

use crate::{detach, to_py_bytes, to_py_err};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use oximl_core::data::{self, MinMaxScaler, Norm, Normalizer, StandardScaler};
use oximl_core::{Error, Persist, Result};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use std::path::PathBuf;

type Out<'py> = PyResult<Bound<'py, PyArray2<f32>>>;
type Indices<'py> = Bound<'py, PyArray1<usize>>;

/// Runs `f` on the view of `x` with the GIL released and returns its result as a new numpy array.
fn apply<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    f: impl FnOnce(ndarray::ArrayView2<'_, f32>) -> Result<ndarray::Array2<f32>> + Send,
) -> Out<'py> {
    let xv = x.as_array();
    Ok(detach(py, move || f(xv))?.into_pyarray(py))
}

/// A fitted per-column vector as a float64 numpy array (`None` before `fit`).
fn vector<'py>(py: Python<'py>, v: Option<&[f64]>) -> Option<Bound<'py, PyArray1<f64>>> {
    v.map(|v| PyArray1::from_slice(py, v))
}

/// Declares a pyclass wrapping a fitted core scaler: the shared verbs (fit, transform, inverse, persistence)
/// plus the class's own constructor and getters given in braces.
macro_rules! scaler_class {
    ($(#[$doc:meta])* $class:ident($core:ident, $name:literal) { $($own:tt)* }) => {
        $(#[$doc])*
        #[pyclass(name = $name, module = "oximl._oximl")]
        pub struct $class {
            inner: $core,
        }

        #[pymethods]
        impl $class {
            $($own)*

            fn fit(&mut self, py: Python<'_>, x: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
                let (xv, inner) = (x.as_array(), &mut self.inner);
                detach(py, move || inner.fit(xv))
            }

            fn fit_transform<'py>(&mut self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> Out<'py> {
                let inner = &mut self.inner;
                apply(py, x, move |x| inner.fit_transform(x))
            }

            fn transform<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> Out<'py> {
                apply(py, x, |x| self.inner.transform(x))
            }

            fn inverse_transform<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> Out<'py> {
                apply(py, x, |x| self.inner.inverse_transform(x))
            }

            #[getter]
            fn n_features(&self) -> Option<usize> {
                self.inner.n_features()
            }

            fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
                self.inner.save(path).map_err(|e| to_py_err(py, e))
            }

            #[classmethod]
            fn load(_cls: &Bound<'_, PyType>, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
                Ok($class { inner: $core::load(path).map_err(|e| to_py_err(py, e))? })
            }

            fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
                let inner = &self.inner;
                to_py_bytes(py, move || inner.to_bytes())
            }

            /// Also reads the JSON text older versions pickled (as UTF-8 bytes).
            #[classmethod]
            fn from_bytes(_cls: &Bound<'_, PyType>, py: Python<'_>, data: &[u8]) -> PyResult<Self> {
                Ok($class { inner: $core::from_bytes(data).map_err(|e| to_py_err(py, e))? })
            }
        }
    };
}

scaler_class! {
    /// scikit-learn's `StandardScaler` (the core one: statistics in f64, outputs rounded once to f32).
    PyStandardScaler(StandardScaler, "StandardScaler") {
        #[new]
        fn new(with_mean: bool, with_std: bool) -> Self {
            PyStandardScaler { inner: StandardScaler::new().with_mean(with_mean).with_std(with_std) }
        }

        #[getter]
        fn with_mean(&self) -> bool {
            self.inner.centers()
        }

        #[getter]
        fn with_std(&self) -> bool {
            self.inner.divides_by_std()
        }

        #[getter]
        fn n_samples_seen(&self) -> Option<usize> {
            self.inner.n_samples_seen()
        }

        #[getter]
        fn mean<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.mean())
        }

        #[getter]
        fn var<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.var())
        }

        #[getter]
        fn scale<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.scale())
        }
    }
}

scaler_class! {
    /// scikit-learn's `MinMaxScaler` (the core one).
    PyMinMaxScaler(MinMaxScaler, "MinMaxScaler") {
        #[new]
        fn new(py: Python<'_>, low: f32, high: f32, clip: bool) -> PyResult<Self> {
            let inner = MinMaxScaler::with_range(low, high).map_err(|e| to_py_err(py, e))?.clip(clip);
            Ok(PyMinMaxScaler { inner })
        }

        #[getter]
        fn feature_range(&self) -> (f32, f32) {
            self.inner.feature_range()
        }

        #[getter]
        fn clip(&self) -> bool {
            self.inner.clips()
        }

        #[getter]
        fn data_min<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.data_min())
        }

        #[getter]
        fn data_max<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.data_max())
        }

        #[getter]
        fn scale<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.scale())
        }

        #[getter]
        fn min<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
            vector(py, self.inner.min())
        }
    }
}

/// scikit-learn's `Normalizer` (stateless: each row divided by its norm).
#[pyclass(name = "Normalizer", module = "oximl._oximl")]
pub struct PyNormalizer {
    inner: Normalizer,
}

#[pymethods]
impl PyNormalizer {
    /// `norm` is a name of the core's `Norm` (`"l1"`, `"l2"`, `"max"`).
    #[new]
    fn new(py: Python<'_>, norm: &str) -> PyResult<Self> {
        let norm: Norm = norm.parse().map_err(|e| to_py_err(py, e))?;
        Ok(PyNormalizer { inner: Normalizer::with_norm(norm) })
    }

    #[getter]
    fn norm(&self) -> String {
        self.inner.norm().to_string()
    }

    fn transform<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> Out<'py> {
        apply(py, x, |x| self.inner.transform(x))
    }
}

/// `(train, test)` row indices of a seeded split of `n_test` test rows (the core `split_indices_by_count`);
/// `strata` = one label code per row, in any numbering: the core's `group_ids` renumbers them by first
/// appearance, as its `train_test_split` does.
#[pyfunction]
#[pyo3(signature = (n_samples, n_test, seed, strata=None))]
fn split_indices<'py>(
    py: Python<'py>,
    n_samples: usize,
    n_test: usize,
    seed: u64,
    strata: Option<PyReadonlyArray1<'py, usize>>,
) -> PyResult<(Indices<'py>, Indices<'py>)> {
    let labels = strata.as_ref().map(|s| s.as_array());
    let (train, test) = detach(py, move || {
        let groups = labels.map(|l| data::group_ids(l.iter().copied()));
        data::split_indices_by_count(n_samples, n_test, seed, groups.as_deref())
    })?;
    Ok((train.into_pyarray(py), test.into_pyarray(py)))
}

/// The indices of the rows of `x` (or of `y`) holding a NaN (the core `missing_report`).
#[pyfunction]
#[pyo3(signature = (x, y=None))]
fn missing_rows<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    y: Option<PyReadonlyArray1<'py, f32>>,
) -> PyResult<Indices<'py>> {
    let (xv, yv) = (x.as_array(), y.as_ref().map(|y| y.as_array()));
    if let Some(len) = yv.map(|y| y.len()).filter(|&len| len != xv.nrows()) {
        return Err(to_py_err(
            py,
            Error::shape(format!("y of length {} (the rows of x)", xv.nrows()), len.to_string()),
        ));
    }
    Ok(py.detach(move || data::missing_report(xv, yv).rows).into_pyarray(py))
}

/// Adds the classes and functions of this module to the extension.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStandardScaler>()?;
    m.add_class::<PyMinMaxScaler>()?;
    m.add_class::<PyNormalizer>()?;
    m.add_function(wrap_pyfunction!(split_indices, m)?)?;
    m.add_function(wrap_pyfunction!(missing_rows, m)?)?;
    Ok(())
}
