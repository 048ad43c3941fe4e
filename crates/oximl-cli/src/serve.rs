//! `oximl serve`: the models of `--model NAME=PATH` over HTTP (TensorFlow Serving REST and KServe v2), until
//! Ctrl-C or SIGTERM. The arguments are [`oximl_serve::Config`]'s; the server is the `oximl-serve` crate's.

use oximl_core::{Cancel, Result};

/// Runs the server of `config` until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub fn run(config: &oximl_serve::Config) -> Result<()> {
    oximl_serve::run_blocking(config, &Cancel::new())
}
