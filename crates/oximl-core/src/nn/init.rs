//! Weight initializers, as Keras names them; every draw comes from the caller's seeded generator.

use crate::error::{Error, Result};
use ndarray::Array2;
use ndarray_rand::rand::Rng;
use ndarray_rand::rand_distr::{Normal, Uniform};
use serde::{Deserialize, Serialize};

/// The most values one matrix of a model (weights, activations, work buffers) may hold: 2³⁰ `f32`s, 4 GiB.
/// Larger sizes — typically a mistyped `units`, `input_dim` or `batch_size` — are refused before allocating.
///
/// ```
/// use oximl_core::nn::{Dense, Sequential, MAX_MATRIX_VALUES};
/// assert!(Sequential::new(4).add(Dense::new(MAX_MATRIX_VALUES)).is_err());
/// ```
pub const MAX_MATRIX_VALUES: usize = 1 << 30;

/// An empty vector with room for the `rows × cols` values of the matrix `what`: the size product is checked
/// against [`MAX_MATRIX_VALUES`] and the allocation is fallible, so an impossible size is an error, never an abort.
pub(crate) fn room_for(what: &str, rows: usize, cols: usize) -> Result<Vec<f32>> {
    let too_big = || {
        Error::invalid(
            what,
            format!("a {rows} × {cols} matrix is more than the {MAX_MATRIX_VALUES} values one matrix may hold"),
        )
    };
    let len = rows.checked_mul(cols).filter(|&n| n <= MAX_MATRIX_VALUES).ok_or_else(too_big)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|e| {
        Error::invalid(what, format!("cannot allocate a {rows} × {cols} matrix ({} bytes): {e}", len * 4))
    })?;
    Ok(v)
}

/// A `rows × cols` matrix of zeros, allocated as [`room_for`] does.
pub(crate) fn zeros(what: &str, rows: usize, cols: usize) -> Result<Array2<f32>> {
    let mut v = room_for(what, rows, cols)?;
    v.resize(rows * cols, 0.0);
    Array2::from_shape_vec((rows, cols), v).map_err(|e| Error::invalid(what, e.to_string()))
}

/// How a layer's kernel (weight matrix, `fan_in × fan_out`) starts.
///
/// ```
/// use ndarray_rand::rand::{SeedableRng, rngs::StdRng};
/// use oximl_core::nn::Initializer;
/// let w = Initializer::GlorotUniform.sample(64, 32, &mut StdRng::seed_from_u64(0)).unwrap();
/// let limit = (6.0f32 / 96.0).sqrt();
/// assert!(w.iter().all(|v| v.abs() <= limit));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initializer {
    /// Uniform in ±√(6 / (fan_in + fan_out)) (Keras' default).
    #[default]
    GlorotUniform,
    /// Normal truncated at 2σ with variance 2 / (fan_in + fan_out) (σ corrected for the truncation, as Keras does).
    GlorotNormal,
    /// Normal truncated at 2σ with variance 2 / fan_in (σ corrected for the truncation; for relu layers).
    HeNormal,
    /// Uniform in ±√(6 / fan_in).
    HeUniform,
    /// All zeros.
    Zeros,
}

impl Initializer {
    /// Parses a Keras initializer name.
    ///
    /// ```
    /// assert_eq!(oximl_core::nn::Initializer::from_name("he_normal"), Some(oximl_core::nn::Initializer::HeNormal));
    /// ```
    pub fn from_name(name: &str) -> Option<Initializer> {
        Some(match name {
            "glorot_uniform" => Initializer::GlorotUniform,
            "glorot_normal" => Initializer::GlorotNormal,
            "he_normal" => Initializer::HeNormal,
            "he_uniform" => Initializer::HeUniform,
            "zeros" => Initializer::Zeros,
            _ => return None,
        })
    }

    /// A `fan_in × fan_out` matrix drawn from this initializer.
    ///
    /// ```
    /// use ndarray_rand::rand::{SeedableRng, rngs::StdRng};
    /// let w = oximl_core::nn::Initializer::Zeros.sample(3, 2, &mut StdRng::seed_from_u64(1)).unwrap();
    /// assert_eq!(w, ndarray::Array2::<f32>::zeros((3, 2)));
    /// assert!(oximl_core::nn::Initializer::Zeros.sample(1 << 40, 1 << 40, &mut StdRng::seed_from_u64(1)).is_err());
    /// ```
    pub fn sample<R: Rng>(self, fan_in: usize, fan_out: usize, rng: &mut R) -> Result<Array2<f32>> {
        let mut w = room_for("kernel", fan_in, fan_out)?;
        let n = fan_in * fan_out;
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        let bad = |e: &dyn std::fmt::Display| Error::invalid("kernel_initializer", e.to_string());
        let mut uniform = |limit: f32, w: &mut Vec<f32>| -> Result<()> {
            let dist = Uniform::new_inclusive(-limit, limit).map_err(|e| bad(&e))?;
            w.extend((0..n).map(|_| rng.sample(dist)));
            Ok(())
        };
        let truncated = |std: f32, w: &mut Vec<f32>, rng: &mut R| -> Result<()> {
            // The standard deviation of a unit normal truncated at ±2 is 0.8796.
            let std = std / 0.879_625_7;
            let normal = Normal::new(0.0f32, std).map_err(|e| bad(&e))?;
            w.extend((0..n).map(|_| {
                loop {
                    let v = rng.sample(normal);
                    if v.abs() <= 2.0 * std {
                        break v;
                    }
                }
            }));
            Ok(())
        };
        match self {
            Initializer::GlorotUniform => uniform((6.0 / (fi + fo)).sqrt(), &mut w)?,
            Initializer::GlorotNormal => truncated((2.0 / (fi + fo)).sqrt(), &mut w, rng)?,
            Initializer::HeNormal => truncated((2.0 / fi).sqrt(), &mut w, rng)?,
            Initializer::HeUniform => uniform((6.0 / fi).sqrt(), &mut w)?,
            Initializer::Zeros => w.resize(n, 0.0),
        }
        Array2::from_shape_vec((fan_in, fan_out), w).map_err(|e| bad(&e))
    }
}
