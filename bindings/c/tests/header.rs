//! The committed `include/oximl.h` is exactly what cbindgen generates from this crate.
//! `OXIML_BLESS=1 cargo test -p oximl-capi --test header` rewrites it.

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let header = crate_dir.join("../../include/oximl.h");
    if std::env::var_os("OXIML_BLESS").is_some() {
        std::fs::write(&header, &generated).expect("write include/oximl.h");
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/oximl.h is stale: run `OXIML_BLESS=1 cargo test -p oximl-capi --test header` and commit it"
    );
}
