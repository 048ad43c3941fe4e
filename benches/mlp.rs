//! Dense-network throughput: one epoch of training (digits-sized and the 256-512-256-10 network) and inference
//! latency for batches of 1 and 1,024 rows, in `f32` and int8 (dynamic quantization). `cargo bench --bench mlp`; side by side with scikit-learn and Keras:
//! `python benches/compare/mlp.py`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array2, s};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl::compress::QuantizeConfig;
use oximl::kernel::Activation;
use oximl::nn::{Dense, FitOptions, Loss, Sequential};
use oximl::optim::Optimizer;
use std::hint::black_box;
use std::time::Duration;

fn data(rows: usize, cols: usize, classes: usize) -> (Array2<f32>, Array2<f32>) {
    let mut rng = StdRng::seed_from_u64(0);
    let x = Array2::random_using((rows, cols), Uniform::new(-1.0f32, 1.0).expect("range"), &mut rng);
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| (i % classes) as f32);
    (x, y)
}

fn mlp(input: usize, hidden: &[usize], classes: usize) -> Sequential {
    let mut m = Sequential::with_seed(input, 0);
    for &h in hidden {
        m.add(Dense::new(h).activation(Activation::Relu)).expect("layer");
    }
    m.add(Dense::new(classes).activation(Activation::Softmax)).expect("layer");
    m.compile(Optimizer::adam(1e-3), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).expect("compile");
    m
}

fn training(c: &mut Criterion) {
    let mut g = c.benchmark_group("fit_epoch");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for (name, rows, input, hidden, batch) in [
        ("digits_64-128-64-10_b32", 1797, 64, vec![128, 64], 32),
        ("synthetic_256-512-256-10_b256", 10_000, 256, vec![512, 256], 256),
    ] {
        let (x, y) = data(rows, input, 10);
        g.throughput(Throughput::Elements(rows as u64));
        for threads in [1, 2] {
            oximl::set_num_threads(threads).expect("threads");
            let mut model = mlp(input, &hidden, 10);
            g.bench_function(format!("{name}/{threads}t"), |b| {
                b.iter(|| {
                    model.fit(x.view(), y.view(), FitOptions { epochs: 1, batch_size: batch, ..Default::default() })
                })
            });
        }
    }
    g.finish();
}

fn inference(c: &mut Criterion) {
    let mut g = c.benchmark_group("predict");
    g.sample_size(50).measurement_time(Duration::from_secs(2));
    let (x, _) = data(1024, 256, 10);
    let model = mlp(256, &[512, 256], 10);
    let mut int8 = model.clone();
    int8.quantize(&QuantizeConfig::from_name("int8").expect("mode")).expect("quantize");
    for threads in [1, 2] {
        oximl::set_num_threads(threads).expect("threads");
        for batch in [1, 1024] {
            let xb = x.slice(s![..batch, ..]);
            for (kind, model) in [("", &model), ("/int8", &int8)] {
                g.bench_function(format!("256-512-256-10{kind}/batch{batch}/{threads}t"), |b| {
                    b.iter(|| model.predict(black_box(xb)).expect("predict"))
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, training, inference);
criterion_main!(benches);
