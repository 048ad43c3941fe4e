//! Small public datasets compiled into the library (copied from scikit-learn, which took them from UCI; see
//! `crates/oximl-core/data/README.md` for sources and licenses). Each call parses the embedded file anew.
//!
//! ```
//! let digits = oximl_core::data::datasets::digits()?;
//! assert_eq!(digits.x.dim(), (1797, 64));
//! assert_eq!(digits.n_classes(), 10);
//! # Ok::<(), oximl_core::Error>(())
//! ```

use super::csv::{Column, CsvOptions, read_csv_from};
use crate::{Error, Result};
use ndarray::{Array1, Array2};

static DIGITS_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");
static IRIS_CSV: &[u8] = include_bytes!("../../data/iris.csv");
static DIABETES_X_GZ: &[u8] = include_bytes!("../../data/diabetes_data_raw.csv.gz");
static DIABETES_Y_GZ: &[u8] = include_bytes!("../../data/diabetes_target.csv.gz");

/// A dataset: features, target and the names of both.
///
/// ```
/// let iris = oximl_core::data::datasets::iris()?;
/// assert_eq!(iris.target_names, vec!["setosa", "versicolor", "virginica"]);
/// assert_eq!(iris.feature_names.len(), iris.x.ncols());
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// One row per sample.
    pub x: Array2<f32>,
    /// The target: class indices `0.0, 1.0, …` for classification, a value for regression.
    pub y: Array1<f32>,
    /// The names of the columns of `x`.
    pub feature_names: Vec<String>,
    /// The class names, by index (empty for regression).
    pub target_names: Vec<String>,
}

impl Dataset {
    /// The number of classes (0 for a regression dataset).
    ///
    /// ```
    /// assert_eq!(oximl_core::data::datasets::diabetes()?.n_classes(), 0);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn n_classes(&self) -> usize {
        self.target_names.len()
    }
}

fn gunzip(bytes: &[u8]) -> flate2::read::GzDecoder<&[u8]> {
    flate2::read::GzDecoder::new(bytes)
}

fn embedded(what: &str, e: Error) -> Error {
    Error::Format(format!("embedded dataset {what}: {e}"))
}

/// The UCI handwritten digits as scikit-learn's `load_digits`: 1,797 images of 8×8 pixels with values 0..=16,
/// flattened row by row into 64 features `pixel_<row>_<col>`; the target is the digit 0..=9.
///
/// ```
/// let d = oximl_core::data::datasets::digits()?;
/// assert!(d.x.iter().all(|&v| (0.0..=16.0).contains(&v)));
/// assert_eq!(d.target_names[7], "7");
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn digits() -> Result<Dataset> {
    let data = read_csv_from(gunzip(DIGITS_GZ), &CsvOptions::new().header(false).target(Column::Last))
        .map_err(|e| embedded("digits", e))?;
    let y = data.y.ok_or_else(|| Error::Format("embedded dataset digits: no target".into()))?;
    Ok(Dataset {
        x: data.x,
        y,
        feature_names: (0..64).map(|i| format!("pixel_{}_{}", i / 8, i % 8)).collect(),
        target_names: (0..10).map(|d| d.to_string()).collect(),
    })
}

/// Fisher's iris as scikit-learn's `load_iris`: 150 flowers, 4 measurements in cm, 3 classes of 50
/// (setosa, versicolor, virginica).
///
/// ```
/// let iris = oximl_core::data::datasets::iris()?;
/// assert_eq!(iris.x.dim(), (150, 4));
/// assert_eq!(iris.feature_names[0], "sepal length (cm)");
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn iris() -> Result<Dataset> {
    // The first line is "150,4,setosa,versicolor,virginica": counts and class names, not column names.
    let text = std::str::from_utf8(IRIS_CSV).map_err(|e| Error::Format(format!("embedded dataset iris: {e}")))?;
    let (first, _) = text.split_once('\n').unwrap_or((text, ""));
    let target_names: Vec<String> = first.trim().split(',').skip(2).map(str::to_string).collect();
    let data = read_csv_from(IRIS_CSV, &CsvOptions::new().header(true).target(Column::Last))
        .map_err(|e| embedded("iris", e))?;
    let y = data.y.ok_or_else(|| Error::Format("embedded dataset iris: no target".into()))?;
    Ok(Dataset {
        x: data.x,
        y,
        feature_names: ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
            .map(String::from)
            .to_vec(),
        target_names,
    })
}

/// The diabetes data of Efron et al. (2004) as scikit-learn's `load_diabetes(scaled=False)`: 442 patients,
/// 10 raw (unscaled) features (age, sex, body mass index, blood pressure, six blood serum measurements
/// `s1`..`s6`); the target is a measure of disease progression one year later (25..=346).
///
/// ```
/// let d = oximl_core::data::datasets::diabetes()?;
/// assert_eq!((d.x.nrows(), d.x.ncols(), d.y.len()), (442, 10, 442));
/// assert_eq!(d.feature_names[2], "bmi");
/// # Ok::<(), oximl_core::Error>(())
/// ```
pub fn diabetes() -> Result<Dataset> {
    let x = read_csv_from(gunzip(DIABETES_X_GZ), &CsvOptions::new().header(false).delimiter(b' '))
        .map_err(|e| embedded("diabetes", e))?
        .x;
    let y = read_csv_from(gunzip(DIABETES_Y_GZ), &CsvOptions::new().header(false).target(0usize))
        .map_err(|e| embedded("diabetes target", e))?
        .y
        .ok_or_else(|| Error::Format("embedded dataset diabetes: no target".into()))?;
    if y.len() != x.nrows() {
        return Err(Error::Format(format!("embedded dataset diabetes: {} targets for {} rows", y.len(), x.nrows())));
    }
    Ok(Dataset {
        x,
        y,
        feature_names: ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"].map(String::from).to_vec(),
        target_names: Vec::new(),
    })
}
