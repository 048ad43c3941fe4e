//! Compression of a `Sequential` from C: int8 quantization and magnitude pruning, configured by JSON read into
//! the core's types (`oximl_core::compress`).

use super::convert::{handle, handle_mut, json, write_out};
use super::sequential::oximl_sequential;
use super::{guard, oximl_status};
use oximl_core::Error;
use oximl_core::compress::{PruneConfig, PruningSchedule, QuantizeConfig};
use std::ffi::c_char;

/// Quantizes the model in place: `{"mode": "int8"}` (optionally `"reduce_range": true`). Dense kernels become int8
/// per output unit; predict and evaluate then run int8 products. The model can no longer be trained or pruned.
/// Needs exclusive access to `model`.
///
/// ```c
/// oximl_sequential_quantize(model, "{\"mode\": \"int8\"}");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_quantize(model: *mut oximl_sequential, config_json: *const c_char) -> oximl_status {
    guard(|| {
        let m = handle_mut("model", model)?;
        let config: QuantizeConfig = json("config_json", config_json)?;
        m.model.quantize(&config)
    })
}

/// One-shot magnitude pruning: `{"sparsity": 0.8, "scope": "global"}` (`scope` `"layer"` by default; `"layers"`:
/// indices of the Dense layers to prune, all by default). Biases are never pruned; the mask is kept through later
/// `fit`s. Needs exclusive access to `model`.
///
/// ```c
/// oximl_sequential_prune(model, "{\"sparsity\": 0.8, \"scope\": \"global\"}");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_prune(model: *mut oximl_sequential, config_json: *const c_char) -> oximl_status {
    guard(|| {
        let m = handle_mut("model", model)?;
        let config: PruneConfig = json("config_json", config_json)?;
        m.model.prune(&config)
    })
}

/// Pruning during training, as TF-MOT's `prune_low_magnitude`: `{"name": "polynomial_decay", "initial_sparsity":
/// 0.5, "final_sparsity": 0.9, "begin_step": 0, "end_step": 1000, "frequency": 100}` or `{"name":
/// "constant_sparsity", "target_sparsity": 0.8, "begin_step": 0}`. Needs exclusive access to `model`.
///
/// ```c
/// const char *schedule = "{\"name\": \"constant_sparsity\", \"target_sparsity\": 0.8, \"begin_step\": 0}";
/// oximl_sequential_prune_low_magnitude(model, schedule);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_prune_low_magnitude(
    model: *mut oximl_sequential,
    schedule_json: *const c_char,
) -> oximl_status {
    guard(|| {
        let m = handle_mut("model", model)?;
        let schedule: PruningSchedule = json("schedule_json", schedule_json)?;
        m.model.prune_low_magnitude(schedule)
    })
}

/// Removes the pruning masks (TF-MOT's `strip_pruning`); the weights stay as they are. Needs exclusive access.
///
/// ```c
/// oximl_sequential_strip_pruning(model);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_strip_pruning(model: *mut oximl_sequential) -> oximl_status {
    guard(|| {
        handle_mut("model", model)?.model.strip_pruning();
        Ok(())
    })
}

/// The fraction of zero kernel weights: in total into `total`, and per Dense layer (in order) into `per_layer`
/// (`capacity` doubles; may be NULL with capacity 0), their count into `written`. Thread-safe on one handle.
///
/// ```c
/// double layers[3], total; size_t n = 0;
/// oximl_sequential_sparsity(model, layers, 3, &n, &total);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_sparsity(
    model: *const oximl_sequential,
    per_layer: *mut f64,
    capacity: usize,
    written: *mut usize,
    total: *mut f64,
) -> oximl_status {
    guard(|| {
        let s = handle("model", model)?.model.sparsity();
        write_out("written", written, s.layers.len())?;
        write_out("total", total, s.total)?;
        if capacity == 0 {
            return Ok(());
        }
        if per_layer.is_null() || capacity < s.layers.len() {
            return Err(Error::invalid(
                "per_layer",
                format!("the buffer holds {capacity} values, {} are needed", s.layers.len()),
            ));
        }
        for (i, (_, v)) in s.layers.iter().enumerate() {
            // SAFETY: `i < capacity` writable doubles (checked above).
            unsafe { per_layer.add(i).write(*v) };
        }
        Ok(())
    })
}
