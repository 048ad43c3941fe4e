//! Cross-language fixtures in `tests/fixtures/`, checked here through the `oximl` facade (what Rust users depend
//! on), by `python/tests/test_fixtures.py` and by `examples/c/fixtures.c`:
//!
//! - `rust_model.oximl` + `rust_input.csv` → `rust_expected.csv`: a small iris classifier saved by Rust
//!   (written by the ignored test `write_rust_fixtures`: `cargo test -p oximl --test fixtures -- --ignored`);
//! - `python_model.oximl` + `python_input.csv` → `python_expected.csv`: the same kind of model saved by Python
//!   (written by `python/tests/make_fixtures.py`, with `python_scaler.json`: a `StandardScaler` fitted on iris
//!   in Python, which scales `python_input.csv` to `python_scaled.csv`);
//! - `split.json`: the test and train rows of the stratified iris split with seed 42, which `train_test_split`
//!   gives in Rust and in Python.

use ndarray::{Array2, Axis};
use oximl::Persist;
use oximl::data::{StandardScaler, datasets, train_test_split};
use oximl::kernel::Activation;
use oximl::nn::{Dense, FitOptions, Loss, Sequential};
use oximl::optim::Optimizer;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Reads a headerless CSV of floats into a matrix.
fn read_matrix(name: &str) -> Array2<f32> {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture file");
    let rows: Vec<Vec<f32>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().expect("a float")).collect())
        .collect();
    let cols = rows[0].len();
    Array2::from_shape_vec((rows.len(), cols), rows.concat()).expect("a rectangular CSV")
}

/// Writes a matrix as a headerless CSV (shortest round-trip form of each f32).
fn write_matrix(name: &str, m: &Array2<f32>) {
    let lines: Vec<String> =
        m.rows().into_iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")).collect();
    std::fs::write(fixture(name), lines.join("\n") + "\n").expect("write fixture");
}

/// Predictions may differ in the last bits between CPU levels (FMA or not): 1e-6 absolute on probabilities.
fn assert_predicts(model: &str, input: &str, expected: &str) {
    let model = Sequential::load(fixture(model)).expect("load fixture model");
    let got = model.predict(read_matrix(input).view()).expect("predict");
    let want = read_matrix(expected);
    assert_eq!(got.dim(), want.dim());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-6, "prediction {g} differs from the recorded {w}");
    }
}

#[test]
fn rust_saved_model_predicts_its_recorded_output() {
    assert_predicts("rust_model.oximl", "rust_input.csv", "rust_expected.csv");
}

#[test]
fn python_saved_model_loads_in_rust_and_predicts_its_recorded_output() {
    assert_predicts("python_model.oximl", "python_input.csv", "python_expected.csv");
}

#[test]
fn python_saved_scaler_loads_in_rust_and_scales_as_in_python() -> oximl::Result<()> {
    let scaler = StandardScaler::load(fixture("python_scaler.json"))?;
    // Scaling is scalar f64 arithmetic rounded once to f32: the same bits on every CPU.
    assert_eq!(scaler.transform(&read_matrix("python_input.csv"))?, read_matrix("python_scaled.csv"));
    Ok(())
}

#[derive(serde::Deserialize)]
struct Split {
    test_fraction: f64,
    seed: u64,
    train: Vec<usize>,
    test: Vec<usize>,
}

fn recorded_split() -> Split {
    serde_json::from_str(&std::fs::read_to_string(fixture("split.json")).expect("split.json")).expect("split JSON")
}

#[test]
fn stratified_iris_split_gives_the_recorded_rows() -> oximl::Result<()> {
    let iris = datasets::iris()?;
    // Python stratifies on scikit-learn's load_iris target: 50 of each class, in this order.
    assert!(iris.y.iter().enumerate().all(|(i, &c)| c as usize == i / 50));
    let split = recorded_split();
    let (x_train, x_test, _, _) = train_test_split(&iris.x, &iris.y, split.test_fraction, split.seed, true)?;
    assert_eq!(x_test, iris.x.select(Axis(0), &split.test));
    assert_eq!(x_train, iris.x.select(Axis(0), &split.train));
    Ok(())
}

#[test]
#[ignore = "writes the Rust fixtures; run with --ignored to regenerate them"]
fn write_rust_fixtures() -> oximl::Result<()> {
    let iris = datasets::iris()?;
    let groups: Vec<usize> = iris.y.iter().map(|&c| c as usize).collect();
    let split = oximl::data::split_indices(150, 0.2, 42, Some(&groups))?;
    let json = serde_json::json!({"test_fraction": 0.2, "seed": 42, "train": split.0, "test": split.1});
    std::fs::write(fixture("split.json"), json.to_string() + "\n").map_err(|e| oximl::Error::io("split", e))?;

    let mut model = Sequential::with_seed(4, 7);
    model.add(Dense::new(8).activation(Activation::Tanh))?.add(Dense::new(3).activation(Activation::Softmax))?;
    model.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[])?;
    let y = iris.y.clone().insert_axis(Axis(1));
    model.fit(iris.x.view(), y.view(), FitOptions { epochs: 30, batch_size: 16, seed: 7, ..Default::default() })?;
    model.save(fixture("rust_model.oximl"))?;
    let input = iris.x.select(Axis(0), &(0..150).step_by(15).collect::<Vec<_>>());
    write_matrix("rust_input.csv", &input);
    write_matrix("rust_expected.csv", &model.predict(input.view())?);
    Ok(())
}
