//! Keras' `ReduceLROnPlateau` and `LearningRateScheduler`: the callbacks that change the learning rate.

use crate::error::{Error, Result};
use crate::nn::{Callback, Control, Logs, Mode, Plan, Sequential};
use serde::{Deserialize, Serialize};

/// Multiplies the learning rate by `factor` (not below `min_lr`) once `monitor` has gone `patience` epochs
/// without improving by more than `min_delta`, then waits `cooldown` epochs before counting again: Keras' rule.
/// Adds the epoch's `learning_rate` (before any reduction) to the logs, as Keras.
/// As JSON, every key optional: `{"monitor": "val_loss", "factor": 0.1, "patience": 10, "verbose": 0, "mode":
/// "auto", "min_delta": 0.0001, "cooldown": 0, "min_lr": 0}`.
///
/// ```
/// let r: oximl_core::nn::ReduceLrOnPlateau = serde_json::from_str(r#"{"patience": 2, "factor": 0.5}"#).unwrap();
/// assert_eq!((r.monitor.as_str(), r.patience, r.min_delta), ("val_loss", 2, 1e-4));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReduceLrOnPlateau {
    /// The log value to watch.
    pub monitor: String,
    /// What the learning rate is multiplied by, in (0, 1).
    pub factor: f64,
    /// Epochs without improvement before reducing.
    pub patience: usize,
    /// 1: print a line when reducing.
    pub verbose: u8,
    /// Whether larger or smaller is better.
    pub mode: Mode,
    /// The smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Epochs after a reduction during which no epoch counts as without improvement.
    pub cooldown: usize,
    /// The learning rate is never reduced below this.
    pub min_lr: f64,
    #[serde(skip)]
    best: Option<f64>,
    #[serde(skip)]
    wait: usize,
    #[serde(skip)]
    cooldown_counter: usize,
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        ReduceLrOnPlateau {
            monitor: "val_loss".into(),
            factor: 0.1,
            patience: 10,
            verbose: 0,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            wait: 0,
            cooldown_counter: 0,
        }
    }
}

impl Callback for ReduceLrOnPlateau {
    fn on_train_begin(&mut self, _plan: &Plan) -> Result<()> {
        if !(self.factor < 1.0 && self.factor > 0.0) {
            return Err(Error::invalid(
                "factor",
                format!("ReduceLROnPlateau needs a factor in (0, 1), got {}", self.factor),
            ));
        }
        (self.best, self.wait, self.cooldown_counter) = (None, 0, 0);
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, model: &mut Sequential) -> Result<Control> {
        logs.push("learning_rate", f64::from(model.learning_rate().unwrap_or(0.0)));
        let Some(current) = logs.get(&self.monitor) else { return Ok(Control::Continue) };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.mode.improves(&self.monitor, current, self.best, self.min_delta) {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let old = f64::from(model.learning_rate().unwrap_or(0.0));
                // Keras compares with the minimum in float32.
                if old > f64::from(self.min_lr as f32) {
                    let new = (old * self.factor).max(self.min_lr);
                    model.set_learning_rate(new as f32)?;
                    if self.verbose > 0 {
                        println!("\nEpoch {}: ReduceLROnPlateau reducing learning rate to {new}.", epoch + 1);
                    }
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(Control::Continue)
    }
}

/// Sets the learning rate before each epoch to `schedule(epoch, current rate)` (Keras' `LearningRateScheduler`;
/// `epoch` is 0-based; the epoch's rate is logged as `learning_rate`). From Python, `oximl.callbacks.LearningRateScheduler` takes a callable.
///
/// ```
/// use oximl_core::nn::{Callback, Dense, LearningRateScheduler, Loss, Sequential};
/// let mut m = Sequential::new(1);
/// m.add(Dense::new(1))?;
/// m.compile(oximl_core::optim::Optimizer::sgd(0.1), Loss::MeanSquaredError, &[])?;
/// let mut halve = LearningRateScheduler::new(|epoch, lr| if epoch > 0 { lr / 2.0 } else { lr });
/// halve.on_epoch_begin(1, &mut m)?;
/// assert_eq!(m.learning_rate(), Some(0.05));
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub struct LearningRateScheduler<F: FnMut(usize, f64) -> f64> {
    schedule: F,
}

impl<F: FnMut(usize, f64) -> f64> LearningRateScheduler<F> {
    /// A scheduler calling `schedule(epoch, lr)`.
    pub fn new(schedule: F) -> Self {
        LearningRateScheduler { schedule }
    }
}

impl<F: FnMut(usize, f64) -> f64> Callback for LearningRateScheduler<F> {
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut Sequential) -> Result<Control> {
        let lr = f64::from(model.learning_rate().unwrap_or(0.0));
        model.set_learning_rate((self.schedule)(epoch, lr) as f32)?;
        Ok(Control::Continue)
    }

    fn on_epoch_end(&mut self, _epoch: usize, logs: &mut Logs, model: &mut Sequential) -> Result<Control> {
        logs.push("learning_rate", f64::from(model.learning_rate().unwrap_or(0.0)));
        Ok(Control::Continue)
    }
}
