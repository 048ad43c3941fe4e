//! The `oximl` binary: see [`oximl_cli::run`].

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(oximl_cli::run(std::env::args_os(), &oximl_core::Cancel::new()))
}
