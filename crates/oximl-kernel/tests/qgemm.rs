//! The int8 products: exact against an i64 reference at every CPU level this machine has, on odd shapes and
//! saturating values; the fused epilogue bit-identical across levels and thread counts; quantizers within
//! scale/2.

mod common;
use common::{rng, uniform};
use ndarray::{Array1, Array2, ArrayView2, s};
use ndarray_rand::rand::Rng;
use ndarray_rand::rand::rngs::StdRng;
use oximl_kernel::{
    Activation, ActivationRange, CpuLevel, Epilogue, KernelError, MAX_K, PackedI8, RowQuant, activate_at, qgemm_at,
    qgemm_fused_at,
};

/// Counts the allocations of each thread, to show that a single-row product allocates nothing.
struct Counting;

thread_local! {
    static ALLOCATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards to the system allocator.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's layout is passed on unchanged.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from `alloc` above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIZES: [usize; 9] = [1, 3, 7, 17, 63, 64, 65, 255, 257];

fn random_u8(shape: (usize, usize), r: &mut StdRng) -> Array2<u8> {
    Array2::from_shape_simple_fn(shape, || r.random::<u8>())
}

fn random_i8(shape: (usize, usize), r: &mut StdRng) -> Array2<i8> {
    Array2::from_shape_simple_fn(shape, || r.random::<i8>())
}

fn packed(q: &Array2<i8>) -> PackedI8 {
    PackedI8::from_quantized(q.view(), Array1::from_elem(q.ncols(), 1.0f32).view()).unwrap()
}

fn reference(a: ArrayView2<'_, u8>, q: ArrayView2<'_, i8>) -> Array2<i64> {
    Array2::from_shape_fn((a.nrows(), q.ncols()), |(i, j)| {
        a.row(i).iter().zip(q.column(j)).map(|(&x, &w)| i64::from(x) * i64::from(w)).sum()
    })
}

fn product(level: CpuLevel, a: ArrayView2<'_, u8>, b: &PackedI8) -> Array2<i64> {
    let mut c = Array2::from_elem((a.nrows(), b.n()), 12345i32);
    qgemm_at(level, a, b, c.view_mut()).unwrap();
    c.mapv(i64::from)
}

fn shapes() -> Vec<(usize, usize, usize)> {
    let mut r = rng(11);
    let mut shapes: Vec<_> = SIZES.iter().flat_map(|&x| [(x, 65, 17), (17, x, 65), (65, 17, x)]).collect();
    shapes.extend(
        (0..20).map(|_| (SIZES[r.random_range(0..9)], SIZES[r.random_range(0..9)], SIZES[r.random_range(0..9)])),
    );
    shapes
}

#[test]
fn every_level_is_exact_on_odd_shapes() {
    let levels = CpuLevel::available();
    println!("levels: {levels:?}");
    for (m, k, n) in shapes() {
        let mut r = rng((m * 1000 + k * 10 + n) as u64);
        let (a, q) = (random_u8((m, k), &mut r), random_i8((k, n), &mut r));
        let b = packed(&q);
        // Any u8, and 7-bit values (which take the vpmaddubsw kernel at the AVX2 levels).
        for a in [a.clone(), a.mapv(|v| v & 127)] {
            let expected = reference(a.view(), q.view());
            for &level in &levels {
                assert_eq!(product(level, a.view(), &b), expected, "{level:?} at {m}×{k}×{n}");
            }
        }
    }
}

#[test]
fn saturating_values_are_exact() {
    for (m, k, n) in [(5, 257, 33), (3, 4099, 17), (2, MAX_K, 3)] {
        let mut r = rng(k as u64);
        // Extremes only: every vpmaddubsw pair would saturate i16, and at k = MAX_K the sums reach −2³¹ + 2²³.
        let a = Array2::from_shape_fn((m, k), |(i, _)| if i == 0 || r.random::<bool>() { 255u8 } else { 0 });
        let q = Array2::from_shape_fn((k, n), |(_, j)| match j % 3 {
            0 => -128i8,
            1 => 127,
            _ => {
                if r.random::<bool>() {
                    -128
                } else {
                    127
                }
            }
        });
        let a7 = a.mapv(|v| v / 2); // 127 and 0: the extremes of 7-bit activations
        let (expected, expected7, b) = (reference(a.view(), q.view()), reference(a7.view(), q.view()), packed(&q));
        if k == MAX_K {
            assert_eq!(expected[[0, 0]], -255 * 128 * MAX_K as i64);
        }
        for level in CpuLevel::available() {
            assert_eq!(product(level, a.view(), &b), expected, "{level:?} at {m}×{k}×{n}");
            assert_eq!(product(level, a7.view(), &b), expected7, "{level:?} at {m}×{k}×{n}, 7 bits");
        }
    }
}

#[test]
fn strided_and_offset_views_of_a() {
    let mut r = rng(3);
    let big = random_u8((80, 150), &mut r);
    let q = random_i8((37, 29), &mut r);
    let b = packed(&q);
    let views = [
        big.slice(s![3..40;2, 5..42]),
        big.slice(s![1..38, 100..137]),
        big.slice(s![..;-4, ..;4]).slice_move(s![.., ..37]),
    ];
    for a in views {
        let expected = reference(a, q.view());
        for level in CpuLevel::available() {
            assert_eq!(product(level, a, &b), expected, "{level:?}");
        }
    }
    let t = big.slice(s![..37, ..20]).reversed_axes(); // 20 × 37, column-major
    assert_eq!(product(CpuLevel::current(), t, &b), reference(t, q.view()));
}

/// The epilogue's formula, computed from the i64 reference: every level must match it bit for bit.
fn fused_reference(x: ArrayView2<'_, f32>, w: &PackedI8, bias: &Array1<f32>, act: Activation) -> Array2<f32> {
    let mut a = Array2::zeros(x.dim());
    let params: Vec<RowQuant> = x
        .rows()
        .into_iter()
        .zip(a.rows_mut())
        .map(|(xr, mut ar)| {
            let p = RowQuant::of(xr.as_slice().unwrap(), w.activation_range()).unwrap();
            p.quantize(xr.as_slice().unwrap(), ar.as_slice_mut().unwrap());
            p
        })
        .collect();
    let acc = reference(a.view(), w.quantized().view());
    let mut out = Array2::from_shape_fn(acc.dim(), |(i, j)| {
        let p = params[i];
        let v = (acc[[i, j]] as i32 - i32::from(p.zero_point) * w.column_sums()[j]) as f32 * (p.scale * w.scales()[j]);
        v + bias[j]
    });
    activate_at(CpuLevel::Scalar, act, out.view_mut());
    out
}

fn fused(level: CpuLevel, x: ArrayView2<'_, f32>, w: &PackedI8, bias: &Array1<f32>, act: Activation) -> Array2<u32> {
    let mut out = Array2::from_elem((x.nrows(), w.n()), f32::NAN);
    let epi = Epilogue { bias: Some(bias.view()), activation: act };
    qgemm_fused_at(level, x, w, epi, out.view_mut()).unwrap();
    out.mapv(f32::to_bits)
}

#[test]
fn fused_epilogue_is_bit_identical_across_levels() {
    for (i, (m, k, n)) in shapes().into_iter().enumerate().step_by(3) {
        let mut r = rng(i as u64);
        let x = uniform((m, k), -2.0, if i % 2 == 0 { 3.0 } else { 0.0 }, &mut r).mapv(|v| v as f32);
        let range = if i % 2 == 0 { ActivationRange::Full } else { ActivationRange::Reduced };
        let w = PackedI8::quantize(uniform((k, n), -0.5, 0.5, &mut r).mapv(|v| v as f32).view())
            .unwrap()
            .with_activation_range(range);
        let bias = uniform(n, -1.0, 1.0, &mut r).mapv(|v| v as f32);
        for act in [Activation::Linear, Activation::Relu, Activation::Gelu, Activation::Softmax] {
            let expected = fused_reference(x.view(), &w, &bias, act).mapv(f32::to_bits);
            for level in CpuLevel::available() {
                assert_eq!(fused(level, x.view(), &w, &bias, act), expected, "{level:?} {act:?} at {m}×{k}×{n}");
            }
        }
    }
}

#[test]
fn quantized_product_is_close_to_the_float_one() {
    let mut r = rng(8);
    let (m, k, n) = (50, 256, 40);
    let x = uniform((m, k), -1.0, 1.0, &mut r).mapv(|v| v as f32);
    let wf = uniform((k, n), -0.1, 0.1, &mut r).mapv(|v| v as f32);
    let exact = x.dot(&wf);
    let mut out = Array2::zeros((m, n));
    let w = PackedI8::quantize(wf.view()).unwrap();
    qgemm_fused_at(CpuLevel::current(), x.view(), &w, Epilogue::none(), out.view_mut()).unwrap();
    let err = (&out - &exact).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    let size = exact.mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(err < 0.02 * size, "max error {err} for outputs up to {size}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let mut r = rng(21);
    let (m, k, n) = (300, 257, 129);
    let a = random_u8((m, k), &mut r);
    let q = random_i8((k, n), &mut r);
    let x = uniform((m, k), -1.0, 1.0, &mut r).mapv(|v| v as f32);
    let w = PackedI8::quantize(uniform((k, n), -1.0, 1.0, &mut r).mapv(|v| v as f32).view()).unwrap();
    let w7 = w.clone().with_activation_range(ActivationRange::Reduced);
    let bias = Array1::from_elem(n, 0.25f32);
    let (expected, b) = (reference(a.view(), q.view()), packed(&q));
    let mut fused_results = Vec::new();
    for threads in [1, 2, 3] {
        oximl_kernel::set_num_threads(threads).unwrap();
        for level in CpuLevel::available() {
            assert_eq!(product(level, a.view(), &b), expected, "{level:?}, {threads} threads");
            let full = fused(level, x.view(), &w, &bias, Activation::Tanh);
            fused_results.push((full, fused(level, x.view(), &w7, &bias, Activation::Tanh)));
        }
    }
    oximl_kernel::set_num_threads(0).unwrap();
    assert!(fused_results.iter().all(|f| *f == fused_results[0]));
    assert_ne!(fused_results[0].0, fused_results[0].1);
}

#[test]
fn row_quantizer_round_trip_is_within_half_a_step() {
    let mut r = rng(4);
    let rows: Vec<Vec<f32>> = vec![
        vec![0.0; 9],
        vec![5.0; 17],
        vec![-3.0; 3],
        vec![1e-30, -1e-30, 0.0],
        vec![-1.0, 0.0, 1e-7, 255.0],
        uniform(1000, -1.0, 1.0, &mut r).mapv(|v| v as f32).to_vec(),
        uniform(33, 0.0, 7.0, &mut r).mapv(|v| v as f32).to_vec(),
        uniform(65, -1e4, -1e3, &mut r).mapv(|v| v as f32).to_vec(),
    ];
    for (x, range) in rows.iter().flat_map(|x| [(x, ActivationRange::Full), (x, ActivationRange::Reduced)]) {
        let p = RowQuant::of(x, range).unwrap();
        let mut q = vec![0u8; x.len()];
        p.quantize(x, &mut q);
        assert!(q.iter().all(|&v| v <= range.max()));
        for (&v, &qv) in x.iter().zip(&q) {
            // scale/2 in exact arithmetic; f32 rounding of x/scale and of the dequantization adds a few ulp of x.
            let err = (p.dequantize(qv) - v).abs();
            assert!(err <= p.scale / 2.0 + 4.0 * f32::EPSILON * v.abs(), "{v} → {qv} ({p:?}): error {err}");
        }
        assert_eq!(p.dequantize(p.zero_point), 0.0);
    }
    assert!(RowQuant::of(&[1.0, f32::INFINITY], ActivationRange::Full).is_err());
    assert!(RowQuant::of(&[f32::NAN, 1.0], ActivationRange::Full).is_err());
}

#[test]
fn weight_quantizer_round_trip_is_within_half_a_step() {
    let mut r = rng(6);
    let mut w = uniform((70, 19), -3.0, 3.0, &mut r).mapv(|v| v as f32);
    w.column_mut(4).fill(0.0);
    w.column_mut(5).mapv_inplace(|v| v * 1e-30);
    let p = PackedI8::quantize(w.view()).unwrap();
    let back = p.dequantize();
    for (((_, j), &v), &d) in w.indexed_iter().zip(&back) {
        assert!((v - d).abs() <= p.scales()[j] / 2.0 + 4.0 * f32::EPSILON * v.abs(), "column {j}: {v} → {d}");
    }
    assert!(p.quantized().iter().all(|&q| q >= -127));
    let sums: Vec<i32> = p.quantized().columns().into_iter().map(|c| c.iter().map(|&v| i32::from(v)).sum()).collect();
    assert_eq!(p.column_sums(), &sums[..]);
}

#[test]
fn bad_inputs_are_refused() {
    let w = PackedI8::quantize(Array2::<f32>::ones((4, 3)).view()).unwrap();
    let mut out = Array2::zeros((2, 3));
    let x = Array2::<f32>::ones((2, 4));
    let shape = |e: KernelError| matches!(e, KernelError::Shape { .. });
    assert!(shape(
        qgemm_fused_at(CpuLevel::Scalar, Array2::ones((2, 5)).view(), &w, Epilogue::none(), out.view_mut())
            .unwrap_err()
    ));
    assert!(shape(
        qgemm_fused_at(CpuLevel::Scalar, x.view(), &w, Epilogue::none(), Array2::zeros((2, 4)).view_mut()).unwrap_err()
    ));
    let bias = Array1::zeros(2);
    let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Linear };
    assert!(shape(qgemm_fused_at(CpuLevel::Scalar, x.view(), &w, epi, out.view_mut()).unwrap_err()));
    let mut nan = x.clone();
    nan[[1, 2]] = f32::NAN;
    assert!(qgemm_fused_at(CpuLevel::current(), nan.view(), &w, Epilogue::none(), out.view_mut()).is_err());
    let mut wide = Array2::zeros((2, 6));
    let strided = wide.slice_mut(s![.., ..;2]);
    assert!(matches!(
        qgemm_fused_at(CpuLevel::current(), x.view(), &w, Epilogue::none(), strided).unwrap_err(),
        KernelError::InvalidArgument { name: "out", .. }
    ));
    assert!(PackedI8::quantize(ndarray::array![[f32::INFINITY]].view()).is_err());
    assert!(PackedI8::from_quantized(Array2::zeros((MAX_K + 1, 1)).view(), ndarray::array![1.0f32].view()).is_err());
    assert!(PackedI8::from_quantized(Array2::zeros((2, 2)).view(), ndarray::array![1.0f32].view()).is_err());
    assert!(PackedI8::from_quantized(Array2::zeros((2, 1)).view(), ndarray::array![0.0f32].view()).is_err());
    // Empty products: nothing to do, or an empty sum (the bias alone).
    let w0 = PackedI8::quantize(Array2::<f32>::zeros((0, 3)).view()).unwrap();
    let b3 = ndarray::array![1.0f32, -2.0, 0.5];
    let epi = Epilogue { bias: Some(b3.view()), activation: Activation::Relu };
    qgemm_fused_at(CpuLevel::current(), Array2::zeros((2, 0)).view(), &w0, epi, out.view_mut()).unwrap();
    assert_eq!(out, ndarray::array![[1.0f32, 0.0, 0.5], [1.0, 0.0, 0.5]]);
    qgemm_fused_at(
        CpuLevel::current(),
        Array2::zeros((0, 4)).view(),
        &w,
        Epilogue::none(),
        Array2::zeros((0, 3)).view_mut(),
    )
    .unwrap();
}

#[test]
fn a_single_row_allocates_nothing() {
    let mut r = rng(9);
    let x = uniform((1, 300), -1.0, 1.0, &mut r).mapv(|v| v as f32);
    let w = PackedI8::quantize(uniform((300, 70), -1.0, 1.0, &mut r).mapv(|v| v as f32).view()).unwrap();
    let bias = Array1::from_elem(70, 0.5f32);
    let mut out = Array2::zeros((1, 70));
    let epi = Epilogue { bias: Some(bias.view()), activation: Activation::Softmax };
    for level in CpuLevel::available() {
        qgemm_fused_at(level, x.view(), &w, epi, out.view_mut()).unwrap(); // the thread's scratch row, once
        let before = ALLOCATIONS.with(|n| n.get());
        for _ in 0..10 {
            qgemm_fused_at(level, x.view(), &w, epi, out.view_mut()).unwrap();
        }
        assert_eq!(ALLOCATIONS.with(|n| n.get()), before, "{level:?}");
    }
}
