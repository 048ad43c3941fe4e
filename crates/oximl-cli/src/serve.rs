//! `oximl serve`: the HTTP server of `oximl-serve` (its arguments are `oximl_serve::Config`).

use oximl_core::{Cancel, Result};

/// Runs the server of `config` until Ctrl-C, SIGTERM or `cancel`, then finishes the requests in flight.
pub fn run(config: &oximl_serve::Config, cancel: &Cancel) -> Result<()> {
    oximl_serve::run_blocking(config, cancel)
}
