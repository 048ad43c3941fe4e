//! Activations and their derivatives, and the BLAS-1 style maps (axpy, scale, mul, clamp, exp).
//! Every function works on arrays of any dimension and layout; contiguous ones take the vectorized path.

use crate::cpu::CpuLevel;
use crate::error::{Result, check_shape};
use crate::float::Float;
use crate::map::{binary, ternary, unary};
use crate::reduce::{softmax_rows_at, softmax_rows_backward_at};
use ndarray::{ArrayView, ArrayView2, ArrayViewMut, ArrayViewMut2, Dimension};

/// An activation function, applied elementwise (or per row, for `Softmax`).
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{Activation, activate};
/// let mut x = array![[-1.0f32, 0.5]];
/// activate(Activation::Relu, x.view_mut());
/// assert_eq!(x, array![[0.0, 0.5]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Activation {
    /// `x`.
    #[serde(alias = "none")]
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, else `alpha·x`.
    LeakyRelu {
        /// The slope for negative inputs (default [`Activation::LEAKY_RELU_ALPHA`]).
        #[serde(default = "leaky_relu_alpha")]
        alpha: f64,
    },
    /// `x` for `x > 0`, else `alpha·(eˣ − 1)`.
    Elu {
        /// The saturation value for negative inputs (default [`Activation::ELU_ALPHA`]).
        #[serde(default = "elu_alpha")]
        alpha: f64,
    },
    /// The exact GELU, `x·Φ(x) = x·(1 + erf(x/√2))/2` (Keras' `approximate=False`, PyTorch's default); in `f32`
    /// the absolute error is at most 2e-7·max(1, |x|).
    Gelu,
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `eˣᵢ / Σⱼ eˣʲ` over each row, computed stably (the row maximum is subtracted first).
    Softmax,
}

fn leaky_relu_alpha() -> f64 {
    Activation::LEAKY_RELU_ALPHA
}

fn elu_alpha() -> f64 {
    Activation::ELU_ALPHA
}

impl Activation {
    /// Keras' default slope of `leaky_relu`, used when a name or a config leaves it out.
    ///
    /// ```
    /// use oximl_kernel::Activation;
    /// assert_eq!(Activation::from_name("leaky_relu"), Some(Activation::LeakyRelu { alpha: Activation::LEAKY_RELU_ALPHA }));
    /// ```
    pub const LEAKY_RELU_ALPHA: f64 = 0.2;

    /// Keras' default `alpha` of `elu`, used when a name or a config leaves it out.
    ///
    /// ```
    /// use oximl_kernel::Activation;
    /// assert_eq!(Activation::from_name("elu"), Some(Activation::Elu { alpha: Activation::ELU_ALPHA }));
    /// ```
    pub const ELU_ALPHA: f64 = 1.0;

    /// The names [`Activation::from_name`] accepts, as Keras spells them.
    pub const NAMES: [&'static str; 8] = ["linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax"];

    /// Parses a Keras activation name (`"relu"`, `"leaky_relu"`, ...; `None` and `"linear"` are the identity),
    /// with Keras' default parameters (`leaky_relu`: α = 0.2, `elu`: α = 1).
    ///
    /// ```
    /// use oximl_kernel::Activation;
    /// assert_eq!(Activation::from_name("leaky_relu"), Some(Activation::LeakyRelu { alpha: 0.2 }));
    /// assert_eq!(Activation::from_name("swish"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Activation> {
        Some(match name {
            "linear" | "none" => Activation::Linear,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu { alpha: Activation::LEAKY_RELU_ALPHA },
            "elu" => Activation::Elu { alpha: Activation::ELU_ALPHA },
            "gelu" => Activation::Gelu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            _ => return None,
        })
    }

    /// The activation's name, as [`Activation::from_name`] reads it.
    ///
    /// ```
    /// assert_eq!(oximl_kernel::Activation::Elu { alpha: 0.5 }.name(), "elu");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Elu { .. } => "elu",
            Activation::Gelu => "gelu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// Whether the activation mixes the elements of a row (only `Softmax` does).
    ///
    /// ```
    /// assert!(oximl_kernel::Activation::Softmax.is_row_wise());
    /// ```
    pub fn is_row_wise(self) -> bool {
        self == Activation::Softmax
    }
}

#[inline(always)]
fn sigmoid<T: Float>(x: T) -> T {
    // e^{-x} overflows to +inf for x < -88 (f32), which correctly gives 0.
    T::one() / (T::one() + T::expv(-x))
}

#[inline(always)]
fn gelu<T: Float>(x: T) -> T {
    T::c(0.5) * x * (T::one() + T::erfv(x * T::c(std::f64::consts::FRAC_1_SQRT_2)))
}

#[inline(always)]
fn gelu_grad<T: Float>(x: T) -> T {
    // Φ(x) + x·φ(x)
    let cdf = T::c(0.5) * (T::one() + T::erfv(x * T::c(std::f64::consts::FRAC_1_SQRT_2)));
    let pdf = T::c(0.398_942_280_401_432_7) * T::expv(T::c(-0.5) * x * x);
    cdf + x * pdf
}

/// Applies `act` to `x` in place (`Softmax` per row of the 2-D view).
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{Activation, activate};
/// let mut x = array![[0.0f32, 0.0]];
/// activate(Activation::Softmax, x.view_mut());
/// assert_eq!(x, array![[0.5, 0.5]]);
/// ```
pub fn activate<T: Float>(act: Activation, x: ArrayViewMut2<'_, T>) {
    activate_at(CpuLevel::current(), act, x)
}

/// [`activate`] compiled for a given CPU level (for tests and benchmarks; an unsupported level runs scalar code).
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{Activation, CpuLevel, activate_at};
/// let mut x = array![[0.0f32]];
/// activate_at(CpuLevel::Scalar, Activation::Sigmoid, x.view_mut());
/// assert_eq!(x[[0, 0]], 0.5);
/// ```
pub fn activate_at<T: Float>(level: CpuLevel, act: Activation, x: ArrayViewMut2<'_, T>) {
    match act {
        Activation::Linear => {}
        Activation::Relu => unary(level, x, |v| if v > T::zero() { v } else { T::zero() }),
        Activation::LeakyRelu { alpha } => {
            let a = T::c(alpha);
            unary(level, x, move |v| if v > T::zero() { v } else { a * v })
        }
        Activation::Elu { alpha } => {
            let a = T::c(alpha);
            unary(level, x, move |v| if v > T::zero() { v } else { a * (T::expv(v) - T::one()) })
        }
        Activation::Gelu => unary(level, x, gelu),
        Activation::Sigmoid => unary(level, x, sigmoid),
        Activation::Tanh => unary(level, x, T::tanhv),
        Activation::Softmax => softmax_rows_at(level, x),
    }
}

/// Back-propagates through `act`: `grad ← grad ⊙ f′(z)` (for `Softmax`, the Jacobian-vector product per row),
/// where `z` is the activation's input and `y = f(z)` its output. All three must have the same shape.
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{Activation, activate_backward};
/// let z = array![[-1.0f32, 2.0]];
/// let y = array![[0.0f32, 2.0]];
/// let mut g = array![[5.0f32, 5.0]];
/// activate_backward(Activation::Relu, z.view(), y.view(), g.view_mut()).unwrap();
/// assert_eq!(g, array![[0.0, 5.0]]);
/// ```
pub fn activate_backward<T: Float>(
    act: Activation,
    z: ArrayView2<'_, T>,
    y: ArrayView2<'_, T>,
    grad: ArrayViewMut2<'_, T>,
) -> Result<()> {
    activate_backward_at(CpuLevel::current(), act, z, y, grad)
}

/// [`activate_backward`] compiled for a given CPU level.
///
/// ```
/// use ndarray::array;
/// use oximl_kernel::{Activation, CpuLevel, activate_backward_at};
/// let (z, y) = (array![[0.0f32]], array![[0.5f32]]);
/// let mut g = array![[1.0f32]];
/// activate_backward_at(CpuLevel::Scalar, Activation::Sigmoid, z.view(), y.view(), g.view_mut()).unwrap();
/// assert_eq!(g[[0, 0]], 0.25);
/// ```
pub fn activate_backward_at<T: Float>(
    level: CpuLevel,
    act: Activation,
    z: ArrayView2<'_, T>,
    y: ArrayView2<'_, T>,
    grad: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check_shape("activate_backward (z)", grad.shape(), z.shape())?;
    check_shape("activate_backward (y)", grad.shape(), y.shape())?;
    let zero = T::zero();
    match act {
        Activation::Linear => {}
        Activation::Relu => ternary(level, grad, z, y, move |g, z, _| if z > zero { g } else { zero }),
        Activation::LeakyRelu { alpha } => {
            let a = T::c(alpha);
            ternary(level, grad, z, y, move |g, z, _| if z > zero { g } else { a * g })
        }
        Activation::Elu { alpha } => {
            let a = T::c(alpha);
            ternary(level, grad, z, y, move |g, z, y| if z > zero { g } else { g * (y + a) })
        }
        Activation::Gelu => ternary(level, grad, z, y, |g, z, _| g * gelu_grad(z)),
        Activation::Sigmoid => ternary(level, grad, z, y, |g, _, y| g * (y * (T::one() - y))),
        Activation::Tanh => ternary(level, grad, z, y, |g, _, y| g * (T::one() - y * y)),
        Activation::Softmax => softmax_rows_backward_at(level, y, grad),
    }
    Ok(())
}

/// `y ← α·x + y`.
///
/// ```
/// use ndarray::array;
/// let mut y = array![1.0f32, 1.0];
/// oximl_kernel::axpy(2.0, array![1.0f32, 2.0].view(), y.view_mut()).unwrap();
/// assert_eq!(y, array![3.0, 5.0]);
/// ```
pub fn axpy<T: Float, D: Dimension>(alpha: T, x: ArrayView<'_, T, D>, y: ArrayViewMut<'_, T, D>) -> Result<()> {
    check_shape("axpy", y.shape(), x.shape())?;
    binary(CpuLevel::current(), y, x, move |v, u| alpha * u + v);
    Ok(())
}

/// `y ← y ⊙ x` (elementwise product).
///
/// ```
/// use ndarray::array;
/// let mut y = array![2.0f32, 3.0];
/// oximl_kernel::mul(array![4.0f32, 5.0].view(), y.view_mut()).unwrap();
/// assert_eq!(y, array![8.0, 15.0]);
/// ```
pub fn mul<T: Float, D: Dimension>(x: ArrayView<'_, T, D>, y: ArrayViewMut<'_, T, D>) -> Result<()> {
    check_shape("mul", y.shape(), x.shape())?;
    binary(CpuLevel::current(), y, x, |v, u| v * u);
    Ok(())
}

/// `x ← α·x`.
///
/// ```
/// use ndarray::array;
/// let mut x = array![1.0f32, -2.0];
/// oximl_kernel::scale(3.0, x.view_mut());
/// assert_eq!(x, array![3.0, -6.0]);
/// ```
pub fn scale<T: Float, D: Dimension>(alpha: T, x: ArrayViewMut<'_, T, D>) {
    unary(CpuLevel::current(), x, move |v| alpha * v);
}

/// `x ← min(max(x, lo), hi)`; NaN stays NaN.
///
/// ```
/// use ndarray::array;
/// let mut x = array![-5.0f32, 0.5, 5.0, f32::NAN];
/// oximl_kernel::clamp(-1.0, 1.0, x.view_mut()).unwrap();
/// assert_eq!(&x.as_slice().unwrap()[..3], &[-1.0, 0.5, 1.0]);
/// assert!(x[3].is_nan());
/// ```
pub fn clamp<T: Float, D: Dimension>(lo: T, hi: T, x: ArrayViewMut<'_, T, D>) -> Result<()> {
    if lo > hi || lo.is_nan() || hi.is_nan() {
        return Err(crate::KernelError::InvalidArgument {
            name: "lo, hi",
            reason: format!("need lo ≤ hi, got lo = {lo}, hi = {hi}"),
        });
    }
    unary(CpuLevel::current(), x, move |v| {
        if v < lo {
            lo
        } else if v > hi {
            hi
        } else {
            v
        }
    });
    Ok(())
}

/// `x ← eˣ` (see [`Float::expv`] for the accuracy).
///
/// ```
/// use ndarray::array;
/// let mut x = array![0.0f32, 1.0];
/// oximl_kernel::exp(x.view_mut());
/// assert!((x[1] - std::f32::consts::E).abs() < 1e-6);
/// ```
pub fn exp<T: Float, D: Dimension>(x: ArrayViewMut<'_, T, D>) {
    unary(CpuLevel::current(), x, T::expv);
}
