//! Metrics, accumulated batch by batch into counts and sums so that an epoch's value is exact (not an average
//! of batch averages): MAE, MSE, accuracy, precision, recall, F1 (binary for one output, macro-averaged over
//! classes otherwise) and the confusion matrix.

use crate::error::{Error, Result};
use crate::nn::{Compiled, Logs};
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A metric reported by `fit` and `evaluate`.
///
/// ```
/// use oximl_core::nn::Metric;
/// assert_eq!(Metric::from_name("acc").unwrap(), Metric::Accuracy);
/// assert_eq!(Metric::F1.name(), "f1_score");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Mean absolute error.
    #[serde(alias = "mean_absolute_error")]
    Mae,
    /// Mean squared error.
    #[serde(alias = "mean_squared_error")]
    Mse,
    /// The fraction of samples whose predicted class is the target class: threshold 0.5 for one output, argmax
    /// otherwise; integer-label targets when the loss is sparse.
    #[serde(alias = "acc", alias = "binary_accuracy", alias = "categorical_accuracy")]
    #[serde(alias = "sparse_categorical_accuracy")]
    Accuracy,
    /// Of the samples predicted positive, the fraction that are (binary), or its mean over classes (macro).
    Precision,
    /// Of the positive samples, the fraction predicted so (binary), or its mean over classes (macro).
    Recall,
    /// The harmonic mean of precision and recall (binary), or the mean of per-class F1 (macro).
    #[serde(alias = "f1_score")]
    F1,
}

impl Metric {
    /// A metric by Keras name, case-insensitive: the serde names and aliases (`mae`, `mse`, `accuracy`/`acc` and
    /// its binary/categorical/sparse variants, `precision`, `recall`, `f1_score`/`f1`).
    ///
    /// ```
    /// assert!(oximl_core::nn::Metric::from_name("auc").is_err());
    /// ```
    pub fn from_name(name: &str) -> Result<Metric> {
        serde_json::from_value(serde_json::Value::String(name.to_ascii_lowercase()))
            .map_err(|e| Error::invalid("metrics", format!("unknown metric {name:?}: {e}")))
    }

    /// The name under which the metric appears in a `History` (`val_` is prefixed for validation).
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Metric::Accuracy.name(), "accuracy");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Mae => "mae",
            Metric::Mse => "mse",
            Metric::Accuracy => "accuracy",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1_score",
        }
    }

    /// The metric of predictions `pred` against targets `y` in one call.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::nn::Metric;
    /// let pred = array![[0.9f32, 0.1], [0.2, 0.8], [0.6, 0.4]];
    /// let y = array![[1.0f32, 0.0], [0.0, 1.0], [0.0, 1.0]];
    /// assert!((Metric::Accuracy.compute(pred.view(), y.view(), false).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    /// ```
    pub fn compute(&self, pred: ArrayView2<'_, f32>, y: ArrayView2<'_, f32>, sparse_targets: bool) -> Result<f64> {
        let mut acc = Accumulator::new(pred.ncols(), sparse_targets);
        acc.add(pred, y, None)?;
        Ok(acc.value(*self))
    }
}

/// Running sums and counts from which every [`Metric`] is read; with sample weights, each sample counts with its
/// weight, as in Keras' `weighted_metrics` (accuracy `Σ wᵢ·correctᵢ / Σ wᵢ`, MAE `Σ wᵢ·mean|eᵢ| / Σ wᵢ`,
/// precision and recall from weighted true/false positives).
///
/// ```
/// use ndarray::array;
/// use oximl_core::nn::{Accumulator, Metric};
/// let mut acc = Accumulator::new(1, false);
/// acc.add(array![[0.9f32], [0.2]].view(), array![[1.0f32], [1.0]].view(), None).unwrap();
/// acc.add(array![[0.7f32]].view(), array![[0.0f32]].view(), None).unwrap();
/// assert_eq!(acc.value(Metric::Accuracy), 1.0 / 3.0);
/// assert_eq!(acc.value(Metric::Precision), 0.5);
/// let mut weighted = Accumulator::new(1, false);
/// let (pred, y) = (array![[0.9f32], [0.2]], array![[1.0f32], [1.0]]);
/// weighted.add(pred.view(), y.view(), Some(array![3.0f32, 1.0].view())).unwrap();
/// assert_eq!(weighted.value(Metric::Accuracy), 0.75);
/// ```
#[derive(Clone, Debug)]
pub struct Accumulator {
    outputs: usize,
    sparse_targets: bool,
    /// Σ wᵢ Σⱼ |eᵢⱼ| and Σ wᵢ Σⱼ eᵢⱼ² (dense targets only), and Σ wᵢ over those samples.
    abs_error: f64,
    sq_error: f64,
    error_weight: f64,
    /// The number of classes (two for one output).
    classes: usize,
    /// `confusion[(true, predicted)]`, only the non-zero counts: memory grows with what was seen, not with the
    /// square of the number of outputs.
    confusion: BTreeMap<(usize, usize), u64>,
    /// The same cells, each sample counted with its weight: what the metrics are read from.
    weighted: BTreeMap<(usize, usize), f64>,
}

impl Accumulator {
    /// An empty accumulator for a model with `outputs` outputs; `sparse_targets` when targets are integer labels.
    ///
    /// ```
    /// let acc = oximl_core::nn::Accumulator::new(3, true);
    /// assert_eq!(acc.confusion_matrix().dim(), (3, 3));
    /// ```
    pub fn new(outputs: usize, sparse_targets: bool) -> Accumulator {
        let classes = if outputs == 1 { 2 } else { outputs };
        Accumulator {
            outputs,
            sparse_targets,
            abs_error: 0.0,
            sq_error: 0.0,
            error_weight: 0.0,
            classes,
            confusion: BTreeMap::new(),
            weighted: BTreeMap::new(),
        }
    }

    fn class_of_prediction(&self, row: ArrayView1<'_, f32>) -> usize {
        if self.outputs == 1 {
            usize::from(row[0] > 0.5)
        } else {
            // First maximum; NaN never wins (it compares false).
            (0..row.len()).fold(0, |best, j| if row[j] > row[best] { j } else { best })
        }
    }

    fn class_of_target(&self, row: ArrayView1<'_, f32>) -> usize {
        if self.sparse_targets { row[0] as usize } else { self.class_of_prediction(row) }
    }

    /// Adds a batch of predictions and targets, each sample counted with its weight if `sample_weight` is given.
    ///
    /// ```
    /// use ndarray::array;
    /// let mut acc = oximl_core::nn::Accumulator::new(2, false);
    /// assert!(acc.add(array![[1.0f32, 0.0]].view(), array![[1.0f32]].view(), None).is_err());
    /// ```
    pub fn add(
        &mut self,
        pred: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        sample_weight: Option<ArrayView1<'_, f32>>,
    ) -> Result<()> {
        let cols = if self.sparse_targets { 1 } else { self.outputs };
        if pred.ncols() != self.outputs
            || y.dim() != (pred.nrows(), cols)
            || sample_weight.is_some_and(|w| w.len() != pred.nrows())
        {
            return Err(Error::shape(
                format!(
                    "predictions with {} columns, targets of {} × {cols} and as many weights",
                    self.outputs,
                    pred.nrows()
                ),
                format!(
                    "predictions {:?}, targets {:?}, weights {:?}",
                    pred.dim(),
                    y.dim(),
                    sample_weight.map(|w| w.len())
                ),
            ));
        }
        let classes = self.classes;
        for (i, (p, t)) in pred.rows().into_iter().zip(y.rows()).enumerate() {
            let (tc, pc) = (self.class_of_target(t), self.class_of_prediction(p));
            if tc >= classes {
                return Err(Error::invalid("y", format!("label {} is not a class in 0..{classes}", t[0])));
            }
            let w = sample_weight.map_or(1.0, |w| f64::from(w[i]));
            *self.confusion.entry((tc, pc)).or_default() += 1;
            *self.weighted.entry((tc, pc)).or_default() += w;
            if !self.sparse_targets {
                for (&a, &b) in p.iter().zip(t) {
                    let e = (a - b) as f64;
                    self.abs_error += w * e.abs();
                    self.sq_error += w * e * e;
                }
                self.error_weight += w;
            }
        }
        Ok(())
    }

    /// The confusion matrix so far (sample counts, whatever the weights): rows are true classes, columns predicted
    /// ones (two classes for one output).
    ///
    /// ```
    /// use ndarray::array;
    /// let mut acc = oximl_core::nn::Accumulator::new(1, false);
    /// acc.add(array![[0.9f32]].view(), array![[0.0f32]].view(), None).unwrap();
    /// assert_eq!(acc.confusion_matrix(), array![[0, 1], [0, 0]]);
    /// ```
    pub fn confusion_matrix(&self) -> Array2<u64> {
        let mut m = Array2::zeros((self.classes, self.classes));
        for (&(t, p), &n) in &self.confusion {
            m[[t, p]] = n;
        }
        m
    }

    /// The value of `metric` over everything added so far (NaN for MAE/MSE with sparse targets, 0 when a ratio
    /// has no denominator, as scikit-learn's `zero_division=0`).
    ///
    /// ```
    /// let acc = oximl_core::nn::Accumulator::new(1, false);
    /// assert_eq!(acc.value(oximl_core::nn::Metric::Recall), 0.0);
    /// ```
    pub fn value(&self, metric: Metric) -> f64 {
        let ratio = |a: f64, b: f64| if b == 0.0 { 0.0 } else { a / b };
        let (mut true_count, mut predicted_count) = (BTreeMap::<usize, f64>::new(), BTreeMap::<usize, f64>::new());
        for (&(t, p), &n) in &self.weighted {
            *true_count.entry(t).or_default() += n;
            *predicted_count.entry(p).or_default() += n;
        }
        let diagonal = |k: usize| self.weighted.get(&(k, k)).copied().unwrap_or(0.0);
        let per_class = |k: usize| {
            let tp = diagonal(k);
            let precision = ratio(tp, predicted_count.get(&k).copied().unwrap_or(0.0));
            let recall = ratio(tp, true_count.get(&k).copied().unwrap_or(0.0));
            let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
            (precision, recall, f1)
        };
        // A class never seen (neither true nor predicted) scores 0 in every ratio, as in the dense matrix.
        let pick = |f: fn((f64, f64, f64)) -> f64| {
            if self.outputs == 1 {
                f(per_class(1))
            } else {
                let seen: std::collections::BTreeSet<usize> =
                    true_count.keys().chain(predicted_count.keys()).copied().collect();
                seen.into_iter().map(|k| f(per_class(k))).sum::<f64>() / self.classes as f64
            }
        };
        let total: f64 = self.weighted.values().sum();
        let elements = self.error_weight * self.outputs as f64;
        match metric {
            Metric::Mae => ratio_f(self.abs_error, elements),
            Metric::Mse => ratio_f(self.sq_error, elements),
            Metric::Accuracy => ratio(self.weighted.iter().filter(|((t, p), _)| t == p).map(|(_, n)| n).sum(), total),
            Metric::Precision => pick(|t| t.0),
            Metric::Recall => pick(|t| t.1),
            Metric::F1 => pick(|t| t.2),
        }
    }
}

fn ratio_f(sum: f64, n: f64) -> f64 {
    if n == 0.0 { f64::NAN } else { sum / n }
}

/// The metrics of one pass over data: the compiled `metrics` unweighted and the `weighted_metrics` with the
/// sample weights, logged under Keras' names (a weighted metric also in `metrics` is `weighted_<name>`).
pub(crate) struct Tally {
    plain: Accumulator,
    weighted: Accumulator,
}

impl Tally {
    pub(crate) fn new(outputs: usize, sparse_targets: bool) -> Tally {
        Tally { plain: Accumulator::new(outputs, sparse_targets), weighted: Accumulator::new(outputs, sparse_targets) }
    }

    pub(crate) fn add(
        &mut self,
        pred: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        sample_weight: Option<ArrayView1<'_, f32>>,
        compiled: &Compiled,
    ) -> Result<()> {
        if !compiled.metrics.is_empty() {
            self.plain.add(pred, y, None)?;
        }
        if !compiled.weighted_metrics.is_empty() {
            self.weighted.add(pred, y, sample_weight)?;
        }
        Ok(())
    }

    /// Appends each metric's value to `logs`, its name after `prefix` (`""` or `"val_"`).
    pub(crate) fn log(&self, compiled: &Compiled, prefix: &str, logs: &mut Logs) {
        for m in &compiled.metrics {
            logs.push(format!("{prefix}{}", m.name()), self.plain.value(*m));
        }
        for m in &compiled.weighted_metrics {
            let taken = compiled.metrics.contains(m);
            let name = if taken { format!("{prefix}weighted_{}", m.name()) } else { format!("{prefix}{}", m.name()) };
            logs.push(name, self.weighted.value(*m));
        }
    }
}
