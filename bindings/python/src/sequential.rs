//! `oximl._oximl.Sequential`: the core `Sequential` behind the Keras-style classes of `oximl.models`.
//! Arrays come in as numpy float32 views (zero-copy; `oximl.models` converts other dtypes and layouts once);
//! every heavy call runs with the GIL released. The model sits behind a read-write lock: predictions from many
//! threads share it; `fit` (and every other change) waits for the predictions in flight, then holds it
//! exclusively; a call that would have to wait for `fit` or another change (from another thread, or from a
//! callback of that `fit`) gets a clear error instead of blocking or pyo3's "Already mutably borrowed".

use crate::{detach, from_json, to_py_err};
use numpy::{IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use oximl_core::Persist;
use oximl_core::nn::{Callback, Control, FitConfig, FitOptions, Layer, Logs, Sequential};
use oximl_core::{Error, nn};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};

/// A Keras-style sequential model (configured by JSON from `oximl.models`).
#[pyclass(name = "Sequential", module = "oximl._oximl", frozen)]
pub struct PySequential {
    inner: RwLock<Sequential>,
    /// Set while a change (`fit`, `compile`, `set_weights`, ...) holds the model or waits for it.
    changing: AtomicBool,
}

/// The error of a call made while `fit` or another change runs.
fn busy(py: Python<'_>) -> PyErr {
    let why = "the model is being trained or changed by another thread (or this call comes from a callback of \
               its fit); call it after that returns";
    to_py_err(py, Error::invalid("model", why))
}

/// The model held for a change; lets other changes in when dropped.
pub(crate) struct Changing<'a> {
    model: RwLockWriteGuard<'a, Sequential>,
    flag: &'a AtomicBool,
}

impl Deref for Changing<'_> {
    type Target = Sequential;
    fn deref(&self) -> &Sequential {
        &self.model
    }
}

impl DerefMut for Changing<'_> {
    fn deref_mut(&mut self) -> &mut Sequential {
        &mut self.model
    }
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.flag.store(false, Ordering::Release);
    }
}

impl PySequential {
    fn new_from(model: Sequential) -> Self {
        PySequential { inner: RwLock::new(model), changing: AtomicBool::new(false) }
    }

    pub(crate) fn read(&self, py: Python<'_>) -> PyResult<RwLockReadGuard<'_, Sequential>> {
        match self.inner.try_read() {
            Ok(m) => Ok(m),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy(py)),
        }
    }

    /// The model for a change: waits (without the GIL) for the predictions in flight, which are short and never
    /// call Python; refuses at once while another change runs, which may be long or may be the caller itself.
    pub(crate) fn write(&self, py: Python<'_>) -> PyResult<Changing<'_>> {
        if self.changing.swap(true, Ordering::AcqRel) {
            return Err(busy(py));
        }
        let model = loop {
            match self.inner.try_write() {
                Ok(m) => break m,
                Err(TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(TryLockError::WouldBlock) => py.detach(|| drop(self.inner.write())),
            }
        };
        Ok(Changing { model, flag: &self.changing })
    }
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

/// Forwards epochs to a Python object: `on_epoch_begin(epoch, learning_rate)` may return a new learning rate
/// (or None), `on_epoch_end(epoch, logs, weights) -> bool` (true stops training; numbers added to `logs`
/// join the history; `weights` is a copy, since the
/// model itself is borrowed by `fit`, made only when the object's `needs_weights` is true, else `None`); checks
/// for Ctrl-C after every batch. A Python exception stops training and is re-raised by `fit`.
struct PyCallback {
    target: Option<Py<PyAny>>,
    needs_weights: bool,
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
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut Sequential) -> oximl_core::Result<Control> {
        let failed = self.error.lock().map_or(true, |slot| slot.is_some());
        let Some(target) = self.target.as_ref().filter(|_| !failed) else { return Ok(Control::Continue) };
        let lr = model.learning_rate().unwrap_or(0.0);
        let outcome = Python::attach(|py| -> PyResult<Option<f32>> {
            target.bind(py).call_method1("on_epoch_begin", (epoch, lr))?.extract()
        });
        match outcome {
            Ok(Some(new)) => model.set_learning_rate(new).map(|()| Control::Continue),
            Ok(None) => Ok(Control::Continue),
            Err(e) => Ok(self.fail(e)),
        }
    }

    fn on_batch_end(&mut self, _epoch: usize, _batch: usize, _loss: f64) -> oximl_core::Result<Control> {
        match Python::attach(|py| py.check_signals()) {
            Ok(()) => Ok(Control::Continue),
            Err(e) => Ok(self.fail(e)),
        }
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, model: &mut Sequential) -> oximl_core::Result<Control> {
        // After Ctrl-C or a Python error in this epoch, the Python side sees no partial epoch.
        let failed = self.error.lock().map_or(true, |slot| slot.is_some());
        let Some(target) = self.target.as_ref().filter(|_| !failed) else { return Ok(Control::Continue) };
        let outcome = Python::attach(|py| -> PyResult<bool> {
            let weights: Option<Vec<_>> =
                self.needs_weights.then(|| model.get_weights().into_iter().map(|w| w.into_pyarray(py)).collect());
            let dict = logs_dict(py, logs)?;
            let stop = target.bind(py).call_method1("on_epoch_end", (epoch, &dict, weights))?;
            // Values the Python callbacks added (Keras' LearningRateScheduler logs `learning_rate`).
            for (k, v) in dict.iter() {
                let name: String = k.extract()?;
                if logs.get(&name).is_none() {
                    logs.push(name, v.extract::<f64>()?);
                }
            }
            stop.is_truthy()
        });
        match outcome {
            Ok(true) => Ok(Control::Stop),
            Ok(false) => Ok(Control::Continue),
            Err(e) => Ok(self.fail(e)),
        }
    }
}

#[pymethods]
impl PySequential {
    #[new]
    fn new(input_dim: usize, seed: u64) -> Self {
        PySequential::new_from(Sequential::with_seed(input_dim, seed))
    }

    /// Appends a layer given as JSON (`{"type": "dense", "units": .., "activation": {"name": ..}, ...}`).
    fn add(&self, py: Python<'_>, layer_json: &str) -> PyResult<()> {
        let layer: Layer = from_json(py, "layer", layer_json)?;
        self.write(py)?.add(layer).map(|_| ()).map_err(|e| to_py_err(py, e))
    }

    /// Compiles from JSON `{"optimizer": {...}, "loss": {...}, "metrics": [...]}`.
    fn compile(&self, py: Python<'_>, config_json: &str) -> PyResult<()> {
        let c: nn::Compiled = from_json(py, "compile", config_json)?;
        self.write(py)?.compile_with(c).map_err(|e| to_py_err(py, e))
    }

    #[getter]
    fn input_dim(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.read(py)?.input_dim())
    }

    #[getter]
    fn output_dim(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.read(py)?.output_dim())
    }

    #[getter]
    fn layers_json(&self, py: Python<'_>) -> PyResult<String> {
        serde_json::to_string(self.read(py)?.layers()).map_err(|e| to_py_err(py, json_err("layers", e)))
    }

    #[getter]
    fn compiled_json(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.read(py)?
            .compiled()
            .map(|c| serde_json::to_string(c).map_err(|e| to_py_err(py, json_err("compile", e))))
            .transpose()
    }

    /// Trains with the core's `FitConfig` as JSON; returns the history as a list of per-epoch dicts and the epoch
    /// training stopped after (if a callback stopped it).
    #[pyo3(signature = (x, y, config_json, validation_data=None, callback=None, sample_weight=None, validation_sample_weight=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        y: PyReadonlyArray2<'py, f32>,
        config_json: &str,
        validation_data: Option<(PyReadonlyArray2<'py, f32>, PyReadonlyArray2<'py, f32>)>,
        callback: Option<Py<PyAny>>,
        sample_weight: Option<PyReadonlyArray1<'py, f32>>,
        validation_sample_weight: Option<PyReadonlyArray1<'py, f32>>,
    ) -> PyResult<(Vec<Bound<'py, PyDict>>, Option<usize>)> {
        let config: FitConfig = from_json(py, "fit", config_json)?;
        let error = Arc::new(Mutex::new(None));
        let needs_weights = match &callback {
            Some(c) => c.bind(py).getattr("needs_weights").and_then(|v| v.is_truthy()).unwrap_or(true),
            None => false,
        };
        let hook = PyCallback { target: callback, needs_weights, error: Arc::clone(&error) };
        let (xv, yv) = (x.as_array(), y.as_array());
        let validation = validation_data.as_ref().map(|(a, b)| (a.as_array(), b.as_array()));
        let weights = sample_weight.as_ref().map(|w| w.as_array());
        let validation_weights = validation_sample_weight.as_ref().map(|w| w.as_array());
        let mut model = self.write(py)?;
        let model = &mut *model;
        let history = detach(py, move || {
            let mut options = FitOptions::from(config);
            options.validation_data = validation;
            options.sample_weight = weights;
            options.validation_sample_weight = validation_weights;
            options.callbacks.push(Box::new(hook));
            model.fit(xv, yv, options)
        })?;
        if let Some(e) = error.lock().ok().and_then(|mut slot| slot.take()) {
            return Err(e);
        }
        let epochs = history.epochs.iter().map(|l| logs_dict(py, l)).collect::<PyResult<_>>()?;
        Ok((epochs, history.stopped_at))
    }

    /// `[(name, value)]` for the loss and each metric, samples weighted by `sample_weight` if given.
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        y: PyReadonlyArray2<'py, f32>,
        sample_weight: Option<PyReadonlyArray1<'py, f32>>,
    ) -> PyResult<Vec<(String, f64)>> {
        let model = self.read(py)?;
        let (xv, yv, model) = (x.as_array(), y.as_array(), &*model);
        let wv = sample_weight.as_ref().map(|w| w.as_array());
        Ok(detach(py, move || model.evaluate_weighted(xv, yv, wv))?.0)
    }

    fn predict<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let model = self.read(py)?;
        let (xv, model) = (x.as_array(), &*model);
        Ok(detach(py, move || model.predict(xv))?.into_pyarray(py))
    }

    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let model = self.read(py)?;
        let (xv, model) = (x.as_array(), &*model);
        Ok(detach(py, move || model.predict_proba(xv))?.into_pyarray(py))
    }

    fn summary(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.read(py)?.summary())
    }

    fn get_weights<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyArrayDyn<f32>>>> {
        Ok(self.read(py)?.get_weights().into_iter().map(|w| w.into_pyarray(py)).collect())
    }

    fn set_weights(&self, py: Python<'_>, weights: Vec<PyReadonlyArrayDyn<'_, f32>>) -> PyResult<()> {
        let owned = weights.iter().map(|w| w.as_array().to_owned()).collect();
        self.write(py)?.set_weights(owned).map_err(|e| to_py_err(py, e))
    }

    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let model = self.read(py)?;
        let model = &*model;
        detach(py, move || model.save(&path))
    }

    fn export_onnx(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let model = self.read(py)?;
        let model = &*model;
        detach(py, move || model.export_onnx(&path))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        Ok(PySequential::new_from(detach(py, move || Sequential::load(&path))?))
    }

    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let model = self.read(py)?;
        let model = &*model;
        crate::to_py_bytes(py, move || model.to_bytes())
    }

    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Ok(PySequential::new_from(Sequential::from_bytes(data).map_err(|e| to_py_err(py, e))?))
    }
}
