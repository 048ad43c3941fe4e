//! Dense networks: finite-difference gradient checks for every activation × loss × regularizer, determinism,
//! save/load round trips, resuming training, and every bad input with the error it must give.

use ndarray::{Array2, ArrayD, array, s};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl_core::Error;
use oximl_core::Persist;
use oximl_core::kernel::Activation;
use oximl_core::nn::{Dense, EarlyStopping, FitOptions, Layer, Loss, Metric, Sequential};
use oximl_core::optim::{Optimizer, Regularizer};

const HIDDEN: [Activation; 7] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { alpha: 0.2 },
    Activation::Elu { alpha: 1.0 },
    Activation::Gelu,
    Activation::Sigmoid,
    Activation::Tanh,
];

fn uniform(shape: (usize, usize), lo: f32, hi: f32, seed: u64) -> Array2<f32> {
    Array2::random_using(shape, Uniform::new(lo, hi).unwrap(), &mut StdRng::seed_from_u64(seed))
}

/// (loss, output activation, outputs, targets for 6 samples)
fn cases() -> Vec<(Loss, Activation, usize, Array2<f32>)> {
    let labels = array![[0.0f32], [2.0], [1.0], [2.0], [0.0], [1.0]];
    let one_hot = Array2::from_shape_fn((6, 3), |(i, j)| f32::from(labels[[i, 0]] as usize == j));
    let binary = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
    let real = uniform((6, 2), -1.0, 1.0, 9);
    vec![
        (Loss::MeanSquaredError, Activation::Linear, 2, real.clone()),
        (Loss::HalfSquaredError, Activation::Tanh, 2, real.mapv(|v| v * 0.5)),
        (Loss::MeanAbsoluteError, Activation::Linear, 2, real.clone()),
        (Loss::Huber { delta: 0.3 }, Activation::Linear, 2, real),
        (Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid, 2, binary.clone()),
        (Loss::BinaryCrossentropy { from_logits: true }, Activation::Linear, 2, binary),
        (Loss::CategoricalCrossentropy { from_logits: false }, Activation::Softmax, 3, one_hot.clone()),
        (Loss::CategoricalCrossentropy { from_logits: true }, Activation::Linear, 3, one_hot),
        (Loss::SparseCategoricalCrossentropy { from_logits: false }, Activation::Softmax, 3, labels.clone()),
        (Loss::SparseCategoricalCrossentropy { from_logits: true }, Activation::Linear, 3, labels),
    ]
}

fn loss_at(model: &Sequential, x: &Array2<f32>, y: &Array2<f32>) -> f64 {
    model.evaluate(x.view(), y.view()).unwrap().get("loss").unwrap()
}

#[test]
fn gradients_match_central_differences() {
    let x = uniform((6, 3), -1.0, 1.0, 1);
    let h = 1e-3f32;
    let (mut checked, mut kinks) = (0, 0);
    for (case, (loss, out_act, outputs, y)) in cases().into_iter().enumerate() {
        for (a, &hidden) in HIDDEN.iter().enumerate() {
            for reg in [None, Some(Regularizer::l1_l2(0.01, 0.02))] {
                let mut model = Sequential::with_seed(3, (case * 31 + a) as u64);
                let mut first = Dense::new(4).activation(hidden);
                let mut last = Dense::new(outputs).activation(out_act);
                if let Some(r) = reg {
                    first = first.kernel_regularizer(r).bias_regularizer(r);
                    last = last.kernel_regularizer(r);
                }
                model.add(first).unwrap().add(Layer::Dropout { rate: 0.5 }).unwrap().add(last).unwrap();
                // Non-zero biases, so that the bias paths are exercised away from 0.
                let mut w = model.get_weights();
                w[1] = ArrayD::from_shape_fn(w[1].shape(), |i| 0.1 * i[0] as f32 - 0.15);
                model.set_weights(w.clone()).unwrap();
                model.compile(Optimizer::sgd(0.1), loss, &[]).unwrap();
                let (value, grads) = model.loss_and_gradients(x.view(), y.view()).unwrap();
                let l0 = loss_at(&model, &x, &y);
                assert!((value - l0).abs() < 1e-5, "{loss:?}: loss_and_gradients vs evaluate");
                for t in 0..w.len() {
                    for i in 0..w[t].len() {
                        let mut plus = w.clone();
                        plus[t].as_slice_mut().unwrap()[i] += h;
                        let mut minus = w.clone();
                        minus[t].as_slice_mut().unwrap()[i] -= h;
                        model.set_weights(plus).unwrap();
                        let lp = loss_at(&model, &x, &y);
                        model.set_weights(minus).unwrap();
                        let lm = loss_at(&model, &x, &y);
                        let fd = (lp - lm) / (2.0 * h as f64);
                        let g = grads[t].as_slice().unwrap()[i] as f64;
                        // f32 forward passes: 5e-3 absolute + 2% relative.
                        let tolerance = 5e-3 + 2e-2 * g.abs();
                        // A step across a kink (relu at 0, |e| in MAE, L1 at 0) makes the one-sided slopes disagree
                        // by more than the tolerance: the central difference means nothing there.
                        let (fwd, bwd) = ((lp - l0) / h as f64, (l0 - lm) / h as f64);
                        if (fwd - bwd).abs() > tolerance {
                            kinks += 1;
                            continue;
                        }
                        assert!(
                            (fd - g).abs() <= tolerance,
                            "{loss:?} hidden {hidden:?} reg {reg:?}: tensor {t} [{i}]: analytic {g}, numeric {fd}"
                        );
                        checked += 1;
                    }
                }
                model.set_weights(w).unwrap();
            }
        }
    }
    assert!(checked > 3500 && kinks < checked / 50, "{checked} partial derivatives checked, {kinks} skipped at kinks");
}

fn xor_model(seed: u64) -> Sequential {
    let mut m = Sequential::with_seed(2, seed);
    m.add(Dense::new(8).activation(Activation::Tanh)).unwrap();
    m.add(Dense::new(1).activation(Activation::Sigmoid)).unwrap();
    m.compile(Optimizer::adam(0.05), Loss::BinaryCrossentropy { from_logits: false }, &[Metric::Accuracy]).unwrap();
    m
}

fn xor() -> (Array2<f32>, Array2<f32>) {
    (array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], array![[0.0f32], [1.0], [1.0], [0.0]])
}

#[test]
fn same_seed_same_model_bit_for_bit() {
    let x = uniform((200, 5), -1.0, 1.0, 3);
    let y = x.column(0).mapv(|v| f32::from(v > 0.0)).insert_axis(ndarray::Axis(1));
    let train = |seed| {
        let mut m = Sequential::with_seed(5, seed);
        m.add(Dense::new(16).activation(Activation::Relu)).unwrap();
        m.add(Layer::Dropout { rate: 0.3 }).unwrap();
        m.add(Dense::new(1).activation(Activation::Sigmoid)).unwrap();
        m.compile(
            Optimizer::sgd(0.1).momentum(0.9).nesterov(true),
            Loss::from_name("binary_crossentropy").unwrap(),
            &[],
        )
        .unwrap();
        m.fit(x.view(), y.view(), FitOptions { epochs: 3, batch_size: 16, seed, ..Default::default() }).unwrap();
        m.get_weights()
    };
    assert_eq!(train(1), train(1));
    assert_ne!(train(1), train(2));
}

#[test]
fn save_load_round_trip_is_bit_identical_and_resumes_training() {
    let (x, y) = xor();
    let mut m = xor_model(3);
    let opts = || FitOptions { epochs: 10, batch_size: 2, shuffle: false, ..Default::default() };
    m.fit(x.view(), y.view(), opts()).unwrap();
    let path = std::env::temp_dir().join(format!("oximl-nn-test-{}.oximl", std::process::id()));
    m.save(&path).unwrap();
    let mut loaded = Sequential::load(&path).unwrap();
    assert_eq!(loaded.predict(x.view()).unwrap(), m.predict(x.view()).unwrap());
    assert_eq!(loaded.compiled(), m.compiled());
    assert_eq!(loaded.summary(), m.summary());
    // Training resumes exactly where it stopped: the optimizer state travels with the file.
    m.fit(x.view(), y.view(), opts()).unwrap();
    loaded.fit(x.view(), y.view(), opts()).unwrap();
    assert_eq!(loaded.get_weights(), m.get_weights());
    // Bytes (what Python pickles) round-trip too.
    let again = Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap();
    assert_eq!(again.get_weights(), m.get_weights());

    // Truncated and corrupted files are refused with a format error.
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 7, bytes.len() / 2, bytes.len() - 1] {
        let e = Sequential::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(matches!(e, Error::Format(_)), "cut at {cut}: {e}");
    }
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    assert!(matches!(Sequential::from_bytes(&flipped).unwrap_err(), Error::Format(_)));
    // Another kind of model is refused.
    let other = oximl_core::io::to_bytes("embeddings", &serde_json::json!({}), &[]).unwrap();
    let e = Sequential::from_bytes(&other).unwrap_err();
    assert!(e.to_string().contains("embeddings"), "{e}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn xor_is_learned_and_history_is_complete() {
    let (x, y) = xor();
    let mut m = xor_model(7);
    let h = m
        .fit(
            x.view(),
            y.view(),
            FitOptions {
                epochs: 300,
                batch_size: 4,
                validation_data: Some((x.view(), y.view())),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(h.epochs.len(), 300);
    assert_eq!(h.last("accuracy"), Some(1.0));
    assert_eq!(h.last("val_accuracy"), Some(1.0));
    let losses = h.values("loss");
    assert!(losses[299] < losses[0] / 10.0, "{} → {}", losses[0], losses[299]);
    assert_eq!(h.as_map().keys().collect::<Vec<_>>(), ["accuracy", "loss", "val_accuracy", "val_loss"]);
}

#[test]
fn early_stopping_stops_and_restores_the_best_weights() {
    let (x, y) = xor();
    let mut m = xor_model(1);
    // A learning rate so large that the validation loss cannot keep improving.
    m.compile(Optimizer::sgd(30.0), Loss::BinaryCrossentropy { from_logits: false }, &[]).unwrap();
    let stopper = EarlyStopping::new("val_loss", 2).restore_best_weights(true);
    let h = m
        .fit(
            x.view(),
            y.view(),
            FitOptions {
                epochs: 200,
                batch_size: 4,
                validation_data: Some((x.view(), y.view())),
                callbacks: vec![Box::new(stopper)],
                ..Default::default()
            },
        )
        .unwrap();
    let stopped = h.stopped_at.expect("stopped early");
    assert!(stopped < 199);
    let vals = h.values("val_loss");
    let best = vals.iter().cloned().fold(f64::INFINITY, f64::min);
    let now = m.evaluate(x.view(), y.view()).unwrap().get("loss").unwrap();
    assert!((now - best).abs() < 1e-9, "restored loss {now} vs best {best}");
}

#[test]
fn validation_split_holds_out_the_last_samples() {
    let x = uniform((10, 2), -1.0, 1.0, 4);
    let y = uniform((10, 1), -1.0, 1.0, 5);
    let mut m = Sequential::new(2);
    m.add(Dense::new(1)).unwrap();
    m.compile(Optimizer::sgd(0.01), Loss::MeanSquaredError, &[]).unwrap();
    let before = m.evaluate(x.slice(s![7.., ..]), y.slice(s![7.., ..])).unwrap().get("loss").unwrap();
    let h = m.fit(x.view(), y.view(), FitOptions { epochs: 1, validation_split: 0.3, ..Default::default() }).unwrap();
    let after = m.evaluate(x.slice(s![7.., ..]), y.slice(s![7.., ..])).unwrap().get("loss").unwrap();
    assert_eq!(h.last("val_loss"), Some(after));
    assert_ne!(before, after);
}

#[test]
fn bad_inputs_give_clear_errors_and_change_nothing() {
    let (x, y) = xor();
    let mut m = xor_model(2);
    let w = m.get_weights();
    let fit = |m: &mut Sequential, x: &Array2<f32>, y: &Array2<f32>, o: FitOptions| m.fit(x.view(), y.view(), o);
    let shape = |e: Error| assert!(matches!(e, Error::Shape { .. }), "{e}");
    shape(fit(&mut m, &Array2::zeros((4, 3)), &y, FitOptions::default()).unwrap_err());
    shape(fit(&mut m, &x, &Array2::zeros((3, 1)), FitOptions::default()).unwrap_err());
    shape(fit(&mut m, &x, &Array2::zeros((4, 2)), FitOptions::default()).unwrap_err());
    shape(m.predict(Array2::zeros((1, 5)).view()).unwrap_err());
    let invalid = |e: Error| assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    invalid(fit(&mut m, &x, &y, FitOptions { batch_size: 0, ..Default::default() }).unwrap_err());
    invalid(fit(&mut m, &x, &y, FitOptions { validation_split: 1.0, ..Default::default() }).unwrap_err());
    invalid(fit(&mut m, &Array2::zeros((0, 2)), &Array2::zeros((0, 1)), FitOptions::default()).unwrap_err());
    invalid(fit(&mut m, &x, &array![[0.0f32], [1.0], [2.0], [0.0]], FitOptions::default()).unwrap_err()); // not binary
    let mut nan = x.clone();
    nan[[2, 1]] = f32::NAN;
    let e = fit(&mut m, &nan, &y, FitOptions::default()).unwrap_err();
    assert!(matches!(&e, Error::NonFinite(msg) if msg.contains("row 2")), "{e}");
    assert!(matches!(m.predict(nan.view()).unwrap_err(), Error::NonFinite(_)));
    assert_eq!(m.get_weights(), w, "refused calls leave the model untouched");

    // Sparse labels out of range.
    let mut c = Sequential::new(2);
    c.add(Dense::new(3).activation(Activation::Softmax)).unwrap();
    c.compile(Optimizer::adam(1e-3), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).unwrap();
    let e = c.fit(x.view(), array![[0.0f32], [1.0], [3.0], [2.0]].view(), FitOptions::default()).unwrap_err();
    assert!(e.to_string().contains("label 3"), "{e}");
    invalid(c.fit(x.view(), array![[0.0f32], [1.5], [1.0], [2.0]].view(), FitOptions::default()).unwrap_err());

    // Uncompiled models, unknown names, invalid hyper-parameters.
    let mut raw = Sequential::new(2);
    raw.add(Dense::new(1)).unwrap();
    invalid(raw.fit(x.view(), y.view(), FitOptions::default()).unwrap_err());
    invalid(raw.evaluate(x.view(), y.view()).unwrap_err());
    invalid(Loss::from_name("hinge").unwrap_err());
    invalid(Metric::from_name("auc").unwrap_err());
    invalid(Optimizer::from_name("nadam").unwrap_err());
    invalid(raw.compile(Optimizer::adam(0.0), Loss::MeanSquaredError, &[]).unwrap_err());
    invalid(raw.compile(Optimizer::adam(1e-3).clipnorm(-1.0), Loss::MeanSquaredError, &[]).unwrap_err());
    invalid(Sequential::new(2).add(Dense::new(0)).unwrap_err());
    invalid(Sequential::new(0).add(Dense::new(1)).unwrap_err());
}

#[test]
fn a_diverging_loss_stops_with_non_finite_and_finite_weights() {
    let x = uniform((64, 4), -1.0, 1.0, 6).mapv(|v| v * 1e3);
    let y = uniform((64, 1), -1.0, 1.0, 7).mapv(|v| v * 1e3);
    let mut m = Sequential::new(4);
    m.add(Dense::new(32).activation(Activation::Relu)).unwrap();
    m.add(Dense::new(1)).unwrap();
    m.compile(Optimizer::sgd(10.0), Loss::MeanSquaredError, &[]).unwrap();
    let e = m.fit(x.view(), y.view(), FitOptions { epochs: 50, batch_size: 8, ..Default::default() }).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::NonFinite(_)) && msg.contains("epoch") && msg.contains("batch"), "{msg}");
    assert!(m.get_weights().iter().all(|w| w.iter().all(|v| v.is_finite())));
}

#[test]
fn clipping_bounds_the_step() {
    let x = array![[1.0f32]];
    let y = array![[100.0f32]];
    let mut m = Sequential::new(1);
    m.add(Dense::new(1).kernel_initializer(oximl_core::nn::Initializer::Zeros)).unwrap();
    m.compile(Optimizer::sgd(1.0).clipnorm(0.5), Loss::HalfSquaredError, &[]).unwrap();
    m.fit(x.view(), y.view(), FitOptions { epochs: 1, batch_size: 1, ..Default::default() }).unwrap();
    let w = m.get_weights();
    let step = (w[0][[0, 0]].powi(2) + w[1][[0]].powi(2)).sqrt();
    assert!((step - 0.5).abs() < 1e-6, "the update has the clipped norm: {step}");
}

/// Real data: iris, digits (the issue's 64-128-64-10 relu network, Adam, 20 epochs) and a regression set.
mod real_data {
    use super::*;
    use ndarray::{Array1, Axis};
    use oximl_core::data::{StandardScaler, datasets, train_test_split};

    fn classifier(inputs: usize, hidden: &[usize], classes: usize, lr: f32) -> Sequential {
        let mut m = Sequential::with_seed(inputs, 42);
        for &h in hidden {
            m.add(Dense::new(h).activation(Activation::Relu)).unwrap();
        }
        m.add(Dense::new(classes).activation(Activation::Softmax)).unwrap();
        m.compile(Optimizer::adam(lr), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[Metric::Accuracy])
            .unwrap();
        m
    }

    /// Test accuracy on a stratified 80/20 split drawn with `split_seed`.
    fn accuracy_on(
        d: &datasets::Dataset,
        split_seed: u64,
        hidden: &[usize],
        lr: f32,
        epochs: usize,
        batch: usize,
    ) -> f64 {
        let (xtr, xte, ytr, yte) = train_test_split(&d.x, &d.y, 0.2, split_seed, true).unwrap();
        let mut scaler = StandardScaler::new();
        let (xtr, xte) = (scaler.fit_transform(&xtr).unwrap(), scaler.transform(&xte).unwrap());
        let mut m = classifier(d.x.ncols(), hidden, d.n_classes(), lr);
        let (ytr, yte) = (ytr.insert_axis(Axis(1)), yte.insert_axis(Axis(1)));
        m.fit(xtr.view(), ytr.view(), FitOptions { epochs, batch_size: batch, seed: 42, ..Default::default() })
            .unwrap();
        m.evaluate(xte.view(), yte.view()).unwrap().get("accuracy").unwrap()
    }

    #[test]
    fn iris_reaches_95_percent_test_accuracy() {
        // 30 test flowers per split, so one split moves in steps of 3.3%: the mean over 5 splits is the measure.
        let iris = datasets::iris().unwrap();
        let accs: Vec<f64> = (0..5).map(|split| accuracy_on(&iris, split, &[16], 0.01, 100, 16)).collect();
        let mean = accs.iter().sum::<f64>() / accs.len() as f64;
        assert!(mean >= 0.95, "iris test accuracy {accs:?}, mean {mean}");
    }

    #[test]
    fn digits_reaches_96_percent_test_accuracy() {
        let acc = accuracy_on(&datasets::digits().unwrap(), 42, &[128, 64], 1e-3, 20, 32);
        assert!(acc >= 0.96, "digits test accuracy {acc}");
    }

    /// Ordinary least squares with an intercept, by the normal equations (Gauss-Jordan in f64).
    fn least_squares_mse(xtr: &Array2<f32>, ytr: &Array1<f32>, xte: &Array2<f32>, yte: &Array1<f32>) -> f64 {
        let d = xtr.ncols() + 1;
        let row = |x: &Array2<f32>, i: usize| -> Vec<f64> {
            std::iter::once(1.0).chain(x.row(i).iter().map(|&v| v as f64)).collect()
        };
        let mut a = vec![vec![0.0f64; d + 1]; d];
        for i in 0..xtr.nrows() {
            let r = row(xtr, i);
            for p in 0..d {
                for q in 0..d {
                    a[p][q] += r[p] * r[q];
                }
                a[p][d] += r[p] * ytr[i] as f64;
            }
        }
        for c in 0..d {
            let pivot = (c..d).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
            a.swap(c, pivot);
            let pivot_row = a[c].clone();
            for (r, row) in a.iter_mut().enumerate() {
                if r != c {
                    let f = row[c] / pivot_row[c];
                    for (v, p) in row.iter_mut().zip(&pivot_row).skip(c) {
                        *v -= f * p;
                    }
                }
            }
        }
        let beta: Vec<f64> = (0..d).map(|i| a[i][d] / a[i][i]).collect();
        (0..xte.nrows())
            .map(|i| {
                let pred: f64 = row(xte, i).iter().zip(&beta).map(|(x, b)| x * b).sum();
                (pred - yte[i] as f64).powi(2)
            })
            .sum::<f64>()
            / xte.nrows() as f64
    }

    #[test]
    fn diabetes_regression_beats_least_squares() {
        // Mean test MSE over 5 random 80/20 splits; the network stops early on a validation part of the
        // training set (never on the test set).
        let d = datasets::diabetes().unwrap();
        let (mut ours, mut ols) = (Vec::new(), Vec::new());
        for split in 0..5 {
            let (xtr, xte, ytr, yte) = train_test_split(&d.x, &d.y, 0.2, split, false).unwrap();
            let mut scaler = StandardScaler::new();
            let (xtr, xte) = (scaler.fit_transform(&xtr).unwrap(), scaler.transform(&xte).unwrap());
            ols.push(least_squares_mse(&xtr, &ytr, &xte, &yte));
            let mut m = Sequential::with_seed(10, 3);
            m.add(Dense::new(32).activation(Activation::Relu).kernel_regularizer(Regularizer::l2(3.0))).unwrap();
            m.add(Dense::new(1)).unwrap();
            m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, &[Metric::Mse]).unwrap();
            let (ytr2, yte2) = (ytr.insert_axis(Axis(1)), yte.insert_axis(Axis(1)));
            let stop = EarlyStopping::new("val_mse", 20).restore_best_weights(true);
            let options = FitOptions {
                epochs: 300,
                seed: 1,
                validation_split: 0.15,
                callbacks: vec![Box::new(stop)],
                ..Default::default()
            };
            m.fit(xtr.view(), ytr2.view(), options).unwrap();
            ours.push(m.evaluate(xte.view(), yte2.view()).unwrap().get("mse").unwrap());
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&ours) < mean(&ols),
            "network test MSE {ours:?} (mean {}) vs least squares {ols:?} (mean {})",
            mean(&ours),
            mean(&ols)
        );
    }
}

#[test]
fn activation_parameters_default_to_keras_values_and_unknown_names_are_refused() {
    let layer: Layer =
        serde_json::from_str(r#"{"type": "dense", "units": 2, "activation": {"name": "leaky_relu"}}"#).unwrap();
    assert!(matches!(layer, Layer::Dense(Dense { activation: Activation::LeakyRelu { alpha: 0.2 }, .. })));
    let elu: Activation = serde_json::from_str(r#"{"name": "elu"}"#).unwrap();
    assert_eq!(elu, Activation::from_name("elu").unwrap());
    let none: Activation = serde_json::from_str(r#"{"name": "none"}"#).unwrap();
    assert_eq!(none, Activation::Linear);
    let e = serde_json::from_str::<Layer>(r#"{"type": "dense", "units": 2, "activation": {"name": "swish"}}"#);
    assert!(e.unwrap_err().to_string().contains("swish"));
}
