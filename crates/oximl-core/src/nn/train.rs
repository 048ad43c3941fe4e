//! One training step: the work buffers, forward and backward passes, the optimizer update.

use crate::error::{Error, Result};
use crate::nn::fit::{self, FitOptions, History};
use crate::nn::metric::Tally;
use crate::nn::{Compiled, Layer, Param, Sequential, zeros};
use crate::optim::OptimizerState;
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, Axis, s};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use oximl_kernel::{Activation, Epilogue};

/// Work buffers of one training run, allocated once for the largest batch and reused by every step.
pub(crate) struct Workspace {
    /// Per layer: the pre-activation (dense) or dropout mask.
    z: Vec<Array2<f32>>,
    /// Per layer: the output.
    out: Vec<Array2<f32>>,
    /// Per layer: the gradient of the loss with respect to the output, then the pre-activation.
    grad: Vec<Array2<f32>>,
    /// Per dense layer: gradients of W and b.
    dparams: Vec<Option<(Array2<f32>, Array1<f32>)>>,
    ones: Array2<f32>,
}

impl Sequential {
    /// Trains on `(x, y)` (rows are samples) and returns the per-epoch history. See [`FitOptions`].
    ///
    /// ```
    /// use ndarray::Array2;
    /// use oximl_core::nn::{Dense, FitOptions, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(2);
    /// m.add(Dense::new(1))?;
    /// m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, &[])?;
    /// let (x, y) = (Array2::ones((8, 2)), Array2::ones((8, 1)));
    /// let h = m.fit(x.view(), y.view(), FitOptions { epochs: 3, batch_size: 4, ..Default::default() })?;
    /// assert_eq!(h.values("loss").len(), 3);
    /// assert!(m.fit(x.view(), y.view(), FitOptions { batch_size: 0, ..Default::default() }).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit(&mut self, x: ArrayView2<'_, f32>, y: ArrayView2<'_, f32>, options: FitOptions<'_>) -> Result<History> {
        fit::run(self, x, y, options)
    }

    /// Allocates the work buffers of training for batches of up to `rows` rows; a size beyond
    /// [`crate::nn::MAX_MATRIX_VALUES`] or more than the memory available is an error, before any step.
    pub(crate) fn workspace(&self, rows: usize) -> Result<Workspace> {
        let mut dim = self.input_dim;
        let (mut z, mut out, mut grad, mut dparams) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (layer, param) in self.layers.iter().zip(&self.params) {
            dim = layer.output_dim(dim);
            z.push(zeros("training buffer (batch_size × units)", rows, dim)?);
            out.push(zeros("training buffer (batch_size × units)", rows, dim)?);
            grad.push(zeros("training buffer (batch_size × units)", rows, dim)?);
            let gradient = |p: &Param| -> Result<_> {
                let (r, c) = p.kernel.dim();
                Ok((zeros("gradient", r, c)?, Array1::zeros(dim)))
            };
            dparams.push(param.as_ref().map(gradient).transpose()?);
        }
        let mut ones = zeros("training buffer (batch_size)", 1, rows)?;
        ones.fill(1.0);
        Ok(Workspace { z, out, grad, dparams, ones })
    }

    /// Forward and backward passes on the batch `(x, y)` with optional per-sample weights `w`: fills the gradients
    /// in `ws.dparams` and returns the batch's data loss (without the penalty, whose gradient is included).
    fn backprop(
        &self,
        ws: &mut Workspace,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        w: Option<ArrayView1<'_, f32>>,
        rng: &mut StdRng,
        tally: &mut Tally,
    ) -> Result<f64> {
        let compiled = self.compiled.as_ref().ok_or_else(|| Error::invalid("model", "compile the model before fit"))?;
        let rows = x.nrows();
        let n = self.layers.len();
        // Forward, keeping each layer's pre-activation (or dropout mask) and output.
        for l in 0..n {
            let (before, rest) = ws.out.split_at_mut(l);
            let input = before.last().map_or(x, |o| o.slice(s![..rows, ..]));
            let mut out = rest[0].slice_mut(s![..rows, ..]);
            let mut z = ws.z[l].slice_mut(s![..rows, ..]);
            match (&self.layers[l], &self.params[l]) {
                (Layer::Dense(d), Some(p)) => {
                    let epilogue = Epilogue { bias: p.bias.as_ref().map(|b| b.view()), activation: Activation::Linear };
                    oximl_kernel::gemm_fused(1.0, input, p.kernel.view(), 0.0, z.view_mut(), epilogue)?;
                    out.assign(&z);
                    oximl_kernel::activate(d.activation, out.view_mut());
                }
                (Layer::Dropout { rate }, _) => {
                    fit::dropout_mask(*rate, z.view_mut(), rng);
                    out.assign(&input);
                    oximl_kernel::mul(z.view(), out.view_mut())?;
                }
                (Layer::Dense(_), None) => return Err(Error::invalid("model", "a dense layer without weights")),
            }
        }
        // The loss and its gradient with respect to the last pre-activation.
        let last = n - 1;
        let Layer::Dense(out_layer) = &self.layers[last] else {
            return Err(Error::invalid("layers", "the last layer of a model to train must be Dense"));
        };
        let a_last = ws.out[last].slice(s![..rows, ..]);
        let loss = compiled.loss.forward_backward(
            out_layer.activation,
            ws.z[last].slice(s![..rows, ..]),
            a_last,
            y,
            w,
            ws.grad[last].slice_mut(s![..rows, ..]),
        )?;
        if !loss.is_finite() {
            return Err(Error::NonFinite(format!("the loss became {loss}")));
        }
        tally.add(a_last, y, w, compiled)?;
        // Backward.
        for l in (0..n).rev() {
            let (gbefore, grest) = ws.grad.split_at_mut(l);
            let mut g = grest[0].slice_mut(s![..rows, ..]);
            let input = if l == 0 { x } else { ws.out[l - 1].slice(s![..rows, ..]) };
            match (&self.layers[l], &self.params[l], &mut ws.dparams[l]) {
                (Layer::Dense(d), Some(p), Some((dw, db))) => {
                    if l != last {
                        let (z, a) = (ws.z[l].slice(s![..rows, ..]), ws.out[l].slice(s![..rows, ..]));
                        oximl_kernel::activate_backward(d.activation, z, a, g.view_mut())?;
                    }
                    oximl_kernel::gemm(1.0, input.t(), g.view(), 0.0, dw.view_mut())?;
                    let ones = ws.ones.slice(s![.., ..rows]);
                    let db2 = db.view_mut().insert_axis(Axis(0));
                    oximl_kernel::gemm(1.0, ones, g.view(), 0.0, db2)?;
                    if let (Some(r), Some(w), Some(gw)) = (d.kernel_regularizer, p.kernel.as_slice(), dw.as_slice_mut())
                    {
                        r.add_gradient(w, gw);
                    }
                    if let (Some(r), Some(b), Some(gb)) =
                        (d.bias_regularizer, p.bias.as_ref().and_then(|b| b.as_slice()), db.as_slice_mut())
                    {
                        r.add_gradient(b, gb);
                    }
                    if let Some(prev) = gbefore.last_mut() {
                        let prev = prev.slice_mut(s![..rows, ..]);
                        oximl_kernel::gemm(1.0, g.view(), p.kernel.t(), 0.0, prev)?;
                    }
                }
                (Layer::Dropout { .. }, _, _) => {
                    if let Some(prev) = gbefore.last_mut() {
                        let mut prev = prev.slice_mut(s![..rows, ..]);
                        prev.assign(&g);
                        oximl_kernel::mul(ws.z[l].slice(s![..rows, ..]), prev)?;
                    }
                }
                _ => return Err(Error::invalid("model", "a dense layer without weights")),
            }
        }
        Ok(loss)
    }

    /// One optimizer step on the batch `(x, y)` (samples weighted by `w` if given), using the buffers in `ws`.
    /// Returns the batch's data loss. Nothing is changed when the loss or a gradient is not finite.
    pub(crate) fn train_step(
        &mut self,
        ws: &mut Workspace,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        w: Option<ArrayView1<'_, f32>>,
        rng: &mut StdRng,
        tally: &mut Tally,
    ) -> Result<f64> {
        let loss = self.backprop(ws, x, y, w, rng, tally)?;
        let compiled = self.compiled.as_ref().ok_or_else(|| Error::invalid("model", "compile the model before fit"))?;
        // Global gradient norm: the finiteness check and clipping.
        let mut sq = 0.0f64;
        for (dw, db) in ws.dparams.iter().flatten() {
            sq += (oximl_kernel::norm_l2(dw.view()) as f64).powi(2) + (oximl_kernel::norm_l2(db.view()) as f64).powi(2);
        }
        let norm = sq.sqrt();
        if !norm.is_finite() {
            return Err(Error::NonFinite(format!("the gradient norm became {norm}")));
        }
        let scale = match compiled.optimizer.max_norm() {
            Some(max) if norm > max as f64 => (max as f64 / norm) as f32,
            _ => 1.0,
        };
        // Update.
        let optimizer = compiled.optimizer.clone();
        let (mut index, mut finite) = (0, true);
        for (param, dparam) in self.params.iter_mut().zip(&mut ws.dparams) {
            let (Some(p), Some((dw, db))) = (param, dparam) else { continue };
            if scale != 1.0 {
                oximl_kernel::scale(scale, dw.view_mut());
                oximl_kernel::scale(scale, db.view_mut());
            }
            let pairs = [
                (p.kernel.as_slice_mut(), dw.as_slice()),
                (p.bias.as_mut().and_then(|b| b.as_slice_mut()), db.as_slice()),
            ];
            // Indices follow `get_weights` (an absent bias has none), as the saved optimizer state does.
            for (w, g) in pairs {
                let Some(w) = w else { continue };
                if let Some(g) = g {
                    optimizer.update(&mut self.optimizer_state, index, w, g);
                    finite &= all_finite(w);
                }
                index += 1;
            }
        }
        self.optimizer_state.step += 1;
        self.after_optimizer_step();
        if !finite {
            return Err(Error::NonFinite("the weights became NaN or infinity".into()));
        }
        Ok(loss)
    }

    /// The loss on `(x, y)` (with the regularization penalty) and its gradient with respect to every weight, in
    /// the order of [`Sequential::get_weights`]: what one training step would use (dropout inactive). For
    /// inspection and gradient checks; `fit` does not call it.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(1);
    /// m.add(Dense::new(1))?;
    /// m.set_weights(vec![array![[2.0f32]].into_dyn(), array![0.0f32].into_dyn()])?;
    /// m.compile(Optimizer::sgd(0.1), Loss::HalfSquaredError, &[])?;
    /// let (loss, grads) = m.loss_and_gradients(array![[1.0f32]].view(), array![[3.0f32]].view())?;
    /// assert_eq!(loss, 0.5); // ½(2·1 − 3)²
    /// assert_eq!(grads[0][[0, 0]], -1.0); // (h − y)·x
    /// let (weighted, _) = m.weighted_loss_and_gradients(array![[1.0f32]].view(), array![[3.0f32]].view(), Some(array![3.0f32].view()))?;
    /// assert_eq!(weighted, 1.5);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
    ) -> Result<(f64, Vec<ArrayD<f32>>)> {
        self.weighted_loss_and_gradients(x, y, None)
    }

    /// As [`loss_and_gradients`](Self::loss_and_gradients), each sample's loss multiplied by its weight (Keras'
    /// `sample_weight`; the sum still divided by the number of samples).
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(1);
    /// m.add(Dense::new(1))?;
    /// m.compile(Optimizer::sgd(0.1), Loss::MeanSquaredError, &[])?;
    /// let (x, y) = (array![[1.0f32], [2.0]], array![[0.0f32], [1.0]]);
    /// assert!(m.weighted_loss_and_gradients(x.view(), y.view(), Some(array![1.0f32].view())).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn weighted_loss_and_gradients(
        &self,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        sample_weight: Option<ArrayView1<'_, f32>>,
    ) -> Result<(f64, Vec<ArrayD<f32>>)> {
        let compiled = self.prepare_training(y, x)?;
        if x.nrows() == 0 {
            return Err(Error::invalid("x", "needs at least one sample"));
        }
        check_sample_weight(sample_weight, x.nrows())?;
        let without_dropout = Sequential {
            layers: self
                .layers
                .iter()
                .map(|l| if let Layer::Dropout { .. } = l { Layer::Dropout { rate: 0.0 } } else { l.clone() })
                .collect(),
            ..self.clone()
        };
        let mut ws = without_dropout.workspace(x.nrows())?;
        let mut tally = Tally::new(self.output_dim(), compiled.loss.sparse_targets());
        let loss = without_dropout.backprop(&mut ws, x, y, sample_weight, &mut StdRng::seed_from_u64(0), &mut tally)?;
        let mut grads = Vec::new();
        for ((dw, db), p) in ws.dparams.into_iter().flatten().zip(self.params.iter().flatten()) {
            grads.push(dw.into_dyn());
            if p.bias.is_some() {
                grads.push(db.into_dyn());
            }
        }
        Ok((loss + self.penalty(), grads))
    }
}

/// Used by `fit`: the model's pieces that the training loop needs.
impl Sequential {
    pub(crate) fn prepare_training(&self, y: ArrayView2<'_, f32>, x: ArrayView2<'_, f32>) -> Result<&Compiled> {
        self.check_not_quantized("train")?;
        let compiled = self.compiled.as_ref().ok_or_else(|| Error::invalid("model", "compile the model before fit"))?;
        self.check_input(x)?;
        if y.nrows() != x.nrows() {
            return Err(Error::shape(format!("{} target rows (one per sample)", x.nrows()), format!("{}", y.nrows())));
        }
        compiled.loss.check_targets(y, self.output_dim())?;
        Ok(compiled)
    }

    pub(crate) fn snapshot(&self) -> Vec<Option<Param>> {
        self.params.clone()
    }

    pub(crate) fn restore(&mut self, params: Vec<Option<Param>>) {
        self.params = params;
    }

    /// Whether every weight is finite.
    pub(crate) fn weights_finite(&self) -> bool {
        self.params.iter().flatten().all(|p| {
            p.kernel.as_slice().is_some_and(all_finite) && p.bias.iter().all(|b| b.as_slice().is_some_and(all_finite))
        })
    }

    /// The weights and optimizer state, to go back to when a step turns the weights non-finite.
    pub(crate) fn training_state(&self) -> (Vec<Option<Param>>, OptimizerState) {
        (self.params.clone(), self.optimizer_state.clone())
    }

    pub(crate) fn restore_training_state(&mut self, (params, state): (Vec<Option<Param>>, OptimizerState)) {
        self.params = params;
        self.optimizer_state = state;
    }
}

/// Checks per-sample weights: one per sample, each finite.
pub(crate) fn check_sample_weight(w: Option<ArrayView1<'_, f32>>, samples: usize) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    if w.len() != samples {
        return Err(Error::shape(format!("{samples} sample weights (one per sample)"), format!("{}", w.len())));
    }
    if let Some(bad) = w.iter().find(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("sample_weight contains {bad}")));
    }
    Ok(())
}

/// Whether every value is finite: a branch-free scan the compiler vectorizes.
pub(super) fn all_finite(w: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    !w.iter().fold(false, |bad, v| bad | (v.to_bits() & EXPONENT == EXPONENT))
}
