//! Helpers shared by the data and scaler tests (`mod support;` in each).

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
