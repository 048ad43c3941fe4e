//! int8 dense-layer inference ([`qgemm_fused_at`]: quantize rows, exact int8 product, dequantize + bias + ReLU)
//! against the `f32` one ([`gemm_fused`]) on the shapes of a 256-512-256 network, at batch 1,024 and 1, on one
//! thread, at every CPU level this machine has, with activations of 8 bits (`u8-<level>`) and 7 bits
//! (`u7-<level>`, [`ActivationRange::Reduced`]).
//!
//! `cargo bench -p oximl-kernel --bench qgemm`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl_kernel::{Activation, ActivationRange, CpuLevel, Epilogue, PackedI8, gemm_fused, qgemm_fused_at};
use std::hint::black_box;
use std::time::Duration;

fn random(shape: (usize, usize)) -> Array2<f32> {
    let mut rng = StdRng::seed_from_u64(shape.0 as u64 * 31 + shape.1 as u64);
    Array2::random_using(shape, Uniform::new(-1.0f32, 1.0).expect("range"), &mut rng)
}

fn dense(c: &mut Criterion) {
    oximl_kernel::set_num_threads(1).expect("threads");
    let mut g = c.benchmark_group("dense");
    g.sample_size(10).warm_up_time(Duration::from_millis(200)).measurement_time(Duration::from_secs(1));
    for (m, k, n) in [(1024, 256, 512), (1024, 512, 256), (1, 256, 512), (1, 512, 256)] {
        let (x, w) = (random((m, k)), random((k, n)));
        let bias = Array1::from_elem(n, 0.1f32);
        let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Relu };
        let packed = PackedI8::quantize(w.view()).expect("weights");
        let mut out = Array2::<f32>::zeros((m, n));
        g.throughput(Throughput::Elements((2 * m * k * n) as u64));
        let shape = format!("{m}x{k}x{n}");
        g.bench_with_input(BenchmarkId::new(&shape, "f32"), &(), |b, _| {
            b.iter(|| gemm_fused(1.0, black_box(x.view()), w.view(), 0.0, out.view_mut(), epi).expect("gemm"))
        });
        for (range, name) in [(ActivationRange::Full, "u8"), (ActivationRange::Reduced, "u7")] {
            let packed = packed.clone().with_activation_range(range);
            for level in CpuLevel::available() {
                g.bench_with_input(BenchmarkId::new(&shape, format!("{name}-{}", level.name())), &(), |b, _| {
                    b.iter(|| qgemm_fused_at(level, black_box(x.view()), &packed, epi, out.view_mut()).expect("qgemm"))
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, dense);
criterion_main!(benches);
