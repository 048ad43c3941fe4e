//! Missing values (NaN cells): counting them per column and dropping the rows that have any.

use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, AsArray, Axis, Ix1, Ix2};
use std::fmt;

/// Where the missing (NaN) cells of a dataset are.
///
/// Built by [`missing_report`] for arrays in memory and by [`read_csv`](super::read_csv), which also fills in
/// [`lines`](Self::lines) (the file's line numbers of the affected rows).
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0f32, f32::NAN], [f32::NAN, f32::NAN], [3.0, 4.0]];
/// let report = oximl_core::data::missing_report(&x, None);
/// assert_eq!(report.per_column, vec![1, 2]);
/// assert_eq!(report.rows, vec![0, 1]);
/// assert_eq!(report.total(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MissingReport {
    /// Missing cells per feature column, in the order of the columns of `x`.
    pub per_column: Vec<usize>,
    /// Missing target cells (0 when there is no target).
    pub target: usize,
    /// Indices (0-based, counting data rows before any were dropped) of the rows with at least one missing cell.
    pub rows: Vec<usize>,
    /// For data read from a file: the 1-based line numbers of those rows (empty otherwise).
    pub lines: Vec<u64>,
    /// How many of those rows were removed (all of them after `drop_missing`, else 0).
    pub dropped: usize,
}

impl MissingReport {
    /// The number of missing cells, target included.
    ///
    /// ```
    /// assert_eq!(oximl_core::data::MissingReport::default().total(), 0);
    /// ```
    pub fn total(&self) -> usize {
        self.per_column.iter().sum::<usize>() + self.target
    }

    /// `true` when no cell is missing.
    ///
    /// ```
    /// assert!(oximl_core::data::MissingReport::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl fmt::Display for MissingReport {
    /// A one-line summary, e.g. `3 missing cells in 2 rows (columns: 0: 1, 1: 2), 0 rows dropped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} missing cells in {} rows", self.total(), self.rows.len())?;
        let cols: Vec<String> =
            self.per_column.iter().enumerate().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{c}: {n}")).collect();
        if !cols.is_empty() {
            write!(f, " (columns: {})", cols.join(", "))?;
        }
        if self.target > 0 {
            write!(f, " (target: {})", self.target)?;
        }
        write!(f, ", {} rows dropped", self.dropped)
    }
}

/// Counts the NaN cells of `x` (and of the target `y`, if given) per column and lists the rows that have any.
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let y = array![f32::NAN, 1.0];
/// let report = oximl_core::data::missing_report(&x, Some(y.view()));
/// assert_eq!((report.per_column.clone(), report.target, report.rows.clone()), (vec![0, 0], 1, vec![0]));
/// ```
pub fn missing_report<'a>(x: impl AsArray<'a, f32, Ix2>, y: Option<ArrayView1<'_, f32>>) -> MissingReport {
    let x: ArrayView2<'a, f32> = x.into();
    let mut report = MissingReport { per_column: vec![0; x.ncols()], ..Default::default() };
    for (r, row) in x.axis_iter(Axis(0)).enumerate() {
        let mut any = false;
        for (c, v) in row.iter().enumerate() {
            if v.is_nan() {
                report.per_column[c] += 1;
                any = true;
            }
        }
        if y.as_ref().and_then(|y| y.get(r)).is_some_and(|v| v.is_nan()) {
            report.target += 1;
            any = true;
        }
        if any {
            report.rows.push(r);
        }
    }
    report
}

/// Removes every row of `x` (and `y`) with a NaN in `x` or `y`: the pandas `dropna()`. Returns the kept rows and
/// the indices of the removed ones. Lengths of `x` and `y` that differ give [`Error::Shape`].
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0f32, f32::NAN], [2.0, 3.0], [4.0, 5.0]];
/// let y = array![0.0f32, 1.0, f32::NAN];
/// let (x2, y2, removed) = oximl_core::data::drop_missing(&x, Some(y.view()))?;
/// assert_eq!(x2, array![[2.0f32, 3.0]]);
/// assert_eq!(y2.unwrap(), array![1.0f32]);
/// assert_eq!(removed, vec![0, 2]);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[allow(clippy::type_complexity)]
pub fn drop_missing<'a>(
    x: impl AsArray<'a, f32, Ix2>,
    y: Option<ArrayView1<'_, f32>>,
) -> Result<(Array2<f32>, Option<Array1<f32>>, Vec<usize>)> {
    let x: ArrayView2<'a, f32> = x.into();
    if let Some(len) = y.as_ref().map(|y| y.len()).filter(|&len| len != x.nrows()) {
        return Err(Error::shape(format!("y of length {} (the rows of x)", x.nrows()), format!("{len}")));
    }
    let removed = missing_report(x, y.as_ref().map(|y| y.view())).rows;
    Ok((remove_rows(x, &removed), y.map(|y| remove_rows_1d(y, &removed)), removed))
}

/// Copies the rows of `x` not listed in the ascending list `removed`.
fn remove_rows(x: ArrayView2<'_, f32>, removed: &[usize]) -> Array2<f32> {
    let keep = kept(x.nrows(), removed);
    x.select(Axis(0), &keep)
}

fn remove_rows_1d<'a>(y: impl AsArray<'a, f32, Ix1>, removed: &[usize]) -> Array1<f32> {
    let y: ArrayView1<'a, f32> = y.into();
    let keep = kept(y.len(), removed);
    y.select(Axis(0), &keep)
}

fn kept(n: usize, removed: &[usize]) -> Vec<usize> {
    let mut it = removed.iter().peekable();
    (0..n)
        .filter(|i| {
            if it.peek() == Some(&i) {
                it.next();
                false
            } else {
                true
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::kept;

    #[test]
    fn kept_skips_exactly_the_removed_rows() {
        assert_eq!(kept(5, &[]), vec![0, 1, 2, 3, 4]);
        assert_eq!(kept(5, &[0, 2, 4]), vec![1, 3]);
        assert_eq!(kept(3, &[0, 1, 2]), Vec::<usize>::new());
    }
}
