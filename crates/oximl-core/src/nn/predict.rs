//! Inference: `predict` (and its `_into`, `_proba`, `_classes` forms) and `evaluate`, in blocks of rows.

use crate::error::{Error, Result};
use crate::nn::metric::Tally;
use crate::nn::train::{all_finite, check_sample_weight};
use crate::nn::{Layer, Logs, Sequential, zeros};
use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Slice};
use oximl_kernel::{Activation, Epilogue};

/// Rows per block when predicting or evaluating: bounds the memory of the intermediate activations.
const PREDICT_BLOCK: usize = 4096;

impl Sequential {
    /// Checks that `x` has this model's width and only finite values.
    pub(super) fn check_input(&self, x: ArrayView2<'_, f32>) -> Result<()> {
        if x.ncols() != self.input_dim {
            return Err(Error::shape(
                format!("inputs with {} features", self.input_dim),
                format!("{} features", x.ncols()),
            ));
        }
        if let Some(i) = first_non_finite_row(x) {
            return Err(Error::NonFinite(format!("input row {i} contains NaN or infinity")));
        }
        Ok(())
    }

    /// The output layer's activation (`Linear` if the model ends with no dense layer).
    fn output_activation(&self) -> Activation {
        match self.layers.iter().rev().find_map(|l| if let Layer::Dense(d) = l { Some(d) } else { None }) {
            Some(d) => d.activation,
            None => Activation::Linear,
        }
    }

    /// Inference on one block of rows into `dst` (`rows × output_dim`): every dense layer as one fused product
    /// (bias and activation in the epilogue), the last one written straight into `dst`; dropout skipped. Returns
    /// the last pre-activation too when asked (for losses).
    fn forward_block(
        &self,
        x: ArrayView2<'_, f32>,
        mut dst: ArrayViewMut2<'_, f32>,
        keep_last_z: bool,
    ) -> Result<Option<Array2<f32>>> {
        let Some(last_dense) = self.params.iter().rposition(Option::is_some) else {
            dst.assign(&x);
            return Ok(None);
        };
        let mut cur: Option<Array2<f32>> = None;
        for (l, (layer, param)) in self.layers.iter().zip(&self.params).enumerate().take(last_dense + 1) {
            let (Layer::Dense(d), Some(p)) = (layer, param) else { continue };
            let input = cur.as_ref().map_or(x, |c| c.view());
            let split = keep_last_z && l + 1 == self.layers.len();
            let act = if split { Activation::Linear } else { d.activation };
            let epilogue = Epilogue { bias: p.bias.as_ref().map(|b| b.view()), activation: act };
            if l < last_dense {
                let mut out = zeros("activations", input.nrows(), d.units)?;
                self.dense_product(l, input, p, epilogue, out.view_mut())?;
                cur = Some(out);
                continue;
            }
            self.dense_product(l, input, p, epilogue, dst.view_mut())?;
            if split {
                let z = dst.to_owned();
                oximl_kernel::activate(d.activation, dst.view_mut());
                return Ok(Some(z));
            }
        }
        Ok(None)
    }

    /// The model's outputs for `x` (rows are samples), computed in blocks of rows.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// assert_eq!(m.predict(Array2::zeros((5, 4)).view()).unwrap(), Array2::<f32>::zeros((5, 3)));
    /// assert!(m.predict(Array2::zeros((5, 2)).view()).is_err());
    /// ```
    pub fn predict(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut out = zeros("predictions", x.nrows(), self.output_dim())?;
        self.predict_into(x, out.view_mut())?;
        Ok(out)
    }

    /// [`Sequential::predict`] into the caller's `out` (`rows × output_dim`, any strides), allocating only the
    /// hidden layers' activations: what the C API uses to write into a caller's buffer.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(8))?.add(Dense::new(3))?;
    /// let x = Array2::ones((5, 4));
    /// let mut out = Array2::from_elem((5, 3), f32::NAN);
    /// m.predict_into(x.view(), out.view_mut())?;
    /// assert_eq!(out, m.predict(x.view())?);
    /// assert!(m.predict_into(x.view(), Array2::zeros((5, 2)).view_mut()).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn predict_into(&self, x: ArrayView2<'_, f32>, mut out: ArrayViewMut2<'_, f32>) -> Result<()> {
        self.check_input(x)?;
        let want = (x.nrows(), self.output_dim());
        if out.dim() != want {
            return Err(Error::shape(
                format!("an output of {} × {}", want.0, want.1),
                format!("{} × {}", out.nrows(), out.ncols()),
            ));
        }
        let blocks = x.axis_chunks_iter(Axis(0), PREDICT_BLOCK).zip(out.axis_chunks_iter_mut(Axis(0), PREDICT_BLOCK));
        for (b, (xb, mut ob)) in blocks.enumerate() {
            self.forward_block(xb, ob.view_mut(), false)?;
            if let Some(row) = first_non_finite_row(ob.view()) {
                return Err(Error::NonFinite(format!(
                    "the output of row {} overflowed to NaN or infinity (finite inputs too large for the weights)",
                    b * PREDICT_BLOCK + row
                )));
            }
        }
        Ok(())
    }

    /// Probabilities: [`Sequential::predict`], with softmax (or sigmoid for one output) applied when the model
    /// was compiled with a `from_logits` loss.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3))?;
    /// m.compile(Optimizer::sgd(0.1), Loss::CategoricalCrossentropy { from_logits: true }, &[])?;
    /// let p = m.predict_proba(Array2::ones((2, 4)).view())?;
    /// assert!((p.row(0).sum() - 1.0).abs() < 1e-6);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn predict_proba(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let mut p = self.predict(x)?;
        if self.compiled.as_ref().is_some_and(|c| c.loss.is_from_logits()) {
            let act = if p.ncols() == 1 { Activation::Sigmoid } else { Activation::Softmax };
            oximl_kernel::activate(act, p.view_mut());
        }
        Ok(p)
    }

    /// The predicted class of each row: argmax of the outputs, or `output > 0.5` for a single output.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(2);
    /// m.add(Dense::new(3)).unwrap();
    /// assert_eq!(m.predict_classes(Array2::zeros((2, 2)).view()).unwrap(), vec![0, 0]);
    /// ```
    pub fn predict_classes(&self, x: ArrayView2<'_, f32>) -> Result<Vec<usize>> {
        let p = self.predict_proba(x)?;
        if p.ncols() == 1 {
            Ok(p.iter().map(|&v| usize::from(v > 0.5)).collect())
        } else {
            Ok(oximl_kernel::argmax_rows(p.view())?)
        }
    }

    /// The loss and every compiled metric on `(x, y)`, as `[("loss", ·), (metric, ·)…]`.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::nn::{Dense, Loss, Metric, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(1);
    /// m.add(Dense::new(1))?;
    /// m.set_weights(vec![array![[2.0f32]].into_dyn(), array![1.0f32].into_dyn()])?;
    /// m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, &[Metric::Mae])?;
    /// let logs = m.evaluate(array![[1.0f32], [2.0]].view(), array![[3.0f32], [4.0]].view())?;
    /// assert_eq!(logs.get("loss"), Some(0.5)); // errors 0 and 1
    /// assert_eq!(logs.get("mae"), Some(0.5));
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn evaluate(&self, x: ArrayView2<'_, f32>, y: ArrayView2<'_, f32>) -> Result<Logs> {
        self.evaluate_weighted(x, y, None)
    }

    /// As [`evaluate`](Self::evaluate), each sample weighted as in Keras' `evaluate(sample_weight=...)`: the loss
    /// is `Σ wᵢ·lossᵢ / n`, the `weighted_metrics` count each sample with its weight.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(1);
    /// m.add(Dense::new(1))?;
    /// m.set_weights(vec![array![[1.0f32]].into_dyn(), array![0.0f32].into_dyn()])?;
    /// m.compile(Optimizer::sgd(0.1), Loss::MeanAbsoluteError, &[])?;
    /// let (x, y) = (array![[1.0f32], [2.0]], array![[1.0f32], [4.0]]);
    /// let logs = m.evaluate_weighted(x.view(), y.view(), Some(array![5.0f32, 0.5].view()))?;
    /// assert_eq!(logs.get("loss"), Some(0.5)); // (5·0 + 0.5·2) / 2
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn evaluate_weighted(
        &self,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        sample_weight: Option<ArrayView1<'_, f32>>,
    ) -> Result<Logs> {
        let compiled =
            self.compiled.as_ref().ok_or_else(|| Error::invalid("model", "compile the model before evaluate"))?;
        self.check_input(x)?;
        if x.nrows() == 0 {
            return Err(Error::invalid("x", "evaluate needs at least one sample"));
        }
        if y.nrows() != x.nrows() {
            return Err(Error::shape(format!("{} target rows", x.nrows()), format!("{}", y.nrows())));
        }
        compiled.loss.check_targets(y, self.output_dim())?;
        check_sample_weight(sample_weight, x.nrows())?;
        let act = self.output_activation();
        let mut tally = Tally::new(self.output_dim(), compiled.loss.sparse_targets());
        let (mut total, n) = (0.0, x.nrows() as f64);
        for (start, xb) in x.axis_chunks_iter(Axis(0), PREDICT_BLOCK).enumerate() {
            let rows = Slice::from(start * PREDICT_BLOCK..start * PREDICT_BLOCK + xb.nrows());
            let (yb, wb) = (y.slice_axis(Axis(0), rows), sample_weight.map(|w| w.slice_axis_move(Axis(0), rows)));
            let mut a = zeros("predictions", xb.nrows(), self.output_dim())?;
            let z = self.forward_block(xb, a.view_mut(), true)?.unwrap_or_else(|| a.clone());
            let mut scratch = Array2::zeros(a.dim());
            total += compiled.loss.forward_backward(act, z.view(), a.view(), yb, wb, scratch.view_mut())?
                * xb.nrows() as f64;
            tally.add(a.view(), yb, wb, compiled)?;
        }
        let mut logs = Logs::default();
        logs.push("loss", total / n + self.penalty());
        tally.log(compiled, "", &mut logs);
        Ok(logs)
    }

    /// The regularization penalty of the current weights.
    pub(crate) fn penalty(&self) -> f64 {
        let mut total = 0.0;
        for (layer, param) in self.layers.iter().zip(&self.params) {
            if let (Layer::Dense(d), Some(p)) = (layer, param) {
                if let (Some(r), Some(w)) = (d.kernel_regularizer, p.kernel.as_slice()) {
                    total += r.penalty(w);
                }
                if let (Some(r), Some(b)) = (d.bias_regularizer, p.bias.as_ref().and_then(|b| b.as_slice())) {
                    total += r.penalty(b);
                }
            }
        }
        total
    }
}

/// The first row of `a` holding NaN or infinity (each row scanned branch-free, see [`all_finite`]).
fn first_non_finite_row(a: ArrayView2<'_, f32>) -> Option<usize> {
    a.rows().into_iter().position(|row| match row.as_slice() {
        Some(r) => !all_finite(r),
        None => row.iter().any(|v| !v.is_finite()),
    })
}
