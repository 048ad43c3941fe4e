//! GEMM against a naive triple loop accumulated in f64.
//!
//! Tolerance: the classical bound for a dot product of length k, |error| ≤ k·ε·Σ|aᵢ||bᵢ| (ε of the element type),
//! applied per element, plus ε·|β·c| for the β term.
//!
//! The tests run at the CPU level the kernel picks (AVX-512 micro-kernels where the CPU has them); the test
//! `every_cpu_level_passes_the_shape_tests` runs the odd-shape tests again in a child process for each lower level
//! (`OXIML_CPU_LEVEL`), and `cargo test -p oximl-kernel --no-default-features` runs them all on the AVX2/FMA
//! micro-kernels.

mod common;
use common::{rng, uniform};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, s};
use oximl_kernel::{Activation, Epilogue, Float, KernelError, gemm, gemm_fused, matmul};

/// Returns (α·A·B + β·C, error bound per element).
fn reference(
    alpha: f64,
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    beta: f64,
    c: &Array2<f64>,
    eps: f64,
) -> (Array2<f64>, Array2<f64>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let mut out = Array2::zeros((m, n));
    let mut bound = Array2::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut abs) = (0.0, 0.0);
            for p in 0..k {
                s += a[[i, p]] * b[[p, j]];
                abs += (a[[i, p]] * b[[p, j]]).abs();
            }
            out[[i, j]] = alpha * s + beta * c[[i, j]];
            bound[[i, j]] = (k as f64 + 2.0) * eps * (alpha.abs() * abs + (beta * c[[i, j]]).abs()) + 1e-30;
        }
    }
    (out, bound)
}

fn check<T: Float>(alpha: f64, a: ArrayView2<T>, b: ArrayView2<T>, beta: f64, c: ArrayViewMut2<T>, eps: f64) {
    check_fused(alpha, a, b, beta, c, None, Activation::Linear, eps);
}

/// `gemm_fused` against the f64 reference followed by `+ bias` and the activation in f64; the activation's error
/// bound is its Lipschitz constant (≤ 1.2 for those used here) times the product's, plus 4 ulp of the result.
#[allow(clippy::too_many_arguments)]
fn check_fused<T: Float>(
    alpha: f64,
    a: ArrayView2<T>,
    b: ArrayView2<T>,
    beta: f64,
    c: ArrayViewMut2<T>,
    bias: Option<ArrayView1<T>>,
    act: Activation,
    eps: f64,
) {
    let to64 = |x: ArrayView2<T>| x.mapv(|v| v.to_f64().unwrap());
    let (a64, b64, c64) = (to64(a), to64(b), to64(c.view()));
    let (mut want, bound) = reference(alpha, a64.view(), b64.view(), beta, &c64, eps);
    if let Some(bias) = bias {
        want += &bias.mapv(|v| v.to_f64().unwrap());
    }
    let f = |x: f64| match act {
        Activation::Linear => x,
        Activation::Relu => x.max(0.0),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        other => panic!("no reference for {other:?}"),
    };
    want.mapv_inplace(f);
    let mut c = c;
    let epi = Epilogue { bias, activation: act };
    gemm_fused(T::c(alpha), a, b, T::c(beta), c.view_mut(), epi).unwrap();
    for ((idx, &got), &w) in c.indexed_iter().zip(want.iter()) {
        let err = (got.to_f64().unwrap() - w).abs();
        let tol = 1.2 * bound[idx] + 4.0 * eps * w.abs() + if act == Activation::Linear { 0.0 } else { 4.0 * eps };
        assert!(err <= tol, "{act:?} at {idx:?}: got {got}, want {w}, error {err} > bound {tol}");
    }
}

/// Sizes around the micro-kernel tiles (8, 16, 32 lanes; 1 = vector and gemv paths) and across a `k` block.
const ODD: [usize; 5] = [1, 7, 17, 65, 257];

/// Every combination of odd sizes, f32 and f64, row-major, transposed and strided operands, α/β, epilogues.
#[test]
fn odd_shapes_all_layouts_and_epilogues_match_the_f64_reference() {
    let mut r = rng(23);
    let acts = [Activation::Linear, Activation::Relu, Activation::Tanh, Activation::Sigmoid];
    let mut case = 0;
    for &m in &ODD {
        for &k in &ODD {
            for &n in &ODD {
                if m * k * n > 1 << 21 {
                    continue; // 257³: covered by the larger shapes of the determinism test
                }
                case += 1;
                let (alpha, beta) = ALPHA_BETA[case % ALPHA_BETA.len()];
                let act = acts[case % acts.len()];
                let a = uniform((m, k), -1.0, 1.0, &mut r);
                let b = uniform((k, n), -1.0, 1.0, &mut r);
                let c = uniform((m, n), -1.0, 1.0, &mut r);
                let bias = uniform(n, -1.0, 1.0, &mut r);
                let bias_used = (case % 2 == 0).then_some(());
                // f64, plain.
                let b64 = bias_used.map(|_| bias.view());
                check_fused(alpha, a.view(), b.view(), beta, c.clone().view_mut(), b64, act, f64::EPSILON);
                // f32: plain; both operands transposed (stored transposed, passed as `.t()`); strided views
                // (every other row and column of larger matrices) into a column-major output.
                let (a32, b32, c32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32), c.mapv(|v| v as f32));
                let bias32 = bias.mapv(|v| v as f32);
                let b32v = bias_used.map(|_| bias32.view());
                let eps = f32::EPSILON as f64;
                check_fused(alpha, a32.view(), b32.view(), beta, c32.clone().view_mut(), b32v, act, eps);
                let (at, bt) = (a32.t().to_owned(), b32.t().to_owned());
                check_fused(alpha, at.t(), bt.t(), beta, c32.clone().view_mut(), b32v, act, eps);
                let mut wide_a = Array2::<f32>::zeros((2 * m, 2 * k));
                wide_a.slice_mut(s![..;2, ..;2]).assign(&a32);
                let mut wide_b = Array2::<f32>::zeros((2 * k, 3 * n));
                wide_b.slice_mut(s![..;2, ..;3]).assign(&b32);
                let mut cf = Array2::<f32>::zeros((n, m));
                cf.assign(&c32.t());
                let (sa, sb) = (wide_a.slice(s![..;2, ..;2]), wide_b.slice(s![..;2, ..;3]));
                check_fused(alpha, sa, sb, beta, cf.view_mut().reversed_axes(), b32v, act, eps);
            }
        }
    }
}

/// Runs the odd-shape and layout tests of this binary again in a child process at each lower CPU level the
/// machine supports (the few-row path and the epilogue follow `OXIML_CPU_LEVEL`).
#[test]
fn every_cpu_level_passes_the_shape_tests() {
    if std::env::var_os("OXIML_CPU_LEVEL").is_some() {
        return; // the child itself
    }
    let exe = std::env::current_exe().unwrap();
    for level in oximl_kernel::CpuLevel::available() {
        let out = std::process::Command::new(&exe)
            .args(["odd_shapes", "layouts", "negative_strides", "--test-threads=1"])
            .env("OXIML_CPU_LEVEL", level.name())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "at {}: {text}{}", level.name(), String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("3 passed"), "at {}: {text}", level.name());
    }
}

const SHAPES: [(usize, usize, usize); 10] = [
    (1, 1, 1),
    (1, 7, 1),
    (2, 3, 4),
    (257, 3, 5),   // tall-skinny
    (3, 5, 300),   // short-wide
    (64, 64, 64),  // at the parallel threshold
    (130, 70, 90), // odd sizes across micro-kernel edges
    (31, 200, 17),
    (300, 40, 2),
    (5, 1, 600),
];

const ALPHA_BETA: [(f64, f64); 4] = [(1.0, 0.0), (0.5, 2.0), (-1.0, 1.0), (0.0, 0.5)];

#[test]
fn f32_and_f64_match_naive_for_all_layouts() {
    let mut r = rng(7);
    for (case, &(m, k, n)) in SHAPES.iter().enumerate() {
        let (alpha, beta) = ALPHA_BETA[case % ALPHA_BETA.len()];
        let a = uniform((m, k), -1.0, 1.0, &mut r);
        let b = uniform((k, n), -1.0, 1.0, &mut r);
        let c = uniform((m, n), -1.0, 1.0, &mut r);
        // f64, plain.
        check(alpha, a.view(), b.view(), beta, c.clone().view_mut(), f64::EPSILON);
        // f32, plain.
        let (a32, b32, c32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32), c.mapv(|v| v as f32));
        check(alpha, a32.view(), b32.view(), beta, c32.clone().view_mut(), f32::EPSILON as f64);
        // Transposed operands: stored transposed, passed as `.t()` views (strides, no copies).
        let (at, bt) = (a32.t().to_owned(), b32.t().to_owned());
        check(alpha, at.t(), bt.t(), beta, c32.clone().view_mut(), f32::EPSILON as f64);
        // Column-major output.
        let mut cf = Array2::<f32>::zeros((n, m));
        cf.assign(&c32.t());
        check(alpha, a32.view(), b32.view(), beta, cf.view_mut().reversed_axes(), f32::EPSILON as f64);
    }
}

#[test]
fn non_contiguous_and_negative_strides() {
    let mut r = rng(11);
    let big_a = uniform((80, 60), -1.0, 1.0, &mut r).mapv(|v| v as f32);
    let big_b = uniform((60, 90), -1.0, 1.0, &mut r).mapv(|v| v as f32);
    let mut big_c = uniform((80, 90), -1.0, 1.0, &mut r).mapv(|v| v as f32);
    let a = big_a.slice(s![..;2, 1..;3]); // 40 × 20, both strides > 1
    let b = big_b.slice(s![..;-3, ..;2]); // 20 × 45, negative row stride
    let c = big_c.slice_mut(s![1..;2, ..;-2]); // 40 × 45, negative column stride
    check(0.7, a, b, 0.3, c, f32::EPSILON as f64);
}

#[test]
fn epilogue_adds_bias_then_activates_on_every_split() {
    let mut r = rng(3);
    for &(m, k, n) in &[(3, 4, 5), (200, 64, 100), (10, 128, 700), (1500, 64, 8)] {
        let a = uniform((m, k), -1.0, 1.0, &mut r).mapv(|v| v as f32);
        let b = uniform((k, n), -1.0, 1.0, &mut r).mapv(|v| v as f32);
        let bias = uniform(n, -1.0, 1.0, &mut r).mapv(|v| v as f32);
        for act in [Activation::Relu, Activation::Tanh, Activation::Softmax, Activation::Linear] {
            let mut want = matmul(a.view(), b.view()).unwrap() + &bias;
            oximl_kernel::activate(act, want.view_mut());
            let mut got = Array2::from_elem((m, n), f32::NAN); // β = 0 ignores NaN in C
            let epi = Epilogue { bias: Some(bias.view()), activation: act };
            gemm_fused(1.0, a.view(), b.view(), 0.0, got.view_mut(), epi).unwrap();
            assert_eq!(got, want, "{act:?} on {m}×{k}×{n}");
        }
    }
}

#[test]
fn empty_dimensions() {
    // m = 0 or n = 0: nothing to do.
    let a = Array2::<f32>::zeros((0, 3));
    let b = Array2::<f32>::zeros((3, 4));
    assert_eq!(matmul(a.view(), b.view()).unwrap().dim(), (0, 4));
    // k = 0: an empty sum, so C ← β·C.
    let a = Array2::<f32>::zeros((2, 0));
    let b = Array2::<f32>::zeros((0, 3));
    let mut c = Array2::from_elem((2, 3), 4.0f32);
    gemm(1.0, a.view(), b.view(), 0.5, c.view_mut()).unwrap();
    assert_eq!(c, Array2::from_elem((2, 3), 2.0));
    gemm(1.0, a.view(), b.view(), 0.0, c.view_mut()).unwrap();
    assert_eq!(c, Array2::zeros((2, 3)));
}

#[test]
fn mismatched_shapes_are_errors() {
    let a = Array2::<f32>::zeros((2, 3));
    let b = Array2::<f32>::zeros((4, 5));
    let mut c = Array2::<f32>::zeros((2, 5));
    let err = gemm(1.0, a.view(), b.view(), 0.0, c.view_mut()).unwrap_err();
    assert!(matches!(err, KernelError::Shape { op: "gemm", .. }), "{err}");
    let b = Array2::<f32>::zeros((3, 5));
    let mut wrong_c = Array2::<f32>::zeros((5, 2));
    assert!(gemm(1.0, a.view(), b.view(), 0.0, wrong_c.view_mut()).is_err());
    let bias = Array1::<f32>::zeros(4);
    let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Relu };
    let err = gemm_fused(1.0, a.view(), b.view(), 0.0, c.view_mut(), epi).unwrap_err();
    assert!(err.to_string().contains("gemm bias"), "{err}");
    assert_eq!(c, Array2::zeros((2, 5)), "a refused call leaves C untouched");
}

#[test]
fn nan_propagates_to_its_row_and_column_only() {
    let mut a = Array2::<f32>::ones((3, 3));
    a[[1, 2]] = f32::NAN;
    let c = matmul(a.view(), Array2::eye(3).view()).unwrap();
    for ((i, _), v) in c.indexed_iter() {
        assert_eq!(v.is_nan(), i == 1, "row {i}");
    }
}

/// `C ← α·A·B + β·C` for the rows `rows` of `a` and `c0` alone.
fn rows_alone<T: oximl_kernel::Float>(
    alpha: T,
    a: &Array2<T>,
    b: ndarray::ArrayView2<'_, T>,
    beta: T,
    c0: &Array2<T>,
    rows: std::ops::Range<usize>,
) -> Array2<T> {
    let mut c = c0.slice(ndarray::s![rows.clone(), ..]).to_owned();
    oximl_kernel::gemm(alpha, a.slice(ndarray::s![rows, ..]), b, beta, c.view_mut()).unwrap();
    c
}

#[test]
fn a_row_has_the_same_bits_alone_or_among_any_number_of_rows() {
    // Shapes on every side of the kernel's paths: a few rows, one column, both sides ≤ 64 (one k block, and k = 784
    // that the crate's small path would cut at 512), m·n ≤ 256, the packed products; k ≤ 2, one k block, several.
    let shapes = [
        (300, 784, 1),
        (300, 64, 10),
        (130, 3, 2),
        (70, 100, 64),
        (32, 128, 64),
        (40, 784, 30),
        (80, 513, 65),
        (200, 1500, 130),
        (9, 2, 300),
    ];
    let mut r = rng(11);
    for &(m, k, n) in &shapes {
        let a = uniform((m, k), -1.0, 1.0, &mut r);
        let w = uniform((k, n), -1.0, 1.0, &mut r);
        let wt = w.t().to_owned(); // Bᵀ stored: B = wt.t() has column-major strides, as in backpropagation
        let c0 = uniform((m, n), -1.0, 1.0, &mut r);
        for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (0.5, 2.0)] {
            for b in [w.view(), wt.t()] {
                let (a32, b32, c32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32), c0.mapv(|v| v as f32));
                let all = rows_alone(alpha as f32, &a32, b32.view(), beta as f32, &c32, 0..m);
                let all64 = rows_alone(alpha, &a, b, beta, &c0, 0..m);
                for rows in [0..1, m / 2..m / 2 + 1, m - 1..m, 1..4, 0..5, 3..m.min(68), 0..m.min(65)] {
                    let part = rows_alone(alpha as f32, &a32, b32.view(), beta as f32, &c32, rows.clone());
                    let want = all.slice(ndarray::s![rows.clone(), ..]).mapv(f32::to_bits);
                    assert_eq!(part.mapv(f32::to_bits), want, "f32 {m}×{k}×{n} rows {rows:?} α={alpha} β={beta}");
                    let part = rows_alone(alpha, &a, b, beta, &c0, rows.clone());
                    let want = all64.slice(ndarray::s![rows.clone(), ..]).mapv(f64::to_bits);
                    assert_eq!(part.mapv(f64::to_bits), want, "f64 {m}×{k}×{n} rows {rows:?} α={alpha} β={beta}");
                }
            }
        }
    }
}
