//! Compression of an `oximl._oximl.Sequential` (behind `oximl.compression`): int8 quantization and magnitude
//! pruning, configured by JSON that the core's types read (`oximl_core::compress`).

use crate::sequential::PySequential;
use crate::{detach, from_json};
use oximl_core::compress::{PruneConfig, PruningSchedule, QuantizeConfig};
use pyo3::prelude::*;

/// Quantizes the model in place (`config`: `{"mode": "int8", ...}` as JSON).
#[pyfunction]
fn quantize(py: Python<'_>, model: &Bound<'_, PySequential>, config: &str) -> PyResult<()> {
    let config: QuantizeConfig = from_json(py, "quantize", config)?;
    let mut guard = model.get().write(py)?;
    let m = &mut *guard;
    detach(py, move || m.quantize(&config))
}

/// One-shot magnitude pruning (`config`: `{"sparsity": 0.8, "scope": "global", "layers": [...]}` as JSON).
#[pyfunction]
fn prune(py: Python<'_>, model: &Bound<'_, PySequential>, config: &str) -> PyResult<()> {
    let config: PruneConfig = from_json(py, "prune", config)?;
    let mut guard = model.get().write(py)?;
    let m = &mut *guard;
    detach(py, move || m.prune(&config))
}

/// Pruning during training on a schedule (JSON of a `PruningSchedule`).
#[pyfunction]
fn prune_low_magnitude(py: Python<'_>, model: &Bound<'_, PySequential>, schedule: &str) -> PyResult<()> {
    let schedule: PruningSchedule = from_json(py, "pruning_schedule", schedule)?;
    let mut guard = model.get().write(py)?;
    let m = &mut *guard;
    detach(py, move || m.prune_low_magnitude(schedule))
}

/// Removes the pruning masks.
#[pyfunction]
fn strip_pruning(py: Python<'_>, model: &Bound<'_, PySequential>) -> PyResult<()> {
    model.get().write(py)?.strip_pruning();
    Ok(())
}

/// `([(layer index, zero fraction)], total)` of the kernels.
#[pyfunction]
fn sparsity(py: Python<'_>, model: &Bound<'_, PySequential>) -> PyResult<(Vec<(usize, f64)>, f64)> {
    let s = model.get().read(py)?.sparsity();
    Ok((s.layers, s.total))
}

/// The quantization of the model as JSON (`None` if it is not quantized).
#[pyfunction]
fn quantization(py: Python<'_>, model: &Bound<'_, PySequential>) -> PyResult<Option<String>> {
    Ok(model.get().read(py)?.quantization().map(|q| serde_json::to_string(q).unwrap_or_default()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(quantize, m)?)?;
    m.add_function(wrap_pyfunction!(prune, m)?)?;
    m.add_function(wrap_pyfunction!(prune_low_magnitude, m)?)?;
    m.add_function(wrap_pyfunction!(strip_pruning, m)?)?;
    m.add_function(wrap_pyfunction!(sparsity, m)?)?;
    m.add_function(wrap_pyfunction!(quantization, m)?)?;
    Ok(())
}
