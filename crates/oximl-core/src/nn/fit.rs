//! The training loop behind [`Sequential::fit`]: options, per-epoch logs and history, callbacks (progress,
//! early stopping, cancellation).

use crate::data::Batches;
use crate::error::{Error, Result};
use crate::nn::{Accumulator, EarlyStopping, Sequential};
use ndarray::{ArrayView2, ArrayViewMut2, s};
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// The settings of `fit` that are plain data: what C passes as JSON and Python as keyword arguments, with
/// Keras' defaults (the one place they are written). Unknown keys are refused.
///
/// ```
/// let c: oximl_core::nn::FitConfig = serde_json::from_str(r#"{"epochs": 20}"#).unwrap();
/// assert_eq!((c.epochs, c.batch_size, c.shuffle), (20, 32, true));
/// assert!(serde_json::from_str::<oximl_core::nn::FitConfig>(r#"{"epoch": 20}"#).is_err());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FitConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per optimizer step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Reshuffle the samples before each epoch.
    pub shuffle: bool,
    /// Seeds the shuffling and dropout: the same seed (and thread count) gives the same model, bit for bit.
    pub seed: u64,
    /// If set (in (0, 1)) and no validation data is given, this fraction of the samples — the last ones,
    /// before shuffling, as in Keras — is held out for validation.
    pub validation_split: f64,
    /// Print a progress line per epoch, as Keras' `verbose=1`/`2`.
    pub verbose: bool,
    /// Stop when a monitored value stops improving (the core's [`EarlyStopping`]).
    pub early_stopping: Option<EarlyStopping>,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_split: 0.0,
            verbose: false,
            early_stopping: None,
        }
    }
}

/// How to train: Keras' `fit` arguments, the [`FitConfig`] plus what cannot be data (validation arrays,
/// callbacks).
///
/// ```
/// let o = oximl_core::nn::FitOptions { epochs: 20, batch_size: 64, ..Default::default() };
/// assert!(o.shuffle && o.validation_data.is_none());
/// ```
pub struct FitOptions<'a> {
    /// See [`FitConfig::epochs`].
    pub epochs: usize,
    /// See [`FitConfig::batch_size`].
    pub batch_size: usize,
    /// See [`FitConfig::shuffle`].
    pub shuffle: bool,
    /// See [`FitConfig::seed`].
    pub seed: u64,
    /// Data to evaluate on after each epoch (reported as `val_loss`, `val_<metric>`).
    pub validation_data: Option<(ArrayView2<'a, f32>, ArrayView2<'a, f32>)>,
    /// See [`FitConfig::validation_split`].
    pub validation_split: f64,
    /// See [`FitConfig::verbose`].
    pub verbose: bool,
    /// Called after each batch and epoch; any may stop training.
    pub callbacks: Vec<Box<dyn Callback + 'a>>,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitConfig::default().into()
    }
}

impl<'a> From<FitConfig> for FitOptions<'a> {
    /// The options of a configuration; its early stopping, if any, becomes the first callback.
    ///
    /// ```
    /// let c: oximl_core::nn::FitConfig =
    ///     serde_json::from_str(r#"{"early_stopping": {"monitor": "loss", "patience": 2}}"#).unwrap();
    /// assert_eq!(oximl_core::nn::FitOptions::from(c).callbacks.len(), 1);
    /// ```
    fn from(c: FitConfig) -> Self {
        let callbacks: Vec<Box<dyn Callback + 'a>> = match c.early_stopping {
            Some(es) => vec![Box::new(es)],
            None => Vec::new(),
        };
        FitOptions {
            epochs: c.epochs,
            batch_size: c.batch_size,
            shuffle: c.shuffle,
            seed: c.seed,
            validation_data: None,
            validation_split: c.validation_split,
            verbose: c.verbose,
            callbacks,
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
    let mut buffers = model.workspace(batch)?;
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
        // Taken once per epoch: what a step that turns the weights non-finite goes back to.
        let epoch_start = model.training_state();
        while let Some((xb, yb)) = batches.next_batch() {
            let rows = xb.nrows();
            let loss = match model.train_step(&mut buffers, xb, yb, &mut rng, &mut acc) {
                Ok(loss) => loss,
                Err(Error::NonFinite(what)) => {
                    let left = if !model.weights_finite() {
                        model.restore_training_state(epoch_start);
                        "the model keeps the weights it had at the start of this epoch"
                    } else {
                        "the model keeps the weights of the last finite step"
                    };
                    return Err(Error::NonFinite(format!("{what} at epoch {} batch {b}; {left}", epoch + 1)));
                }
                Err(other) => return Err(other),
            };
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
