//! `oximl quantize`: a network file quantized to int8 (see `Sequential::quantize`).

use clap::Args;
use oximl_core::compress::QuantizeConfig;
use oximl_core::nn::Sequential;
use oximl_core::{Persist, Result};
use std::path::PathBuf;

/// Quantize a network to int8.
///
/// Dynamic quantization: int8 kernels per output unit, activations quantized per row at run time; the output is
/// an oximl file about 4x smaller that predicts through int8 products.
///
/// Example:
///   oximl quantize model.oximl model-int8.oximl
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct Quantize {
    /// The network to read (oximl, ONNX or Keras).
    input: PathBuf,
    /// Where to write the quantized network (replaced atomically).
    output: PathBuf,
    /// The quantization.
    #[arg(long, default_value = "int8")]
    mode: String,
    /// Quantize activations to 7 bits (faster on CPUs with AVX2 but no VNNI).
    #[arg(long)]
    reduce_range: bool,
}

impl Quantize {
    /// Loads the network, quantizes it and saves it.
    pub fn run(&self) -> Result<()> {
        let mut model = Sequential::load(&self.input)?;
        model
            .quantize(&QuantizeConfig { reduce_range: self.reduce_range, ..QuantizeConfig::from_name(&self.mode)? })?;
        model.save(&self.output)
    }
}
