//! ONNX files made by the real tools (`tests/fixtures/onnx/make_fixtures.py`: scikit-learn + skl2onnx, onnx.helper
//! + onnxruntime) load into oximl and predict what those tools predict.

use ndarray::Array2;
use oximl_core::kernel::Activation;
use oximl_core::nn::{Layer, Sequential};
use oximl_core::{Error, Persist};
use std::path::PathBuf;

mod support;

fn fixture(name: &str) -> PathBuf {
    support::fixture("onnx", name)
}

/// The inputs and expected outputs stored beside a fixture model.
fn cases(name: &str) -> (Array2<f32>, Array2<f32>) {
    support::cases("onnx", name)
}

/// Loads `NAME.onnx` by content (the same call as for oximl files) and returns the largest difference from the
/// other tool's outputs.
fn max_difference(name: &str) -> (Sequential, f32) {
    let model = Sequential::load(fixture(&format!("{name}.onnx"))).unwrap();
    let (x, expected) = cases(name);
    let got = model.predict(x.view()).unwrap();
    assert_eq!(got.dim(), expected.dim());
    let diff = (&got - &expected).iter().fold(0.0f32, |m, d| m.max(d.abs()));
    eprintln!("{name}: max abs difference {diff:e}");
    (model, diff)
}

/// The activation of each layer of `model`.
fn activations(model: &Sequential) -> Vec<Activation> {
    let of = |l: &Layer| if let Layer::Dense(d) = l { d.activation } else { Activation::Linear };
    model.layers().iter().map(of).collect()
}

#[test]
fn scikit_learn_classifier_predicts_like_predict_proba() {
    let (model, diff) = max_difference("sklearn_classifier");
    assert!(diff < 1e-5, "{diff}");
    assert_eq!(activations(&model), [Activation::Relu, Activation::Softmax]);
}

#[test]
fn scikit_learn_two_class_classifier_predicts_like_predict_proba() {
    // skl2onnx writes [1 - p, p] with Sub and Concat after a one-unit sigmoid: read as a two-unit softmax.
    let (model, diff) = max_difference("sklearn_binary_classifier");
    assert!(diff < 1e-5, "{diff}");
    assert_eq!((activations(&model), model.output_dim()), (vec![Activation::Relu, Activation::Softmax], 2));
}

#[test]
fn scikit_learn_regressor_predicts_like_predict() {
    let (model, diff) = max_difference("sklearn_regressor");
    assert!(diff < 1e-5, "{diff}");
    assert_eq!((model.input_dim(), model.output_dim()), (64, 1));
}

#[test]
fn every_supported_operator_and_attribute_predicts_like_onnxruntime() {
    let (model, diff) = max_difference("helper_mlp");
    assert!(diff < 1e-5, "{diff}");
    // Gemm+LeakyRelu, MatMul+Add+Elu, then Gelu on an identity layer (Elu already took the second), Gemm+Softmax.
    assert_eq!(
        activations(&model),
        [
            Activation::LeakyRelu { alpha: 0.1f32 as f64 },
            Activation::Elu { alpha: 0.7f32 as f64 },
            Activation::Gelu,
            Activation::Softmax
        ]
    );
}

#[test]
fn an_unsupported_operator_is_refused_by_name() {
    let err = Sequential::load(fixture("unsupported_op.onnx")).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    assert!(
        message.contains("Sin") && message.contains("my_sin") && message.contains("unsupported_op.onnx"),
        "{message}"
    );
}
