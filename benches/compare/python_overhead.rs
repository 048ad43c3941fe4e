//! The Rust side of `benches/compare/python_overhead.py`: the same model file and data, timed without Python.
//!
//! `cargo bench --bench compare_python_overhead -- MODEL.oximl DIGITS.f32` prints JSON lines:
//! - `predict1` / `predict1024`: the median time of one `predict` call (medians of blocks of calls);
//! - `fit`: seconds to train the (untrained, compiled) model of the file for 20 epochs on digits, batch 32
//!   (the best of 5).
//!
//! Everything runs on 1 thread, as the Python side does.

use ndarray::{Array2, s};
use oximl::Persist;
use oximl::nn::{FitOptions, Sequential};
use std::time::Instant;

/// Reads `rows × cols` little-endian f32 values written by numpy's `tofile`.
fn read_f32(path: &str, rows: usize, cols: usize) -> Array2<f32> {
    let bytes = std::fs::read(path).expect("data file");
    let values: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Array2::from_shape_vec((rows, cols), values).expect("data shape")
}

/// The median over `blocks` blocks of the time per call of `f`, `calls` calls per block.
fn median_per_call(blocks: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..blocks)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[blocks / 2]
}

fn main() {
    oximl::set_num_threads(1).expect("threads");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let [model_path, digits_path] = &args[..] else {
        eprintln!("usage: compare_python_overhead MODEL.oximl DIGITS.f32 (files written by python_overhead.py)");
        return;
    };
    let digits = read_f32(digits_path, 1797, 65);
    let (x, y) = (digits.slice(s![.., ..64]).to_owned(), digits.slice(s![.., 64..]).to_owned());
    let model = Sequential::load(model_path).expect("model");
    for (batch, blocks, calls) in [(1usize, 200, 200), (1024, 30, 3)] {
        let xb = x.slice(s![..batch, ..]);
        model.predict(xb).expect("warm-up");
        let seconds = median_per_call(blocks, calls, || {
            std::hint::black_box(model.predict(xb).expect("predict"));
        });
        println!(r#"{{"case":"predict{batch}","seconds":{seconds:.10}}}"#);
    }
    let best = (0..5)
        .map(|_| {
            let mut model = Sequential::load(model_path).expect("model");
            let t = Instant::now();
            let options = FitOptions { epochs: 20, batch_size: 32, shuffle: true, seed: 0, ..Default::default() };
            model.fit(x.view(), y.view(), options).expect("fit");
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    println!(r#"{{"case":"fit","seconds":{best:.4}}}"#);
}
