//! Targets of the dense networks: the model file, and the JSON of a layer and of `compile`, each then used to
//! train a small model; and fit's options.

use crate::{Reader, models, round_trip, too_slow};
use ndarray::Array2;
use oximl_core::kernel::Activation;
use oximl_core::nn::{Compiled, Dense, FitOptions, Layer, Loss, Metric, Sequential};
use oximl_core::optim::Optimizer;

/// Inputs wider than this are not predicted on by the harness (it would have to allocate the rows itself).
const MAX_INPUT: usize = 4096;

/// Rows that `y` must have to train `model` (class labels in one column for a sparse loss, else `0`/`1` values).
fn targets(model: &Sequential, rows: usize) -> Array2<f32> {
    let out = model.output_dim().max(1);
    match model.compiled().is_some_and(|c| c.loss.sparse_targets()) {
        true => Array2::from_shape_fn((rows, 1), |(i, _)| (i % out) as f32),
        false => Array2::from_shape_fn((rows, out), |(i, j)| ((i + j) % 2) as f32),
    }
}

/// Predicts, trains (if compiled) and evaluates on `rows` small rows; errors are fine, panics are not.
fn exercise(model: &mut Sequential, rows: usize, options: FitOptions<'_>) {
    if model.input_dim() > MAX_INPUT {
        return;
    }
    let x = Array2::from_shape_fn((rows, model.input_dim()), |(i, j)| ((i * 7 + j * 3) % 5) as f32 - 2.0);
    let y = targets(model, rows);
    let _ = model.predict(x.view());
    if model.compiled().is_some() {
        let _ = model.fit(x.view(), y.view(), options);
        let _ = model.evaluate(x.view(), y.view());
    }
}

/// `Sequential::from_bytes` (a model file, or its sealed form); a loaded model predicts, trains one epoch and
/// round-trips.
pub fn sequential_bytes(data: &[u8]) {
    for mut model in models::<Sequential>(data) {
        round_trip(&model);
        exercise(&mut model, 4, FitOptions { batch_size: 2, ..Default::default() });
    }
}

/// A `Layer` from JSON, added between a 4-wide input and a 1-unit output, then trained one epoch.
pub fn layer_json(data: &[u8]) {
    const INPUT: usize = 4;
    const ROWS: usize = 8;
    let Ok(layer) = serde_json::from_slice::<Layer>(data) else { return };
    let params = layer.output_dim(INPUT) as u128 * (INPUT as u128 + 2);
    // Initialization, one epoch, evaluate, predict and the round trip: each pass touches every parameter
    // (a 201,888-unit layer, counted as one pass, took 2.5 s in the instrumented build).
    const PASSES: u128 = 8;
    if too_slow(params, params * ROWS as u128 * 6 * PASSES) {
        return;
    }
    let mut model = Sequential::with_seed(INPUT, 1);
    if model.add(layer).is_err() || model.add(Dense::new(1)).is_err() {
        return;
    }
    if model.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, &[]).is_ok() {
        exercise(&mut model, ROWS, FitOptions::default());
        round_trip(&model);
    }
}

/// The `compile` config (`Compiled`: optimizer, loss, metrics) from JSON, on a 3 → 4 → 2 network trained two
/// epochs.
pub fn compile_json(data: &[u8]) {
    let Ok(c) = serde_json::from_slice::<Compiled>(data) else { return };
    let mut model = Sequential::with_seed(3, 2);
    model
        .add(Dense::new(4).activation(Activation::Tanh))
        .and_then(|m| m.add(Dense::new(2)))
        .expect("a fixed valid network");
    if model.compile(c.optimizer, c.loss, &c.metrics).is_ok() {
        exercise(&mut model, 8, FitOptions { epochs: 2, batch_size: 3, ..Default::default() });
        round_trip(&model);
    }
}

/// `fit`'s options (epochs, batch size, shuffle, seed, validation split) and the training data, read from bytes:
/// the core has no serde type for them (the C binding deserializes its own), so the fuzzer drives the Rust ones.
/// Labels and features may be any float (NaN, infinities, out-of-range classes).
pub fn fit_options(data: &[u8]) {
    let mut r = Reader(data);
    let (inputs, units, rows) =
        (1 + usize::from(r.byte() % 8), 1 + usize::from(r.byte() % 8), usize::from(r.byte() % 17));
    let (loss, activation, metrics) = match r.byte() % 3 {
        0 => (Loss::MeanSquaredError, Activation::Linear, vec![]),
        1 => (Loss::SparseCategoricalCrossentropy { from_logits: true }, Activation::Linear, vec![Metric::Accuracy]),
        _ => (Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid, vec![Metric::Accuracy]),
    };
    let raw_targets = r.byte() % 2 == 1;
    let options = FitOptions {
        epochs: usize::from(r.byte() % 4),
        batch_size: r.u64() as usize,
        shuffle: r.byte() % 2 == 1,
        seed: r.u64(),
        validation_split: f64::from(r.f32()),
        ..Default::default()
    };
    let mut model = Sequential::with_seed(inputs, options.seed);
    model.add(Dense::new(units).activation(activation)).expect("a valid layer");
    if model.compile(Optimizer::adam(0.01), loss, &metrics).is_err() {
        return; // e.g. a sparse loss on one output unit
    }
    let x = Array2::from_shape_fn((rows, inputs), |_| r.f32());
    let y = match raw_targets {
        true => Array2::from_shape_fn((rows, if loss.sparse_targets() { 1 } else { units }), |_| r.f32()),
        false => targets(&model, rows),
    };
    if model.fit(x.view(), y.view(), options).is_ok() {
        let _ = model.predict(x.view());
        round_trip(&model);
    }
}
