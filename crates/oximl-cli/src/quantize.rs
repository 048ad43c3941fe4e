//! `oximl quantize`: a network file quantized to int8 (see `Sequential::quantize`).

use oximl_core::compress::QuantizeConfig;
use oximl_core::nn::Sequential;
use oximl_core::{Persist, Result};
use std::path::Path;

/// Loads the network at `input` (oximl or ONNX), quantizes it as `mode` says and saves it to `output`.
pub fn run(input: &Path, output: &Path, mode: &str, reduce_range: bool) -> Result<()> {
    let mut model = Sequential::load(input)?;
    model.quantize(&QuantizeConfig { reduce_range, ..QuantizeConfig::from_name(mode)? })?;
    model.save(output)
}
