//! Early stopping (Keras' `EarlyStopping`): the one implementation, used from Rust as a callback and from C and
//! Python through [`crate::nn::FitConfig::early_stopping`].

use crate::Result;
use crate::nn::{Callback, Control, Logs, Param, Sequential};
use serde::{Deserialize, Serialize};

/// Which direction of the monitored value is an improvement (for every callback that monitors a value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// From the name: larger is better for names containing `accuracy`, `precision`, `recall` or `f1`.
    #[default]
    Auto,
    /// Smaller is better.
    Min,
    /// Larger is better.
    Max,
}

impl Mode {
    /// Whether larger values of `monitor` are better.
    ///
    /// ```
    /// use oximl_core::nn::Mode;
    /// assert!(Mode::Auto.maximizes("val_accuracy") && !Mode::Auto.maximizes("val_loss"));
    /// ```
    pub fn maximizes(self, monitor: &str) -> bool {
        match self {
            Mode::Auto => ["accuracy", "precision", "recall", "f1"].iter().any(|m| monitor.contains(m)),
            Mode::Min => false,
            Mode::Max => true,
        }
    }

    /// Keras' test of an improvement: `value` beats `best` by more than `min_delta` (any value beats none; NaN
    /// never does).
    ///
    /// ```
    /// use oximl_core::nn::Mode;
    /// assert!(Mode::Min.improves("loss", 0.5, Some(0.6), 0.05));
    /// assert!(!Mode::Min.improves("loss", 0.58, Some(0.6), 0.05));
    /// assert!(Mode::Auto.improves("accuracy", 0.9, None, 0.0));
    /// ```
    pub fn improves(self, monitor: &str, value: f64, best: Option<f64>, min_delta: f64) -> bool {
        let delta = min_delta.abs();
        match best {
            _ if value.is_nan() => false,
            None => true,
            Some(best) if self.maximizes(monitor) => value > best + delta,
            Some(best) => value < best - delta,
        }
    }
}

/// Stops once a monitored value has gone `patience` epochs without improving (Keras' rule); optionally
/// restores the best weights. As JSON (every key optional): `{"monitor": "val_loss", "patience": 0,
/// "min_delta": 0, "mode": "auto", "restore_best_weights": false}`.
///
/// ```
/// let es = oximl_core::nn::EarlyStopping::new("val_loss", 3).restore_best_weights(true);
/// assert_eq!(es.patience, 3);
/// let json: oximl_core::nn::EarlyStopping = serde_json::from_str(r#"{"patience": 3}"#).unwrap();
/// assert_eq!(json.monitor, "val_loss");
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStopping {
    /// The log name to watch (`val_loss`, `accuracy`, ...).
    pub monitor: String,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The smallest change that counts as an improvement (its absolute value).
    pub min_delta: f64,
    /// Whether larger or smaller is better.
    pub mode: Mode,
    /// Put back the weights of the best epoch when training ends.
    #[serde(rename = "restore_best_weights")]
    pub restore_best: bool,
    #[serde(skip)]
    best: Option<f64>,
    #[serde(skip)]
    wait: usize,
    #[serde(skip)]
    best_weights: Option<Vec<Option<Param>>>,
    /// The epoch (0-based) at which training was stopped, if it was.
    #[serde(skip)]
    pub stopped_epoch: Option<usize>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping::new("val_loss", 0)
    }
}

impl EarlyStopping {
    /// Watches `monitor` with the given patience; the direction follows the name ([`Mode::Auto`]).
    ///
    /// ```
    /// assert!(oximl_core::nn::EarlyStopping::new("val_accuracy", 2).maximize());
    /// assert!(!oximl_core::nn::EarlyStopping::new("val_loss", 2).maximize());
    /// ```
    pub fn new(monitor: &str, patience: usize) -> EarlyStopping {
        EarlyStopping {
            monitor: monitor.to_string(),
            patience,
            min_delta: 0.0,
            mode: Mode::Auto,
            restore_best: false,
            best: None,
            wait: 0,
            best_weights: None,
            stopped_epoch: None,
        }
    }

    /// Whether larger values of the monitored name are better.
    ///
    /// ```
    /// use oximl_core::nn::{EarlyStopping, Mode};
    /// assert!(EarlyStopping::new("val_f1_score", 1).maximize());
    /// assert!(!EarlyStopping::new("val_accuracy", 1).mode(Mode::Min).maximize());
    /// ```
    pub fn maximize(&self) -> bool {
        self.mode.maximizes(&self.monitor)
    }

    /// Sets the direction.
    ///
    /// ```
    /// use oximl_core::nn::{EarlyStopping, Mode};
    /// assert!(EarlyStopping::new("loss", 1).mode(Mode::Max).maximize());
    /// ```
    pub fn mode(mut self, mode: Mode) -> EarlyStopping {
        self.mode = mode;
        self
    }

    /// Whether to restore the best epoch's weights at the end.
    ///
    /// ```
    /// assert!(oximl_core::nn::EarlyStopping::new("loss", 1).restore_best_weights(true).restore_best);
    /// ```
    pub fn restore_best_weights(mut self, on: bool) -> EarlyStopping {
        self.restore_best = on;
        self
    }

    /// Sets the minimum improvement.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::EarlyStopping::new("loss", 1).min_delta(0.01).min_delta, 0.01);
    /// ```
    pub fn min_delta(mut self, delta: f64) -> EarlyStopping {
        self.min_delta = delta.abs();
        self
    }
}

impl Callback for EarlyStopping {
    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, model: &mut Sequential) -> Result<Control> {
        let Some(value) = logs.get(&self.monitor).filter(|v| !v.is_nan()) else { return Ok(Control::Continue) };
        if self.mode.improves(&self.monitor, value, self.best, self.min_delta) {
            self.best = Some(value);
            self.wait = 0;
            if self.restore_best {
                self.best_weights = Some(model.snapshot());
            }
            return Ok(Control::Continue);
        }
        self.wait += 1;
        if self.wait >= self.patience {
            self.stopped_epoch = Some(epoch);
            Ok(Control::Stop)
        } else {
            Ok(Control::Continue)
        }
    }

    fn on_train_end(&mut self, model: &mut Sequential) -> Result<()> {
        if let Some(best) = self.best_weights.take() {
            model.restore(best);
        }
        Ok(())
    }
}
