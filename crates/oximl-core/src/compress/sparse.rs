//! The sparse form of a pruned kernel in the model file: a bitmap of the kept positions (row-major, 8 per byte,
//! least significant bit first) and the kept values in order. At sparsity `s` a kernel of `n` `f32` weights takes
//! `n/8 + 4·(1 − s)·n` bytes instead of `4·n`: 2.9× smaller at 70%, 7.6× at 90%.

use crate::error::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2};

/// A kernel as a bitmap of kept positions and their values.
///
/// ```
/// use ndarray::array;
/// use oximl_core::compress::sparse::Bitmap;
/// let mask = array![[true, false, false], [false, true, true]];
/// let w = array![[1.5f32, 0.0, 0.0], [0.0, -2.0, 0.0]];
/// let s = Bitmap::encode(w.view(), mask.view());
/// assert_eq!(s.bits.to_vec(), vec![0b11_0001]);
/// assert_eq!(s.values.to_vec(), vec![1.5, -2.0, 0.0]);
/// assert_eq!(s.decode((2, 3)).unwrap(), (w, mask));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Bitmap {
    /// Bit `i` of the row-major positions: kept.
    pub bits: Array1<u8>,
    /// The kept weights, row-major.
    pub values: Array1<f32>,
}

impl Bitmap {
    /// The kept weights of `w` under `mask` (`true` = kept).
    pub fn encode(w: ArrayView2<'_, f32>, mask: ArrayView2<'_, bool>) -> Bitmap {
        let mut bits = vec![0u8; w.len().div_ceil(8)];
        let mut values = Vec::new();
        for (i, (&v, &keep)) in w.iter().zip(mask.iter()).enumerate() {
            if keep {
                bits[i / 8] |= 1 << (i % 8);
                values.push(v);
            }
        }
        Bitmap { bits: bits.into(), values: values.into() }
    }

    /// The dense kernel of shape `dim` and its mask; an [`Error::Format`] if the bitmap and values do not fit it.
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::compress::sparse::Bitmap;
    /// let bad = Bitmap { bits: array![0b11u8], values: array![1.0f32] };
    /// assert!(bad.decode((1, 2)).is_err()); // two kept positions, one value
    /// ```
    pub fn decode(&self, dim: (usize, usize)) -> Result<(Array2<f32>, Array2<bool>)> {
        let n = dim.0.checked_mul(dim.1).ok_or_else(|| Error::Format("sparse kernel too large".into()))?;
        if self.bits.len() != n.div_ceil(8) {
            return Err(Error::Format(format!("a sparse kernel of {n} weights needs {} mask bytes", n.div_ceil(8))));
        }
        let mask = Array2::from_shape_fn(dim, |(r, c)| {
            let i = r * dim.1 + c;
            self.bits[i / 8] >> (i % 8) & 1 == 1
        });
        let kept = mask.iter().filter(|&&k| k).count();
        if kept != self.values.len() || (n % 8 != 0 && self.bits[n / 8] >> (n % 8) != 0) {
            return Err(Error::Format(format!(
                "a sparse kernel's mask keeps {kept} weights (or sets bits past its end) but {} values are stored",
                self.values.len()
            )));
        }
        let mut values = self.values.iter();
        let w = mask.mapv(|keep| if keep { values.next().copied().unwrap_or(0.0) } else { 0.0 });
        Ok((w, mask))
    }
}
