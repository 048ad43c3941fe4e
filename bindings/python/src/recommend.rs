//! `oximl._oximl.Ratings`, `MfModel`, `FoldedUser` and the ranking metrics: the core `mf` module behind
//! `oximl.recommend`. Ids arrive as strings (`oximl.recommend` turns integer ids into their decimal text, as the
//! core does); training, batch scoring and metrics run with the GIL released.

use crate::{detach, detach_cancellable, from_json, to_py_bytes, to_py_err};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use oximl_core::Error;
use oximl_core::Persist;
use oximl_core::mf::split::Split;
use oximl_core::mf::{Algorithm, Folded, MfModel, Ratings, RatingsBuilder, RatingsCsvOptions, RatingsOptions, metrics};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::collections::HashSet;
use std::path::PathBuf;

/// Ratings with their id maps (see `oximl.recommend.Ratings`).
#[pyclass(name = "Ratings", module = "oximl._oximl", frozen)]
pub struct PyRatings {
    inner: Ratings,
}

fn pair(parts: (Ratings, Ratings)) -> (PyRatings, PyRatings) {
    (PyRatings { inner: parts.0 }, PyRatings { inner: parts.1 })
}

#[pymethods]
impl PyRatings {
    /// Ratings from columns of equal length (ids as strings); `options_json` holds `RatingsOptions`.
    #[staticmethod]
    #[pyo3(signature = (users, items, ratings, timestamps, options_json))]
    fn from_columns(
        py: Python<'_>,
        users: Vec<String>,
        items: Vec<String>,
        ratings: PyReadonlyArray1<'_, f32>,
        timestamps: Option<PyReadonlyArray1<'_, i64>>,
        options_json: &str,
    ) -> PyResult<Self> {
        let options: RatingsOptions = from_json(py, "options", options_json)?;
        let (values, times) = (ratings.as_array(), timestamps.as_ref().map(|t| t.as_array()));
        let inner = detach(py, move || {
            let n = users.len();
            if items.len() != n || values.len() != n || times.is_some_and(|t| t.len() != n) {
                let got = format!(
                    "{n} users, {} items, {} ratings, {:?} timestamps",
                    items.len(),
                    values.len(),
                    times.map(|t| t.len())
                );
                return Err(Error::shape("columns of equal length", got));
            }
            let mut b = RatingsBuilder::new(options)?;
            for (k, (u, i)) in users.into_iter().zip(items).enumerate() {
                match times {
                    Some(t) => b.push_at(u, i, values[k], t[k])?,
                    None => b.push(u, i, values[k])?,
                }
            }
            b.build()
        })?;
        Ok(PyRatings { inner })
    }

    /// Reads a delimited file; `options_json` is a preset and the fields to change (`RatingsCsvOptions::from_json`).
    /// Ctrl-C stops the reading.
    #[staticmethod]
    fn read_csv(py: Python<'_>, path: PathBuf, options_json: &str) -> PyResult<Self> {
        let patch: serde_json::Value = from_json(py, "options", options_json)?;
        let options = RatingsCsvOptions::from_json(patch).map_err(|e| to_py_err(py, e))?;
        let inner = detach_cancellable(py, move |cancel| Ratings::read_csv_cancellable(&path, &options, cancel))?;
        Ok(PyRatings { inner })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    #[getter]
    fn n_users(&self) -> usize {
        self.inner.users().len()
    }

    #[getter]
    fn n_items(&self) -> usize {
        self.inner.items().len()
    }

    #[getter]
    fn skipped(&self) -> usize {
        self.inner.skipped()
    }

    #[getter]
    fn scale(&self) -> (f32, f32) {
        self.inner.scale()
    }

    #[getter]
    fn mean(&self) -> f32 {
        self.inner.mean()
    }

    #[getter]
    fn user_ids(&self) -> Vec<String> {
        self.inner.users().ids().to_vec()
    }

    #[getter]
    fn item_ids(&self) -> Vec<String> {
        self.inner.items().ids().to_vec()
    }

    #[getter]
    fn user_indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        self.inner.user_indices().to_pyarray(py)
    }

    #[getter]
    fn item_indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        self.inner.item_indices().to_pyarray(py)
    }

    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.inner.values().to_pyarray(py)
    }

    #[getter]
    fn timestamps<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i64>>> {
        self.inner.timestamps().map(|t| t.to_pyarray(py))
    }

    /// `(train, test)` by a `split::Split` given as JSON.
    fn split(&self, py: Python<'_>, split_json: &str) -> PyResult<(Self, Self)> {
        let split: Split = from_json(py, "split", split_json)?;
        let r = &self.inner;
        Ok(pair(detach(py, move || split.apply(r))?))
    }
}

/// A user folded into a trained model (`MfModel.fold_in`).
#[pyclass(name = "FoldedUser", module = "oximl._oximl", frozen)]
pub struct PyFolded {
    inner: Folded,
}

#[pymethods]
impl PyFolded {
    #[getter]
    fn factors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.inner.factors.to_pyarray(py)
    }

    #[getter]
    fn bias(&self) -> f32 {
        self.inner.bias
    }
}

/// A trained matrix factorization (any algorithm).
#[pyclass(name = "MfModel", module = "oximl._oximl", frozen)]
pub struct PyMfModel {
    inner: MfModel,
}

type Scored = Vec<(String, f32)>;

#[pymethods]
impl PyMfModel {
    /// Trains on `ratings` with the algorithm given as JSON (`{"algorithm": "funk_svd" | "als" | "implicit_als",
    /// <hyper-parameters>}`); Ctrl-C stops the training (`KeyboardInterrupt`).
    #[staticmethod]
    fn fit(py: Python<'_>, ratings: &Bound<'_, PyRatings>, algorithm_json: &str) -> PyResult<Self> {
        let algorithm: Algorithm = from_json(py, "algorithm", algorithm_json)?;
        let r = &ratings.get().inner;
        let inner = detach_cancellable(py, move |cancel| algorithm.fit_cancellable(r, cancel))?;
        Ok(PyMfModel { inner })
    }

    /// A model from factor matrices alone (`MfModel::from_factors`: an unbiased algorithm given as JSON, the ids
    /// of the rows), as Spark MLlib's `ALSModel` holds it.
    #[staticmethod]
    fn from_factors(
        py: Python<'_>,
        algorithm_json: &str,
        users: Vec<String>,
        items: Vec<String>,
        user_factors: PyReadonlyArray2<'_, f32>,
        item_factors: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Self> {
        let algorithm: Algorithm = from_json(py, "algorithm", algorithm_json)?;
        let (p, q) = (user_factors.as_array().to_owned(), item_factors.as_array().to_owned());
        Ok(PyMfModel { inner: detach(py, move || MfModel::from_factors(algorithm, users, items, p, q))? })
    }

    #[getter]
    fn algorithm_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(self.inner.algorithm()).map_err(|e| to_py_err(py, Error::Format(e.to_string())))
    }

    fn predict(&self, user: &str, item: &str) -> f32 {
        self.inner.predict(user, item)
    }

    /// Predictions for pairs `(users[k], items[k])`.
    fn predict_many<'py>(
        &self,
        py: Python<'py>,
        users: Vec<String>,
        items: Vec<String>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let model = &self.inner;
        let out = detach(py, move || {
            if users.len() != items.len() {
                return Err(Error::shape(format!("{} items (one per user)", users.len()), items.len().to_string()));
            }
            Ok(users.iter().zip(&items).map(|(u, i)| model.predict(u, i)).collect::<Vec<f32>>())
        })?;
        Ok(out.into_pyarray(py))
    }

    fn recommend(&self, py: Python<'_>, user: &str, k: usize, exclude_seen: bool) -> PyResult<Scored> {
        let model = &self.inner;
        detach(py, move || model.recommend_ids(user, k, exclude_seen))
    }

    fn recommend_batch(
        &self,
        py: Python<'_>,
        users: Vec<String>,
        k: usize,
        exclude_seen: bool,
    ) -> PyResult<Vec<Scored>> {
        let model = &self.inner;
        detach(py, move || model.recommend_batch_ids(&users, k, exclude_seen))
    }

    fn similar_items(&self, py: Python<'_>, item: &str, k: usize) -> PyResult<Scored> {
        let model = &self.inner;
        detach(py, move || model.similar_items_ids(item, k))
    }

    fn fold_in(&self, py: Python<'_>, ratings: Vec<(String, f32)>) -> PyResult<PyFolded> {
        let model = &self.inner;
        Ok(PyFolded { inner: detach(py, move || model.fold_in(&ratings))? })
    }

    fn recommend_folded(
        &self,
        py: Python<'_>,
        user: &Bound<'_, PyFolded>,
        k: usize,
        exclude_seen: bool,
    ) -> PyResult<Scored> {
        let (model, folded) = (&self.inner, &user.get().inner);
        detach(py, move || model.recommend_folded_ids(folded, k, exclude_seen))
    }

    #[getter]
    fn user_factors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        self.inner.user_factor_matrix().to_pyarray(py)
    }

    #[getter]
    fn item_factors<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f32>> {
        self.inner.item_factor_matrix().to_pyarray(py)
    }

    #[getter]
    fn user_biases<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.inner.user_biases().to_pyarray(py)
    }

    #[getter]
    fn item_biases<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        self.inner.item_biases().to_pyarray(py)
    }

    #[getter]
    fn mean(&self) -> f32 {
        self.inner.mean()
    }

    #[getter]
    fn scale(&self) -> (f32, f32) {
        self.inner.scale()
    }

    #[getter]
    fn user_ids(&self) -> Vec<String> {
        self.inner.users().ids().to_vec()
    }

    #[getter]
    fn item_ids(&self) -> Vec<String> {
        self.inner.items().ids().to_vec()
    }

    #[getter]
    fn history(&self) -> Vec<f64> {
        self.inner.history().to_vec()
    }

    fn rmse(&self, py: Python<'_>, test: &Bound<'_, PyRatings>) -> PyResult<f64> {
        let (model, test) = (&self.inner, &test.get().inner);
        detach(py, move || metrics::rmse(model, test))
    }

    fn mae(&self, py: Python<'_>, test: &Bound<'_, PyRatings>) -> PyResult<f64> {
        let (model, test) = (&self.inner, &test.get().inner);
        detach(py, move || metrics::mae(model, test))
    }

    /// Top-`k` quality on `test` as a dict (precision, recall, map, ndcg, coverage, users).
    fn ranking<'py>(
        &self,
        py: Python<'py>,
        test: &Bound<'_, PyRatings>,
        k: usize,
        threshold: f32,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (model, test) = (&self.inner, &test.get().inner);
        let m = detach(py, move || metrics::ranking(model, test, k, threshold))?;
        let d = PyDict::new(py);
        d.set_item("precision", m.precision)?;
        d.set_item("recall", m.recall)?;
        d.set_item("map", m.map)?;
        d.set_item("ndcg", m.ndcg)?;
        d.set_item("coverage", m.coverage)?;
        d.set_item("users", m.users)?;
        Ok(d)
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let model = &self.inner;
        detach(py, move || model.save(&path))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Ok(PyMfModel { inner: detach(py, move || MfModel::load(&path))? })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let model = &self.inner;
        to_py_bytes(py, move || model.to_bytes())
    }

    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Ok(PyMfModel { inner: detach(py, move || MfModel::from_bytes(data))? })
    }
}

/// One ranking metric of a top-`k` list against a relevant set (items coded as integers by `oximl.recommend`):
/// `name` is "precision", "recall", "average_precision" or "ndcg".
#[pyfunction]
fn rank_metric(py: Python<'_>, name: &str, recommended: Vec<u64>, relevant: Vec<u64>, k: usize) -> PyResult<f64> {
    let relevant: HashSet<u64> = relevant.into_iter().collect();
    let f = match name {
        "precision" => metrics::precision_at_k,
        "recall" => metrics::recall_at_k,
        "average_precision" => metrics::average_precision_at_k,
        "ndcg" => metrics::ndcg_at_k,
        other => return Err(to_py_err(py, Error::invalid("name", format!("unknown ranking metric {other:?}")))),
    };
    f(&recommended, &relevant, k).map_err(|e| to_py_err(py, e))
}

/// Catalogue coverage of top-k lists (items coded as integers).
#[pyfunction]
fn coverage(lists: Vec<Vec<u64>>, items: usize) -> f64 {
    metrics::coverage(&lists, items)
}

/// Adds this module's classes and functions to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRatings>()?;
    m.add_class::<PyFolded>()?;
    m.add_class::<PyMfModel>()?;
    m.add_function(wrap_pyfunction!(rank_metric, m)?)?;
    m.add_function(wrap_pyfunction!(coverage, m)?)
}
