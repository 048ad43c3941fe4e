//! Helpers shared by the integration tests (`mod support;` in each; each test uses a part of them).
#![allow(dead_code)]

use ndarray::Array2;
use std::path::PathBuf;

/// A path in the temp folder unique to this process.
pub fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("oximl_data_test_{}_{name}", std::process::id()))
}

/// A deterministic, non-trivial matrix (no RNG needed).
pub fn sample(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 7 + j * 13) % 17) as f32 * 0.5 - 3.0 + j as f32 * 100.0)
}

/// Column means and population standard deviations, in f64.
pub fn mean_std_f64(x: &Array2<f32>) -> (Vec<f64>, Vec<f64>) {
    let n = x.nrows() as f64;
    let mut means = vec![];
    let mut stds = vec![];
    for col in x.columns() {
        let m = col.iter().map(|&v| v as f64).sum::<f64>() / n;
        let v = col.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n;
        means.push(m);
        stds.push(v.sqrt());
    }
    (means, stds)
}

/// The file `name` among the cross-language fixtures of `kind` (`tests/fixtures/<kind>/`).
pub fn fixture(kind: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(kind).join(name)
}

/// The inputs `x` and expected outputs stored as `NAME.json` beside a fixture model of `kind`.
pub fn cases(kind: &str, name: &str) -> (Array2<f32>, Array2<f32>) {
    let text = std::fs::read_to_string(fixture(kind, &format!("{name}.json"))).expect("a fixture's cases");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON cases");
    let matrix = |key: &str| {
        let rows: Vec<Vec<f32>> = serde_json::from_value(json[key].clone()).expect("rows of numbers");
        let cols = rows[0].len();
        Array2::from_shape_vec((rows.len(), cols), rows.into_iter().flatten().collect()).expect("equal rows")
    };
    (matrix("x"), matrix("expected"))
}
