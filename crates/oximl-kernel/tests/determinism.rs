//! Results do not depend on the thread count: one test binary of its own, because it changes the pool size.

mod common;
use common::{rng, uniform};
use ndarray::Array2;
use oximl_kernel::{Activation, Epilogue, gemm_fused};

#[test]
fn gemm_and_sums_are_bit_identical_for_1_and_2_threads() {
    let mut r = rng(5);
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        oximl_kernel::set_num_threads(threads).unwrap();
        assert_eq!(oximl_kernel::num_threads(), threads);
        let mut out = Vec::new();
        for &(m, k, n) in &[(300, 150, 200), (20, 100, 500), (1024, 64, 10)] {
            let mut r2 = rng((m * 7 + n) as u64);
            let a = uniform((m, k), -1.0, 1.0, &mut r2).mapv(|v| v as f32);
            let b = uniform((k, n), -1.0, 1.0, &mut r2).mapv(|v| v as f32);
            let bias = uniform(n, -1.0, 1.0, &mut r2).mapv(|v| v as f32);
            let mut c = Array2::zeros((m, n));
            let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Gelu };
            gemm_fused(1.0, a.view(), b.view(), 0.0, c.view_mut(), epi).unwrap();
            out.push(c.mapv(f32::to_bits));
        }
        let long = uniform(1 << 20, -1.0, 1.0, &mut r).mapv(|v| v as f32);
        out.push(ndarray::arr2(&[[oximl_kernel::sum(long.view()).to_bits()]]));
        results.push(out);
        r = rng(5);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
    assert!(oximl_kernel::set_num_threads(100_000).is_err());
    oximl_kernel::set_num_threads(0).unwrap();
}
