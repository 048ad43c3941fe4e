//! The Python extension `oximl._oximl`: thin wrappers that extract arguments, call the core (with the GIL
//! released for anything heavy) and convert results. The public Python API lives in `python/oximl/`.

mod cli;
mod compress;
mod embeddings;
mod preprocessing;
mod recommend;
mod sequential;

use oximl_core::{Cancel, Error};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The Python exception classes of `oximl.errors` (its `BY_CODE`), indexed by `Error::code()`.
static EXCEPTIONS: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

/// Converts a core error into the matching `oximl.errors` exception (each subclasses `OximlError` and the
/// builtin a Python user would catch, e.g. `ShapeError(OximlError, ValueError)`).
pub(crate) fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    exception(py, e.code(), e.to_string())
}

/// What a panic (a bug in oximl) raises: `oximl.InternalError` with the panic's message, never pyo3's
/// `PanicException`, which derives from `BaseException` and so escapes `except Exception`.
fn panic_to_py_err(py: Python<'_>, panic: Box<dyn Any + Send>) -> PyErr {
    let what = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    exception(py, 0, format!("internal error (please report): {}", what.unwrap_or("unknown panic")))
}

/// An exception of the class `oximl.errors.BY_CODE[code]`.
fn exception(py: Python<'_>, code: u32, message: String) -> PyErr {
    let classes = EXCEPTIONS.get_or_try_init(py, || -> PyResult<Vec<Py<PyType>>> {
        let by_code = py.import("oximl.errors")?.getattr("BY_CODE")?;
        by_code.try_iter()?.map(|class| Ok(class?.cast_into::<PyType>()?.unbind())).collect()
    });
    match classes {
        Ok(classes) => {
            let class = classes.get(code as usize).unwrap_or(&classes[0]);
            PyErr::from_type(class.bind(py).clone(), message)
        }
        Err(import_error) => import_error,
    }
}

/// Calls a core function with the GIL released and converts its error (a panic too: `oximl.InternalError`).
pub(crate) fn detach<T: Send>(py: Python<'_>, f: impl FnOnce() -> oximl_core::Result<T> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(result) => result.map_err(|e| to_py_err(py, e)),
        Err(panic) => Err(panic_to_py_err(py, panic)),
    }
}

/// Runs a cancellable core operation with the GIL released on a helper thread, while this (the calling) thread
/// checks for Ctrl-C every 50 ms: a signal cancels the token, the operation stops at its next poll, and the signal's
/// exception (`KeyboardInterrupt`) is raised instead of the core's `Cancelled` error.
pub(crate) fn detach_cancellable<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&Cancel) -> oximl_core::Result<T> + Send,
) -> PyResult<T> {
    let cancel = Cancel::new();
    let (result, signal) = py.detach(|| {
        std::thread::scope(|scope| {
            let work = scope.spawn(|| f(&cancel));
            let mut signal = None;
            while !work.is_finished() {
                std::thread::park_timeout(std::time::Duration::from_millis(50));
                if signal.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    cancel.cancel();
                    signal = Some(e);
                }
            }
            (work.join(), signal)
        })
    });
    match (result, signal) {
        (_, Some(signal)) => Err(signal),
        (Ok(result), None) => result.map_err(|e| to_py_err(py, e)),
        (Err(panic), None) => Err(panic_to_py_err(py, panic)),
    }
}

/// Deserializes the JSON text that the Python package made with `oximl._config.dumps` into the core's serde type
/// `T`, which owns every name, alias and default: a misspelt or unknown key is an `InvalidArgumentError` naming it.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(py: Python<'_>, what: &str, text: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| to_py_err(py, Error::invalid(what, e.to_string())))
}

/// Serializes with the GIL released into Python `bytes` (what the pickling methods return).
pub(crate) fn to_py_bytes<'py>(
    py: Python<'py>,
    f: impl FnOnce() -> oximl_core::Result<Vec<u8>> + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &detach(py, f)?))
}

/// Checks a layer's JSON (from `oximl._config.dumps`) against the core's `Layer` type, so a Python layer with an
/// unknown activation or initializer fails where it is made, as in Keras.
#[pyfunction]
fn check_layer(py: Python<'_>, layer_json: &str) -> PyResult<()> {
    from_json::<oximl_core::nn::Layer>(py, "layer", layer_json).map(drop)
}

/// The JSON of an optimizer by Keras name with the core's defaults (what `Optimizer::from_name` gives), so the
/// Python classes need no copy of a default.
#[pyfunction]
fn optimizer_defaults(py: Python<'_>, name: &str) -> PyResult<String> {
    let optimizer = oximl_core::optim::Optimizer::from_name(name).map_err(|e| to_py_err(py, e))?;
    serde_json::to_string(&optimizer).map_err(|e| to_py_err(py, Error::invalid("optimizer", e.to_string())))
}

/// The library's version.
#[pyfunction]
fn version() -> &'static str {
    oximl_core::VERSION
}

/// Sets the number of threads of oximl's own pool (0 = one per physical core).
#[pyfunction]
fn set_num_threads(py: Python<'_>, threads: usize) -> PyResult<()> {
    detach(py, || oximl_core::set_num_threads(threads))
}

/// The number of threads of oximl's pool.
#[pyfunction]
fn num_threads() -> usize {
    oximl_core::num_threads()
}

/// Called in a forked child (registered with `os.register_at_fork`): the parent's pool threads do not exist
/// there, so the pool is rebuilt on next use instead of deadlocking.
#[pyfunction]
fn _reset_after_fork() {
    oximl_core::kernel::reset_after_fork();
}

#[pymodule]
fn _oximl(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", oximl_core::VERSION)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(check_layer, m)?)?;
    m.add_function(wrap_pyfunction!(optimizer_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_reset_after_fork, m)?)?;
    m.add_class::<sequential::PySequential>()?;
    recommend::register(m)?;
    compress::register(m)?;
    embeddings::register(m)?;
    m.add_function(wrap_pyfunction!(cli::cli, m)?)?;
    preprocessing::register(m)?;
    Ok(())
}
