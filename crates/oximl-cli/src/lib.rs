//! `oximl`: inspect, convert, prune, quantize and serve model files from the command line. Each subcommand lives in its
//! own module; this file only parses and dispatches. The `oximl` binary and Python's `oximl` console script
//! (`python -m oximl`) both call [`run`].
//!
//! ```text
//! oximl info model.keras            # format, kind, layers, parameters, sparsity
//! oximl convert model.h5 out.oximl
//! oximl convert model.oximl out.onnx
//! oximl quantize model.oximl out.oximl
//! oximl prune model.oximl out.oximl --sparsity 0.8
//! oximl serve --model digits=models/digits --port 8501
//! ```

mod convert;
mod info;
mod prune;
mod quantize;
mod serve;

use clap::{Parser, Subcommand};
use oximl_core::Cancel;
use std::ffi::OsString;

/// Inspect, convert, prune, quantize and serve oximl models.
///
/// Model files are recognized by their content, not their name: oximl files (written by save() from Rust, C or
/// Python), ONNX files of multi-layer perceptrons (from oximl, scikit-learn via skl2onnx, PyTorch, ...) and Keras
/// files (Keras 3 `.keras` archives and legacy `.h5` files).
///
/// Exit status: 0 on success, 1 when the work failed (a missing, malformed or unsupported model file; an error
/// writing), 2 for a usage error (an unknown option, a missing argument, an output format that cannot be told).
/// Errors are printed on standard error as "oximl: MESSAGE".
#[derive(Parser)]
#[command(name = "oximl", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Info(info::Info),
    Convert(convert::Convert),
    Quantize(quantize::Quantize),
    Prune(prune::Prune),
    /// Serve models over HTTP: TensorFlow Serving REST and KServe v2, Prometheus metrics on /metrics.
    ///
    /// Example: oximl serve --model digits=models/digits --model recs=recs.oximl --port 8501
    Serve(oximl_serve::Config),
}

/// Runs the command line `args` (the first item is the program name) and returns its exit status: 0 done (or
/// `--help`/`--version` printed), 1 the work failed, 2 a usage error; messages go to standard error. `cancel`
/// stops `serve` gracefully (the binary passes a fresh one: Ctrl-C and SIGTERM stop the server anyway).
///
/// ```
/// use oximl_core::Cancel;
/// assert_eq!(oximl_cli::run(["oximl", "--version"], &Cancel::new()), 0);
/// assert_eq!(oximl_cli::run(["oximl", "info", "no-such-file.oximl"], &Cancel::new()), 1);
/// assert_eq!(oximl_cli::run(["oximl", "frobnicate"], &Cancel::new()), 2);
/// ```
pub fn run<I, T>(args: I, cancel: &Cancel) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let command = match Cli::try_parse_from(args) {
        Ok(cli) => cli.command,
        Err(e) => {
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let result = match command {
        Command::Info(c) => c.run(),
        Command::Convert(c) => c.run(),
        Command::Quantize(c) => c.run(),
        Command::Prune(c) => c.run(),
        Command::Serve(config) => serve::run(&config, cancel),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("oximl: {e}");
            if matches!(e, oximl_core::Error::InvalidArgument { .. }) { 2 } else { 1 }
        }
    }
}
