//! The main job, for now: what the kernel under every oximl feature does on this machine.
//! (It grows into train → evaluate → save → load → predict as the model features land.)
//!
//! `cargo run --release --example quickstart`

use ndarray::Array2;
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl::kernel::{self, Activation, CpuLevel, Epilogue};
use std::time::Instant;

fn random(shape: (usize, usize), rng: &mut StdRng) -> Array2<f32> {
    Array2::random_using(shape, Uniform::new(-1.0f32, 1.0).expect("valid range"), rng)
}

fn main() -> oximl::Result<()> {
    let mut rng = StdRng::seed_from_u64(42);
    println!("oximl {} | CPU level {} | {} threads", oximl::VERSION, CpuLevel::current().name(), oximl::num_threads());

    // A dense layer's forward pass: relu(x·W + b), the bias and activation fused into the product.
    let (x, w, b) = (random((256, 64), &mut rng), random((64, 128), &mut rng), random((1, 128), &mut rng));
    let mut h = Array2::zeros((256, 128));
    let epilogue = Epilogue { bias: Some(b.row(0)), activation: Activation::Relu };
    kernel::gemm_fused(1.0, x.view(), w.view(), 0.0, h.view_mut(), epilogue)?;
    let mut p = h.slice(ndarray::s![.., ..10]).to_owned();
    kernel::softmax_rows(p.view_mut());
    let classes = kernel::argmax_rows(p.view())?;
    println!("dense layer 256×64 → 128 (relu), softmax over 10: first classes {:?}", &classes[..8]);

    // Throughput of a large product at 1 thread and at the default thread count.
    let n = 1024;
    let (a, bm) = (random((n, n), &mut rng), random((n, n), &mut rng));
    let mut c = Array2::zeros((n, n));
    for threads in [1, kernel::default_num_threads()] {
        oximl::set_num_threads(threads)?;
        kernel::gemm(1.0, a.view(), bm.view(), 0.0, c.view_mut())?; // warm-up
        let reps = 5;
        let t = Instant::now();
        for _ in 0..reps {
            kernel::gemm(1.0, a.view(), bm.view(), 0.0, c.view_mut())?;
        }
        let gflops = 2.0 * (n * n * n) as f64 * reps as f64 / t.elapsed().as_secs_f64() / 1e9;
        println!("f32 GEMM {n}×{n}×{n}, {threads} thread(s): {gflops:.1} GFLOP/s");
    }
    oximl::set_num_threads(0)?;
    Ok(())
}
