//! Layer configurations: `Dense` and `Dropout`, with Keras' names and defaults. A layer's weights live in the
//! model ([`crate::nn::Sequential`]); the configuration is plain serializable data.

use crate::error::{Error, Result};
use crate::nn::Initializer;
use crate::optim::Regularizer;
use oximl_kernel::Activation;
use serde::{Deserialize, Serialize};

/// A fully connected layer: `y = activation(x·W + b)`.
///
/// ```
/// use oximl_core::nn::{Dense, Initializer};
/// use oximl_core::kernel::Activation;
/// let d = Dense::new(64).activation(Activation::Relu).kernel_initializer(Initializer::HeNormal);
/// assert_eq!((d.units, d.use_bias), (64, true));
/// ```
///
/// As JSON only `units` is required: `{"type": "dense", "units": 64, "activation": {"name": "relu"}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dense {
    /// Output width.
    pub units: usize,
    /// Applied after the bias (`Linear` by default, as in Keras).
    #[serde(default = "linear")]
    pub activation: Activation,
    /// Whether the layer has a bias vector.
    #[serde(default = "yes")]
    pub use_bias: bool,
    /// How `W` starts (`b` starts at zero).
    #[serde(default)]
    pub kernel_initializer: Initializer,
    /// Penalty on `W`.
    #[serde(default)]
    pub kernel_regularizer: Option<Regularizer>,
    /// Penalty on `b`.
    #[serde(default)]
    pub bias_regularizer: Option<Regularizer>,
}

fn linear() -> Activation {
    Activation::Linear
}

fn yes() -> bool {
    true
}

impl Dense {
    /// A dense layer of `units` outputs with Keras' defaults: linear, with bias, Glorot-uniform weights.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Dense::new(10).units, 10);
    /// ```
    pub fn new(units: usize) -> Dense {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            kernel_regularizer: None,
            bias_regularizer: None,
        }
    }

    /// Sets the activation.
    ///
    /// ```
    /// use oximl_core::kernel::Activation;
    /// assert_eq!(oximl_core::nn::Dense::new(1).activation(Activation::Sigmoid).activation, Activation::Sigmoid);
    /// ```
    pub fn activation(mut self, activation: Activation) -> Dense {
        self.activation = activation;
        self
    }

    /// Turns the bias on or off.
    ///
    /// ```
    /// assert!(!oximl_core::nn::Dense::new(1).use_bias(false).use_bias);
    /// ```
    pub fn use_bias(mut self, on: bool) -> Dense {
        self.use_bias = on;
        self
    }

    /// Sets the weight initializer.
    ///
    /// ```
    /// use oximl_core::nn::{Dense, Initializer};
    /// assert_eq!(Dense::new(1).kernel_initializer(Initializer::Zeros).kernel_initializer, Initializer::Zeros);
    /// ```
    pub fn kernel_initializer(mut self, init: Initializer) -> Dense {
        self.kernel_initializer = init;
        self
    }

    /// Sets the penalty on the weights.
    ///
    /// ```
    /// use oximl_core::{nn::Dense, optim::Regularizer};
    /// assert!(Dense::new(1).kernel_regularizer(Regularizer::l2(1e-4)).kernel_regularizer.is_some());
    /// ```
    pub fn kernel_regularizer(mut self, r: Regularizer) -> Dense {
        self.kernel_regularizer = Some(r);
        self
    }

    /// Sets the penalty on the bias.
    ///
    /// ```
    /// use oximl_core::{nn::Dense, optim::Regularizer};
    /// assert!(Dense::new(1).bias_regularizer(Regularizer::l1(1e-4)).bias_regularizer.is_some());
    /// ```
    pub fn bias_regularizer(mut self, r: Regularizer) -> Dense {
        self.bias_regularizer = Some(r);
        self
    }
}

/// A layer of a [`crate::nn::Sequential`] model.
///
/// ```
/// use oximl_core::nn::{Dense, Layer};
/// let layers = [Layer::from(Dense::new(8)), Layer::Dropout { rate: 0.5 }];
/// assert_eq!(layers[1].output_dim(8), 8);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// A fully connected layer.
    Dense(Dense),
    /// Zeroes each input with probability `rate` during training and scales the rest by 1/(1 − rate)
    /// (inverted dropout); the identity at inference.
    Dropout {
        /// The drop probability, in [0, 1).
        rate: f32,
    },
}

impl From<Dense> for Layer {
    fn from(d: Dense) -> Layer {
        Layer::Dense(d)
    }
}

impl Layer {
    /// The layer's output width for an input of width `input_dim`.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Layer::from(oximl_core::nn::Dense::new(3)).output_dim(10), 3);
    /// ```
    pub fn output_dim(&self, input_dim: usize) -> usize {
        match self {
            Layer::Dense(d) => d.units,
            Layer::Dropout { .. } => input_dim,
        }
    }

    /// Validates the configuration.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Layer::Dense(d) => {
                if d.units == 0 {
                    return Err(Error::invalid("units", "a dense layer needs at least one unit"));
                }
                if let oximl_kernel::Activation::LeakyRelu { alpha } | oximl_kernel::Activation::Elu { alpha } =
                    d.activation
                    && !(alpha >= 0.0 && alpha.is_finite())
                {
                    return Err(Error::invalid("alpha", format!("must be finite and ≥ 0, got {alpha}")));
                }
                d.kernel_regularizer.iter().chain(&d.bias_regularizer).try_for_each(Regularizer::check)
            }
            Layer::Dropout { rate } if !(0.0..1.0).contains(rate) => {
                Err(Error::invalid("rate", format!("the dropout rate must be in [0, 1), got {rate}")))
            }
            Layer::Dropout { .. } => Ok(()),
        }
    }
}
