//! `oximl._oximl.Sequential`: the core `Sequential` behind the Keras-style classes of `oximl.models`.
//! Arrays come in as numpy float32 views (zero-copy; `oximl.models` converts other dtypes and layouts once);
//! every heavy call runs with the GIL released.

use crate::{detach, from_json, to_py_err};
use numpy::{IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArray2, PyReadonlyArrayDyn};
use oximl_core::Persist;
use oximl_core::nn::{Callback, Control, FitOptions, Layer, Logs, Sequential};
use oximl_core::{Error, nn};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::sync::{Arc, Mutex};

/// A Keras-style sequential model (configured by JSON from `oximl.models`).
#[pyclass(name = "Sequential", module = "oximl._oximl")]
pub struct PySequential {
    inner: Sequential,
}

fn json_err(what: &str, e: serde_json::Error) -> Error {
    Error::invalid(what, e.to_string())
}

fn logs_dict<'py>(py: Python<'py>, logs: &Logs) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in &logs.0 {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Forwards epochs to a Python object's `on_epoch_end(epoch, logs, weights) -> bool` (true stops training;
/// `weights` is a copy, since the model itself is borrowed by `fit`) and checks for Ctrl-C after every batch.
/// A Python exception stops training and is re-raised by `fit`.
struct PyCallback {
    target: Option<Py<PyAny>>,
    error: Arc<Mutex<Option<PyErr>>>,
}

impl PyCallback {
    fn fail(&self, e: PyErr) -> Control {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
        Control::Stop
    }
}

impl Callback for PyCallback {
    fn on_batch_end(&mut self, _epoch: usize, _batch: usize, _loss: f64) -> Control {
        match Python::attach(|py| py.check_signals()) {
            Ok(()) => Control::Continue,
            Err(e) => self.fail(e),
        }
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &Sequential) -> Control {
        // After Ctrl-C or a Python error in this epoch, the Python side sees no partial epoch.
        let failed = self.error.lock().map_or(true, |slot| slot.is_some());
        let Some(target) = self.target.as_ref().filter(|_| !failed) else { return Control::Continue };
        let outcome = Python::attach(|py| -> PyResult<bool> {
            let weights: Vec<_> = model.get_weights().into_iter().map(|w| w.into_pyarray(py)).collect();
            let stop = target.bind(py).call_method1("on_epoch_end", (epoch, logs_dict(py, logs)?, weights))?;
            stop.is_truthy()
        });
        match outcome {
            Ok(true) => Control::Stop,
            Ok(false) => Control::Continue,
            Err(e) => self.fail(e),
        }
    }
}

#[pymethods]
impl PySequential {
    #[new]
    fn new(input_dim: usize, seed: u64) -> Self {
        PySequential { inner: Sequential::with_seed(input_dim, seed) }
    }

    /// Appends a layer given as JSON (`{"type": "dense", "units": .., "activation": {"name": ..}, ...}`).
    fn add(&mut self, py: Python<'_>, layer_json: &str) -> PyResult<()> {
        let layer: Layer = from_json(py, "layer", layer_json)?;
        self.inner.add(layer).map(|_| ()).map_err(|e| to_py_err(py, e))
    }

    /// Compiles from JSON `{"optimizer": {...}, "loss": {...}, "metrics": [...]}`.
    fn compile(&mut self, py: Python<'_>, config_json: &str) -> PyResult<()> {
        let c: nn::Compiled = from_json(py, "compile", config_json)?;
        self.inner.compile(c.optimizer, c.loss, &c.metrics).map_err(|e| to_py_err(py, e))
    }

    #[getter]
    fn input_dim(&self) -> usize {
        self.inner.input_dim()
    }

    #[getter]
    fn output_dim(&self) -> usize {
        self.inner.output_dim()
    }

    #[getter]
    fn layers_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(self.inner.layers()).map_err(|e| to_py_err(py, json_err("layers", e)))
    }

    #[getter]
    fn compiled_json(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.inner
            .compiled()
            .map(|c| serde_json::to_string(c).map_err(|e| to_py_err(py, json_err("compile", e))))
            .transpose()
    }

    /// Trains; returns the history as a list of per-epoch dicts.
    #[pyo3(signature = (x, y, epochs, batch_size, shuffle, seed, validation_split, validation_data=None, callback=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        y: PyReadonlyArray2<'py, f32>,
        epochs: usize,
        batch_size: usize,
        shuffle: bool,
        seed: u64,
        validation_split: f64,
        validation_data: Option<(PyReadonlyArray2<'py, f32>, PyReadonlyArray2<'py, f32>)>,
        callback: Option<Py<PyAny>>,
    ) -> PyResult<(Vec<Bound<'py, PyDict>>, Option<usize>)> {
        let error = Arc::new(Mutex::new(None));
        let hook = PyCallback { target: callback, error: Arc::clone(&error) };
        let (xv, yv) = (x.as_array(), y.as_array());
        let validation = validation_data.as_ref().map(|(a, b)| (a.as_array(), b.as_array()));
        let model = &mut self.inner;
        let history = detach(py, move || {
            let options = FitOptions {
                epochs,
                batch_size,
                shuffle,
                seed,
                validation_data: validation,
                validation_split,
                verbose: false,
                callbacks: vec![Box::new(hook)],
            };
            model.fit(xv, yv, options)
        })?;
        if let Some(e) = error.lock().ok().and_then(|mut slot| slot.take()) {
            return Err(e);
        }
        let epochs = history.epochs.iter().map(|l| logs_dict(py, l)).collect::<PyResult<_>>()?;
        Ok((epochs, history.stopped_at))
    }

    /// `[(name, value)]` for the loss and each metric.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        y: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Vec<(String, f64)>> {
        let (xv, yv, model) = (x.as_array(), y.as_array(), &self.inner);
        Ok(detach(py, move || model.evaluate(xv, yv))?.0)
    }

    fn predict<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (xv, model) = (x.as_array(), &self.inner);
        Ok(detach(py, move || model.predict(xv))?.into_pyarray(py))
    }

    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (xv, model) = (x.as_array(), &self.inner);
        Ok(detach(py, move || model.predict_proba(xv))?.into_pyarray(py))
    }

    fn summary(&self) -> String {
        self.inner.summary()
    }

    fn get_weights<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArrayDyn<f32>>> {
        self.inner.get_weights().into_iter().map(|w| w.into_pyarray(py)).collect()
    }

    fn set_weights(&mut self, py: Python<'_>, weights: Vec<PyReadonlyArrayDyn<'_, f32>>) -> PyResult<()> {
        let owned = weights.iter().map(|w| w.as_array().to_owned()).collect();
        self.inner.set_weights(owned).map_err(|e| to_py_err(py, e))
    }

    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let model = &self.inner;
        detach(py, move || model.save(&path))
    }

    fn export_onnx(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let model = &self.inner;
        detach(py, move || model.export_onnx(&path))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        Ok(PySequential { inner: detach(py, move || Sequential::load(&path))? })
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let model = &self.inner;
        crate::to_py_bytes(py, move || model.to_bytes())
    }

    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Ok(PySequential { inner: Sequential::from_bytes(data).map_err(|e| to_py_err(py, e))? })
    }
}
