//! Class labels: checked conversion to indices and one-hot rows.

use crate::{Error, Result};
use ndarray::{Array2, ArrayView1, AsArray, Ix1};

/// Converts float class labels (`0.0`, `1.0`, …) to indices, checking that each is a whole number in
/// `0..n_classes`. A NaN or infinite label is [`Error::NonFinite`]; a fractional, negative or too large label is
/// [`Error::InvalidArgument`] naming its position.
///
/// ```
/// use ndarray::array;
/// assert_eq!(oximl_core::data::class_indices(&array![2.0f32, 0.0, 1.0], 3)?, vec![2, 0, 1]);
/// assert!(oximl_core::data::class_indices(&array![1.5f32], 3).is_err());
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn class_indices<'a>(labels: impl AsArray<'a, f32, Ix1>, n_classes: usize) -> Result<Vec<usize>> {
    let labels: ArrayView1<'a, f32> = labels.into();
    labels
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if !v.is_finite() {
                return Err(Error::NonFinite(format!("label {i} is {v}")));
            }
            if v.fract() != 0.0 || v < 0.0 {
                return Err(Error::invalid("labels", format!("label {i} is {v}, not a class index 0, 1, 2, …")));
            }
            if (v as f64) >= n_classes as f64 {
                return Err(Error::invalid("labels", format!("label {i} is {v}, outside 0..{n_classes}")));
            }
            Ok(v as usize)
        })
        .collect()
}

/// One-hot encodes class labels: row `i` has a `1.0` in column `labels[i]` and zeros elsewhere
/// (`n_classes` columns). Labels are checked as in [`class_indices`]; `n_classes == 0`, or so large that the
/// result cannot be allocated, is [`Error::InvalidArgument`].
///
/// ```
/// use ndarray::array;
/// let y = oximl_core::data::one_hot(&array![1.0f32, 0.0, 2.0], 3)?;
/// assert_eq!(y, array![[0.0f32, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn one_hot<'a>(labels: impl AsArray<'a, f32, Ix1>, n_classes: usize) -> Result<Array2<f32>> {
    if n_classes == 0 {
        return Err(Error::invalid("n_classes", "must be at least 1"));
    }
    let idx = class_indices(labels, n_classes)?;
    let too_big =
        || Error::invalid("n_classes", format!("{} rows × {n_classes} classes do not fit in memory", idx.len()));
    let cells = idx.len().checked_mul(n_classes).ok_or_else(too_big)?;
    let mut data = Vec::new();
    data.try_reserve_exact(cells).map_err(|_| too_big())?;
    data.resize(cells, 0.0f32);
    let mut out = Array2::from_shape_vec((idx.len(), n_classes), data).map_err(|_| too_big())?;
    for (mut row, &c) in out.rows_mut().into_iter().zip(&idx) {
        row[c] = 1.0;
    }
    Ok(out)
}
