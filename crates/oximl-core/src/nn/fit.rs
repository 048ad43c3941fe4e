//! The training loop behind [`Sequential::fit`]: options, sample and class weights, per-epoch logs and history,
//! the callback hooks.

use crate::data::Batches;
use crate::error::{Error, Result};
use crate::nn::callbacks::{CsvLogger, ModelCheckpoint, Progress, ReduceLrOnPlateau, TerminateOnNaN, Verbosity};
use crate::nn::metric::Tally;
use crate::nn::train::check_sample_weight;
use crate::nn::{EarlyStopping, Loss, Sequential};
use ndarray::{Array1, ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// The settings of `fit` that are plain data: what C passes as JSON and Python as keyword arguments, with
/// Keras' defaults (the one place they are written). Unknown keys are refused. The callbacks configured here
/// run in the core, before those of [`FitOptions::callbacks`]: `terminate_on_nan`, `reduce_lr_on_plateau` (which
/// logs `learning_rate`), `csv_logger`, `model_checkpoint`, `early_stopping`.
///
/// ```
/// let c: oximl_core::nn::FitConfig = serde_json::from_str(r#"{"epochs": 20, "class_weight": {"1": 5.0}}"#).unwrap();
/// assert_eq!((c.epochs, c.batch_size, c.shuffle), (20, 32, true));
/// assert_eq!(c.class_weight.unwrap()[&1], 5.0);
/// assert!(serde_json::from_str::<oximl_core::nn::FitConfig>(r#"{"epoch": 20}"#).is_err());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FitConfig {
    /// The epoch to stop before: training runs epochs `initial_epoch..epochs` (0-based), as in Keras.
    pub epochs: usize,
    /// Samples per optimizer step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Reshuffle the samples before each epoch.
    pub shuffle: bool,
    /// Seeds the shuffling and dropout: the same seed (and thread count) gives the same model, bit for bit.
    pub seed: u64,
    /// If set (in (0, 1)) and no validation data is given, this fraction of the samples — the last ones,
    /// before shuffling, as in Keras — is held out for validation (with their sample weights, if any).
    pub validation_split: f64,
    /// Progress display: see [`Verbosity`] (`0`, `1`, `2` or `"auto"`, as Keras; `false`/`true` are 0 and 2).
    pub verbose: Verbosity,
    /// The epoch to start at (0-based), to resume a training: epochs and callbacks count from it.
    pub initial_epoch: usize,
    /// Keras' `class_weight`: class → weight of its samples in the loss and the weighted metrics (see
    /// [`crate::nn::Loss::class_weights`]); training data only, and not together with a sample weight.
    pub class_weight: Option<BTreeMap<usize, f32>>,
    /// Stop at the first batch whose loss is NaN or infinite, returning the history so far (Keras'
    /// `TerminateOnNaN`); without it that batch is an [`Error::NonFinite`].
    pub terminate_on_nan: bool,
    /// Write each epoch's logs to a CSV file.
    pub csv_logger: Option<CsvLogger>,
    /// Save the model after epochs (or only the best ones).
    pub model_checkpoint: Option<ModelCheckpoint>,
    /// Reduce the learning rate when a monitored value stops improving.
    pub reduce_lr_on_plateau: Option<ReduceLrOnPlateau>,
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
            verbose: Verbosity::Silent,
            initial_epoch: 0,
            class_weight: None,
            terminate_on_nan: false,
            csv_logger: None,
            model_checkpoint: None,
            reduce_lr_on_plateau: None,
            early_stopping: None,
        }
    }
}

/// How to train: Keras' `fit` arguments, the [`FitConfig`] plus what cannot be data (validation arrays,
/// sample weights, callbacks).
///
/// ```
/// let o = oximl_core::nn::FitOptions { epochs: 20, batch_size: 64, ..Default::default() };
/// assert!(o.shuffle && o.validation_data.is_none() && o.sample_weight.is_none());
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
    /// Per-sample weights of `validation_data` (Keras' third element of the tuple).
    pub validation_sample_weight: Option<ArrayView1<'a, f32>>,
    /// See [`FitConfig::validation_split`].
    pub validation_split: f64,
    /// See [`FitConfig::verbose`].
    pub verbose: Verbosity,
    /// See [`FitConfig::initial_epoch`].
    pub initial_epoch: usize,
    /// See [`FitConfig::class_weight`].
    pub class_weight: Option<BTreeMap<usize, f32>>,
    /// Keras' `sample_weight`: one finite weight per sample of `x`, multiplying that sample's loss (the sum
    /// still divided by the batch size, Keras' `sum_over_batch_size`) and its count in the weighted metrics.
    pub sample_weight: Option<ArrayView1<'a, f32>>,
    /// Called at the start and end of training, epochs and batches; any may stop training.
    pub callbacks: Vec<Box<dyn Callback + 'a>>,
}

impl Default for FitOptions<'_> {
    fn default() -> Self {
        FitConfig::default().into()
    }
}

impl<'a> From<FitConfig> for FitOptions<'a> {
    /// The options of a configuration; its callbacks (in the order of [`FitConfig`]) become the first callbacks.
    ///
    /// ```
    /// let c: oximl_core::nn::FitConfig =
    ///     serde_json::from_str(r#"{"early_stopping": {"monitor": "loss", "patience": 2}}"#).unwrap();
    /// assert_eq!(oximl_core::nn::FitOptions::from(c).callbacks.len(), 1);
    /// ```
    fn from(c: FitConfig) -> Self {
        let mut callbacks: Vec<Box<dyn Callback + 'a>> = Vec::new();
        if c.terminate_on_nan {
            callbacks.push(Box::new(TerminateOnNaN));
        }
        if let Some(cb) = c.reduce_lr_on_plateau {
            callbacks.push(Box::new(cb));
        }
        if let Some(cb) = c.csv_logger {
            callbacks.push(Box::new(cb));
        }
        if let Some(cb) = c.model_checkpoint {
            callbacks.push(Box::new(cb));
        }
        if let Some(cb) = c.early_stopping {
            callbacks.push(Box::new(cb));
        }
        FitOptions {
            epochs: c.epochs,
            batch_size: c.batch_size,
            shuffle: c.shuffle,
            seed: c.seed,
            validation_data: None,
            validation_sample_weight: None,
            validation_split: c.validation_split,
            verbose: c.verbose,
            initial_epoch: c.initial_epoch,
            class_weight: c.class_weight,
            sample_weight: None,
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

/// The shape of a training run, given to [`Callback::on_train_begin`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The epoch training starts at (0-based; `FitConfig::initial_epoch`).
    pub initial_epoch: usize,
    /// The epoch it stops before (`FitConfig::epochs`).
    pub epochs: usize,
    /// Optimizer steps (batches) per epoch.
    pub steps: usize,
}

/// Hooks into training, as Keras' callbacks. Every method has a default that does nothing; an error (writing a
/// file, ...) ends `fit` with it, after `on_train_end`.
///
/// ```
/// use oximl_core::nn::{Callback, Control, Logs, Sequential};
/// struct StopAtLoss(f64);
/// impl Callback for StopAtLoss {
///     fn on_epoch_end(&mut self, _epoch: usize, logs: &mut Logs, _model: &mut Sequential) -> oximl_core::Result<Control> {
///         Ok(if logs.get("loss").unwrap_or(f64::INFINITY) < self.0 { Control::Stop } else { Control::Continue })
///     }
/// }
/// ```
pub trait Callback {
    /// Once, before the first epoch.
    fn on_train_begin(&mut self, _plan: &Plan) -> Result<()> {
        Ok(())
    }
    /// Before each epoch (0-based, counted from 0 even with an `initial_epoch`), with the model (whose learning
    /// rate may be changed here).
    fn on_epoch_begin(&mut self, _epoch: usize, _model: &mut Sequential) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// After each batch, with the mean loss of the epoch so far (Keras' batch `logs["loss"]`); NaN when the
    /// batch's loss or gradient was not finite (the step was not taken).
    fn on_batch_end(&mut self, _epoch: usize, _batch: usize, _loss: f64) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// After each epoch, with its logs (training and validation), to which a callback may add values (Keras'
    /// `ReduceLROnPlateau` adds `learning_rate`).
    fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, _model: &mut Sequential) -> Result<Control> {
        Ok(Control::Continue)
    }
    /// Once, when training ends (normally or stopped), with the model.
    fn on_train_end(&mut self, _model: &mut Sequential) -> Result<()> {
        Ok(())
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

/// The held-out part of the data: rows, targets and optional weights.
type Split<'a> = (ArrayView2<'a, f32>, ArrayView2<'a, f32>, Option<ArrayView1<'a, f32>>);

/// Splits `(x, y, w)` into training and validation data as Keras does: `validation_data` if given, else the
/// last `validation_split` of the rows.
fn split<'v, 'x: 'v, 'o: 'v>(
    model: &Sequential,
    data: Split<'x>,
    options: &mut FitOptions<'o>,
) -> Result<(Split<'x>, Option<Split<'v>>)> {
    let (x, y, w) = data;
    if let Some((xv, yv)) = options.validation_data.take() {
        model.prepare_training(yv, xv).map_err(|e| match e {
            Error::Shape { expected, got } => Error::shape(format!("validation data: {expected}"), got),
            other => other,
        })?;
        check_sample_weight(options.validation_sample_weight, xv.nrows())?;
        return Ok(((x, y, w), Some((xv, yv, options.validation_sample_weight))));
    }
    if options.validation_split == 0.0 {
        return Ok(((x, y, w), None));
    }
    let train = ((x.nrows() as f64) * (1.0 - options.validation_split)).floor() as usize;
    let (xt, xv) = x.split_at(Axis(0), train);
    let (yt, yv) = y.split_at(Axis(0), train);
    let (wt, wv) = match w {
        Some(w) => {
            let (a, b) = w.split_at(Axis(0), train);
            (Some(a), Some(b))
        }
        None => (None, None),
    };
    Ok(((xt, yt, wt), Some((xv, yv, wv))))
}

/// Runs `f` on every callback; whether any asked to stop.
fn each(
    callbacks: &mut [Box<dyn Callback + '_>],
    mut f: impl FnMut(&mut dyn Callback) -> Result<Control>,
) -> Result<bool> {
    let mut stop = false;
    for cb in callbacks.iter_mut() {
        stop |= f(cb.as_mut())? == Control::Stop;
    }
    Ok(stop)
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
    if options.sample_weight.is_some() && options.class_weight.is_some() {
        return Err(Error::invalid("class_weight", "cannot be used together with sample_weight (as in Keras)"));
    }
    check_sample_weight(options.sample_weight, x.nrows())?;
    let ((x, y, sample_weight), validation) = split(model, (x, y, options.sample_weight), &mut options)?;
    let n = x.nrows();
    if n == 0 {
        return Err(Error::invalid("x", "training needs at least one sample (after the validation split)"));
    }
    let weights: Option<Array1<f32>> = match &options.class_weight {
        Some(cw) => Some(Loss::class_weights(y, cw)),
        None => sample_weight.map(|w| w.to_owned()),
    };
    // With weights, each batch carries them as one more target column.
    let targets = y.ncols();
    let weighted_y = weights
        .map(|w| ndarray::concatenate(Axis(1), &[y, w.view().insert_axis(Axis(1))]))
        .transpose()
        .map_err(|e| Error::invalid("sample_weight", e.to_string()))?;
    let batch = options.batch_size.min(n);
    let mut batches = Batches::new(x, weighted_y.as_ref().map_or(y, |a| a.view()), batch)?;
    if options.shuffle {
        batches = batches.shuffle(options.seed);
    }
    // Dropout masks draw from their own stream, so that shuffling or not does not change them.
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut buffers = model.workspace(batch)?;
    let mut history = History::default();
    let outputs = model.output_dim();
    let plan = Plan { initial_epoch: options.initial_epoch, epochs: options.epochs, steps: batches.n_batches() };
    let mut callbacks = std::mem::take(&mut options.callbacks);
    if let Some(progress) = Progress::stdout(options.verbose) {
        callbacks.insert(0, Box::new(progress));
    }
    let outcome = (|| -> Result<()> {
        each(&mut callbacks, |cb| cb.on_train_begin(&plan).map(|()| Control::Continue))?;
        for epoch in options.initial_epoch..options.epochs {
            if each(&mut callbacks, |cb| cb.on_epoch_begin(epoch, model))? {
                history.stopped_at = Some(epoch);
                break;
            }
            let start = Instant::now();
            if epoch > options.initial_epoch {
                batches.reset();
            }
            let mut tally = Tally::new(outputs, compiled.loss.sparse_targets());
            let (mut total, mut seen, mut stop) = (0.0, 0usize, false);
            // Taken once per epoch: what a step that turns the weights non-finite goes back to.
            let epoch_start = model.training_state();
            let mut b = 0;
            while let Some((xb, yb)) = batches.next_batch() {
                let (yb, wb) = match weighted_y {
                    Some(_) => (yb.slice_move(s![.., ..targets]), Some(yb.column(targets))),
                    None => (yb, None),
                };
                let rows = xb.nrows();
                let mean = match model.train_step(&mut buffers, xb, yb, wb, &mut rng, &mut tally) {
                    Ok(loss) => {
                        total += loss * rows as f64;
                        seen += rows;
                        total / seen as f64
                    }
                    Err(Error::NonFinite(what)) => {
                        let left = if !model.weights_finite() {
                            model.restore_training_state(epoch_start.clone());
                            "the model keeps the weights it had at the start of this epoch"
                        } else {
                            "the model keeps the weights of the last finite step"
                        };
                        if each(&mut callbacks, |cb| cb.on_batch_end(epoch, b, f64::NAN))? {
                            // As in Keras, the epoch's loss includes the non-finite batch.
                            (total, seen, stop) = (f64::NAN, seen + rows, true);
                            break;
                        }
                        return Err(Error::NonFinite(format!("{what} at epoch {} batch {b}; {left}", epoch + 1)));
                    }
                    Err(other) => return Err(other),
                };
                stop |= each(&mut callbacks, |cb| cb.on_batch_end(epoch, b, mean))?;
                if stop {
                    break;
                }
                b += 1;
            }
            let mut logs = Logs::default();
            logs.push("loss", total / seen as f64 + model.penalty());
            tally.log(&compiled, "", &mut logs);
            if let Some((xv, yv, wv)) = validation
                && xv.nrows() > 0
            {
                for (name, v) in model.evaluate_weighted(xv, yv, wv)?.0 {
                    logs.push(format!("val_{name}"), v);
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            stop |= each(&mut callbacks, |cb| cb.on_epoch_end(epoch, &mut logs, model))?;
            history.epochs.push(logs);
            history.seconds.push(seconds);
            if stop {
                history.stopped_at = Some(epoch);
                break;
            }
        }
        Ok(())
    })();
    // Every callback ends (restoring weights, closing files), even after an error; the first error wins.
    let mut ended = Ok(());
    for cb in callbacks.iter_mut() {
        let r = cb.on_train_end(model);
        if ended.is_ok() {
            ended = r;
        }
    }
    outcome.and(ended)?;
    Ok(history)
}
