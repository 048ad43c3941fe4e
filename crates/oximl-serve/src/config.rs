//! [`Config`]: what `oximl serve` (and `python -m oximl serve`) accept, defined once as clap arguments.

use clap::Args;
use oximl_core::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;

/// The server's settings. The command line `oximl serve` flattens these arguments, Python's `python -m oximl
/// serve` parses its argv with them ([`Config::from_args`]), and Rust callers fill the struct (see
/// [`Config::new`]).
///
/// ```
/// let config = oximl_serve::Config::from_args(["--model", "digits=models/digits", "--port", "0"]).unwrap();
/// assert_eq!(config.models[0].name, "digits");
/// assert_eq!(config.port, 0);
/// ```
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// A model to serve, as NAME=PATH (repeatable). PATH is a TensorFlow Serving base directory holding one
    /// numbered directory per version (`PATH/1/`, `PATH/2/`, ...; the highest is served; each holds one model
    /// file), or a single model file (served as version 1, never reloaded). Networks (oximl or ONNX files),
    /// recommenders and embeddings are recognized by content.
    #[arg(long = "model", value_name = "NAME=PATH", required = true, value_parser = parse_model)]
    pub models: Vec<ModelSpec>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 8501)]
    pub port: u16,
    /// Seconds between two scans of the model directories for new versions (0: no scan).
    #[arg(long, default_value_t = 2)]
    pub poll_seconds: u64,
    /// The most rows one merged predict call takes (1: no batching, the default: faster for small networks in
    /// benches/compare/serve.py). Concurrent predict requests for a model are merged into one call of up to this
    /// many rows, then split back.
    #[arg(long, default_value_t = 1)]
    pub max_batch_size: usize,
    /// How long the first request of a batch waits for others to join it, in microseconds (0: only requests
    /// already queued join, so a lone request never waits).
    #[arg(long, default_value_t = 0)]
    pub batch_timeout_micros: u64,
    /// The largest request body accepted, in bytes (larger: 413).
    #[arg(long, default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// The most requests handled or queued at once (more: 503 at once, memory stays bounded).
    #[arg(long, default_value_t = 1024)]
    pub max_in_flight: usize,
    /// The longest a request may take, in milliseconds (longer: 504).
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Writes one JSON line per request to standard error.
    #[arg(long)]
    pub access_log: bool,
}

/// One `--model NAME=PATH`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The name in the URLs (`/v1/models/NAME`).
    pub name: String,
    /// The base directory or model file.
    pub path: PathBuf,
}

fn parse_model(text: &str) -> std::result::Result<ModelSpec, String> {
    match text.split_once('=') {
        Some((name, path)) if valid_name(name) && !path.is_empty() => {
            Ok(ModelSpec { name: name.to_string(), path: PathBuf::from(path) })
        }
        _ => Err(format!("expected NAME=PATH with NAME made of letters, digits, '_', '-' or '.', got {text:?}")),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// clap's entry point for [`Config::from_args`].
#[derive(clap::Parser)]
#[command(name = "oximl serve", about = "Serve models over HTTP (TensorFlow Serving REST and KServe v2).")]
struct Cli {
    #[command(flatten)]
    config: Config,
}

impl Config {
    /// The settings for `models` (NAME, PATH pairs), every other setting at its default.
    ///
    /// ```
    /// let config = oximl_serve::Config::new([("digits", "models/digits")]).unwrap();
    /// assert_eq!((config.port, config.max_batch_size), (8501, 1));
    /// assert!(oximl_serve::Config::new([("bad name", "x")]).is_err());
    /// ```
    pub fn new<N: AsRef<str>, P: Into<PathBuf>>(models: impl IntoIterator<Item = (N, P)>) -> Result<Config> {
        let mut config = Config::from_args(["--model", "placeholder=placeholder"])
            .map_err(|e| Error::invalid("arguments", e.to_string()))?;
        config.models.clear();
        for (name, path) in models {
            let name = name.as_ref();
            if !valid_name(name) {
                return Err(Error::invalid("model", format!("{name:?} is not a valid model name")));
            }
            config.models.push(ModelSpec { name: name.to_string(), path: path.into() });
        }
        Ok(config)
    }

    /// Parses command-line arguments (without the program name), as `oximl serve` does. `--help` and usage
    /// errors come back as clap's error (`print()` shows it as a command line would).
    ///
    /// ```
    /// assert!(oximl_serve::Config::from_args(["--port", "x"]).is_err());
    /// ```
    pub fn from_args<S: Into<std::ffi::OsString> + Clone>(
        args: impl IntoIterator<Item = S>,
    ) -> std::result::Result<Config, clap::Error> {
        use clap::Parser;
        let argv = std::iter::once("oximl serve".into()).chain(args.into_iter().map(Into::into));
        Cli::try_parse_from(argv).map(|cli| cli.config)
    }

    /// The polling period, `None` when polling is off.
    pub(crate) fn poll(&self) -> Option<Duration> {
        (self.poll_seconds > 0).then(|| Duration::from_secs(self.poll_seconds))
    }
}
