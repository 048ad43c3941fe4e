//! Results do not depend on the thread count: one test binary of its own, because it changes the pool size.

mod common;
use common::{rng, uniform};
use ndarray::Array2;
use oximl_kernel::{Activation, Epilogue, gemm, gemm_fused};

#[test]
fn gemm_and_sums_are_bit_identical_for_1_and_2_threads() {
    let mut r = rng(5);
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        oximl_kernel::set_num_threads(threads).unwrap();
        assert_eq!(oximl_kernel::num_threads(), threads);
        let mut out = Vec::new();
        // Above and below the parallel threshold, wide and tall, a few rows (streamed), k across several of the
        // GEMM's k blocks (1,500), odd sizes around the micro-kernel tiles, transposed operands.
        let shapes = [(300, 150, 200), (20, 100, 500), (1024, 64, 10), (3, 700, 300), (257, 1500, 65), (65, 17, 1031)];
        for &(m, k, n) in &shapes {
            let mut r2 = rng((m * 7 + n) as u64);
            let a = uniform((m, k), -1.0, 1.0, &mut r2).mapv(|v| v as f32);
            let b = uniform((k, n), -1.0, 1.0, &mut r2).mapv(|v| v as f32);
            let bias = uniform(n, -1.0, 1.0, &mut r2).mapv(|v| v as f32);
            let mut c = Array2::zeros((m, n));
            let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Gelu };
            gemm_fused(1.0, a.view(), b.view(), 0.0, c.view_mut(), epi).unwrap();
            out.push(c.mapv(f32::to_bits));
            let (at, bt) = (a.t().to_owned(), b.t().to_owned());
            let mut ct = Array2::from_elem((m, n), 0.5f32);
            gemm(0.5, at.t(), bt.t(), 2.0, ct.view_mut()).unwrap();
            out.push(ct.mapv(f32::to_bits));
            let (a64, b64) = (a.mapv(f64::from), b.mapv(f64::from));
            let mut c64 = Array2::zeros((m, n));
            gemm(1.0, a64.view(), b64.view(), 0.0, c64.view_mut()).unwrap();
            out.push(c64.mapv(|v: f64| v.to_bits() as u32)); // the low and high halves of the f64 bits
            out.push(c64.mapv(|v: f64| (v.to_bits() >> 32) as u32));
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
