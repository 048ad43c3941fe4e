//! `oximl._oximl.cli`: the `oximl` command line (`info`, `convert`, `quantize`, `serve`), run from Python by the
//! `oximl` console script and `python -m oximl` with the GIL released; Ctrl-C stops `serve` gracefully (the
//! requests in flight are answered) and raises `KeyboardInterrupt`.

use pyo3::prelude::*;

/// Runs `oximl ARGS...` (the same arguments as the binary) and returns its exit status: 0 done or `--help`
/// printed, 1 the work failed, 2 a usage error; messages go to standard error.
#[pyfunction]
pub fn cli(py: Python<'_>, args: Vec<String>) -> PyResult<u8> {
    let argv = std::iter::once("oximl".to_owned()).chain(args);
    crate::detach_cancellable(py, |cancel| Ok(oximl_cli::run(argv, cancel)))
}
