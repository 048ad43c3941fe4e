//! Weight initializers, as Keras names them; every draw comes from the caller's seeded generator.

use ndarray::Array2;
use ndarray_rand::RandomExt;
use ndarray_rand::rand::Rng;
use ndarray_rand::rand_distr::{Normal, Uniform};
use serde::{Deserialize, Serialize};

/// How a layer's kernel (weight matrix, `fan_in × fan_out`) starts.
///
/// ```
/// use ndarray_rand::rand::{SeedableRng, rngs::StdRng};
/// use oximl_core::nn::Initializer;
/// let w = Initializer::GlorotUniform.sample(64, 32, &mut StdRng::seed_from_u64(0));
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
    /// let w = oximl_core::nn::Initializer::Zeros.sample(3, 2, &mut StdRng::seed_from_u64(1));
    /// assert_eq!(w, ndarray::Array2::<f32>::zeros((3, 2)));
    /// ```
    pub fn sample<R: Rng>(self, fan_in: usize, fan_out: usize, rng: &mut R) -> Array2<f32> {
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        let uniform = |limit: f32, rng: &mut R| {
            Array2::random_using((fan_in, fan_out), Uniform::new_inclusive(-limit, limit).expect("finite limit"), rng)
        };
        let truncated = |std: f32, rng: &mut R| {
            // The standard deviation of a unit normal truncated at ±2 is 0.8796.
            let std = std / 0.879_625_7;
            let normal = Normal::new(0.0f32, std).expect("finite σ");
            Array2::from_shape_simple_fn((fan_in, fan_out), || {
                loop {
                    let v = rng.sample(normal);
                    if v.abs() <= 2.0 * std {
                        break v;
                    }
                }
            })
        };
        match self {
            Initializer::GlorotUniform => uniform((6.0 / (fi + fo)).sqrt(), rng),
            Initializer::GlorotNormal => truncated((2.0 / (fi + fo)).sqrt(), rng),
            Initializer::HeNormal => truncated((2.0 / fi).sqrt(), rng),
            Initializer::HeUniform => uniform((6.0 / fi).sqrt(), rng),
            Initializer::Zeros => Array2::zeros((fan_in, fan_out)),
        }
    }
}
