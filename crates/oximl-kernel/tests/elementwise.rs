//! Activations, derivatives, maps and reductions: accuracy against f64 references, finite-difference gradients,
//! and bit-identical results at every CPU level this machine supports (against the scalar reference) on lengths
//! 0, 1, lane−1, lane+1, long (parallel) arrays and strided views.

mod common;
use approx::assert_abs_diff_eq;
use common::{rng, uniform};
use ndarray::{Array1, Array2, Axis, s};
use oximl_kernel::{Activation, CpuLevel, Float};

const ACTIVATIONS: [Activation; 8] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { alpha: 0.1 },
    Activation::Elu { alpha: 1.0 },
    Activation::Gelu,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Softmax,
];

/// Exact references in f64.
fn reference(act: Activation, z: &Array2<f64>) -> Array2<f64> {
    match act {
        Activation::Linear => z.clone(),
        Activation::Relu => z.mapv(|v| v.max(0.0)),
        Activation::LeakyRelu { alpha } => z.mapv(|v| if v > 0.0 { v } else { alpha * v }),
        Activation::Elu { alpha } => z.mapv(|v| if v > 0.0 { v } else { alpha * v.exp_m1() }),
        Activation::Gelu => z.mapv(|v| 0.5 * v * (1.0 + libm::erf(v / 2f64.sqrt()))),
        Activation::Sigmoid => z.mapv(|v| 1.0 / (1.0 + (-v).exp())),
        Activation::Tanh => z.mapv(f64::tanh),
        Activation::Softmax => {
            let mut out = z.clone();
            for mut row in out.rows_mut() {
                let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                row.mapv_inplace(|v| (v - m).exp());
                let s = row.sum();
                row /= s;
            }
            out
        }
    }
}

#[test]
fn f32_activations_match_f64_references() {
    let mut r = rng(1);
    let z = uniform((64, 257), -12.0, 12.0, &mut r);
    for act in ACTIVATIONS {
        let mut got = z.mapv(|v| v as f32);
        oximl_kernel::activate(act, got.view_mut());
        let want = reference(act, &z.mapv(|v| (v as f32) as f64));
        // 4e-7·max(1, |z|) absolute plus 4 ulp relative: the approximations are within 2e-7 absolute / 2 ulp
        // relative, and GELU multiplies erf's absolute error by |z|.
        for ((g, w), zv) in got.iter().zip(&want).zip(&z) {
            let tol = 4e-7 * zv.abs().max(1.0) + 4.0 * f32::EPSILON as f64 * w.abs();
            assert!((*g as f64 - w).abs() <= tol, "{act:?}: got {g}, want {w}");
        }
    }
}

#[test]
fn f32_exp_over_its_whole_range() {
    let xs: Vec<f32> = (-1040..=1000).map(|i| i as f32 * 0.0873).chain([-87.3, 88.7, -0.0, 1e-30]).collect();
    for &x in &xs {
        let got = x.expv() as f64;
        let want = (x as f64).exp();
        if want < f32::MIN_POSITIVE as f64 {
            assert!(got <= f32::MIN_POSITIVE as f64, "exp({x}) = {got}, flushed result expected");
        } else if want > f32::MAX as f64 {
            assert_eq!(got, f64::INFINITY, "exp({x})");
        } else {
            assert!((got - want).abs() <= 2.0 * f32::EPSILON as f64 * want, "exp({x}) = {got}, want {want}");
        }
    }
    assert_eq!(100f32.expv(), f32::INFINITY);
    assert_eq!((-200f32).expv(), 0.0);
    assert!(f32::NAN.expv().is_nan() && f32::NAN.tanhv().is_nan() && f32::NAN.erfv().is_nan());
    assert_eq!(f32::INFINITY.tanhv(), 1.0);
    assert_eq!(f32::NEG_INFINITY.erfv(), -1.0);
}

#[test]
fn derivatives_match_central_differences() {
    let mut r = rng(2);
    let h = 1e-6;
    for act in ACTIVATIONS {
        // Keep away from the kinks of relu, leaky relu and elu at 0.
        let z = uniform((3, 7), -3.0, 3.0, &mut r).mapv(|v| if v.abs() < 1e-3 { 0.5 } else { v });
        let upstream = uniform((3, 7), -1.0, 1.0, &mut r);
        let f = |z: &Array2<f64>| {
            let mut y = z.clone();
            oximl_kernel::activate(act, y.view_mut());
            y
        };
        let y = f(&z);
        let mut got = upstream.clone();
        oximl_kernel::activate_backward(act, z.view(), y.view(), got.view_mut()).unwrap();
        // d/dz_ij of Σ upstream ⊙ f(z), by central differences.
        let mut want = Array2::zeros(z.dim());
        for idx in ndarray::indices(z.dim()) {
            let (mut zp, mut zm) = (z.clone(), z.clone());
            zp[idx] += h;
            zm[idx] -= h;
            want[idx] = ((&f(&zp) - &f(&zm)) * &upstream).sum() / (2.0 * h);
        }
        assert_abs_diff_eq!(got, want, epsilon = 1e-7);
    }
}

#[test]
fn every_level_gives_the_scalar_bits() {
    let mut r = rng(3);
    let long = uniform(100_003, -20.0, 20.0, &mut r).mapv(|v| v as f32);
    for level in CpuLevel::available() {
        for len in [0, 1, 15, 17, 33, 1000, long.len()] {
            let z = long.slice(s![..len]).to_owned().into_shape_with_order((1, len)).unwrap();
            for act in ACTIVATIONS {
                let (mut scalar, mut fast) = (z.clone(), z.clone());
                oximl_kernel::activate_at(CpuLevel::Scalar, act, scalar.view_mut());
                oximl_kernel::activate_at(level, act, fast.view_mut());
                assert_eq!(fast.mapv(f32::to_bits), scalar.mapv(f32::to_bits), "{act:?} len {len} at {level:?}");
                let mut gs = z.mapv(|v| v * 0.5);
                let mut gf = gs.clone();
                oximl_kernel::activate_backward_at(CpuLevel::Scalar, act, z.view(), scalar.view(), gs.view_mut())
                    .unwrap();
                oximl_kernel::activate_backward_at(level, act, z.view(), scalar.view(), gf.view_mut()).unwrap();
                assert_eq!(gf.mapv(f32::to_bits), gs.mapv(f32::to_bits), "{act:?}' len {len} at {level:?}");
            }
            let v = z.row(0);
            assert_eq!(oximl_kernel::sum_at(level, v).to_bits(), oximl_kernel::sum_at(CpuLevel::Scalar, v).to_bits());
            assert_eq!(
                oximl_kernel::dot_at(level, v, v).unwrap().to_bits(),
                oximl_kernel::dot_at(CpuLevel::Scalar, v, v).unwrap().to_bits()
            );
        }
        // A strided view takes the fallback path with the same per-element function.
        let m = long.slice(s![..10_000]).to_owned().into_shape_with_order((100, 100)).unwrap();
        for act in ACTIVATIONS {
            let (mut strided, mut contiguous) = (m.clone(), m.t().to_owned());
            oximl_kernel::activate_at(level, act, strided.view_mut().reversed_axes());
            oximl_kernel::activate_at(CpuLevel::Scalar, act, contiguous.view_mut());
            assert_eq!(strided.t().mapv(f32::to_bits), contiguous.mapv(f32::to_bits), "{act:?} strided at {level:?}");
        }
    }
}

#[test]
fn softmax_is_stable_and_rows_sum_to_one() {
    let mut x =
        Array2::from_shape_vec((3, 4), vec![1e4f32, -1e4, 0.0, 1e4, -1e4, -1e4, -1e4, -1e4, 1.0, 2.0, 3.0, 4.0])
            .unwrap();
    let mut logs = x.clone();
    oximl_kernel::softmax_rows(x.view_mut());
    oximl_kernel::log_softmax_rows(logs.view_mut());
    assert!(x.iter().all(|v| v.is_finite()) && logs.iter().all(|v| !v.is_nan()));
    for row in x.rows() {
        assert_abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-6);
    }
    assert_eq!(x.row(0).to_vec(), vec![0.5, 0.0, 0.0, 0.5]);
    assert_abs_diff_eq!(logs.row(2).mapv(f32::exp), x.row(2), epsilon = 1e-6);
    assert_abs_diff_eq!(logs[[0, 0]], -std::f32::consts::LN_2, epsilon = 1e-6);
    // A NaN poisons its own row only.
    let mut y = Array2::from_shape_vec((2, 2), vec![f32::NAN, 1.0, 1.0, 1.0]).unwrap();
    oximl_kernel::softmax_rows(y.view_mut());
    assert!(y.row(0).iter().all(|v| v.is_nan()) && y.row(1).iter().all(|&v| v == 0.5));
}

#[test]
fn reductions_match_references() {
    let mut r = rng(4);
    let x = uniform((123, 77), -1.0, 1.0, &mut r);
    let x32 = x.mapv(|v| v as f32);
    assert_abs_diff_eq!(oximl_kernel::sum(x32.view()) as f64, x.sum(), epsilon = 1e-4);
    assert_abs_diff_eq!(oximl_kernel::sum(x.view()), x.sum(), epsilon = 1e-11);
    for axis in [Axis(0), Axis(1)] {
        let want = x.sum_axis(axis);
        assert_abs_diff_eq!(oximl_kernel::sum_axis(x.view(), axis).unwrap(), want, epsilon = 1e-12);
        // Column-major storage takes the other path.
        let xf = x.t().as_standard_layout().to_owned();
        assert_abs_diff_eq!(oximl_kernel::sum_axis(xf.t(), axis).unwrap(), want, epsilon = 1e-12);
    }
    assert!(oximl_kernel::sum_axis(x.view(), Axis(2)).is_err());
    let (a, b) = (x.row(3), x.row(9));
    assert_abs_diff_eq!(oximl_kernel::dot(a, b).unwrap(), a.dot(&b), epsilon = 1e-12);
    assert_abs_diff_eq!(
        oximl_kernel::dot(x.column(1), x.column(2)).unwrap(),
        x.column(1).dot(&x.column(2)),
        epsilon = 1e-12
    );
    assert!(oximl_kernel::dot(a, x.column(0)).is_err());
    assert_abs_diff_eq!(oximl_kernel::norm_l2(x.view()), x.mapv(|v| v * v).sum().sqrt(), epsilon = 1e-12);
    let big = Array1::from_elem(1 << 20, 1.0f32);
    assert_eq!(oximl_kernel::sum(big.view()), (1 << 20) as f32);
    let empty = Array2::<f32>::zeros((0, 5));
    assert_eq!(oximl_kernel::sum(empty.view()), 0.0);
    assert!(oximl_kernel::argmax_rows(Array2::<f32>::zeros((2, 0)).view()).is_err());
    assert_eq!(oximl_kernel::argmax_rows(empty.view()).unwrap(), Vec::<usize>::new());
}

#[test]
fn maps() {
    let x = Array1::from(vec![1.0f32, -2.0, 3.0]);
    let mut y = Array1::from(vec![1.0f32, 1.0, 1.0]);
    oximl_kernel::axpy(2.0, x.view(), y.view_mut()).unwrap();
    assert_eq!(y.to_vec(), vec![3.0, -3.0, 7.0]);
    oximl_kernel::mul(x.view(), y.view_mut()).unwrap();
    assert_eq!(y.to_vec(), vec![3.0, 6.0, 21.0]);
    oximl_kernel::scale(0.5, y.view_mut());
    assert_eq!(y.to_vec(), vec![1.5, 3.0, 10.5]);
    oximl_kernel::clamp(2.0, 4.0, y.view_mut()).unwrap();
    assert_eq!(y.to_vec(), vec![2.0, 3.0, 4.0]);
    assert!(oximl_kernel::clamp(4.0, 2.0, y.view_mut()).is_err());
    assert!(oximl_kernel::axpy(1.0, Array1::zeros(2).view(), y.view_mut()).is_err());
    // Mixed layouts go through the strided path.
    let a = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32);
    let mut b = Array2::<f32>::ones((2, 3));
    oximl_kernel::axpy(1.0, a.t(), b.view_mut()).unwrap();
    assert_eq!(b, a.t().mapv(|v| v + 1.0));
}

#[test]
fn segment_sum_rows_matches_axpy_in_order_at_every_level() {
    use oximl_kernel::reduce::{segment_sum_rows, segment_sum_rows_at};
    let mut r = rng(11);
    for cols in [1, 7, 8, 9, 300] {
        let x = uniform((50, cols), -3.0, 3.0, &mut r).mapv(|v| v as f32);
        let rows: Vec<usize> = uniform(40, 0.0, 50.0, &mut r).iter().map(|&v| v as usize).collect();
        let weights: Vec<f32> = uniform(40, -2.0, 2.0, &mut r).iter().map(|&v| v as f32).collect();
        // Segments of lengths 0, 1, 2, 37 (and an empty one at the end).
        let offsets = [0, 0, 1, 3, 40, 40];
        for w in [None, Some(&weights[..])] {
            // Reference: axpy row by row, in order, from zero.
            let mut want = Array2::<f32>::zeros((5, cols));
            for (i, mut o) in want.rows_mut().into_iter().enumerate() {
                for k in offsets[i]..offsets[i + 1] {
                    let c = w.map_or(1.0, |w| w[k]);
                    oximl_kernel::axpy(c, x.row(rows[k]), o.view_mut()).unwrap();
                }
            }
            for level in CpuLevel::available() {
                let mut got = Array2::from_elem((5, cols), f32::NAN);
                segment_sum_rows_at(level, x.view(), &rows, w, &offsets, got.view_mut()).unwrap();
                assert_eq!(got.mapv(f32::to_bits), want.mapv(f32::to_bits), "cols {cols} at {level:?}");
            }
            // Strided table and output take the fallback path with the same per-element formula.
            let xt = x.t().to_owned();
            let mut got = Array2::from_elem((cols, 5), f32::NAN);
            segment_sum_rows(xt.t(), &rows, w, &offsets, got.view_mut().reversed_axes()).unwrap();
            assert_eq!(got.t().mapv(f32::to_bits), want.mapv(f32::to_bits), "strided, cols {cols}");
            // And the sums agree with an f64 reference.
            for (i, o) in want.rows().into_iter().enumerate() {
                for j in 0..cols {
                    let exact: f64 = (offsets[i]..offsets[i + 1])
                        .map(|k| f64::from(w.map_or(1.0, |w| w[k]) * x[[rows[k], j]]))
                        .sum();
                    assert_abs_diff_eq!(f64::from(o[j]), exact, epsilon = 1e-4);
                }
            }
        }
    }
}

#[test]
fn segment_sum_rows_refuses_bad_arguments() {
    use oximl_kernel::KernelError;
    use oximl_kernel::reduce::segment_sum_rows;
    let x = Array2::<f32>::ones((3, 2));
    let mut out = Array2::<f32>::zeros((2, 2));
    let shape = |e| matches!(e, Err(KernelError::Shape { .. }));
    let invalid = |e| matches!(e, Err(KernelError::InvalidArgument { .. }));
    assert!(shape(segment_sum_rows(x.view(), &[0], None, &[0, 1], out.view_mut())));
    assert!(shape(segment_sum_rows(x.view(), &[0], None, &[0, 1, 1], Array2::zeros((2, 3)).view_mut())));
    assert!(shape(segment_sum_rows(x.view(), &[0], Some(&[1.0, 2.0][..]), &[0, 1, 1], out.view_mut())));
    assert!(invalid(segment_sum_rows(x.view(), &[0, 1], None, &[0, 2, 1], out.view_mut())));
    assert!(invalid(segment_sum_rows(x.view(), &[0], None, &[0, 1, 2], out.view_mut())));
    assert!(invalid(segment_sum_rows(x.view(), &[3], None, &[0, 1, 1], out.view_mut())));
    assert!(segment_sum_rows(x.view(), &[], None, &[0, 0, 0], out.view_mut()).is_ok());
    assert_eq!(out, Array2::zeros((2, 2)));
    let mut none = Array2::<f32>::zeros((0, 2));
    assert!(segment_sum_rows(x.view(), &[], None, &[0], none.view_mut()).is_ok());
}
