//! oximl's side of `benches/compare/mlp.py`: the same dense-network workloads, timed in one process, printed as
//! JSON lines `{"case": .., "seconds": .., ...}`.
//!
//! - `synthetic`: 100,000 × 256 inputs, 256-512-256-10 relu/softmax, batch 256, 1 epoch of Adam;
//! - `predict1` / `predict1024`: inference latency on that model for batches of 1 and 1,024 rows;
//! - `digits`: 1,797 × 64 (scaled to [0, 1]), 64-128-64-10, batch 32, 20 epochs of Adam.
//!
//! The data comes from files the script writes, so both sides train on the same values.

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

/// Reads `rows × cols` little-endian f32 values written by numpy's `tofile`.
fn read_f32(path: &str, rows: usize, cols: usize) -> Array2<f32> {
    let bytes = std::fs::read(path).expect("data file");
    let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Array2::from_shape_vec((rows, cols), values).expect("data shape")
}

fn main() {
    let threads: usize = std::env::var("OXIML_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    oximl::set_num_threads(threads).expect("threads");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let [x_path, y_path, digits_path] = &args[..] else {
        eprintln!("usage: compare_mlp X.f32 Y.f32 DIGITS.f32 (files written by benches/compare/mlp.py)");
        return;
    };
    let (x, y) = (read_f32(x_path, 100_000, 256), read_f32(y_path, 100_000, 1));
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
    // Peak resident memory of the process so far (the data, the model of (b), its training buffers).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kb) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    {
        println!(r#"{{"case":"peak_rss_mb","threads":{threads},"value":{:.1}}}"#, kb / 1024.0);
    }
    {
        let digits = read_f32(digits_path, 1797, 65);
        let (x, y) = (digits.slice(s![.., ..64]).to_owned(), digits.slice(s![.., 64..]).to_owned());
        let mut model = mlp(64, &[128, 64], 10);
        let t = Instant::now();
        model.fit(x.view(), y.view(), FitOptions { epochs: 20, batch_size: 32, ..Default::default() }).expect("fit");
        let seconds = t.elapsed().as_secs_f64();
        let acc = model.evaluate(x.view(), y.view()).expect("evaluate").get("accuracy").unwrap_or(f64::NAN);
        println!(r#"{{"case":"digits","threads":{threads},"seconds":{seconds:.4},"train_accuracy":{acc:.4}}}"#);
    }
}
