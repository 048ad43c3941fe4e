//! [`Stack`]: a `Sequential` assembled from another tool's layers or operators, one step at a time. Each importer
//! (ONNX, Keras) reads its format and feeds the stack dense weights, biases, activations and dropout; the stack
//! folds what it can into the last dense layer and inserts an exact identity layer where nothing can take it.

use crate::error::{Error, Result};
use crate::nn::{Dense, Layer, Sequential};
use ndarray::{Array1, Array2, ArrayD};
use oximl_kernel::Activation;

/// The largest identity layer (elements) inserted for an activation or bias that follows no dense layer.
const MAX_IDENTITY: usize = 1 << 24;

/// A layer being assembled.
pub(super) enum Stage {
    /// A dense layer: its configuration (units, activation, use_bias are set by the stack) and its weights.
    Dense { config: Dense, kernel: Array2<f32>, bias: Option<Array1<f32>> },
    /// Dropout at this rate.
    Dropout(f32),
}

/// The layers read so far and the width of the value flowing through them (`None`: not known yet).
pub(super) struct Stack {
    pub(super) width: Option<usize>,
    pub(super) stages: Vec<Stage>,
}

impl Stack {
    /// An empty stack whose input has `width` features, if known.
    pub(super) fn new(width: Option<usize>) -> Stack {
        Stack { width, stages: Vec::new() }
    }

    /// Appends a dense layer `x·kernel (+ bias)` configured as `config` (its penalties, initializer) with a linear
    /// activation.
    pub(super) fn dense(&mut self, config: Dense, kernel: Array2<f32>, bias: Option<Array1<f32>>) -> Result<()> {
        if let Some(width) = self.width
            && kernel.nrows() != width
        {
            return Err(Error::Format(format!("weights of {} rows for inputs of width {width}", kernel.nrows())));
        }
        if let Some(b) = &bias
            && b.len() != kernel.ncols()
        {
            return Err(Error::Format(format!("a bias of {} values for {} units", b.len(), kernel.ncols())));
        }
        self.width = Some(kernel.ncols());
        let config =
            Dense { units: kernel.ncols(), activation: Activation::Linear, use_bias: bias.is_some(), ..config };
        self.stages.push(Stage::Dense { config, kernel, bias });
        Ok(())
    }

    /// Appends dropout at `rate`.
    pub(super) fn dropout(&mut self, rate: f32) {
        self.stages.push(Stage::Dropout(rate));
    }

    /// The last layer if it is dense with no activation yet: what a bias or an activation folds into.
    fn open_dense(&mut self) -> Option<(&mut Dense, &mut Option<Array1<f32>>)> {
        match self.stages.last_mut() {
            Some(Stage::Dense { config, bias, .. }) if config.activation == Activation::Linear => Some((config, bias)),
            _ => None,
        }
    }

    /// Adds `bias` to the last layer's bias, or appends an identity layer with it when an activation came between.
    pub(super) fn bias(&mut self, bias: Array1<f32>) -> Result<()> {
        match self.open_dense() {
            Some((config, b)) => {
                *b = Some(b.take().map_or_else(|| bias.clone(), |b| b + &bias));
                config.use_bias = true;
                Ok(())
            }
            None => {
                self.identity()?;
                self.bias(bias)
            }
        }
    }

    /// Sets the last layer's activation, or appends an identity layer with it when there is none to take it.
    pub(super) fn activate(&mut self, activation: Activation) -> Result<()> {
        if activation == Activation::Linear {
            return Ok(());
        }
        match self.open_dense() {
            Some((config, _)) => {
                config.activation = activation;
                Ok(())
            }
            None => {
                self.identity()?;
                self.activate(activation)
            }
        }
    }

    /// Appends a layer that computes the identity (exactly: each output is one input times 1 plus zeros).
    fn identity(&mut self) -> Result<()> {
        let width = self.width.ok_or_else(|| Error::Format("the input's width is not known".into()))?;
        if width.checked_mul(width).is_none_or(|n| n > MAX_IDENTITY) {
            return Err(Error::Format(format!("an activation of width {width} needs a dense layer before it")));
        }
        self.dense(Dense::new(width), Array2::eye(width), None)
    }

    /// The model, its weights set.
    pub(super) fn finish(self) -> Result<Sequential> {
        let input_dim = match (self.stages.iter().find_map(first_width), self.width) {
            (Some(w), _) | (None, Some(w)) => w,
            (None, None) => return Err(Error::Format("the input's width is not known".into())),
        };
        let imported = |e: Error| Error::Format(format!("imported model: {e}"));
        let mut model = Sequential::new(input_dim);
        let mut weights = Vec::new();
        for stage in self.stages {
            match stage {
                Stage::Dense { config, kernel, bias } => {
                    model.add(config).map_err(imported)?;
                    weights.push(kernel.into_dyn());
                    weights.extend(bias.map(Array1::into_dyn));
                }
                Stage::Dropout(rate) => _ = model.add(Layer::Dropout { rate }).map_err(imported)?,
            }
        }
        model.set_weights(weights).map_err(imported)?;
        Ok(model)
    }
}

/// The input width a dense stage expects.
fn first_width(stage: &Stage) -> Option<usize> {
    match stage {
        Stage::Dense { kernel, .. } => Some(kernel.nrows()),
        Stage::Dropout(_) => None,
    }
}

/// A weight as a matrix.
pub(super) fn matrix(a: ArrayD<f32>) -> Result<Array2<f32>> {
    let shape = a.shape().to_vec();
    a.into_dimensionality().map_err(|_| Error::Format(format!("weights of shape {shape:?}, not a matrix")))
}
