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
    // The kernels shrink 4×; the biases, the per-unit scales and the ~2 KB header do not: 3.4× for this network.
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
    let x = read_csv("input.csv");
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
    write("input.csv", &x);
    let mut q = random_model(12);
    q.quantize(&int8()).unwrap();
    q.save(fixture("quantized.oximl")).unwrap();
    write("quantized_expected.csv", &q.predict(x.view()).unwrap());
    let mut p = random_model(13);
    p.prune(&PruneConfig { sparsity: 0.8, scope: Scope::Global, layers: None }).unwrap();
    p.save(fixture("pruned.oximl")).unwrap();
    write("pruned_expected.csv", &p.predict(x.view()).unwrap());
}

/// The kernels (2-D weights) of a model, in order.
fn kernels(m: &Sequential) -> Vec<Array2<f32>> {
    m.get_weights().into_iter().filter(|w| w.ndim() == 2).map(|w| w.into_dimensionality().unwrap()).collect()
}

fn zero_positions(m: &Sequential) -> Vec<Vec<bool>> {
    kernels(m).iter().map(|k| k.iter().map(|&w| w == 0.0).collect()).collect()
}

#[test]
fn one_shot_pruning_zeroes_the_smallest_kernel_weights_and_never_biases() {
    for scope in [Scope::Layer, Scope::Global] {
        let mut m = random_model(20);
        let before = m.get_weights();
        m.prune(&PruneConfig { sparsity: 0.6, scope, layers: None }).unwrap();
        let after = m.get_weights();
        let (mut pruned_max, mut kept_min) = (0.0f32, f32::MAX);
        for (w, p) in before.iter().zip(&after) {
            if w.ndim() == 1 {
                assert_eq!(w, p, "biases are never pruned");
                continue;
            }
            let zeros = p.iter().filter(|&&v| v == 0.0).count();
            if scope == Scope::Layer {
                assert_eq!(zeros, (0.6 * w.len() as f64).round() as usize);
                (pruned_max, kept_min) = (0.0, f32::MAX);
            }
            for (a, b) in w.iter().zip(p) {
                if *b == 0.0 {
                    pruned_max = pruned_max.max(a.abs());
                } else {
                    assert_eq!(a, b, "kept weights are unchanged");
                    kept_min = kept_min.min(a.abs());
                }
            }
            if scope == Scope::Layer {
                assert!(pruned_max <= kept_min);
            }
        }
        assert!(pruned_max <= kept_min, "{scope:?}: a pruned |w| {pruned_max} above a kept one {kept_min}");
        assert!((m.sparsity().total - 0.6).abs() < 0.002, "{:?}", m.sparsity());
    }
    // Only the layers asked for.
    let mut m = random_model(21);
    m.prune(&PruneConfig { sparsity: 0.5, scope: Scope::Global, layers: Some(vec![2]) }).unwrap();
    let s = m.sparsity();
    assert_eq!((s.layers[0], s.layers[1].1, s.layers[2]), ((0, 0.0), 0.5, (3, 0.0)));
    // Layers added after pruning are plain until pruned themselves; the file keeps each layer's form.
    m.add(Dense::new(3)).unwrap();
    let back = Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap();
    assert_eq!(back.get_weights(), m.get_weights());
    m.prune(&PruneConfig { sparsity: 0.5, scope: Scope::Layer, layers: Some(vec![4]) }).unwrap();
    assert_eq!(m.sparsity().layers[3], (4, 0.5));
    assert_eq!(Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap().get_weights(), m.get_weights());
}

#[test]
fn pruned_weights_stay_zero_through_100_adam_steps() {
    let mut m = random_model(22);
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).unwrap();
    m.prune(&PruneConfig::global(0.7)).unwrap();
    let zeros = zero_positions(&m);
    let before = kernels(&m);
    let x = uniform((100, 20), -1.0, 1.0, 23);
    let y = x.column(0).mapv(|v| if v > 0.0 { 1.0f32 } else { 0.0 }).insert_axis(Axis(1));
    // 100 rows in batches of 10 for 10 epochs: 100 Adam steps.
    m.fit(x.view(), y.view(), FitOptions { epochs: 10, batch_size: 10, shuffle: true, ..Default::default() }).unwrap();
    assert_eq!(zero_positions(&m), zeros, "a pruned weight came back (or a kept one became exactly 0)");
    assert!(kernels(&m).iter().zip(&before).all(|(a, b)| a != b), "training changed the kept weights");
    // Saved and loaded, the mask comes back: more training keeps the zeros.
    let mut back = Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap();
    back.fit(x.view(), y.view(), FitOptions { epochs: 2, batch_size: 10, ..Default::default() }).unwrap();
    assert_eq!(zero_positions(&back), zeros);
    // Stripped, training revives them.
    back.strip_pruning();
    back.fit(x.view(), y.view(), FitOptions { epochs: 1, batch_size: 10, ..Default::default() }).unwrap();
    assert!(back.sparsity().total < 0.1);
}

#[test]
fn polynomial_decay_prunes_on_its_steps_to_its_final_sparsity() {
    let schedule = oximl_core::compress::PruningSchedule::PolynomialDecay {
        initial_sparsity: 0.2,
        final_sparsity: 0.8,
        begin_step: 0,
        end_step: 50,
        power: 3.0,
        frequency: 10,
    };
    let mut m = random_model(24);
    m.compile(Optimizer::adam(0.01), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).unwrap();
    m.prune_low_magnitude(schedule).unwrap();
    let x = uniform((50, 20), -1.0, 1.0, 25);
    let y = Array2::zeros((50, 1));
    let step = |m: &mut Sequential, epochs| {
        m.fit(x.view(), y.view(), FitOptions { epochs, batch_size: 10, ..Default::default() }).unwrap();
    };
    // Steps 0..=24: the last pruning step is 20, sparsity 0.8 − 0.6·(1 − 0.4)³ = 0.6704 in every layer.
    step(&mut m, 5);
    let want = 0.8 - 0.6 * 0.6f64.powi(3);
    for (l, s) in m.sparsity().layers {
        let n = if l == 0 {
            640.0
        } else if l == 2 {
            512.0
        } else {
            64.0
        };
        assert_eq!(s, (want * n).round() / n, "layer {l}");
    }
    step(&mut m, 6); // steps 25..=54: pruned at 50 to the final sparsity
    for (l, s) in m.sparsity().layers {
        assert!((s - 0.8).abs() < 0.01, "layer {l}: {s}");
    }
    // The schedule and its clock are saved.
    let mut back = Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap();
    step(&mut back, 1);
    assert!((back.sparsity().total - 0.8).abs() < 0.01);
}

#[test]
fn pruned_digits_fine_tuned_keep_their_accuracy_and_save_small() {
    let (m, x_train, y_train, x_test, y_test) = digits();
    let f32_acc = accuracy(&m, &x_test, &y_test);
    let mut p = m.clone();
    p.prune(&PruneConfig::global(0.8)).unwrap();
    let one_shot = accuracy(&p, &x_test, &y_test);
    p.fit(x_train.view(), y_train.view(), FitOptions { epochs: 5, batch_size: 32, seed: 1, ..Default::default() })
        .unwrap();
    let tuned = accuracy(&p, &x_test, &y_test);
    eprintln!("digits: f32 {f32_acc:.4}, 80% pruned {one_shot:.4}, fine-tuned {tuned:.4}");
    assert!((p.sparsity().total - 0.8).abs() < 0.001);
    assert!(f32_acc - tuned <= 0.01, "f32 {f32_acc} vs pruned and fine-tuned {tuned}");
    // File sizes without the optimizer state: at 90% the file is ≥ 3× smaller.
    let sgd = || Optimizer::sgd(0.1);
    let loss = Loss::SparseCategoricalCrossentropy { from_logits: false };
    let mut dense = m.clone();
    dense.compile(sgd(), loss, &[]).unwrap();
    p.prune(&PruneConfig::global(0.9)).unwrap();
    p.compile(sgd(), loss, &[]).unwrap();
    let (d, s) = (dense.to_bytes().unwrap().len(), p.to_bytes().unwrap().len());
    eprintln!("file sizes: dense {d}, 90% pruned {s} ({:.2}×)", d as f64 / s as f64);
    assert!(d as f64 >= 3.0 * s as f64);
    let back = Sequential::from_bytes(&p.to_bytes().unwrap()).unwrap();
    assert_eq!(back.get_weights(), p.get_weights());
}

#[test]
fn pruning_bad_inputs_is_a_clear_error() {
    let mut m = random_model(26);
    for s in [1.0, -0.1, f64::NAN, 1.5] {
        let e = m.prune(&PruneConfig::global(s)).unwrap_err();
        assert!(e.code() == 1 && e.to_string().contains("sparsity"), "{e}");
    }
    for layers in [vec![1], vec![9]] {
        let e = m.prune(&PruneConfig { sparsity: 0.5, scope: Scope::Layer, layers: Some(layers) }).unwrap_err();
        assert!(e.to_string().contains("not a Dense layer"), "{e}");
    }
    assert_eq!(Sequential::new(3).prune(&PruneConfig::global(0.5)).unwrap_err().code(), 6);
    use oximl_core::compress::PruningSchedule;
    for bad in [
        PruningSchedule::ConstantSparsity { target_sparsity: 0.5, begin_step: 0, end_step: -1, frequency: 0 },
        PruningSchedule::ConstantSparsity { target_sparsity: 1.0, begin_step: 0, end_step: -1, frequency: 1 },
        PruningSchedule::PolynomialDecay {
            initial_sparsity: 0.1,
            final_sparsity: 0.5,
            begin_step: 10,
            end_step: 10,
            power: 3.0,
            frequency: 1,
        },
    ] {
        assert_eq!(m.prune_low_magnitude(bad).unwrap_err().code(), 1);
    }
    assert!(serde_json::from_str::<PruningSchedule>(r#"{"name": "constant_sparsity", "target": 0.5}"#).is_err());
    assert!(serde_json::from_str::<PruneConfig>(r#"{"sparsity": 0.5, "scope": "channel"}"#).is_err());
    // A sparse kernel whose mask does not match its values.
    m.prune(&PruneConfig::global(0.5)).unwrap();
    let file = oximl_core::io::from_bytes(&m.to_bytes().unwrap(), "sequential").unwrap();
    let (mut floats, mut bytes) = (Vec::new(), Vec::new());
    for name in file.names() {
        let (dtype, shape) = file.info(name).unwrap();
        match dtype {
            oximl_core::io::DType::U8 => bytes.push((name, file.tensor::<u8>(name, &[None]).unwrap())),
            _ => {
                let mut t = file.tensor::<f32>(name, &vec![None; shape.len()]).unwrap();
                if name == "layers.0.kernel_values" {
                    t = t.slice(ndarray::s![1..]).to_owned().into_dyn(); // one value short
                }
                floats.push((name, t));
            }
        }
    }
    let refs: Vec<(&str, oximl_core::io::TensorRef<'_>)> = floats
        .iter()
        .map(|(n, t)| (*n, oximl_core::io::TensorRef::new(t.view())))
        .chain(bytes.iter().map(|(n, t)| (*n, oximl_core::io::TensorRef::new(t.view()))))
        .collect();
    let bad = oximl_core::io::to_bytes("sequential", file.config(), &refs).unwrap();
    let e = Sequential::from_bytes(&bad).unwrap_err();
    assert!(e.code() == 5 && e.to_string().contains("sparse kernel"), "{e}");
}
