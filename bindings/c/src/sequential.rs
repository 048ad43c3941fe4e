//! `oximl_sequential`: dense networks from C. Configuration travels as JSON (the same schema as the Rust
//! serde types and the Python wrappers), arrays as row-major `float` buffers with their dimensions.

use super::convert::{handle, handle_mut, json, matrix, out_slot, output, text, values, write_out};
use super::{guard, oximl_status};
use oximl_core::Error;
use oximl_core::Persist;
use oximl_core::nn::{Callback, Compiled, Control, FitConfig, FitOptions, Layer, Logs, Sequential};
use std::ffi::{CString, c_char, c_int, c_void};

/// An opaque dense network. Thread-safety: the functions taking a `const oximl_sequential *` (`predict`,
/// `evaluate`, `output_dim`, `summary`, `save`) may run concurrently on one handle from any number of threads;
/// those taking an `oximl_sequential *` (`add`, `compile`, `fit`, `free`) need exclusive access to it.
pub struct oximl_sequential {
    pub(crate) model: Sequential,
}
impl super::convert::Handle for oximl_sequential {
    const NAME: &str = "oximl_sequential";
}

/// One epoch's values, passed to a training callback: `names[i]` = `values[i]` for `i < count`
/// (`loss`, metrics, then `val_` ones). Valid only during the call.
#[repr(C)]
pub struct oximl_epoch_log {
    /// The epoch, from 0.
    pub epoch: usize,
    /// How many values.
    pub count: usize,
    /// NUL-terminated names.
    pub names: *const *const c_char,
    /// The values.
    pub values: *const f64,
}

/// Called after each epoch, on the thread that called `fit`, with the caller's `user` pointer; returning non-zero
/// stops training (`fit` then returns `OXIML_STATUS_OK` with the epochs done so far).
pub type oximl_epoch_callback = Option<unsafe extern "C" fn(user: *mut c_void, log: *const oximl_epoch_log) -> c_int>;

/// Creates an empty model for inputs of `input_dim` features, its initial weights drawn with `seed`.
/// Thread-safe.
///
/// ```c
/// oximl_sequential *model = NULL;
/// oximl_sequential_new(64, 42, &model);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_new(input_dim: usize, seed: u64, out: *mut *mut oximl_sequential) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        if input_dim == 0 {
            return Err(Error::invalid("input_dim", "a model needs at least one input feature"));
        }
        super::convert::boxed(oximl_sequential { model: Sequential::with_seed(input_dim, seed) }, slot);
        Ok(())
    })
}

/// Appends a layer given as JSON: `{"type": "dense", "units": 64, "activation": {"name": "relu"}}` (optional:
/// `use_bias`, `kernel_initializer` ("glorot_uniform", "he_normal", ...), `kernel_regularizer` and
/// `bias_regularizer` as `{"l1": .., "l2": ..}`) or `{"type": "dropout", "rate": 0.2}`.
/// Needs exclusive access to `model`.
///
/// ```c
/// oximl_sequential_add(model, "{\"type\": \"dense\", \"units\": 10, \"activation\": {\"name\": \"softmax\"}}");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_add(model: *mut oximl_sequential, layer_json: *const c_char) -> oximl_status {
    guard(|| {
        let m = handle_mut("model", model)?;
        let layer: Layer = json("layer_json", layer_json)?;
        m.model.add(layer).map(|_| ())
    })
}

/// Fixes optimizer, loss and metrics from JSON: `{"optimizer": {"name": "adam", "learning_rate": 0.001},
/// "loss": {"name": "sparse_categorical_crossentropy"}, "metrics": ["accuracy"]}`.
/// Needs exclusive access to `model`.
///
/// ```c
/// oximl_sequential_compile(model, "{\"optimizer\": {\"name\": \"sgd\", \"learning_rate\": 0.1}, \"loss\": {\"name\": \"mean_squared_error\"}, \"metrics\": []}");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_compile(model: *mut oximl_sequential, config_json: *const c_char) -> oximl_status {
    guard(|| {
        let m = handle_mut("model", model)?;
        let c: Compiled = json("config_json", config_json)?;
        m.model.compile_with(c)
    })
}

/// `rows` sample weights at `p`, or none for NULL.
fn weights<'a>(p: *const f32, rows: usize) -> oximl_core::Result<Option<ndarray::ArrayView1<'a, f32>>> {
    match p.is_null() {
        true => Ok(None),
        false => Ok(Some(values("sample_weight", p, rows)?.into())),
    }
}

struct CCallback {
    callback: unsafe extern "C" fn(*mut c_void, *const oximl_epoch_log) -> c_int,
    user: *mut c_void,
}

impl Callback for CCallback {
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, _model: &mut Sequential) -> oximl_core::Result<Control> {
        let names: Vec<CString> = logs.0.iter().map(|(n, _)| CString::new(n.as_str()).unwrap_or_default()).collect();
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let values: Vec<f64> = logs.0.iter().map(|&(_, v)| v).collect();
        let log = oximl_epoch_log { epoch, count: values.len(), names: name_ptrs.as_ptr(), values: values.as_ptr() };
        // SAFETY: the caller's function pointer and user data, called as documented; `log` lives for the call.
        let stop = unsafe { (self.callback)(self.user, &log) };
        Ok(if stop != 0 { Control::Stop } else { Control::Continue })
    }
}

/// Trains on `x` (`rows × cols`) and targets `y` (`rows × y_cols`: one column of labels for sparse losses).
/// `options_json` may be NULL or the core's `FitConfig`, e.g. `{"epochs": 20, "batch_size": 32, "shuffle": true,
/// "seed": 0, "validation_split": 0.1, "verbose": 2, "initial_epoch": 0, "class_weight": {"0": 1, "1": 5},
/// "early_stopping": {"monitor": "val_loss", "patience": 3}, "reduce_lr_on_plateau": {"patience": 2},
/// "model_checkpoint": {"filepath": "best.oximl", "save_best_only": true}, "csv_logger": {"filename":
/// "log.csv"}, "terminate_on_nan": true}` (unknown keys are refused); `callback` may be NULL. On a non-finite loss the status is
/// `OXIML_STATUS_NON_FINITE` and the model keeps its last finite weights. Needs exclusive access to `model`
/// (training itself runs on oximl's thread pool).
///
/// ```c
/// oximl_sequential_fit(model, x, 150, 4, y, 1, "{\"epochs\": 50}", NULL, NULL);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_sequential_fit(
    model: *mut oximl_sequential,
    x: *const f32,
    rows: usize,
    cols: usize,
    y: *const f32,
    y_cols: usize,
    options_json: *const c_char,
    callback: oximl_epoch_callback,
    user: *mut c_void,
) -> oximl_status {
    oximl_sequential_fit_weighted(model, x, rows, cols, y, y_cols, std::ptr::null(), options_json, callback, user)
}

/// `oximl_sequential_fit` with Keras' `sample_weight`: `rows` finite weights ≥ 0, one per sample, multiplying its
/// loss (the sum still divided by the batch size, Keras' `sum_over_batch_size`) and its count in the weighted
/// metrics; NULL = unweighted. Not together with `class_weight` in the options.
///
/// ```c
/// float w[150] = {...};
/// oximl_sequential_fit_weighted(model, x, 150, 4, y, 1, w, "{\"epochs\": 50}", NULL, NULL);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_sequential_fit_weighted(
    model: *mut oximl_sequential,
    x: *const f32,
    rows: usize,
    cols: usize,
    y: *const f32,
    y_cols: usize,
    sample_weight: *const f32,
    options_json: *const c_char,
    callback: oximl_epoch_callback,
    user: *mut c_void,
) -> oximl_status {
    guard(|| {
        let m = handle_mut("model", model)?;
        let (x, y) = (matrix("x", x, rows, cols)?, matrix("y", y, rows, y_cols)?);
        let config: FitConfig =
            if options_json.is_null() { FitConfig::default() } else { json("options_json", options_json)? };
        let mut options = FitOptions::from(config);
        options.sample_weight = weights(sample_weight, rows)?;
        if let Some(callback) = callback {
            options.callbacks.push(Box::new(CCallback { callback, user }));
        }
        m.model.fit(x, y, options).map(|_| ())
    })
}

/// Writes the model's outputs for `x` (`rows × cols`) into `out`, which holds `capacity` floats and needs
/// `rows × oximl_sequential_output_dim(model)`. Thread-safe: many threads may predict on one handle at once, each
/// with its own buffers; the results do not depend on the number of threads.
///
/// ```c
/// float out[10];
/// oximl_sequential_predict(model, x, 1, 64, out, 10);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_predict(
    model: *const oximl_sequential,
    x: *const f32,
    rows: usize,
    cols: usize,
    out: *mut f32,
    capacity: usize,
) -> oximl_status {
    guard(|| {
        let m = handle("model", model)?;
        let dst = output("out", out, capacity, rows, m.model.output_dim())?;
        m.model.predict_into(matrix("x", x, rows, cols)?, dst)
    })
}

/// Evaluates on `(x, y)`: writes the loss then each compiled metric (in compile order) into `out` (`capacity`
/// doubles; 1 + number of metrics are needed) and their count into `written`. Thread-safe on one handle, like
/// `oximl_sequential_predict`.
///
/// ```c
/// double values[4]; size_t n = 0;
/// oximl_sequential_evaluate(model, x, rows, cols, y, 1, values, 4, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_sequential_evaluate(
    model: *const oximl_sequential,
    x: *const f32,
    rows: usize,
    cols: usize,
    y: *const f32,
    y_cols: usize,
    out: *mut f64,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    oximl_sequential_evaluate_weighted(model, x, rows, cols, y, y_cols, std::ptr::null(), out, capacity, written)
}

/// `oximl_sequential_evaluate` with one weight per sample (`rows` finite weights ≥ 0, as in
/// `oximl_sequential_fit_weighted`; NULL = unweighted): the loss and the weighted metrics count each sample with
/// its weight.
///
/// ```c
/// double values[4]; size_t n = 0;
/// oximl_sequential_evaluate_weighted(model, x, rows, cols, y, 1, w, values, 4, &n);
/// ```
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn oximl_sequential_evaluate_weighted(
    model: *const oximl_sequential,
    x: *const f32,
    rows: usize,
    cols: usize,
    y: *const f32,
    y_cols: usize,
    sample_weight: *const f32,
    out: *mut f64,
    capacity: usize,
    written: *mut usize,
) -> oximl_status {
    guard(|| {
        let m = handle("model", model)?;
        let (x, y) = (matrix("x", x, rows, cols)?, matrix("y", y, rows, y_cols)?);
        let logs = m.model.evaluate_weighted(x, y, weights(sample_weight, rows)?)?;
        if out.is_null() || capacity < logs.0.len() {
            write_out("written", written, logs.0.len())?;
            return Err(Error::invalid(
                "out",
                format!("the buffer holds {capacity} values, {} are needed", logs.0.len()),
            ));
        }
        for (i, (_, v)) in logs.0.iter().enumerate() {
            // SAFETY: `i < capacity` writable doubles (checked above).
            unsafe { out.add(i).write(*v) };
        }
        write_out("written", written, logs.0.len())
    })
}

/// The number of outputs per sample. Thread-safe on one handle.
///
/// ```c
/// size_t k = 0; oximl_sequential_output_dim(model, &k);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_output_dim(model: *const oximl_sequential, out: *mut usize) -> oximl_status {
    guard(|| write_out("out", out, handle("model", model)?.model.output_dim()))
}

/// A Keras-style summary of the layers; free it with `oximl_string_free`. Thread-safe on one handle.
///
/// ```c
/// char *s = NULL; oximl_sequential_summary(model, &s); puts(s); oximl_string_free(s);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_summary(model: *const oximl_sequential, out: *mut *mut c_char) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let s = CString::new(handle("model", model)?.model.summary())
            .map_err(|e| Error::invalid("summary", e.to_string()))?;
        slot.write(s.into_raw());
        Ok(())
    })
}

/// Saves the model (weights, configuration, optimizer state) to `path` in the oximl format. Thread-safe on one
/// handle (but two threads writing the same path race on the file).
///
/// ```c
/// oximl_sequential_save(model, "model.oximl");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_save(model: *const oximl_sequential, path: *const c_char) -> oximl_status {
    guard(|| handle("model", model)?.model.save(text("path", path)?))
}

/// Writes the model to `path` as an ONNX file (opset 17, 20 with GELU; input `"input"` with a dynamic batch
/// dimension, output `"output"`; dropout left out), for ONNX Runtime and other tools. `oximl_sequential_load`
/// reads ONNX files of multi-layer perceptrons. Thread-safe on one handle.
///
/// ```c
/// oximl_sequential_export_onnx(model, "model.onnx");
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_export_onnx(model: *const oximl_sequential, path: *const c_char) -> oximl_status {
    guard(|| handle("model", model)?.model.export_onnx(text("path", path)?))
}

/// Loads a model saved from Rust, C or Python, an ONNX file of a multi-layer perceptron, or a Keras `.keras`/`.h5`
/// file (each recognized by its content); free it with `oximl_sequential_free`. Thread-safe, also while
/// other threads use other handles.
///
/// ```c
/// oximl_sequential *model = NULL;
/// if (oximl_sequential_load("model.oximl", &model) != OXIML_STATUS_OK) puts(oximl_last_error());
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_load(path: *const c_char, out: *mut *mut oximl_sequential) -> oximl_status {
    guard(|| {
        let slot = out_slot("out", out)?;
        let model = Sequential::load(text("path", path)?)?;
        super::convert::boxed(oximl_sequential { model }, slot);
        Ok(())
    })
}

/// Releases a model; NULL is a no-op. Needs exclusive access: no call on `model` may be running or follow.
///
/// ```c
/// oximl_sequential_free(model);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_sequential_free(model: *mut oximl_sequential) {
    super::convert::release(model)
}

/// Releases a string returned by the library; NULL is a no-op. Thread-safe; each string is freed once.
///
/// ```c
/// oximl_string_free(s);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: created by `CString::into_raw` in this library and, by contract, freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}
