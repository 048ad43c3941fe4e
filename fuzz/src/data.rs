//! Targets of the data module: the scalers' JSON and file forms, and CSV parsing.

use crate::Reader;
use ndarray::Array2;
use oximl_core::Persist;
use oximl_core::data::{Column, CsvOptions, MinMaxScaler, StandardScaler, read_csv_from};
use std::fmt::Debug;
use std::path::PathBuf;

/// A file of this process and thread for the file forms.
fn temp_path() -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id()).replace(|c: char| !c.is_ascii_alphanumeric(), "");
    std::env::temp_dir().join(format!("oximl-fuzz-{}-{thread}.json", std::process::id()))
}

/// Reads a scaler from bytes (an oximl file or the former JSON form) and from a file holding the same bytes: both
/// must agree.
fn both_forms<S: Persist + PartialEq + Debug>(data: &[u8]) -> Option<S> {
    let parsed = S::from_bytes(data).ok();
    let path = temp_path();
    std::fs::write(&path, data).expect("harness: cannot write a temporary file");
    let loaded = S::load(&path).ok();
    let _ = std::fs::remove_file(&path);
    assert!(parsed == loaded, "the bytes give {parsed:?} but the file {loaded:?}");
    parsed
}

/// Rows to transform with a fitted scaler of `n` features: ordinary, zero and extreme values.
fn rows(n: usize) -> Array2<f32> {
    Array2::from_shape_fn((3, n), |(i, j)| [0.5 + j as f32, 0.0, -3.0e38][i])
}

/// `StandardScaler::from_bytes` and `StandardScaler::load`; a loaded scaler transforms and inverts.
pub fn standard_scaler(data: &[u8]) {
    if let Some(s) = both_forms::<StandardScaler>(data)
        && let Some(n) = s.n_features()
    {
        let x = rows(n);
        let _ = s.transform(&x).and_then(|t| s.inverse_transform(&t));
    }
}

/// `MinMaxScaler::from_bytes` and `MinMaxScaler::load`; a loaded scaler transforms and inverts.
pub fn minmax_scaler(data: &[u8]) {
    if let Some(s) = both_forms::<MinMaxScaler>(data)
        && let Some(n) = s.n_features()
    {
        let x = rows(n);
        let _ = s.transform(&x).and_then(|t| s.inverse_transform(&t));
    }
}

/// `data::read_csv_from` with options from the first four bytes (header yes/no/detect, comment, missing-value
/// markers, drop_missing, delimiter, features and target by index, name or last), on the rest of the input; the
/// features are then standardized.
pub fn data_csv(data: &[u8]) {
    let mut r = Reader(data);
    let (flags, column, delimiter, comment) = (r.byte(), usize::from(r.byte()), r.byte(), r.byte());
    let body = r.rest();
    let mut options = CsvOptions::new().delimiter(delimiter).drop_missing(flags & 4 != 0);
    options = match flags % 4 {
        0 => options,
        1 => options.header(true),
        _ => options.header(false),
    };
    if flags & 8 != 0 {
        options = options.comment(Some(comment));
    }
    if flags & 16 != 0 {
        options = options.missing_values(["", "?"]);
    }
    options = match (flags >> 5) % 4 {
        0 => options,
        1 => options.target(Column::Last),
        2 => options.target(column),
        _ => {
            let name = body.split(|&b| b == delimiter || b == b'\n').next().unwrap_or_default();
            options.target(String::from_utf8_lossy(name).into_owned())
        }
    };
    if flags & 128 != 0 {
        options = options.features([Column::Index(column / 2), Column::Last]);
    }
    if let Ok(csv) = read_csv_from(body, &options) {
        let _ = StandardScaler::new().fit_transform(&csv.x);
    }
}
