//! Keras' `ModelCheckpoint`.

use super::format::{Value, py_format};
use crate::Persist;
use crate::error::{Error, Result};
use crate::nn::{Callback, Control, Logs, Mode, Sequential};
use serde::{Deserialize, Serialize};

/// Saves the model (in the oximl format, loadable with [`Sequential::load`]) after each epoch, or with
/// `save_best_only` only when `monitor` improved. `filepath` is formatted as Python's `str.format` with `epoch`
/// (1-based) and every log value: `"ckpt-{epoch:02d}-{val_loss:.2f}.oximl"`. As JSON: `{"filepath": "...",
/// "monitor": "val_loss", "verbose": 0, "save_best_only": false, "mode": "auto", "initial_value_threshold":
/// null}` (every key but `filepath` optional). Keras' `save_weights_only` has no counterpart: an oximl model
/// file is its configuration and weights, loadable from Rust, C and Python.
///
/// ```
/// let c: oximl_core::nn::ModelCheckpoint = serde_json::from_str(r#"{"filepath": "m-{epoch}.oximl"}"#).unwrap();
/// assert_eq!((c.monitor.as_str(), c.save_best_only), ("val_loss", false));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCheckpoint {
    /// Where to save; may hold `{epoch}` and `{<log name>}` fields with a format spec.
    pub filepath: String,
    /// The log value compared with `save_best_only`.
    #[serde(default = "val_loss")]
    pub monitor: String,
    /// 1: print a line when saving (or not, with `save_best_only`).
    #[serde(default)]
    pub verbose: u8,
    /// Save only when `monitor` improved on the best so far (always when it is missing from the logs, as Keras).
    #[serde(default)]
    pub save_best_only: bool,
    /// Whether larger or smaller is better.
    #[serde(default)]
    pub mode: Mode,
    /// The best value to beat at the start, if any.
    #[serde(default)]
    pub initial_value_threshold: Option<f64>,
    #[serde(skip)]
    best: Option<f64>,
}

fn val_loss() -> String {
    "val_loss".into()
}

impl ModelCheckpoint {
    /// Saves every epoch to `filepath` (see the type's fields for the other settings).
    ///
    /// ```
    /// let c = oximl_core::nn::ModelCheckpoint::new("best.oximl").save_best_only("val_accuracy");
    /// assert!(c.save_best_only && c.monitor == "val_accuracy");
    /// ```
    pub fn new(filepath: &str) -> ModelCheckpoint {
        ModelCheckpoint {
            filepath: filepath.into(),
            monitor: val_loss(),
            verbose: 0,
            save_best_only: false,
            mode: Mode::Auto,
            initial_value_threshold: None,
            best: None,
        }
    }

    /// Saves only when `monitor` improves.
    pub fn save_best_only(mut self, monitor: &str) -> ModelCheckpoint {
        self.save_best_only = true;
        self.monitor = monitor.into();
        self
    }

    /// The path of an epoch's file.
    fn path(&self, epoch: usize, logs: &Logs) -> Result<String> {
        let mut values = vec![("epoch", Value::Int(epoch as i64 + 1))];
        values.extend(logs.0.iter().map(|(k, v)| (k.as_str(), Value::Float(*v))));
        py_format(&self.filepath, &values)
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, _plan: &crate::nn::Plan) -> Result<()> {
        self.best = self.initial_value_threshold;
        if self.filepath.is_empty() {
            return Err(Error::invalid("filepath", "ModelCheckpoint needs a file path"));
        }
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, model: &mut Sequential) -> Result<Control> {
        let path = self.path(epoch, logs)?;
        if self.save_best_only
            && let Some(current) = logs.get(&self.monitor)
        {
            let best = self.best.map_or("None".into(), |b| format!("{b:.5}"));
            if !self.mode.improves(&self.monitor, current, self.best, 0.0) {
                if self.verbose > 0 {
                    println!("\nEpoch {}: {} did not improve from {best}", epoch + 1, self.monitor);
                }
                return Ok(Control::Continue);
            }
            if self.verbose > 0 {
                println!(
                    "\nEpoch {}: {} improved from {best} to {current:.5}, saving model to {path}",
                    epoch + 1,
                    self.monitor
                );
            }
            self.best = Some(current);
        } else if self.verbose > 0 {
            println!("\nEpoch {}: saving model to {path}", epoch + 1);
        }
        if let Some(dir) = std::path::Path::new(&path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        model.save(&path)?;
        Ok(Control::Continue)
    }
}
