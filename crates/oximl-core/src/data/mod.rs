//! Data preparation: everything between a file on disk and the arrays a model trains on.
//!
//! - [`read_csv`] / [`read_csv_from`]: a numeric CSV into `Array2<f32>` (+ an optional target column), with
//!   missing cells turned into NaN and reported ([`MissingReport`]), or dropped ([`CsvOptions::drop_missing`]).
//! - [`missing_report`], [`drop_missing`]: the same for arrays already in memory (the pandas `isna`/`dropna`).
//! - [`StandardScaler`], [`MinMaxScaler`], [`Normalizer`]: scikit-learn's scalers, serde-serializable once fitted.
//! - [`one_hot`], [`class_indices`]: labels to one-hot rows and back-checked class indices.
//! - [`train_test_split`]: a seeded, optionally stratified split.
//! - [`Batches`]: mini-batches of `(x, y)` rows, in order (views, no copies) or shuffled per seed.
//! - [`datasets`]: small datasets compiled into the library (iris, digits, diabetes).
//!
//! ```
//! use oximl_core::data::{datasets, train_test_split, StandardScaler, Batches};
//! let iris = datasets::iris()?;
//! let (x_train, x_test, y_train, y_test) = train_test_split(&iris.x, &iris.y, 0.2, 42, true)?;
//! let mut scaler = StandardScaler::new();
//! let x_train = scaler.fit_transform(&x_train)?;
//! let x_test = scaler.transform(&x_test)?;
//! assert_eq!((x_train.nrows(), x_test.nrows()), (120, 30));
//! let mut batches = Batches::new(x_train.view(), y_train.view(), 32)?.shuffle(7);
//! let mut seen = 0;
//! while let Some((xb, yb)) = batches.next_batch() {
//!     assert_eq!(xb.nrows(), yb.len());
//!     seen += xb.nrows();
//! }
//! assert_eq!(seen, 120);
//! # let _ = y_test;
//! # Ok::<(), oximl_core::Error>(())
//! ```

mod batches;
mod csv;
pub mod datasets;
mod encode;
mod missing;
mod scaler;
mod split;

pub use self::csv::{Column, CsvData, CsvOptions, DEFAULT_MISSING, read_csv, read_csv_from};
pub use batches::Batches;
pub use datasets::Dataset;
pub use encode::{class_indices, one_hot};
pub use missing::{MissingReport, drop_missing, missing_report};
pub use scaler::{MinMaxScaler, Norm, Normalizer, StandardScaler};
pub use split::{group_ids, split_indices, split_indices_by_count, train_test_split};

use crate::{Error, Result};
use ndarray::ArrayView2;

/// Refuses a NaN or infinity anywhere in `x`, naming the first one found.
pub(crate) fn check_finite(what: &str, x: ArrayView2<'_, f32>) -> Result<()> {
    for ((r, c), v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite(format!("{what}[{r}, {c}] = {v}")));
        }
    }
    Ok(())
}
