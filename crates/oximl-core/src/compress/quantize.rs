//! The post-training quantization settings (Keras 3's `model.quantize(mode)`).

use crate::error::Result;
use oximl_kernel::{ActivationRange, PackedI8};
use serde::{Deserialize, Serialize};

/// What the weights are quantized to.
///
/// ```
/// let m: oximl_core::compress::QuantizeMode = serde_json::from_str("\"int8\"").unwrap();
/// assert_eq!(m, oximl_core::compress::QuantizeMode::Int8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuantizeMode {
    /// Dynamic int8 quantization, as ONNX Runtime's `quantize_dynamic` and PyTorch's dynamic `Linear`: kernels
    /// int8, symmetric per output channel; each row of activations quantized to `u8` at run time; `i32`
    /// accumulation; the bias and activation in `f32`.
    Int8,
}

/// How [`crate::nn::Sequential::quantize`] quantizes a model. As JSON: `{"mode": "int8"}`, optionally with
/// `"reduce_range": true` (PyTorch's name: 7-bit activations, faster on CPUs with AVX2 but no VNNI).
///
/// ```
/// use oximl_core::compress::{QuantizeConfig, QuantizeMode};
/// let c: QuantizeConfig = serde_json::from_str(r#"{"mode": "int8"}"#).unwrap();
/// assert_eq!(c, QuantizeConfig { mode: QuantizeMode::Int8, reduce_range: false });
/// assert!(serde_json::from_str::<QuantizeConfig>(r#"{"mode": "int4"}"#).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantizeConfig {
    /// The quantization.
    pub mode: QuantizeMode,
    /// Activations in `0..=127` instead of `0..=255`.
    #[serde(default)]
    pub reduce_range: bool,
}

impl QuantizeConfig {
    /// The configuration of a mode given by name (`"int8"`), other settings at their defaults.
    ///
    /// ```
    /// use oximl_core::compress::QuantizeConfig;
    /// assert!(!QuantizeConfig::from_name("INT8")?.reduce_range);
    /// assert_eq!(QuantizeConfig::from_name("float8").unwrap_err().code(), 1);
    /// # Ok::<(), oximl_core::Error>(())
    /// ```
    pub fn from_name(mode: &str) -> Result<QuantizeConfig> {
        serde_json::from_value(serde_json::json!({ "mode": mode.to_ascii_lowercase() })).map_err(|e| {
            crate::Error::invalid("mode", format!("unknown quantization mode {mode:?} (expected \"int8\"): {e}"))
        })
    }

    /// The range activations are quantized to.
    pub(crate) fn activation_range(&self) -> ActivationRange {
        if self.reduce_range { ActivationRange::Reduced } else { ActivationRange::Full }
    }

    /// Quantizes one kernel (`inputs × units`) for the int8 product.
    pub(crate) fn pack(&self, kernel: ndarray::ArrayView2<'_, f32>) -> Result<PackedI8> {
        Ok(PackedI8::quantize(kernel)?.with_activation_range(self.activation_range()))
    }

    /// Packs a kernel read from a file.
    pub(crate) fn pack_quantized(
        &self,
        q: ndarray::ArrayView2<'_, i8>,
        scales: ndarray::ArrayView1<'_, f32>,
    ) -> Result<PackedI8> {
        Ok(PackedI8::from_quantized(q, scales)?.with_activation_range(self.activation_range()))
    }
}
