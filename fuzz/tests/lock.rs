//! The libFuzzer driver is its own workspace with its own `Cargo.lock`, built `--locked` by `fuzz/run`: a new
//! dependency of `oximl-core` must be recorded there too, or CI's fuzz step fails. This catches it in `cargo test`.

use std::path::Path;
use std::process::Command;

#[test]
fn the_libfuzzer_driver_lock_file_is_up_to_date() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("libfuzzer/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--locked", "--format-version", "1", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "fuzz/libfuzzer/Cargo.lock is stale; run `cargo update --workspace --manifest-path fuzz/libfuzzer/Cargo.toml`:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
