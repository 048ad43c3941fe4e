//! [`Normalizer`]: each row divided by its norm ([`Norm`]).

use super::{check_finite, map_rows};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, AsArray, Ix2, Zip};
use serde::{Deserialize, Serialize};

/// The norm a [`Normalizer`] divides each row by.
///
/// ```
/// assert_eq!(oximl_core::data::Norm::default(), oximl_core::data::Norm::L2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Σ|xᵢ|.
    L1,
    /// √Σxᵢ² (the default).
    #[default]
    L2,
    /// max|xᵢ|.
    Max,
}

/// A norm from its name, `"l1"`, `"l2"` or `"max"` (the serde names: one spelling everywhere).
///
/// ```
/// use oximl_core::data::Norm;
/// assert_eq!("max".parse::<Norm>()?, Norm::Max);
/// assert!("l3".parse::<Norm>().is_err());
/// # Ok::<(), oximl_core::Error>(())
/// ```
impl std::str::FromStr for Norm {
    type Err = Error;
    fn from_str(name: &str) -> Result<Norm> {
        Norm::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name))
            .map_err(|e| Error::invalid("norm", e.to_string()))
    }
}

/// The norm's name (its serde name).
///
/// ```
/// assert_eq!(oximl_core::data::Norm::L1.to_string(), "l1");
/// ```
impl std::fmt::Display for Norm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.serialize(f)
    }
}

/// Scales each row to unit norm (L2 by default): `x / ‖x‖`, as scikit-learn's `Normalizer`; a zero row stays
/// zero. It is stateless: `fit` only checks its input and `transform` works without it. There is no
/// `inverse_transform`: the norms are not kept, so the original rows cannot be recovered.
///
/// ```
/// use ndarray::array;
/// let z = oximl_core::data::Normalizer::new().transform(&array![[3.0f32, 4.0], [0.0, 0.0]])?;
/// assert_eq!(z, array![[0.6f32, 0.8], [0.0, 0.0]]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalizer {
    norm: Norm,
}

impl Normalizer {
    /// An L2 normalizer.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::Normalizer::new().norm(), oximl_core::data::Norm::L2);
    /// ```
    pub fn new() -> Normalizer {
        Normalizer::default()
    }

    /// A normalizer with the given norm.
    ///
    /// ```
    /// use oximl_core::data::{Norm, Normalizer};
    /// let z = Normalizer::with_norm(Norm::L1).transform(&ndarray::array![[1.0f32, -3.0]])?;
    /// assert_eq!(z, ndarray::array![[0.25f32, -0.75]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn with_norm(norm: Norm) -> Normalizer {
        Normalizer { norm }
    }

    /// The norm used.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::Normalizer::new().norm(), oximl_core::data::Norm::L2);
    /// ```
    pub fn norm(&self) -> Norm {
        self.norm
    }

    /// Does nothing but check `x` (finite values), for symmetry with the other scalers.
    ///
    /// ```
    /// let mut n = oximl_core::data::Normalizer::new();
    /// n.fit(&ndarray::array![[1.0f32]])?;
    /// assert!(n.fit(&ndarray::array![[f32::NAN]]).is_err());
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<()> {
        check_finite("x", x.into())
    }

    /// Divides each row by its norm (a zero row stays zero). A NaN or infinity is [`Error::NonFinite`].
    ///
    /// ```
    /// let z = oximl_core::data::Normalizer::new().transform(&ndarray::array![[0.0f32, -2.0]])?;
    /// assert_eq!(z, ndarray::array![[0.0f32, -1.0]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn transform<'a>(&self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        let x: ArrayView2<'a, f32> = x.into();
        check_finite("x", x)?;
        let norm = self.norm;
        map_rows(x, |src, mut dst| {
            let n = match norm {
                // The kernel's vectorized f32 norm; if its squares may have overflowed or underflowed, redo it
                // in f64.
                Norm::L2 => match oximl_kernel::norm_l2(src) {
                    n if n.is_finite() && n > 1e-18 => n as f64,
                    _ => src.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt(),
                },
                Norm::L1 => src.iter().map(|&v| (v as f64).abs()).sum(),
                Norm::Max => src.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs())),
            };
            if n == 0.0 {
                dst.fill(0.0);
            } else {
                Zip::from(&mut dst).and(&src).for_each(|d, &s| *d = (s as f64 / n) as f32);
            }
        })
    }

    /// Same as [`transform`](Self::transform) (nothing to learn).
    ///
    /// ```
    /// let z = oximl_core::data::Normalizer::new().fit_transform(&ndarray::array![[2.0f32, 0.0]])?;
    /// assert_eq!(z, ndarray::array![[1.0f32, 0.0]]);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn fit_transform<'a>(&mut self, x: impl AsArray<'a, f32, Ix2>) -> Result<Array2<f32>> {
        self.transform(x)
    }
}
