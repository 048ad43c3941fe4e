//! Keras files made by real Keras 3 (`tests/fixtures/keras/make_fixtures.py`, JAX backend) load into oximl, keep
//! their layers and compile config, and predict what `keras_model.predict` predicted.

use ndarray::Array2;
use oximl_core::kernel::Activation;
use oximl_core::nn::{Layer, Loss, Metric, Sequential};
use oximl_core::optim::{Optimizer, Regularizer};
use oximl_core::{Error, Persist};
use std::path::PathBuf;

mod support;

fn fixture(name: &str) -> PathBuf {
    support::fixture("keras", name)
}

/// The inputs and Keras' outputs stored beside the fixture models `NAME.keras` and `NAME.h5`.
fn cases(name: &str) -> (Array2<f32>, Array2<f32>) {
    support::cases("keras", name)
}

/// Both files of `name`, loaded by content, each checked against Keras' predictions within 1e-5; the `.keras`
/// model is returned, after checking that the `.h5` one has the same layers, weights and compile config.
fn load_both(name: &str) -> Sequential {
    let (x, expected) = cases(name);
    let [keras, h5] = ["keras", "h5"].map(|ext| {
        let model = Sequential::load(fixture(&format!("{name}.{ext}"))).unwrap();
        let got = model.predict(x.view()).unwrap();
        assert_eq!(got.dim(), expected.dim());
        let diff = (&got - &expected).iter().fold(0.0f32, |m, d| m.max(d.abs()));
        assert!(diff < 1e-5, "{name}.{ext}: max abs difference {diff:e}");
        model
    });
    assert_eq!(keras.layers(), h5.layers());
    assert_eq!(keras.get_weights(), h5.get_weights());
    assert_eq!(keras.compiled(), h5.compiled());
    keras
}

fn dense(model: &Sequential, l: usize) -> &oximl_core::nn::Dense {
    match &model.layers()[l] {
        Layer::Dense(d) => d,
        other => panic!("layer {l} is {other:?}"),
    }
}

#[test]
fn a_sequential_softmax_classifier_with_dropout_and_an_activation_layer() {
    let model = load_both("classifier");
    assert_eq!(model.layers().len(), 3, "{}", model.summary()); // the softmax folds into the last dense layer
    assert_eq!((model.input_dim(), model.output_dim()), (8, 3));
    assert_eq!((dense(&model, 0).activation, dense(&model, 2).activation), (Activation::Relu, Activation::Softmax));
    assert_eq!(dense(&model, 0).kernel_regularizer, Some(Regularizer::l2(1e-3)));
    assert!(matches!(model.layers()[1], Layer::Dropout { rate } if rate == 0.2));
    let compiled = model.compiled().unwrap();
    assert_eq!(compiled.loss, Loss::CategoricalCrossentropy { from_logits: false });
    assert_eq!(compiled.metrics, [Metric::Accuracy]);
    assert_eq!(compiled.optimizer.learning_rate(), 0.01);
    assert!(matches!(compiled.optimizer, Optimizer::Adam { .. }));
}

#[test]
fn a_functional_sigmoid_model_without_bias() {
    let model = load_both("binary");
    assert_eq!(model.output_dim(), 1);
    assert_eq!((dense(&model, 0).use_bias, dense(&model, 0).activation), (false, Activation::Tanh));
    assert_eq!(dense(&model, 0).kernel_regularizer, Some(Regularizer::l1_l2(1e-4, 1e-3)));
    assert_eq!(dense(&model, 2).activation, Activation::Sigmoid);
    let compiled = model.compiled().unwrap();
    assert_eq!(compiled.loss, Loss::BinaryCrossentropy { from_logits: false });
    assert_eq!(compiled.metrics, [Metric::Accuracy, Metric::Precision]);
    assert!(matches!(compiled.optimizer, Optimizer::Sgd { momentum, .. } if momentum == 0.9));
}

#[test]
fn a_linear_regressor() {
    let model = load_both("regressor");
    let activations: Vec<_> = (0..3).map(|l| dense(&model, l).activation).collect();
    assert_eq!(activations, [Activation::Elu { alpha: 1.0 }, Activation::LeakyRelu { alpha: 0.2 }, Activation::Linear]);
    assert_eq!(dense(&model, 0).bias_regularizer, Some(Regularizer::l1(1e-3)));
    let compiled = model.compiled().unwrap();
    assert_eq!((compiled.loss, compiled.metrics.as_slice()), (Loss::MeanSquaredError, &[Metric::Mae][..]));
    assert!(matches!(compiled.optimizer, Optimizer::RmsProp { .. }));
}

#[test]
fn a_loaded_keras_model_saves_as_oximl_and_exports_to_onnx_unchanged() {
    let model = Sequential::load(fixture("classifier.keras")).unwrap();
    let again = Sequential::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!((again.layers(), again.get_weights()), (model.layers(), model.get_weights()));
    assert_eq!(again.compiled(), model.compiled());
    let onnx = Sequential::from_onnx(&model.to_onnx()).unwrap();
    let (x, _) = cases("classifier");
    assert_eq!(onnx.predict(x.view()).unwrap(), model.predict(x.view()).unwrap());
}

#[test]
fn an_unsupported_layer_is_refused_by_name() {
    let e = Sequential::load(fixture("unsupported.keras")).unwrap_err();
    assert!(matches!(e, Error::Format(_)), "{e}");
    let text = e.to_string();
    assert!(text.contains("my_batch_norm") && text.contains("BatchNormalization"), "{text}");
}

#[test]
fn truncated_and_corrupted_keras_files_are_format_errors_never_panics() {
    for name in ["classifier.keras", "classifier.h5", "binary.h5"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        for cut in (0..bytes.len()).step_by(bytes.len() / 97 + 1).skip(1) {
            let e = Sequential::from_keras(&bytes[..cut]).unwrap_err();
            assert_eq!(e.code(), 5, "{name} cut at {cut}: {e}");
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..300 {
            let mut corrupted = bytes.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state % corrupted.len() as u64) as usize;
                corrupted[i] = (state >> 32) as u8;
            }
            if let Err(e) = Sequential::from_keras(&corrupted) {
                assert!(matches!(e, Error::Format(_)), "{name}: {e}");
            }
        }
    }
}
