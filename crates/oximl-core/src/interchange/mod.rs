//! Models to and from other tools' formats: [`onnx`] (ONNX Runtime, PyTorch, scikit-learn via skl2onnx) and
//! [`keras`] (Keras' `.keras` and `.h5` files).

pub mod keras;
pub mod onnx;
mod stack;
