//! `oximl._oximl.serve`: the Rust server of `oximl serve`, run from Python (`python -m oximl serve ...`) with the
//! GIL released; Ctrl-C stops it gracefully (the requests in flight are answered) and raises `KeyboardInterrupt`.

use pyo3::exceptions::PySystemExit;
use pyo3::prelude::*;

/// Serves models as `oximl serve ARGS...` does (the same arguments), until Ctrl-C or SIGTERM. `--help` prints
/// the usage and returns; a usage error prints it and raises `SystemExit(2)`.
#[pyfunction]
pub fn serve(py: Python<'_>, args: Vec<String>) -> PyResult<()> {
    let config = match oximl_serve::Config::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Err(PySystemExit::new_err(e.exit_code())) } else { Ok(()) };
        }
    };
    crate::detach_cancellable(py, |cancel| oximl_serve::run_blocking(&config, cancel))
}
