//! The training loop behind [`Sequential::fit`]: options, per-epoch logs and history, callbacks (progress,
//! early stopping, cancellation).

use crate::data::Batches;
use crate::error::{Error, Result};
use crate::nn::{Accumulator, Param, Sequential};
use ndarray::{ArrayView2, ArrayViewMut2, s};
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::Instant;

/// How to train: Keras' `fit` arguments.
///
/// ```
/// let o = oximl_core::nn::FitOptions { epochs: 20, batch_size: 64, ..Default::default() };
/// assert!(o.shuffle && o.validation_data.is_none());
/// ```
pub struct FitOptions<'a> {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per optimizer step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Reshuffle the samples before each epoch.
    pub shuffle: bool,
    /// Seeds the shuffling and dropout: the same seed (and thread count) gives the same model, bit for bit.
    pub seed: u64,
    /// Data to evaluate on after each epoch (reported as `val_loss`, `val_<metric>`).
    pub validation_data: Option<(ArrayView2<'a, f32>, ArrayView2<'a, f32>)>,
    /// If set (in (0, 1)) and no `validation_data` is given, this fraction of the samples — the last ones,
    /// before shuffling, as in Keras — is held out for validation.
    pub validation_split: f64,
    /// Print a progress line per epoch, as Keras' `verbose=1`/`2`.
    pub verbose: bool,
    /// Called after each batch and epoch; any may stop training.
    pub callbacks: Vec<Box<dyn Callback + 'a>>,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitOptions {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_data: None,
            validation_split: 0.0,
            verbose: false,
            callbacks: Vec::new(),
        }
    }
}

/// Named values in order (`loss` first, then metrics, then `val_` ones).
///
/// ```
/// let mut l = oximl_core::nn::Logs::default();
/// l.push("loss", 0.5);
/// assert_eq!(l.get("loss"), Some(0.5));
/// assert_eq!(l.get("accuracy"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs(pub Vec<(String, f64)>);

impl Logs {
    /// Appends a value.
    ///
    /// ```
    /// let mut l = oximl_core::nn::Logs::default();
    /// l.push("mae", 1.0);
    /// assert_eq!(l.0.len(), 1);
    /// ```
    pub fn push(&mut self, name: impl Into<String>, value: f64) {
        self.0.push((name.into(), value));
    }

    /// The value named `name`.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Logs::default().get("loss"), None);
    /// ```
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }
}

/// What a callback asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on training.
    Continue,
    /// Stop after this batch or epoch; `fit` returns the history so far.
    Stop,
}

/// Hooks into training. Every method has a default that does nothing.
///
/// ```
/// use oximl_core::nn::{Callback, Control, Logs, Sequential};
/// struct StopAtLoss(f64);
/// impl Callback for StopAtLoss {
///     fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs, _model: &Sequential) -> Control {
///         if logs.get("loss").unwrap_or(f64::INFINITY) < self.0 { Control::Stop } else { Control::Continue }
///     }
/// }
/// ```
pub trait Callback {
    /// After each batch, with the batch's loss.
    fn on_batch_end(&mut self, _epoch: usize, _batch: usize, _loss: f64) -> Control {
        Control::Continue
    }
    /// After each epoch, with its logs (training and validation).
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &Logs, _model: &Sequential) -> Control {
        Control::Continue
    }
    /// Once, when training ends (normally or stopped), with the model.
    fn on_train_end(&mut self, _model: &mut Sequential) {}
}

/// Stops once a monitored value has gone `patience` epochs without improving (Keras' rule); optionally
/// restores the best weights.
///
/// ```
/// let es = oximl_core::nn::EarlyStopping::new("val_loss", 3).restore_best_weights(true);
/// assert_eq!(es.patience, 3);
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    /// The log name to watch (`val_loss`, `accuracy`, ...).
    pub monitor: String,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Whether larger is better (true for accuracy-like names, false for losses and errors).
    pub maximize: bool,
    /// Put back the weights of the best epoch when training ends.
    pub restore_best: bool,
    best: Option<f64>,
    wait: usize,
    best_weights: Option<Vec<Option<Param>>>,
    /// The epoch (0-based) at which training was stopped, if it was.
    pub stopped_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Watches `monitor` with the given patience; the direction follows the name, as Keras' `mode="auto"`.
    ///
    /// ```
    /// assert!(oximl_core::nn::EarlyStopping::new("val_accuracy", 2).maximize);
    /// assert!(!oximl_core::nn::EarlyStopping::new("val_loss", 2).maximize);
    /// ```
    pub fn new(monitor: &str, patience: usize) -> EarlyStopping {
        let maximize = ["accuracy", "precision", "recall", "f1"].iter().any(|m| monitor.contains(m));
        EarlyStopping {
            monitor: monitor.to_string(),
            patience,
            min_delta: 0.0,
            maximize,
            restore_best: false,
            best: None,
            wait: 0,
            best_weights: None,
            stopped_epoch: None,
        }
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
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, model: &Sequential) -> Control {
        let Some(value) = logs.get(&self.monitor) else { return Control::Continue };
        let improved = match self.best {
            None => true,
            Some(best) if self.maximize => value > best + self.min_delta,
            Some(best) => value < best - self.min_delta,
        };
        if improved {
            self.best = Some(value);
            self.wait = 0;
            if self.restore_best {
                self.best_weights = Some(model.snapshot());
            }
            return Control::Continue;
        }
        self.wait += 1;
        if self.wait >= self.patience {
            self.stopped_epoch = Some(epoch);
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn on_train_end(&mut self, model: &mut Sequential) {
        if let Some(best) = self.best_weights.take() {
            model.restore(best);
        }
    }
}

/// The per-epoch record of a `fit` call.
///
/// ```
/// let h = oximl_core::nn::History::default();
/// assert!(h.values("loss").is_empty() && h.last("loss").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One entry per completed epoch.
    pub epochs: Vec<Logs>,
    /// Seconds each epoch took.
    pub seconds: Vec<f64>,
    /// Set when a callback stopped training early: the epoch (0-based) it stopped after.
    pub stopped_at: Option<usize>,
}

impl History {
    /// Every epoch's value of `name`.
    ///
    /// ```
    /// assert!(oximl_core::nn::History::default().values("val_loss").is_empty());
    /// ```
    pub fn values(&self, name: &str) -> Vec<f64> {
        self.epochs.iter().filter_map(|l| l.get(name)).collect()
    }

    /// The last epoch's value of `name`.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::History::default().last("loss"), None);
    /// ```
    pub fn last(&self, name: &str) -> Option<f64> {
        self.epochs.last().and_then(|l| l.get(name))
    }

    /// Keras' `history.history`: name → per-epoch values.
    ///
    /// ```
    /// assert!(oximl_core::nn::History::default().as_map().is_empty());
    /// ```
    pub fn as_map(&self) -> BTreeMap<String, Vec<f64>> {
        let mut map: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for logs in &self.epochs {
            for (name, v) in &logs.0 {
                map.entry(name.clone()).or_default().push(*v);
            }
        }
        map
    }
}

/// Fills `mask` with 0 (probability `rate`) or 1/(1 − rate).
pub(crate) fn dropout_mask(rate: f32, mut mask: ArrayViewMut2<'_, f32>, rng: &mut StdRng) {
    let scale = 1.0 / (1.0 - rate);
    mask.map_inplace(|m| *m = if rate > 0.0 && rng.random::<f32>() < rate { 0.0 } else { scale });
}

pub(crate) fn run(
    model: &mut Sequential,
    x: ArrayView2<'_, f32>,
    y: ArrayView2<'_, f32>,
    mut options: FitOptions<'_>,
) -> Result<History> {
    let compiled = model.prepare_training(y, x)?.clone();
    if options.batch_size == 0 {
        return Err(Error::invalid("batch_size", "must be at least 1"));
    }
    if !(0.0..1.0).contains(&options.validation_split) {
        return Err(Error::invalid("validation_split", format!("must be in [0, 1), got {}", options.validation_split)));
    }
    // Hold out the last samples for validation, as Keras does.
    let (x, y, validation) = match options.validation_data.take() {
        Some((xv, yv)) => {
            model.prepare_training(yv, xv).map_err(|e| match e {
                Error::Shape { expected, got } => Error::shape(format!("validation data: {expected}"), got),
                other => other,
            })?;
            (x, y, Some((xv, yv)))
        }
        None if options.validation_split > 0.0 => {
            let train = ((x.nrows() as f64) * (1.0 - options.validation_split)).floor() as usize;
            (
                x.slice_move(s![..train, ..]),
                y.slice_move(s![..train, ..]),
                Some((x.slice_move(s![train.., ..]), y.slice_move(s![train.., ..]))),
            )
        }
        None => (x, y, None),
    };
    let n = x.nrows();
    if n == 0 {
        return Err(Error::invalid("x", "training needs at least one sample (after the validation split)"));
    }
    let batch = options.batch_size.min(n);
    let mut batches = Batches::new(x, y, batch)?;
    if options.shuffle {
        batches = batches.shuffle(options.seed);
    }
    // Dropout masks draw from their own stream, so that shuffling or not does not change them.
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut buffers = model.workspace(batch);
    let mut history = History::default();
    let outputs = model.output_dim();
    'epochs: for epoch in 0..options.epochs {
        let start = Instant::now();
        if epoch > 0 {
            batches.reset();
        }
        let mut acc = Accumulator::new(outputs, compiled.loss.sparse_targets());
        let mut total = 0.0;
        let mut stop = false;
        let mut b = 0;
        while let Some((xb, yb)) = batches.next_batch() {
            let rows = xb.nrows();
            let loss = model.train_step(&mut buffers, xb, yb, &mut rng, &mut acc).map_err(|e| match e {
                Error::NonFinite(what) => Error::NonFinite(format!(
                    "{what} at epoch {} batch {b}; the weights are those of the last finite step",
                    epoch + 1
                )),
                other => other,
            })?;
            total += loss * rows as f64;
            for cb in options.callbacks.iter_mut() {
                stop |= cb.on_batch_end(epoch, b, loss) == Control::Stop;
            }
            if stop {
                break;
            }
            b += 1;
        }
        let mut logs = Logs::default();
        logs.push("loss", total / n as f64 + model.penalty());
        for m in &compiled.metrics {
            logs.push(m.name(), acc.value(*m));
        }
        if let Some((xv, yv)) = validation
            && xv.nrows() > 0
        {
            for (name, v) in model.evaluate(xv, yv)?.0 {
                logs.push(format!("val_{name}"), v);
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        if options.verbose {
            let values: Vec<String> = logs.0.iter().map(|(k, v)| format!("{k}: {v:.4}")).collect();
            println!("Epoch {}/{} - {:.2}s - {}", epoch + 1, options.epochs, seconds, values.join(" - "));
        }
        for cb in options.callbacks.iter_mut() {
            stop |= cb.on_epoch_end(epoch, &logs, model) == Control::Stop;
        }
        history.epochs.push(logs);
        history.seconds.push(seconds);
        if stop {
            history.stopped_at = Some(epoch);
            break 'epochs;
        }
    }
    for cb in options.callbacks.iter_mut() {
        cb.on_train_end(model);
    }
    Ok(history)
}
