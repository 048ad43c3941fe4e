//! Models to and from other tools' formats: [`onnx`] (ONNX Runtime, PyTorch, scikit-learn via skl2onnx).

pub mod onnx;
