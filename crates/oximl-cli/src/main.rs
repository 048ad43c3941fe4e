//! `oximl`: inspect and convert model files from the command line.
//!
//! ```text
//! oximl info model.oximl            # kind, format version, checksum, tensors, parameters, sparsity
//! oximl convert model.onnx out.oximl
//! oximl convert model.oximl out.onnx
//! oximl quantize model.oximl model-int8.oximl
//! ```

mod info;
mod quantize;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use oximl_core::nn::Sequential;
use oximl_core::{Error, Persist};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Inspect and convert oximl models.
///
/// Model files are recognized by their content, not their name: oximl files (safetensors with an oximl header,
/// written by save() from Rust, C or Python) and ONNX files of multi-layer perceptrons (from oximl, scikit-learn
/// via skl2onnx, PyTorch, ...).
///
/// Exit status: 0 on success, 2 for a usage error, 65 (EX_DATAERR) for a malformed or unsupported model file,
/// 74 (EX_IOERR) when a file cannot be read or written, 1 for any other error.
#[derive(Parser)]
#[command(name = "oximl", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print what a model file holds.
    ///
    /// For an oximl file: its kind (sequential, mf, ...), format version and checksum status (a file that fails
    /// its checksum is refused), then each tensor's dtype and shape, the parameter count and the sparsity (the
    /// fraction of float weights that are exactly zero); for a network, its layers. For an ONNX file: the
    /// network it imports as.
    Info {
        /// The model file.
        model: PathBuf,
    },
    /// Convert a network between the oximl format and ONNX.
    ///
    /// The output format comes from --to, else from OUT's extension (.oximl or .onnx). ONNX export writes
    /// opset 17 (20 for GELU), input "input" with a dynamic batch dimension, output "output"; dropout is
    /// left out. ONNX import reads chains of Gemm/MatMul/Add, activations, Identity/Flatten/Dropout/Cast/Reshape.
    Convert {
        /// The model to read (oximl or ONNX).
        input: PathBuf,
        /// Where to write the converted model (replaced atomically).
        output: PathBuf,
        /// The output format (default: from OUT's extension).
        #[arg(long, value_enum)]
        to: Option<Format>,
    },
    /// Quantize a network to int8 (dynamic quantization: int8 kernels per output unit, activations quantized
    /// per row at run time); the output is an oximl file about 4x smaller that predicts through int8 products.
    Quantize {
        /// The network to read (oximl or ONNX).
        input: PathBuf,
        /// Where to write the quantized network (replaced atomically).
        output: PathBuf,
        /// The quantization.
        #[arg(long, default_value = "int8")]
        mode: String,
        /// Quantize activations to 7 bits (faster on CPUs with AVX2 but no VNNI).
        #[arg(long)]
        reduce_range: bool,
    },
    /// Serve models over HTTP: TensorFlow Serving REST and KServe v2, Prometheus metrics on /metrics.
    ///
    /// Example: oximl serve --model digits=models/digits --model recs=recs.oximl --port 8501
    Serve(oximl_serve::Config),
}

/// A file format `convert` writes.
#[derive(Clone, Copy, PartialEq, Debug, ValueEnum)]
enum Format {
    /// The oximl format (safetensors + JSON header).
    Oximl,
    /// ONNX.
    Onnx,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info { model } => info::print(&model),
        Command::Convert { input, output, to } => convert(&input, &output, to),
        Command::Quantize { input, output, mode, reduce_range } => quantize::run(&input, &output, &mode, reduce_range),
        Command::Serve(config) => serve::run(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oximl: {e}");
            ExitCode::from(match e {
                Error::Format(_) => 65,
                Error::Io { .. } => 74,
                Error::InvalidArgument { .. } => 2,
                _ => 1,
            })
        }
    }
}

fn convert(input: &Path, output: &Path, to: Option<Format>) -> oximl_core::Result<()> {
    let format = match to {
        Some(f) => f,
        None => match output.extension().and_then(|e| e.to_str()) {
            Some("onnx") => Format::Onnx,
            Some("oximl") => Format::Oximl,
            _ => {
                return Err(Error::invalid(
                    "OUT",
                    format!("cannot tell the format from {}: name it .oximl or .onnx, or pass --to", output.display()),
                ));
            }
        },
    };
    let model = Sequential::load(input)?;
    match format {
        Format::Oximl => model.save(output),
        Format::Onnx => model.export_onnx(output),
    }
}
