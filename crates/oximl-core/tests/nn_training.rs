//! Keras' training features in the core: sample and class weights (a finite-difference check of the weighted
//! gradient, Keras' `sum_over_batch_size` reduction), `initial_epoch`, and the callbacks' semantics
//! (`TerminateOnNaN`, `ModelCheckpoint`, `CSVLogger`, `ReduceLROnPlateau`, `LearningRateScheduler`).

use ndarray::{Array1, Array2, ArrayD, array};
use ndarray_rand::RandomExt;
use ndarray_rand::rand::SeedableRng;
use ndarray_rand::rand::rngs::StdRng;
use ndarray_rand::rand_distr::Uniform;
use oximl_core::kernel::Activation;
use oximl_core::nn::{
    CsvLogger, Dense, FitConfig, FitOptions, LearningRateScheduler, Loss, Metric, ModelCheckpoint, ReduceLrOnPlateau,
    Sequential,
};
use oximl_core::optim::Optimizer;
use oximl_core::{Error, Persist};
use std::collections::BTreeMap;

fn uniform(shape: (usize, usize), lo: f32, hi: f32, seed: u64) -> Array2<f32> {
    Array2::random_using(shape, Uniform::new(lo, hi).unwrap(), &mut StdRng::seed_from_u64(seed))
}

fn model(loss: Loss, out: Activation, outputs: usize, seed: u64) -> Sequential {
    let mut m = Sequential::with_seed(3, seed);
    m.add(Dense::new(5).activation(Activation::Tanh)).unwrap();
    m.add(Dense::new(outputs).activation(out)).unwrap();
    m.compile(Optimizer::sgd(0.1), loss, &[]).unwrap();
    m
}

fn loss_at(m: &Sequential, x: &Array2<f32>, y: &Array2<f32>, w: &Array1<f32>) -> f64 {
    m.evaluate_weighted(x.view(), y.view(), Some(w.view())).unwrap().get("loss").unwrap()
}

#[test]
fn weighted_gradients_match_central_differences() {
    let x = uniform((8, 3), -1.0, 1.0, 1);
    let labels = array![[0.0f32], [2.0], [1.0], [2.0], [0.0], [1.0], [1.0], [0.0]];
    let one_hot = Array2::from_shape_fn((8, 3), |(i, j)| f32::from(labels[[i, 0]] as usize == j));
    let binary = uniform((8, 2), 0.0, 1.0, 2).mapv(f32::round);
    let real = uniform((8, 2), -1.0, 1.0, 3);
    let cases = [
        (Loss::MeanSquaredError, Activation::Linear, 2, real.clone()),
        (Loss::MeanAbsoluteError, Activation::Linear, 2, real.clone()),
        (Loss::Huber { delta: 0.3 }, Activation::Linear, 2, real),
        (Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid, 2, binary.clone()),
        (Loss::BinaryCrossentropy { from_logits: true }, Activation::Linear, 2, binary),
        (Loss::CategoricalCrossentropy { from_logits: false }, Activation::Softmax, 3, one_hot.clone()),
        (Loss::CategoricalCrossentropy { from_logits: true }, Activation::Linear, 3, one_hot),
        (Loss::SparseCategoricalCrossentropy { from_logits: false }, Activation::Softmax, 3, labels),
    ];
    let w = array![0.5f32, 2.0, 0.0, 1.0, 3.0, 1.5, 0.25, 1.0];
    let h = 1e-3f32;
    let mut checked = 0;
    for (case, (loss, act, outputs, y)) in cases.into_iter().enumerate() {
        let mut m = model(loss, act, outputs, case as u64);
        let (value, grads) = m.weighted_loss_and_gradients(x.view(), y.view(), Some(w.view())).unwrap();
        assert!((value - loss_at(&m, &x, &y, &w)).abs() < 1e-6, "{loss:?}");
        let weights: Vec<ArrayD<f32>> = m.get_weights();
        for t in 0..weights.len() {
            for i in 0..weights[t].len() {
                let at = |delta: f32, m: &mut Sequential| {
                    let mut moved = weights.clone();
                    moved[t].as_slice_mut().unwrap()[i] += delta;
                    m.set_weights(moved).unwrap();
                    loss_at(m, &x, &y, &w)
                };
                let (lp, lm, l0) = (at(h, &mut m), at(-h, &mut m), at(0.0, &mut m));
                let g = grads[t].as_slice().unwrap()[i] as f64;
                let tolerance = 5e-3 + 2e-2 * g.abs();
                if ((lp - l0) / h as f64 - (l0 - lm) / h as f64).abs() > tolerance {
                    continue; // a kink of |e| or Huber
                }
                let fd = (lp - lm) / (2.0 * h as f64);
                assert!((fd - g).abs() <= tolerance, "{loss:?} tensor {t}[{i}]: analytic {g}, numeric {fd}");
                checked += 1;
            }
        }
    }
    assert!(checked > 250, "{checked} partial derivatives checked");
}

#[test]
fn weights_multiply_each_sample_loss_and_divide_by_the_batch_size() {
    let x = uniform((6, 3), -1.0, 1.0, 4);
    let y = uniform((6, 2), -1.0, 1.0, 5);
    let m = model(Loss::MeanSquaredError, Activation::Linear, 2, 0);
    let plain = m.evaluate(x.view(), y.view()).unwrap().get("loss").unwrap();
    assert!((loss_at(&m, &x, &y, &Array1::from_elem(6, 2.0)) - 2.0 * plain).abs() < 1e-6);
    // One sample weighted 6 of 6, the rest 0: that sample's own loss ...
    let mut only = Array1::zeros(6);
    only[2] = 6.0;
    let single =
        m.evaluate(x.slice(ndarray::s![2..3, ..]), y.slice(ndarray::s![2..3, ..])).unwrap().get("loss").unwrap();
    assert!((loss_at(&m, &x, &y, &only) - single).abs() < 1e-6);
    // ... and weighted 1: a sixth of it (sum_over_batch_size, not a mean over the weights).
    only[2] = 1.0;
    assert!((loss_at(&m, &x, &y, &only) - single / 6.0).abs() < 1e-6);
    // Bad weights.
    let short = Array1::ones(5);
    assert!(matches!(m.evaluate_weighted(x.view(), y.view(), Some(short.view())), Err(Error::Shape { .. })));
    let nan = Array1::from_elem(6, f32::NAN);
    assert!(matches!(m.evaluate_weighted(x.view(), y.view(), Some(nan.view())), Err(Error::NonFinite(_))));
}

fn classes() -> (Array2<f32>, Array2<f32>) {
    let x = uniform((40, 3), -1.0, 1.0, 6);
    let y = Array2::from_shape_fn((40, 1), |(i, _)| f32::from(x[[i, 0]] + x[[i, 1]] > 0.3));
    (x, y)
}

fn classifier() -> Sequential {
    let mut m = model(Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid, 1, 9);
    let c = oximl_core::nn::Compiled {
        optimizer: Optimizer::adam(0.01),
        loss: Loss::BinaryCrossentropy { from_logits: false },
        metrics: vec![Metric::Accuracy],
        weighted_metrics: vec![Metric::Accuracy],
    };
    m.compile_with(c).unwrap();
    m
}

#[test]
fn class_weight_is_the_sample_weight_of_each_class() {
    let (x, y) = classes();
    let class_weight = BTreeMap::from([(1, 4.0f32)]);
    let options = || FitOptions { epochs: 3, batch_size: 8, ..Default::default() };
    let mut a = classifier();
    let ha = a.fit(x.view(), y.view(), FitOptions { class_weight: Some(class_weight.clone()), ..options() }).unwrap();
    let w = y.column(0).mapv(|c| if c == 1.0 { 4.0 } else { 1.0 });
    let mut b = classifier();
    let hb = b.fit(x.view(), y.view(), FitOptions { sample_weight: Some(w.view()), ..options() }).unwrap();
    assert_eq!(a.get_weights(), b.get_weights());
    assert_eq!(ha.epochs, hb.epochs);
    // The weighted metric is logged beside the plain one under Keras' name.
    assert!(ha.last("weighted_accuracy").is_some() && ha.last("accuracy").is_some());
    let both = FitOptions { class_weight: Some(class_weight), sample_weight: Some(w.view()), ..options() };
    assert!(matches!(classifier().fit(x.view(), y.view(), both), Err(Error::InvalidArgument { .. })));
}

#[test]
fn initial_epoch_resumes_the_count() {
    let (x, y) = classes();
    let mut m = classifier();
    let mut seen = Vec::new();
    let schedule = LearningRateScheduler::new(|epoch, lr| {
        seen.push(epoch);
        lr
    });
    let options = FitOptions { epochs: 5, initial_epoch: 3, callbacks: vec![Box::new(schedule)], ..Default::default() };
    let h = m.fit(x.view(), y.view(), options).unwrap();
    assert_eq!(h.epochs.len(), 2);
    assert_eq!(seen, vec![3, 4]);
    assert_eq!(h.values("learning_rate"), vec![0.01f32 as f64; 2]);
}

#[test]
fn terminate_on_nan_stops_instead_of_failing() {
    let x = uniform((32, 3), -1.0, 1.0, 7) * 1e3;
    let y = uniform((32, 1), -1.0, 1.0, 8) * 1e3;
    let diverging = || {
        let mut m = model(Loss::MeanSquaredError, Activation::Linear, 1, 1);
        m.compile(Optimizer::sgd(1e3), Loss::MeanSquaredError, &[]).unwrap();
        m
    };
    let config = |nan: bool| FitConfig { epochs: 50, batch_size: 4, terminate_on_nan: nan, ..Default::default() };
    assert!(matches!(diverging().fit(x.view(), y.view(), config(false).into()), Err(Error::NonFinite(_))));
    let mut m = diverging();
    let h = m.fit(x.view(), y.view(), config(true).into()).unwrap();
    let stopped = h.stopped_at.unwrap();
    assert!(stopped < 49 && h.epochs.len() == stopped + 1);
    assert!(m.get_weights().iter().all(|w| w.iter().all(|v| v.is_finite())));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oximl-nn-training-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn model_checkpoint_saves_the_improving_epochs() {
    let (x, y) = classes();
    let dir = temp_dir("checkpoint");
    let template = dir.join("m-{epoch:02d}-{val_loss:.3f}.oximl").display().to_string();
    let mut m = classifier();
    let config = FitConfig {
        epochs: 12,
        batch_size: 8,
        validation_split: 0.25,
        model_checkpoint: Some(ModelCheckpoint::new(&template).save_best_only("val_accuracy")),
        ..Default::default()
    };
    let h = m.fit(x.view(), y.view(), config.into()).unwrap();
    let mut expected = Vec::new();
    let mut best = f64::NEG_INFINITY;
    for (epoch, logs) in h.epochs.iter().enumerate() {
        let acc = logs.get("val_accuracy").unwrap();
        if acc > best {
            best = acc;
            expected.push(format!("m-{:02}-{:.3}.oximl", epoch + 1, logs.get("val_loss").unwrap()));
        }
    }
    let mut saved: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    saved.sort();
    assert_eq!(saved, expected);
    // The last file is the best epoch's model: it evaluates to that epoch's logged validation values.
    let best_file = Sequential::load(dir.join(saved.last().unwrap())).unwrap();
    let (xv, yv) = (x.slice(ndarray::s![30.., ..]), y.slice(ndarray::s![30.., ..]));
    assert_eq!(best_file.evaluate(xv, yv).unwrap().get("accuracy"), Some(best));
    let bad = FitConfig {
        model_checkpoint: Some(ModelCheckpoint::new(&dir.join("{nope}").display().to_string())),
        ..Default::default()
    };
    assert!(matches!(classifier().fit(x.view(), y.view(), bad.into()), Err(Error::InvalidArgument { .. })));
}

#[test]
fn csv_logger_writes_keras_rows_and_appends() {
    let (x, y) = classes();
    let dir = temp_dir("csv");
    let file = dir.join("log.csv").display().to_string();
    let fit = |append: bool, epochs: usize, initial_epoch: usize| {
        let config = FitConfig {
            epochs,
            initial_epoch,
            csv_logger: Some(CsvLogger::new(&file, ";", append)),
            ..Default::default()
        };
        classifier().fit(x.view(), y.view(), config.into()).unwrap()
    };
    let h = fit(false, 2, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Sorted names, then the val_ columns Keras adds (NA) when there is no validation.
    assert_eq!(lines[0], "epoch;accuracy;loss;weighted_accuracy;val_accuracy;val_loss;val_weighted_accuracy");
    for (epoch, line) in lines[1..].iter().enumerate() {
        let fields: Vec<&str> = line.split(';').collect();
        assert_eq!(fields[0], epoch.to_string());
        assert_eq!(fields[2].parse::<f64>().unwrap(), h.epochs[epoch].get("loss").unwrap());
        assert_eq!(fields[4..], ["NA", "NA", "NA"]);
    }
    fit(true, 3, 2);
    let appended = std::fs::read_to_string(&file).unwrap();
    assert_eq!(appended.lines().count(), 4, "one header, three rows:\n{appended}");
    assert!(appended.lines().nth(3).unwrap().starts_with("2;"));
    fit(false, 1, 0);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);
}

#[test]
fn reduce_lr_on_plateau_follows_keras_rule() {
    // The rule replayed on the logged values: the rate drops by `factor` after `patience` epochs without an
    // improvement of more than min_delta, not below min_lr, with `cooldown` epochs after each drop.
    let (x, y) = classes();
    let mut m = classifier();
    m.compile(Optimizer::sgd(0.5), Loss::BinaryCrossentropy { from_logits: false }, &[]).unwrap();
    let plateau: ReduceLrOnPlateau = serde_json::from_str(
        r#"{"monitor": "loss", "factor": 0.5, "patience": 2, "min_delta": 0.01, "cooldown": 1, "min_lr": 0.1}"#,
    )
    .unwrap();
    let config = FitConfig { epochs: 40, batch_size: 40, reduce_lr_on_plateau: Some(plateau), ..Default::default() };
    let h = m.fit(x.view(), y.view(), config.into()).unwrap();
    let (losses, rates) = (h.values("loss"), h.values("learning_rate"));
    let (mut best, mut wait, mut cooldown, mut lr) = (None::<f64>, 0, 0, 0.5f32);
    let mut drops = 0;
    for (loss, logged) in losses.iter().zip(&rates) {
        assert_eq!(*logged, f64::from(lr));
        if cooldown > 0 {
            cooldown -= 1;
            wait = 0;
        }
        if best.is_none_or(|b| *loss < b - 0.01) {
            best = Some(*loss);
            wait = 0;
        } else if cooldown == 0 {
            wait += 1;
            if wait >= 2 && f64::from(lr) > 0.1f32 as f64 {
                lr = (f64::from(lr) * 0.5).max(0.1) as f32;
                cooldown = 1;
                wait = 0;
                drops += 1;
            }
        }
    }
    assert!(drops == 3 && lr == 0.1, "{drops} drops, final rate {lr}: {rates:?}");
    let bad: ReduceLrOnPlateau = serde_json::from_str(r#"{"factor": 1.0}"#).unwrap();
    let config = FitConfig { reduce_lr_on_plateau: Some(bad), ..Default::default() };
    assert!(matches!(classifier().fit(x.view(), y.view(), config.into()), Err(Error::InvalidArgument { .. })));
}
