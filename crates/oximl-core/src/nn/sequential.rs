//! The `Sequential` model: a stack of layers trained by back-propagation, Keras' vocabulary in Rust.

use crate::error::{Error, Result};
use crate::io::{self, TensorRef};
use crate::nn::fit::{self, FitOptions, History, Logs};
use crate::nn::{Accumulator, Dense, Layer, Loss, Metric};
use crate::optim::{Optimizer, OptimizerState};
use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix2, s};
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use oximl_kernel::{Activation, Epilogue};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt::Write as _;

/// The file kind of a saved `Sequential` model.
pub const KIND: &str = "sequential";

/// Rows per block when predicting or evaluating: bounds the memory of the intermediate activations.
const PREDICT_BLOCK: usize = 4096;

/// The weights of one dense layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// `W`, `inputs × units`.
    pub kernel: Array2<f32>,
    /// `b`, one value per unit (absent when the layer has no bias).
    pub bias: Option<Array1<f32>>,
}

/// What `compile` fixes: how to train and what to report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compiled {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// The training objective.
    pub loss: Loss,
    /// Reported with the loss by `fit` and `evaluate`.
    pub metrics: Vec<Metric>,
}

/// A feed-forward network: layers applied in order.
///
/// ```
/// use ndarray::array;
/// use oximl_core::kernel::Activation;
/// use oximl_core::nn::{Dense, FitOptions, Loss, Metric, Sequential};
/// use oximl_core::optim::Optimizer;
///
/// // XOR.
/// let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
/// let y = array![[0.0f32], [1.0], [1.0], [0.0]];
/// let mut model = Sequential::with_seed(2, 7);
/// model.add(Dense::new(8).activation(Activation::Tanh))?.add(Dense::new(1).activation(Activation::Sigmoid))?;
/// model.compile(Optimizer::adam(0.05), Loss::from_name("binary_crossentropy")?, &[Metric::Accuracy])?;
/// let history = model.fit(x.view(), y.view(), FitOptions { epochs: 300, batch_size: 4, ..Default::default() })?;
/// assert_eq!(history.last("accuracy"), Some(1.0));
/// assert_eq!(model.predict_classes(x.view())?, vec![0, 1, 1, 0]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sequential {
    input_dim: usize,
    layers: Vec<Layer>,
    /// One entry per layer: the weights of a dense layer, `None` for a dropout layer.
    params: Vec<Option<Param>>,
    compiled: Option<Compiled>,
    optimizer_state: OptimizerState,
    rng: StdRng,
}

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
    /// An empty model for inputs of `input_dim` features; initial weights are drawn with seed 0.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Sequential::new(4).input_dim(), 4);
    /// ```
    pub fn new(input_dim: usize) -> Sequential {
        Sequential::with_seed(input_dim, 0)
    }

    /// An empty model whose initial weights are drawn with `seed`: the same seed gives the same model.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut a = Sequential::with_seed(3, 1);
    /// let mut b = Sequential::with_seed(3, 1);
    /// a.add(Dense::new(2)).unwrap();
    /// b.add(Dense::new(2)).unwrap();
    /// assert_eq!(a.get_weights(), b.get_weights());
    /// ```
    pub fn with_seed(input_dim: usize, seed: u64) -> Sequential {
        Sequential {
            input_dim,
            layers: Vec::new(),
            params: Vec::new(),
            compiled: None,
            optimizer_state: OptimizerState::default(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Appends a layer (its weights are drawn now) and returns the model for chaining.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Layer, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(8))?.add(Layer::Dropout { rate: 0.2 })?.add(Dense::new(2))?;
    /// assert_eq!(m.output_dim(), 2);
    /// assert!(m.add(Layer::Dropout { rate: 1.5 }).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn add(&mut self, layer: impl Into<Layer>) -> Result<&mut Sequential> {
        let layer = layer.into();
        layer.check()?;
        if self.input_dim == 0 {
            return Err(Error::invalid("input_dim", "a model needs at least one input feature"));
        }
        let param = match &layer {
            Layer::Dense(d) => Some(Param {
                kernel: d.kernel_initializer.sample(self.output_dim(), d.units, &mut self.rng),
                bias: d.use_bias.then(|| Array1::zeros(d.units)),
            }),
            Layer::Dropout { .. } => None,
        };
        self.layers.push(layer);
        self.params.push(param);
        self.optimizer_state = OptimizerState::default();
        Ok(self)
    }

    /// The number of input features.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Sequential::new(7).input_dim(), 7);
    /// ```
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }

    /// The width of the output (the input width for an empty model).
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Sequential::new(7).output_dim(), 7);
    /// ```
    pub fn output_dim(&self) -> usize {
        self.layers.iter().fold(self.input_dim, |d, l| l.output_dim(d))
    }

    /// The layers, in order.
    ///
    /// ```
    /// assert!(oximl_core::nn::Sequential::new(2).layers().is_empty());
    /// ```
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The compile-time settings, once compiled.
    ///
    /// ```
    /// assert!(oximl_core::nn::Sequential::new(2).compiled().is_none());
    /// ```
    pub fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// The number of trainable parameters.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// assert_eq!(m.param_count(), 4 * 3 + 3);
    /// ```
    pub fn param_count(&self) -> usize {
        self.params.iter().flatten().map(|p| p.kernel.len() + p.bias.as_ref().map_or(0, |b| b.len())).sum()
    }

    /// Fixes the optimizer, the loss and the metrics (validating all of them), and resets the optimizer state.
    ///
    /// ```
    /// use oximl_core::kernel::Activation;
    /// use oximl_core::nn::{Dense, Loss, Sequential};
    /// use oximl_core::optim::Optimizer;
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3).activation(Activation::Softmax))?;
    /// assert!(m.compile(Optimizer::sgd(0.1), Loss::CategoricalCrossentropy { from_logits: true }, &[]).is_err());
    /// m.compile(Optimizer::sgd(0.1), Loss::CategoricalCrossentropy { from_logits: false }, &[])?;
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn compile(&mut self, optimizer: Optimizer, loss: Loss, metrics: &[Metric]) -> Result<()> {
        optimizer.check()?;
        let Some(Layer::Dense(last)) = self.layers.last() else {
            return Err(Error::invalid("layers", "the last layer of a model to train must be Dense"));
        };
        loss.check(last.activation, last.units)?;
        self.compiled = Some(Compiled { optimizer, loss, metrics: metrics.to_vec() });
        self.optimizer_state = OptimizerState::default();
        Ok(())
    }

    /// The weights in Keras' order: for each dense layer its kernel, then its bias if it has one.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// let w = m.get_weights();
    /// assert_eq!((w[0].shape(), w[1].shape()), (&[4, 3][..], &[3][..]));
    /// ```
    pub fn get_weights(&self) -> Vec<ArrayD<f32>> {
        let mut out = Vec::new();
        for p in self.params.iter().flatten() {
            out.push(p.kernel.clone().into_dyn());
            if let Some(b) = &p.bias {
                out.push(b.clone().into_dyn());
            }
        }
        out
    }

    /// Replaces the weights (same order and shapes as [`Sequential::get_weights`]); nothing changes on error.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(4);
    /// m.add(Dense::new(3)).unwrap();
    /// let mut w = m.get_weights();
    /// w[1].fill(1.0);
    /// m.set_weights(w.clone()).unwrap();
    /// assert_eq!(m.get_weights(), w);
    /// assert!(m.set_weights(w[..1].to_vec()).is_err());
    /// ```
    pub fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        let expected: Vec<Vec<usize>> = self.get_weights().iter().map(|w| w.shape().to_vec()).collect();
        let got: Vec<Vec<usize>> = weights.iter().map(|w| w.shape().to_vec()).collect();
        if expected != got {
            return Err(Error::shape(format!("weights of shapes {expected:?}"), format!("{got:?}")));
        }
        if weights.iter().any(|w| w.iter().any(|v| !v.is_finite())) {
            return Err(Error::NonFinite("weights contain NaN or infinity".into()));
        }
        let mut it = weights.into_iter();
        for p in self.params.iter_mut().flatten() {
            p.kernel = it.next().and_then(|w| w.into_dimensionality::<Ix2>().ok()).unwrap_or_default();
            if let Some(b) = p.bias.as_mut() {
                *b = it.next().and_then(|w| w.into_dimensionality::<Ix1>().ok()).unwrap_or_default();
            }
        }
        Ok(())
    }

    /// Checks that `x` has this model's width and only finite values.
    fn check_input(&self, x: ArrayView2<'_, f32>) -> Result<()> {
        if x.ncols() != self.input_dim {
            return Err(Error::shape(
                format!("inputs with {} features", self.input_dim),
                format!("{} features", x.ncols()),
            ));
        }
        if let Some((i, _)) = x.rows().into_iter().enumerate().find(|(_, r)| r.iter().any(|v| !v.is_finite())) {
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
                let mut out = Array2::zeros((input.nrows(), d.units));
                oximl_kernel::gemm_fused(1.0, input, p.kernel.view(), 0.0, out.view_mut(), epilogue)?;
                cur = Some(out);
                continue;
            }
            oximl_kernel::gemm_fused(1.0, input, p.kernel.view(), 0.0, dst.view_mut(), epilogue)?;
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
        let mut out = Array2::zeros((x.nrows(), self.output_dim()));
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
        for (xb, ob) in x.axis_chunks_iter(Axis(0), PREDICT_BLOCK).zip(out.axis_chunks_iter_mut(Axis(0), PREDICT_BLOCK))
        {
            self.forward_block(xb, ob, false)?;
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
        let act = self.output_activation();
        let mut acc = Accumulator::new(self.output_dim(), compiled.loss.sparse_targets());
        let (mut total, n) = (0.0, x.nrows() as f64);
        for (xb, yb) in x.axis_chunks_iter(Axis(0), PREDICT_BLOCK).zip(y.axis_chunks_iter(Axis(0), PREDICT_BLOCK)) {
            let mut a = Array2::zeros((xb.nrows(), self.output_dim()));
            let z = self.forward_block(xb, a.view_mut(), true)?.unwrap_or_else(|| a.clone());
            let mut scratch = Array2::zeros(a.dim());
            total +=
                compiled.loss.forward_backward(act, z.view(), a.view(), yb, scratch.view_mut())? * xb.nrows() as f64;
            acc.add(a.view(), yb)?;
        }
        let mut logs = Logs::default();
        logs.push("loss", total / n + self.penalty());
        for m in &compiled.metrics {
            logs.push(m.name(), acc.value(*m));
        }
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

    /// Allocates the work buffers of training for batches of up to `rows` rows.
    pub(crate) fn workspace(&self, rows: usize) -> Workspace {
        let mut dim = self.input_dim;
        let (mut z, mut out, mut grad, mut dparams) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (layer, param) in self.layers.iter().zip(&self.params) {
            dim = layer.output_dim(dim);
            z.push(Array2::zeros((rows, dim)));
            out.push(Array2::zeros((rows, dim)));
            grad.push(Array2::zeros((rows, dim)));
            dparams.push(param.as_ref().map(|p| (Array2::zeros(p.kernel.dim()), Array1::zeros(dim))));
        }
        Workspace { z, out, grad, dparams, ones: Array2::ones((1, rows)) }
    }

    /// Forward and backward passes on the batch `(x, y)`: fills the gradients in `ws.dparams` and returns the
    /// batch's data loss (without the penalty, whose gradient is included).
    fn backprop(
        &self,
        ws: &mut Workspace,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        rng: &mut StdRng,
        acc: &mut Accumulator,
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
            ws.grad[last].slice_mut(s![..rows, ..]),
        )?;
        if !loss.is_finite() {
            return Err(Error::NonFinite(format!("the loss became {loss}")));
        }
        acc.add(a_last, y)?;
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

    /// One optimizer step on the batch `(x, y)`, using the buffers in `ws`. Returns the batch's data loss.
    /// Nothing is changed when the loss or a gradient is not finite.
    pub(crate) fn train_step(
        &mut self,
        ws: &mut Workspace,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
        rng: &mut StdRng,
        acc: &mut Accumulator,
    ) -> Result<f64> {
        let loss = self.backprop(ws, x, y, rng, acc)?;
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
        let mut index = 0;
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
            for (w, g) in pairs {
                if let (Some(w), Some(g)) = (w, g) {
                    optimizer.update(&mut self.optimizer_state, index, w, g);
                }
                index += 1;
            }
        }
        self.optimizer_state.step += 1;
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
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn loss_and_gradients(
        &self,
        x: ArrayView2<'_, f32>,
        y: ArrayView2<'_, f32>,
    ) -> Result<(f64, Vec<ArrayD<f32>>)> {
        let compiled = self.prepare_training(y, x)?;
        if x.nrows() == 0 {
            return Err(Error::invalid("x", "needs at least one sample"));
        }
        let without_dropout = Sequential {
            layers: self
                .layers
                .iter()
                .map(|l| if let Layer::Dropout { .. } = l { Layer::Dropout { rate: 0.0 } } else { l.clone() })
                .collect(),
            ..self.clone()
        };
        let mut ws = without_dropout.workspace(x.nrows());
        let mut acc = Accumulator::new(self.output_dim(), compiled.loss.sparse_targets());
        let loss = without_dropout.backprop(&mut ws, x, y, &mut StdRng::seed_from_u64(0), &mut acc)?;
        let mut grads = Vec::new();
        for ((dw, db), p) in ws.dparams.into_iter().flatten().zip(self.params.iter().flatten()) {
            grads.push(dw.into_dyn());
            if p.bias.is_some() {
                grads.push(db.into_dyn());
            }
        }
        Ok((loss + self.penalty(), grads))
    }

    /// A Keras-style table of the layers, their output shapes and parameter counts.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(64);
    /// m.add(Dense::new(10)).unwrap();
    /// assert!(m.summary().contains("Total params: 650"));
    /// ```
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let rule = "─".repeat(64);
        let _ = writeln!(s, "Model: \"sequential\"\n{rule}");
        let _ = writeln!(s, "{:<28}{:<20}{:>16}", "Layer (type)", "Output Shape", "Param #");
        let _ = writeln!(s, "{rule}");
        let mut dim = self.input_dim;
        for (i, (layer, param)) in self.layers.iter().zip(&self.params).enumerate() {
            dim = layer.output_dim(dim);
            let (name, count) = match (layer, param) {
                (Layer::Dense(d), Some(p)) => (
                    format!("dense_{i} ({})", d.activation.name()),
                    p.kernel.len() + p.bias.as_ref().map_or(0, |b| b.len()),
                ),
                _ => (format!("dropout_{i}"), 0),
            };
            let _ = writeln!(s, "{name:<28}{:<20}{count:>16}", format!("(None, {dim})"));
        }
        let _ = writeln!(s, "{rule}\nTotal params: {}\n{rule}", self.param_count());
        s
    }
}

impl io::Persist for Sequential {
    const KIND: &'static str = KIND;

    /// ONNX files, recognized by their content, load too (see [`crate::interchange::onnx`]).
    fn from_legacy(bytes: &[u8]) -> Option<Result<Sequential>> {
        crate::interchange::onnx::looks_like_onnx(bytes).then(|| Sequential::from_onnx(bytes))
    }

    fn with_tensors<R>(&self, f: impl FnOnce(&serde_json::Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R> {
        let slots = &self.optimizer_state.slots;
        let config = json!({
            "input_dim": self.input_dim,
            "layers": self.layers,
            "compile": self.compiled,
            "optimizer_step": self.optimizer_state.step,
            "optimizer_slots": slots.iter().map(Vec::len).collect::<Vec<_>>(),
        });
        let mut names = Vec::new();
        for (l, p) in self.params.iter().enumerate() {
            if let Some(p) = p {
                names.push((format!("layers.{l}.kernel"), TensorRef::new(p.kernel.view())));
                if let Some(b) = &p.bias {
                    names.push((format!("layers.{l}.bias"), TensorRef::new(b.view())));
                }
            }
        }
        for (t, tensor_slots) in slots.iter().enumerate() {
            for (k, slot) in tensor_slots.iter().enumerate() {
                names.push((format!("optimizer.{t}.{k}"), TensorRef::new(ndarray::ArrayView1::from(slot.as_slice()))));
            }
        }
        let tensors: Vec<(&str, TensorRef<'_>)> = names.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
        f(&config, &tensors)
    }

    fn from_loaded(file: &io::Loaded) -> Result<Sequential> {
        #[derive(Deserialize)]
        struct Config {
            input_dim: usize,
            layers: Vec<Layer>,
            compile: Option<Compiled>,
            optimizer_step: u64,
            optimizer_slots: Vec<usize>,
        }
        let bad = |e: Error| Error::Format(format!("invalid sequential model: {e}"));
        let config: Config = serde_json::from_value(file.config().clone())
            .map_err(|e| Error::Format(format!("invalid sequential model config: {e}")))?;
        let mut model = Sequential::new(config.input_dim);
        let mut dim = config.input_dim;
        for (l, layer) in config.layers.into_iter().enumerate() {
            layer.check().map_err(bad)?;
            let param = match &layer {
                Layer::Dense(Dense { units, use_bias, .. }) => {
                    let kernel = file.matrix::<f32>(&format!("layers.{l}.kernel"), Some(dim), Some(*units))?;
                    let bias = match use_bias {
                        true => Some(file.tensor::<f32>(&format!("layers.{l}.bias"), &[Some(*units)])?),
                        false => None,
                    };
                    let bias = bias
                        .map(|b| b.into_dimensionality::<Ix1>())
                        .transpose()
                        .map_err(|e| Error::Format(e.to_string()))?;
                    Some(Param { kernel, bias })
                }
                Layer::Dropout { .. } => None,
            };
            dim = layer.output_dim(dim);
            model.layers.push(layer);
            model.params.push(param);
        }
        if model.params.iter().flatten().any(|p| p.kernel.iter().chain(p.bias.iter().flatten()).any(|v| !v.is_finite()))
        {
            return Err(Error::Format("the weights contain NaN or infinity".into()));
        }
        if let Some(c) = config.compile {
            model.compile(c.optimizer, c.loss, &c.metrics).map_err(bad)?;
        }
        let lengths: Vec<usize> = model.get_weights().iter().map(|w| w.len()).collect();
        if config.optimizer_slots.len() > lengths.len() {
            return Err(Error::Format("more optimizer state than parameters".into()));
        }
        let mut slots = Vec::new();
        for (t, &count) in config.optimizer_slots.iter().enumerate() {
            let tensor_slots = (0..count)
                .map(|k| {
                    Ok(file
                        .tensor::<f32>(&format!("optimizer.{t}.{k}"), &[Some(lengths[t])])?
                        .into_raw_vec_and_offset()
                        .0)
                })
                .collect::<Result<Vec<_>>>()?;
            slots.push(tensor_slots);
        }
        model.optimizer_state = OptimizerState { step: config.optimizer_step, slots };
        Ok(model)
    }
}

/// Used by `fit`: the model's pieces that the training loop needs.
impl Sequential {
    pub(crate) fn prepare_training(&self, y: ArrayView2<'_, f32>, x: ArrayView2<'_, f32>) -> Result<&Compiled> {
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
}
