//! oximl's side of `benches/compare/mlp.py`: the same dense-network workloads, timed in one process, printed as
//! JSON lines `{"case": .., "seconds": .., ...}`.
//!
//! - `synthetic`: 100,000 × 256 inputs, 256-512-256-10 relu/softmax, batch 256, 1 epoch of Adam;
//! - `predict1` / `predict1024`: inference latency on that model for batches of 1 and 1,024 rows;
//! - `digits` (when a path to a CSV of 64 features + label is given): 64-128-64-10, batch 32, 20 epochs of Adam.

use ndarray::{Array2, s};
use oximl::kernel::Activation;
use oximl::nn::{Dense, FitOptions, Loss, Metric, Sequential};
use oximl::optim::Optimizer;
use std::time::Instant;

fn mlp(input: usize, hidden: &[usize], classes: usize) -> Sequential {
    let mut m = Sequential::with_seed(input, 0);
    for &h in hidden {
        m.add(Dense::new(h).activation(Activation::Relu)).expect("layer");
    }
    m.add(Dense::new(classes).activation(Activation::Softmax)).expect("layer");
    m.compile(Optimizer::adam(1e-3), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[Metric::Accuracy])
        .expect("compile");
    m
}

/// Deterministic synthetic classification data: labels from a fixed random linear map.
fn synthetic(rows: usize, cols: usize, classes: usize) -> (Array2<f32>, Array2<f32>) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let x = Array2::from_shape_simple_fn((rows, cols), &mut next);
    let w = Array2::from_shape_simple_fn((cols, classes), &mut next);
    let scores = x.dot(&w);
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| {
        let row = scores.row(i);
        (0..classes).fold(0, |b, j| if row[j] > row[b] { j } else { b }) as f32
    });
    (x, y)
}

fn main() {
    let threads: usize = std::env::var("OXIML_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    oximl::set_num_threads(threads).expect("threads");
    let (x, y) = synthetic(100_000, 256, 10);
    let mut model = mlp(256, &[512, 256], 10);
    let t = Instant::now();
    model.fit(x.view(), y.view(), FitOptions { epochs: 1, batch_size: 256, ..Default::default() }).expect("fit");
    println!(r#"{{"case":"synthetic","threads":{threads},"seconds":{:.4}}}"#, t.elapsed().as_secs_f64());
    for batch in [1usize, 1024] {
        let xb = x.slice(s![..batch, ..]);
        model.predict(xb).expect("warm-up");
        let mut best = f64::INFINITY;
        let start = Instant::now();
        let mut reps = 0;
        while reps < 20 || (start.elapsed().as_secs_f64() < 1.0 && reps < 100_000) {
            let t = Instant::now();
            std::hint::black_box(model.predict(xb).expect("predict"));
            best = best.min(t.elapsed().as_secs_f64());
            reps += 1;
        }
        println!(r#"{{"case":"predict{batch}","threads":{threads},"seconds":{best:.9}}}"#);
    }
    if let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        let text = std::fs::read_to_string(&path).expect("digits csv");
        let rows: Vec<Vec<f32>> =
            text.lines().map(|l| l.split(',').map(|v| v.trim().parse().expect("number")).collect()).collect();
        let x = Array2::from_shape_fn((rows.len(), 64), |(i, j)| rows[i][j] / 16.0);
        let y = Array2::from_shape_fn((rows.len(), 1), |(i, _)| rows[i][64]);
        let mut model = mlp(64, &[128, 64], 10);
        let t = Instant::now();
        model.fit(x.view(), y.view(), FitOptions { epochs: 20, batch_size: 32, ..Default::default() }).expect("fit");
        let seconds = t.elapsed().as_secs_f64();
        let acc = model.evaluate(x.view(), y.view()).expect("evaluate").get("accuracy").unwrap_or(f64::NAN);
        println!(r#"{{"case":"digits","threads":{threads},"seconds":{seconds:.4},"train_accuracy":{acc:.4}}}"#);
    }
}
