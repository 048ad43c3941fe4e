//! The libFuzzer driver: runs the target of `oximl_fuzz` named by the environment variable `OXIML_FUZZ_TARGET`
//! (`fuzz/run` sets it) under the 1 GiB heap budget, on oximl's pool of one thread. See fuzz/README.md.
#![no_main]

use std::sync::OnceLock;

#[global_allocator]
static ALLOC: oximl_fuzz::Budget = oximl_fuzz::Budget::new();

static TARGET: OnceLock<oximl_fuzz::Target> = OnceLock::new();

libfuzzer_sys::fuzz_target!(
    init: {
        let name = std::env::var("OXIML_FUZZ_TARGET").unwrap_or_default();
        let Some(target) = oximl_fuzz::target(&name) else {
            let names: Vec<&str> = oximl_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
            eprintln!("OXIML_FUZZ_TARGET={name:?}: set it to one of {}", names.join(", "));
            std::process::exit(2);
        };
        oximl_core::set_num_threads(1).expect("one thread");
        TARGET.set(target).expect("set once");
    },
    |data: &[u8]| TARGET.get().expect("set by init")(data)
);
