//! oximl's side of `benches/compare/gemm.py`: best-of-N GFLOP/s for each shape and thread count, as JSON lines
//! `{"dtype":"f32","m":..,"k":..,"n":..,"threads":..,"gflops":..}` on stdout. Shapes come from the arguments
//! (`m,k,n` triples); the thread counts 1 and 2.

use ndarray::Array2;
use oximl::kernel::{self, Float};
use std::time::{Duration, Instant};

/// Best GFLOP/s over repetitions within a time budget (the minimum time is the least disturbed by neighbours).
fn best_gflops<T: Float>(m: usize, k: usize, n: usize) -> f64 {
    let a = Array2::from_shape_fn((m, k), |(i, j)| T::c(((i * 7 + j * 3) % 17) as f64 / 17.0 - 0.5));
    let b = Array2::from_shape_fn((k, n), |(i, j)| T::c(((i * 5 + j * 11) % 13) as f64 / 13.0 - 0.5));
    let mut c = Array2::<T>::zeros((m, n));
    let mut run = || kernel::gemm(T::one(), a.view(), b.view(), T::zero(), c.view_mut()).expect("gemm");
    run();
    let (budget, start) = (Duration::from_millis(700), Instant::now());
    let mut best = f64::INFINITY;
    let mut reps = 0;
    while reps < 5 || (start.elapsed() < budget && reps < 10_000) {
        let t = Instant::now();
        run();
        best = best.min(t.elapsed().as_secs_f64());
        reps += 1;
    }
    2.0 * (m * k * n) as f64 / best / 1e9
}

fn main() {
    let shapes: Vec<(String, usize, usize, usize)> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| {
            let (dtype, dims) = a.split_once(':')?;
            let v: Vec<usize> = dims.split(',').filter_map(|x| x.parse().ok()).collect();
            (v.len() == 3).then(|| (dtype.to_string(), v[0], v[1], v[2]))
        })
        .collect();
    for threads in [1, 2] {
        kernel::set_num_threads(threads).expect("threads");
        for (dtype, m, k, n) in &shapes {
            let gflops = if dtype == "f64" { best_gflops::<f64>(*m, *k, *n) } else { best_gflops::<f32>(*m, *k, *n) };
            println!(r#"{{"dtype":"{dtype}","m":{m},"k":{k},"n":{n},"threads":{threads},"gflops":{gflops:.3}}}"#);
        }
    }
}
