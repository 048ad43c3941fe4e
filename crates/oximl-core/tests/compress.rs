//! Compression: int8 quantization (round-trip bound, closeness to f32, digits accuracy, file round trip and
//! recorded fixtures, thread-count independence) and magnitude pruning (masks kept through training, schedules,
//! sparse storage), with every bad input and the error it must give.

use ndarray::{Array2, Axis};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl_core::Persist;
use oximl_core::compress::{PruneConfig, QuantizeConfig, Scope};
use oximl_core::data::{StandardScaler, datasets, train_test_split};
use oximl_core::kernel::Activation;
use oximl_core::nn::{Dense, FitOptions, Layer, Loss, Metric, Sequential};
use oximl_core::optim::Optimizer;
use std::path::PathBuf;

fn uniform(shape: (usize, usize), lo: f32, hi: f32, seed: u64) -> Array2<f32> {
    Array2::random_using(shape, Uniform::new(lo, hi).unwrap(), &mut StdRng::seed_from_u64(seed))
}

fn int8() -> QuantizeConfig {
    QuantizeConfig::from_name("int8").unwrap()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/compress").join(name)
}

/// A 20-32-16-4 network with random weights (Dropout included).
fn random_model(seed: u64) -> Sequential {
    let mut m = Sequential::with_seed(20, seed);
    m.add(Dense::new(32).activation(Activation::Relu))
        .and_then(|m| m.add(Layer::Dropout { rate: 0.3 }))
        .and_then(|m| m.add(Dense::new(16).activation(Activation::Tanh)))
        .and_then(|m| m.add(Dense::new(4).activation(Activation::Softmax)))
        .unwrap();
    m
}

/// The digits 64-128-64-10 of the quickstart, trained: (model, x_train, y_train, x_test, y_test).
fn digits() -> (Sequential, Array2<f32>, Array2<f32>, Array2<f32>, Array2<f32>) {
    let digits = datasets::digits().unwrap();
    let (x_train, x_test, y_train, y_test) = train_test_split(&digits.x, &digits.y, 0.2, 42, true).unwrap();
    let mut scaler = StandardScaler::new();
    let x_train = scaler.fit_transform(&x_train).unwrap();
    let x_test = scaler.transform(&x_test).unwrap();
    let mut m = Sequential::with_seed(64, 42);
    m.add(Dense::new(128).activation(Activation::Relu))
        .and_then(|m| m.add(Dense::new(64).activation(Activation::Relu)))
        .and_then(|m| m.add(Dense::new(10).activation(Activation::Softmax)))
        .unwrap();
    let loss = Loss::SparseCategoricalCrossentropy { from_logits: false };
    m.compile(Optimizer::adam(1e-3), loss, &[Metric::Accuracy]).unwrap();
    let (y_train, y_test) = (y_train.insert_axis(Axis(1)), y_test.insert_axis(Axis(1)));
    m.fit(x_train.view(), y_train.view(), FitOptions { epochs: 15, batch_size: 32, seed: 42, ..Default::default() })
        .unwrap();
    (m, x_train, y_train, x_test, y_test)
}

fn accuracy(m: &Sequential, x: &Array2<f32>, y: &Array2<f32>) -> f64 {
    m.evaluate(x.view(), y.view()).unwrap().get("accuracy").unwrap()
}

#[test]
fn quantized_weights_are_within_half_a_scale_of_the_originals() {
    let mut m = random_model(1);
    let before = m.get_weights();
    m.quantize(&int8()).unwrap();
    let after = m.get_weights();
    for (w, q) in before.iter().zip(&after) {
        if w.ndim() == 1 {
            assert_eq!(w, q, "biases stay f32");
            continue;
        }
        let (w, q) = (
            w.view().into_dimensionality::<ndarray::Ix2>().unwrap(),
            q.view().into_dimensionality::<ndarray::Ix2>().unwrap(),
        );
        for (wc, qc) in w.columns().into_iter().zip(q.columns()) {
            let scale = wc.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
            let worst = wc.iter().zip(qc).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst <= scale / 2.0 * (1.0 + 1e-5), "error {worst} > scale/2 = {}", scale / 2.0);
            assert!(worst > 0.0, "the weights were really quantized");
        }
    }
}

#[test]
fn quantized_predictions_stay_close_to_float_ones() {
    // Tolerance: 0.02 absolute on softmax probabilities (each hidden layer's int8 rounding is ≤ 1/254 of a row's
    // range per activation and ≤ scale/2 per weight).
    let mut m = random_model(2);
    let x = uniform((300, 20), -2.0, 2.0, 3);
    let want = m.predict(x.view()).unwrap();
    m.quantize(&int8()).unwrap();
    let got = m.predict(x.view()).unwrap();
    let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 0.02, "max |int8 − f32| = {worst}");
    assert!(worst > 0.0, "the int8 path really ran");
    // predict_into a strided output gives the same values.
    let mut wide = Array2::from_elem((300, 8), f32::NAN);
    m.predict_into(x.view(), wide.slice_mut(ndarray::s![.., ..;2])).unwrap();
    assert_eq!(wide.slice(ndarray::s![.., ..;2]), got);
}

#[test]
fn digits_accuracy_int8_within_half_a_point_of_float() {
    let (m, _, _, x_test, y_test) = digits();
    let f32_acc = accuracy(&m, &x_test, &y_test);
    let mut q = m.clone();
    q.quantize(&int8()).unwrap();
    let int8_acc = accuracy(&q, &x_test, &y_test);
    eprintln!("digits test accuracy: f32 {f32_acc:.4}, int8 {int8_acc:.4}");
    assert!(f32_acc > 0.95);
    assert!((f32_acc - int8_acc).abs() <= 0.005, "f32 {f32_acc} vs int8 {int8_acc}");
    // Saved and loaded, the quantized model predicts the same bits, from a file ≥ 3.5× smaller.
    let (dense, small) = (m.to_bytes().unwrap(), q.to_bytes().unwrap());
    let back = Sequential::from_bytes(&small).unwrap();
    assert_eq!(back.predict(x_test.view()).unwrap(), q.predict(x_test.view()).unwrap());
    assert_eq!(back.quantization(), Some(&int8()));
    // The trained model's file holds Adam's two moments too: compare with the weights alone.
    let mut plain = m.clone();
    plain.compile(Optimizer::sgd(0.1), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).unwrap();
    let plain = plain.to_bytes().unwrap();
    eprintln!("file sizes: f32 {} (with Adam state {}), int8 {}", plain.len(), dense.len(), small.len());
    // The kernels shrink 4×; the biases, the per-unit scales and the ~2 KB header do not: 3.4× for this small network.
    assert!(plain.len() as f64 >= 3.4 * small.len() as f64 && dense.len() as f64 >= 3.5 * small.len() as f64);
}

#[test]
fn quantized_outputs_are_bit_identical_across_thread_counts() {
    let mut m = random_model(4);
    m.quantize(&int8()).unwrap();
    let x = uniform((2_000, 20), -1.0, 1.0, 5);
    oximl_core::set_num_threads(1).unwrap();
    let one = m.predict(x.view()).unwrap();
    oximl_core::set_num_threads(2).unwrap();
    let two = m.predict(x.view()).unwrap();
    oximl_core::set_num_threads(0).unwrap();
    assert_eq!(one, two);
    let mut reduced = random_model(4);
    reduced.quantize(&QuantizeConfig { reduce_range: true, ..int8() }).unwrap();
    let r = reduced.predict(x.view()).unwrap();
    assert!(r.iter().zip(&one).all(|(a, b)| (a - b).abs() < 0.05) && r != one);
}

#[test]
fn quantizing_bad_models_or_modes_is_a_clear_error() {
    let e = QuantizeConfig::from_name("int4").unwrap_err();
    assert_eq!(e.code(), 1);
    assert!(e.to_string().contains("int4"), "{e}");
    let e = Sequential::new(3).quantize(&int8()).unwrap_err();
    assert_eq!(e.code(), 6, "{e}");
    let mut only_dropout = Sequential::new(3);
    only_dropout.add(Layer::Dropout { rate: 0.1 }).unwrap();
    assert_eq!(only_dropout.quantize(&int8()).unwrap_err().code(), 6);

    let mut m = random_model(6);
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).unwrap();
    m.quantize(&int8()).unwrap();
    let (x, y) = (uniform((8, 20), 0.0, 1.0, 1), Array2::zeros((8, 1)));
    for e in [
        m.clone().quantize(&int8()).unwrap_err(),
        m.clone().fit(x.view(), y.view(), FitOptions::default()).unwrap_err(),
        m.clone().prune(&PruneConfig::global(0.5)).unwrap_err(),
        m.clone().add(Dense::new(2)).unwrap_err(),
        m.clone().set_weights(m.get_weights()).unwrap_err(),
        m.loss_and_gradients(x.view(), y.view()).unwrap_err(),
    ] {
        assert_eq!(e.code(), 1);
        assert!(e.to_string().contains("quantized model"), "{e}");
    }
    // evaluate still works
    assert!(m.evaluate(x.view(), y.view()).unwrap().get("loss").unwrap().is_finite());
}

#[test]
fn quantized_files_with_bad_contents_are_refused() {
    let mut m = random_model(7);
    m.quantize(&int8()).unwrap();
    let bytes = m.to_bytes().unwrap();
    let file = oximl_core::io::from_bytes(&bytes, "sequential").unwrap();
    let mut config = file.config().clone();
    config["quantization"]["mode"] = "int4".into();
    let names = file.names();
    let tensors: Vec<(String, oximl_core::io::DType)> =
        names.iter().map(|n| (n.to_string(), file.info(n).unwrap().0)).collect();
    assert!(tensors.iter().any(|(n, d)| n == "layers.0.kernel" && *d == oximl_core::io::DType::I8));
    // A config that claims another mode.
    let bad = oximl_core::io::to_bytes("sequential", &config, &[]).unwrap();
    assert_eq!(Sequential::from_bytes(&bad).unwrap_err().code(), 5);
    // A zero scale.
    let mut config = file.config().clone();
    config["quantization"]["reduce_range"] = true.into();
    let q = file.matrix::<i8>("layers.0.kernel", None, None).unwrap();
    let zero = ndarray::Array1::<f32>::zeros(q.ncols());
    let bad = oximl_core::io::to_bytes(
        "sequential",
        &config,
        &[
            ("layers.0.kernel", oximl_core::io::TensorRef::new(q.view())),
            ("layers.0.kernel_scale", oximl_core::io::TensorRef::new(zero.view())),
        ],
    )
    .unwrap();
    let e = Sequential::from_bytes(&bad).unwrap_err();
    assert!(e.to_string().contains("scale"), "{e}");
}

/// The recorded quantized and pruned models (written by `write_compress_fixtures`) load and predict their
/// recorded outputs: bit for bit for the int8 model (integer products and one epilogue formula on every CPU).
#[test]
fn recorded_compressed_models_predict_their_recorded_outputs() {
    let x = uniform((16, 20), -1.0, 1.0, 11);
    let q = Sequential::load(fixture("quantized.oximl")).unwrap();
    assert_eq!(q.quantization(), Some(&int8()));
    let want: Array2<f32> = read_csv("quantized_expected.csv");
    assert_eq!(q.predict(x.view()).unwrap(), want);
    let p = Sequential::load(fixture("pruned.oximl")).unwrap();
    assert!((p.sparsity().total - 0.8).abs() < 0.01);
    let want: Array2<f32> = read_csv("pruned_expected.csv");
    let got = p.predict(x.view()).unwrap();
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() <= 1e-6));
}

fn read_csv(name: &str) -> Array2<f32> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let rows: Vec<Vec<f32>> = text.lines().map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat()).unwrap()
}

#[test]
#[ignore = "writes tests/fixtures/compress; run with --ignored to regenerate"]
fn write_compress_fixtures() {
    std::fs::create_dir_all(fixture("")).unwrap();
    let x = uniform((16, 20), -1.0, 1.0, 11);
    let write = |name: &str, m: &Array2<f32>| {
        let lines: Vec<String> =
            m.rows().into_iter().map(|r| r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")).collect();
        std::fs::write(fixture(name), lines.join("\n") + "\n").unwrap();
    };
    let mut q = random_model(12);
    q.quantize(&int8()).unwrap();
    q.save(fixture("quantized.oximl")).unwrap();
    write("quantized_expected.csv", &q.predict(x.view()).unwrap());
    let mut p = random_model(13);
    p.prune(&PruneConfig { sparsity: 0.8, scope: Scope::Global, layers: None }).unwrap();
    p.save(fixture("pruned.oximl")).unwrap();
    write("pruned_expected.csv", &p.predict(x.view()).unwrap());
}
