//! `oximl convert`: a network from one format to another.

use clap::{Args, ValueEnum};
use oximl_core::nn::Sequential;
use oximl_core::{Error, Persist, Result};
use std::path::PathBuf;

/// Convert a network to the oximl format or to ONNX.
///
/// IN is recognized by its content: an oximl file, an ONNX file, or a Keras 3 `.keras` / legacy `.h5` file. The
/// output format comes from --to, else from OUT's extension (.oximl or .onnx). ONNX export writes opset 17 (20
/// for GELU), input "input" with a dynamic batch dimension, output "output"; dropout is left out. ONNX import
/// reads chains of Gemm/MatMul/Add, activations, Identity/Flatten/Dropout/Cast/Reshape; Keras import reads
/// Sequential and single-chain functional models of InputLayer, Dense, Dropout and Activation, with their
/// compile config (loss, metrics, optimizer).
///
/// Examples:
///   oximl convert model.keras model.oximl
///   oximl convert model.h5 model.onnx
///   oximl convert model.onnx model.bin --to oximl
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct Convert {
    /// The model to read (oximl, ONNX, .keras or .h5).
    input: PathBuf,
    /// Where to write the converted model (replaced atomically).
    output: PathBuf,
    /// The output format (default: from OUT's extension).
    #[arg(long, value_enum)]
    to: Option<Format>,
}

/// A file format `convert` writes.
#[derive(Clone, Copy, PartialEq, Debug, ValueEnum)]
enum Format {
    /// The oximl format (safetensors + JSON header).
    Oximl,
    /// ONNX.
    Onnx,
}

impl Convert {
    /// Reads IN and writes OUT.
    pub fn run(&self) -> Result<()> {
        let format = match self.to {
            Some(f) => f,
            None => match self.output.extension().and_then(|e| e.to_str()) {
                Some("onnx") => Format::Onnx,
                Some("oximl") => Format::Oximl,
                _ => {
                    return Err(Error::invalid(
                        "OUT",
                        format!(
                            "cannot tell the format from {}: name it .oximl or .onnx, or pass --to",
                            self.output.display()
                        ),
                    ));
                }
            },
        };
        let model = Sequential::load(&self.input)?;
        match format {
            Format::Oximl => model.save(&self.output),
            Format::Onnx => model.export_onnx(&self.output),
        }
    }
}
