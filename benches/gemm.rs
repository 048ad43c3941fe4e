//! GEMM throughput (criterion reports `elem/s` = FLOP/s: the throughput is set to 2·m·k·n flops), square f32
//! and f64 and the shapes of dense-layer training, at 1 and 2 threads; and the dispatched CPU level against the
//! scalar code, which shows that the vectorized path is the one taken.
//!
//! `cargo bench --bench gemm` (add a filter, e.g. `-- square_f32`, to run one group).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl::kernel::{self, Activation, CpuLevel, Float};
use std::hint::black_box;
use std::time::Duration;

fn random<T: Float>(shape: (usize, usize)) -> Array2<T> {
    let mut rng = StdRng::seed_from_u64(shape.0 as u64 * 31 + shape.1 as u64);
    Array2::random_using(shape, Uniform::new(-1.0, 1.0).expect("range"), &mut rng).mapv(T::c)
}

fn bench_gemm<T: Float>(c: &mut Criterion, group: &str, shapes: &[(usize, usize, usize)]) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for &(m, k, n) in shapes {
        let (a, b) = (random::<T>((m, k)), random::<T>((k, n)));
        let mut out = Array2::<T>::zeros((m, n));
        g.throughput(Throughput::Elements((2 * m * k * n) as u64));
        for threads in [1, 2] {
            kernel::set_num_threads(threads).expect("threads");
            g.bench_with_input(BenchmarkId::new(format!("{m}x{k}x{n}"), format!("{threads}t")), &(), |bch, _| {
                bch.iter(|| kernel::gemm(T::one(), a.view(), b.view(), T::zero(), out.view_mut()).expect("gemm"))
            });
        }
    }
    g.finish();
}

fn square(c: &mut Criterion) {
    let sizes: Vec<_> = [128, 256, 512, 1024, 2048].iter().map(|&n| (n, n, n)).collect();
    bench_gemm::<f32>(c, "square_f32", &sizes);
    bench_gemm::<f64>(c, "square_f64", &sizes);
}

fn mlp(c: &mut Criterion) {
    let mut shapes = Vec::new();
    for batch in [32, 256] {
        for (inp, out) in [(64, 128), (128, 64), (256, 512), (512, 256), (512, 512)] {
            shapes.push((batch, inp, out));
        }
    }
    bench_gemm::<f32>(c, "mlp_f32", &shapes);
}

/// On 32,768 elements (128 KiB, in L2, serial) so that the loop, not memory, is measured. "scalar" is the
/// baseline target (SSE2 on x86-64, which the compiler still vectorizes 4-wide).
fn dispatch(c: &mut Criterion) {
    let x = random::<f32>((128, 256));
    let mut g = c.benchmark_group("dispatch");
    g.sample_size(20).measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(x.len() as u64));
    kernel::set_num_threads(1).expect("threads");
    for level in [CpuLevel::Scalar, CpuLevel::current()] {
        for act in [Activation::Tanh, Activation::Sigmoid, Activation::Gelu] {
            let mut y = x.clone();
            g.bench_function(format!("{act:?}/{}", level.name()), |b| {
                b.iter(|| {
                    y.assign(&x);
                    kernel::activate_at(level, act, y.view_mut())
                })
            });
        }
        g.bench_function(format!("sum/{}", level.name()), |b| b.iter(|| kernel::sum_at(level, black_box(x.view()))));
    }
    g.finish();
}

criterion_group!(benches, square, mlp, dispatch);
criterion_main!(benches);
