//! What the C ABI costs: `Sequential::predict` in Rust against `oximl_sequential_predict` on the same model
//! (loaded from the file the Rust model saved), batches of 1 and 1,024 rows, on one thread.
//! `cargo bench -p oximl-capi --bench abi`. The C entry point is called through a function pointer hidden from
//! the optimizer, as a C program calls into `liboximl.so`. Before criterion's own runs, each case prints the
//! C/Rust ratio measured in interleaved blocks, which stays meaningful on a machine shared with other work.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, s};
use oximl_capi::{
    oximl_sequential, oximl_sequential_free, oximl_sequential_load, oximl_sequential_predict, oximl_status,
};
use oximl_core::Persist;
use oximl_core::kernel::Activation;
use oximl_core::nn::{Dense, Sequential};
use std::hint::black_box;
use std::time::{Duration, Instant};

type Predict = extern "C" fn(*const oximl_sequential, *const f32, usize, usize, *mut f32, usize) -> oximl_status;

fn mlp(input: usize, hidden: &[usize], classes: usize) -> Sequential {
    let mut m = Sequential::with_seed(input, 0);
    for &h in hidden {
        m.add(Dense::new(h).activation(Activation::Relu)).expect("layer");
    }
    m.add(Dense::new(classes).activation(Activation::Softmax)).expect("layer");
    m
}

fn inputs(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 31 + j * 17) % 97) as f32 / 48.5 - 1.0)
}

/// Times `a` and `b` in alternating blocks of about 5 ms (the order flipped every round, so that load from other
/// programs slows both alike) and returns the medians over the rounds of `b / a` and of `b − a` per call (ns).
fn paired(mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    const ROUNDS: usize = 41;
    let start = Instant::now();
    a();
    let calls = (0.005 / start.elapsed().as_secs_f64()).clamp(1.0, 1e6) as u32;
    let per_call = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        (0..calls).for_each(|_| f());
        t.elapsed().as_secs_f64() / f64::from(calls)
    };
    let (mut ratios, mut extra) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for round in 0..ROUNDS {
        let (ta, tb) = if round % 2 == 0 {
            let ta = per_call(&mut a);
            (ta, per_call(&mut b))
        } else {
            let tb = per_call(&mut b);
            (per_call(&mut a), tb)
        };
        ratios.push(tb / ta);
        extra.push(tb - ta);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ratios), median(&mut extra) * 1e9)
}

fn predict(c: &mut Criterion) {
    oximl_core::set_num_threads(1).expect("threads");
    let mut g = c.benchmark_group("abi_predict");
    g.sample_size(50).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    let c_predict: Predict = black_box(oximl_sequential_predict);
    for (name, input, hidden) in [("64-128-64-10", 64, vec![128, 64]), ("256-512-256-10", 256, vec![512, 256])] {
        let model = mlp(input, &hidden, 10);
        let path = std::env::temp_dir().join(format!("oximl-abi-bench-{}-{name}.oximl", std::process::id()));
        model.save(&path).expect("save");
        let cpath = std::ffi::CString::new(path.to_str().expect("UTF-8 path")).expect("path");
        let mut handle: *mut oximl_sequential = std::ptr::null_mut();
        assert_eq!(oximl_sequential_load(cpath.as_ptr(), &mut handle), oximl_status::OXIML_STATUS_OK);
        std::fs::remove_file(&path).expect("remove");
        let x = inputs(1024, input);
        for batch in [1, 1024] {
            let xb = x.slice(s![..batch, ..]);
            let mut out = vec![0.0f32; batch * 10];
            // The two paths agree bit for bit before they are timed.
            let run_c = |out: &mut [f32]| c_predict(handle, xb.as_ptr(), batch, input, out.as_mut_ptr(), out.len());
            assert_eq!(run_c(&mut out), oximl_status::OXIML_STATUS_OK);
            assert_eq!(out, model.predict(xb).expect("predict").into_raw_vec_and_offset().0);
            let (ratio, extra) = paired(
                || drop(black_box(model.predict(black_box(xb)))),
                || {
                    black_box(run_c(black_box(&mut out)));
                },
            );
            println!("{name}/batch{batch}: C/Rust = {ratio:.4}, extra {extra:+.0} ns per call (interleaved medians)");
            g.bench_function(format!("{name}/batch{batch}/rust"), |b| {
                b.iter(|| model.predict(black_box(xb)).expect("predict"))
            });
            g.bench_function(format!("{name}/batch{batch}/c"), |b| b.iter(|| run_c(black_box(&mut out))));
        }
        oximl_sequential_free(handle);
    }
    g.finish();
    oximl_core::set_num_threads(0).expect("threads");
}

criterion_group!(benches, predict);
criterion_main!(benches);
