//! `oximl info`: what a model file holds.

use clap::Args;
use oximl_core::data::{MinMaxScaler, StandardScaler};
use oximl_core::interchange::{keras::looks_like_keras, onnx::looks_like_onnx};
use oximl_core::io::{self, DType, Loaded};
use oximl_core::mf::MfModel;
use oximl_core::nn::Sequential;
use oximl_core::{Error, Persist, Result};
use std::path::{Path, PathBuf};

/// Print what a model file holds.
///
/// For an oximl file: its kind (sequential, mf, ...), format version and checksum status (a file that fails its
/// checksum is refused), then each tensor's dtype and shape, the parameter count and the sparsity (the fraction of
/// float weights that are exactly zero); for a network, its layers. For an ONNX or Keras (.keras, .h5) file: the
/// network it imports as, and for Keras its compile config.
///
/// Example:
///   oximl info model.keras
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct Info {
    /// The model file.
    model: PathBuf,
}

impl Info {
    /// Prints the description of the model to standard output.
    pub fn run(&self) -> Result<()> {
        let path = &self.model;
        let head = first_bytes(path)?;
        let text = if looks_like_onnx(&head) {
            describe_foreign(path, "ONNX")?
        } else if looks_like_keras(&head) {
            describe_foreign(path, if head.starts_with(b"PK") { "Keras 3 (.keras)" } else { "Keras HDF5 (.h5)" })?
        } else {
            describe(path)?
        };
        println!("{}", text.trim_end());
        Ok(())
    }
}

/// An ONNX or Keras file: the network it imports as.
fn describe_foreign(path: &Path, format: &str) -> Result<String> {
    let model = Sequential::load(path)?;
    let weights: Vec<f32> = model.get_weights().iter().flatten().copied().collect();
    let compiled = match model.compiled() {
        Some(c) => format!("compile: {}\n", serde_json::to_string(c).map_err(|e| Error::Format(e.to_string()))?),
        None => String::new(),
    };
    Ok(format!("format: {format}\nkind: {}\n{}{compiled}{}", oximl_core::nn::KIND, counts(&weights), model.summary()))
}

/// The first bytes of the file: enough to tell its format.
fn first_bytes(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::new();
    file.take(16).read_to_end(&mut head).map_err(|e| Error::io(path, e))?;
    Ok(head)
}

/// An oximl file of any kind, validated (checksum included) by loading it.
fn describe(path: &Path) -> Result<String> {
    let kinds = [Sequential::KIND, MfModel::KIND, StandardScaler::KIND, MinMaxScaler::KIND];
    let mut first_error = None;
    for kind in kinds {
        match io::load(path, kind) {
            Ok(file) => return describe_loaded(&file),
            Err(e) => first_error = first_error.or(Some(e)),
        }
    }
    Err(first_error.unwrap_or_else(|| Error::Format("no model kind".into())))
}

fn describe_loaded(file: &Loaded) -> Result<String> {
    let mut text =
        format!("format: oximl version {}\nkind: {}\nchecksum: verified\ntensors:\n", file.version(), file.kind());
    let mut floats = Vec::new();
    for name in file.names() {
        let Some((dtype, shape)) = file.info(name) else { continue };
        text += &format!("  {name}: {} {shape:?}\n", dtype.name());
        if dtype == DType::F32 {
            floats.extend(file.tensor::<f32>(name, &vec![None; shape.len()])?.iter().copied());
        }
    }
    if file.kind() == Sequential::KIND {
        // The weights as the model holds them: int8 kernels dequantized, sparse kernels with their zeros.
        let model = Sequential::from_loaded(file)?;
        text += &counts(&model.get_weights().iter().flatten().copied().collect::<Vec<_>>());
        text += &model.summary();
    } else {
        text += &counts(&floats);
    }
    Ok(text)
}

/// The parameter count and sparsity of `weights`.
fn counts(weights: &[f32]) -> String {
    let zeros = weights.iter().filter(|&&w| w == 0.0).count();
    let sparsity = if weights.is_empty() { 0.0 } else { zeros as f64 / weights.len() as f64 };
    format!("parameters: {} float32 ({:.1}% zero)\n", weights.len(), 100.0 * sparsity)
}
