//! Dense networks against hostile inputs (issue 15): impossible sizes are errors, never aborts; misspelt
//! configuration keys are refused everywhere (code, JSON, files); corrupt optimizer state does not load;
//! overflow in predict and in training is reported, with the model left finite.

use ndarray::{Array2, array};
use oximl_core::io::{self, TensorRef};
use oximl_core::kernel::Activation;
use oximl_core::nn::{Compiled, Dense, FitConfig, FitOptions, KIND, Layer, Loss, MAX_MATRIX_VALUES, Sequential};
use oximl_core::optim::Optimizer;
use oximl_core::{Error, Persist};

fn invalid(e: Error) -> String {
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn impossible_layer_sizes_are_errors_not_aborts() {
    let msg = invalid(Sequential::new(4).add(Dense::new(1_000_000_000)).unwrap_err());
    assert!(msg.contains("4 × 1000000000"), "{msg}");
    invalid(Sequential::new(10_000_000_000).add(Dense::new(1)).unwrap_err());
    invalid(Sequential::new(usize::MAX).add(Dense::new(usize::MAX)).unwrap_err());
    let mut m = Sequential::new(4);
    m.add(Dense::new(3)).unwrap();
    assert!(m.add(Dense::new(MAX_MATRIX_VALUES)).is_err());
    assert_eq!(m.layers().len(), 1, "a refused layer is not added");
}

#[test]
fn an_impossible_training_buffer_is_an_error_not_an_abort() {
    // 100000 classes × a batch of 100000 rows: 10¹⁰ values per buffer.
    let mut m = Sequential::new(1);
    m.add(Dense::new(100_000).activation(Activation::Softmax)).unwrap();
    m.compile(Optimizer::sgd(0.1), Loss::SparseCategoricalCrossentropy { from_logits: false }, &[]).unwrap();
    let (x, y) = (Array2::zeros((100_000, 1)), Array2::zeros((100_000, 1)));
    let e = m.fit(x.view(), y.view(), FitOptions { batch_size: 100_000, ..Default::default() }).unwrap_err();
    let msg = invalid(e);
    assert!(msg.contains("100000 × 100000"), "{msg}");
}

#[test]
fn misspelt_keys_are_refused_in_every_config() {
    let layer = r#"{"type": "dense", "units": 3, "activaton": {"name": "relu"}}"#;
    let e = serde_json::from_str::<Layer>(layer).unwrap_err().to_string();
    assert!(e.contains("activaton"), "{e}");
    assert!(serde_json::from_str::<Layer>(r#"{"type": "dropout", "rate": 0.1, "seed": 1}"#).is_err());
    for bad in [
        r#"{"optimizer": {"name": "adam", "lerning_rate": 0.1}, "loss": {"name": "mse"}, "metrics": []}"#,
        r#"{"optimizer": {"name": "sgd"}, "loss": {"name": "huber", "delt": 2}, "metrics": []}"#,
        r#"{"optimizer": {"name": "sgd", "schedule": {"name": "step", "every": 2, "gamma": 0.5, "x": 1}}, "loss": {"name": "mse"}, "metrics": []}"#,
        r#"{"optimizer": {"name": "sgd"}, "loss": {"name": "mse"}, "metrics": [], "extra": 1}"#,
    ] {
        assert!(serde_json::from_str::<Compiled>(bad).is_err(), "{bad}");
    }
    assert!(serde_json::from_str::<FitConfig>(r#"{"epoch": 3}"#).is_err());
    assert!(serde_json::from_str::<FitConfig>(r#"{"early_stopping": {"patient": 3}}"#).is_err());
}

#[test]
fn names_aliases_and_defaults_come_from_serde() {
    let c: Compiled = serde_json::from_str(
        r#"{"optimizer": {"name": "adam"}, "loss": {"name": "bce"}, "metrics": ["acc", "f1_score"]}"#,
    )
    .unwrap();
    assert_eq!(c.optimizer, Optimizer::adam(1e-3));
    assert_eq!(c.optimizer, Optimizer::from_name("Adam").unwrap());
    assert_eq!(c.loss, Loss::from_name("binary_crossentropy").unwrap());
    assert_eq!(Loss::from_name("cce").unwrap(), Loss::CategoricalCrossentropy { from_logits: false });
    assert_eq!(Loss::from_name("half_mse").unwrap(), Loss::HalfSquaredError);
    assert_eq!(Optimizer::from_name("sgd").unwrap(), Optimizer::sgd(0.01));
    assert_eq!(Optimizer::from_name("adamw").unwrap(), Optimizer::adamw(1e-3, 0.004));
    assert!(Optimizer::from_name("nadam").is_err());
}

fn trained() -> Sequential {
    let mut m = Sequential::with_seed(2, 1);
    m.add(Dense::new(4).activation(Activation::Relu)).unwrap();
    m.add(Dense::new(1)).unwrap();
    m.compile(Optimizer::adam(0.01), Loss::MeanSquaredError, &[]).unwrap();
    let x = array![[0.0f32, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![[1.0f32], [1.0], [0.0]];
    m.fit(x.view(), y.view(), FitOptions { epochs: 2, ..Default::default() }).unwrap();
    m
}

/// The model's file, with its config and tensors changed by `edit` before writing.
fn rewritten(
    m: &Sequential,
    edit: impl FnOnce(&mut serde_json::Value, &mut Vec<(String, ndarray::ArrayD<f32>)>),
) -> Vec<u8> {
    let bytes = m.to_bytes().unwrap();
    let file = io::from_bytes(&bytes, KIND).unwrap();
    let mut config = file.config().clone();
    let mut tensors: Vec<(String, ndarray::ArrayD<f32>)> = m
        .with_tensors(|_, tensors| {
            Ok(tensors.iter().map(|(n, t)| (n.to_string(), t.shape().to_vec())).collect::<Vec<_>>())
        })
        .unwrap()
        .into_iter()
        .map(|(name, shape)| {
            let dims: Vec<Option<usize>> = shape.iter().map(|&d| Some(d)).collect();
            let t = file.tensor::<f32>(&name, &dims).unwrap();
            (name, t)
        })
        .collect();
    edit(&mut config, &mut tensors);
    let refs: Vec<(&str, TensorRef<'_>)> =
        tensors.iter().map(|(n, a)| (n.as_str(), TensorRef::new(a.view()))).collect();
    io::to_bytes(KIND, &config, &refs).unwrap()
}

#[test]
fn a_misspelt_key_in_a_file_does_not_load_a_different_model() {
    let m = trained();
    let bytes = rewritten(&m, |config, _| {
        let dense = &mut config["layers"][0];
        let act = dense.as_object_mut().unwrap().remove("activation").unwrap();
        dense["activatinn"] = act;
    });
    let e = Sequential::from_bytes(&bytes).unwrap_err();
    assert!(matches!(e, Error::Format(_)) && e.to_string().contains("activatinn"), "{e}");
}

#[test]
fn non_finite_or_inconsistent_optimizer_state_does_not_load() {
    let m = trained();
    assert!(Sequential::from_bytes(&rewritten(&m, |_, _| {})).is_ok(), "the unedited file loads");
    let nan = rewritten(&m, |_, tensors| {
        let (_, v) = tensors.iter_mut().find(|(n, _)| n == "optimizer.0.1").unwrap();
        v[0] = f32::NAN;
    });
    let e = Sequential::from_bytes(&nan).unwrap_err();
    assert!(matches!(e, Error::Format(_)) && e.to_string().contains("optimizer.0.1"), "{e}");
    let wrong_count = rewritten(&m, |config, _| config["optimizer_slots"][0] = 1.into());
    assert!(matches!(Sequential::from_bytes(&wrong_count).unwrap_err(), Error::Format(_)));
}

#[test]
fn predict_reports_overflow_instead_of_returning_inf() {
    let mut m = Sequential::new(2);
    m.add(Dense::new(3).activation(Activation::Relu)).unwrap();
    m.add(Dense::new(1)).unwrap();
    m.set_weights(vec![
        Array2::from_elem((2, 3), 10.0f32).into_dyn(),
        ndarray::Array1::zeros(3).into_dyn(),
        Array2::from_elem((3, 1), 10.0f32).into_dyn(),
        ndarray::Array1::zeros(1).into_dyn(),
    ])
    .unwrap();
    let x = array![[1.0f32, 1.0], [3e38, 3e38], [1.0, 2.0]];
    let e = m.predict(x.view()).unwrap_err();
    assert!(matches!(e, Error::NonFinite(_)) && e.to_string().contains("row 1"), "{e}");
    let mut out = Array2::zeros((3, 1));
    assert!(m.predict_into(x.view(), out.view_mut()).is_err());
    assert_eq!(m.predict(x.slice(ndarray::s![..1, ..])).unwrap()[[0, 0]], 600.0);
}

#[test]
fn weights_turning_non_finite_stop_fit_with_epoch_and_batch_and_finite_weights() {
    // A huge but valid learning rate: the first step's loss and gradient are finite, its update is not.
    let x = array![[1.0f32], [2.0], [3.0], [4.0]];
    let y = array![[2.0f32], [4.0], [6.0], [8.0]];
    let mut m = Sequential::with_seed(1, 3);
    m.add(Dense::new(1)).unwrap();
    m.compile(Optimizer::sgd(3e38), Loss::MeanSquaredError, &[]).unwrap();
    let before = m.get_weights();
    let options = FitOptions { epochs: 3, batch_size: 2, shuffle: false, ..Default::default() };
    let e = m.fit(x.view(), y.view(), options).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::NonFinite(_)) && msg.contains("epoch 1 batch 0"), "{msg}");
    assert!(msg.contains("weights"), "{msg}");
    assert_eq!(m.get_weights(), before, "the weights of the start of the epoch are back");
    assert!(m.predict(x.view()).is_ok());
}
