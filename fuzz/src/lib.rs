//! oximl's fuzz targets: one function per loader and per JSON config entry point, each taking arbitrary bytes.
//!
//! The same functions are driven by libFuzzer (`fuzz/libfuzzer`, see `fuzz/README.md`) and replayed over the
//! committed corpus by `cargo test -p oximl-fuzz` (`tests/replay.rs`). A target returns normally whatever the
//! input; a panic, an abort, an allocation refused by [`Budget`] that the library does not handle, or a hang is a
//! bug in the library (or a broken round-trip property, reported by the target's own assertion).
//!
//! Targets bound only the work of inputs that the library is meant to accept (many epochs, a valid but huge layer
//! in a training run): [`too_slow`] says which.
//!
//! ```
//! let run = oximl_fuzz::target("layer_json").unwrap();
//! run(br#"{"type": "dense", "units": 3, "activation": {"name": "relu"}}"#);
//! assert!(oximl_fuzz::target("nope").is_none());
//! ```

mod budget;
mod data;
mod embed;
mod mf;
mod nn;
pub mod sealed;

pub use budget::{Budget, LIMIT};

/// A fuzz target: parses and uses its input; panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its corpus folder `fuzz/corpus/<name>/`).
pub const TARGETS: &[(&str, Target)] = &[
    ("sequential_bytes", nn::sequential_bytes),
    ("layer_json", nn::layer_json),
    ("compile_json", nn::compile_json),
    ("fit_options", nn::fit_options),
    ("mf_model_bytes", mf::mf_model_bytes),
    ("mf_algorithm_json", mf::mf_algorithm_json),
    ("ratings_csv", mf::ratings_csv),
    ("ratings_csv_options", mf::ratings_csv_options),
    ("embed_word2vec_text", embed::word2vec_text),
    ("embed_word2vec_binary", embed::word2vec_binary),
    ("embed_glove", embed::glove),
    ("embed_fasttext", embed::fasttext),
    ("embed_fasttext_bin", embed::fasttext_bin),
    ("embed_oximl", embed::oximl),
    ("embed_load_options", embed::load_options),
    ("standard_scaler", data::standard_scaler),
    ("minmax_scaler", data::minmax_scaler),
    ("data_csv", data::data_csv),
];

/// The target called `name`.
///
/// ```
/// assert!(oximl_fuzz::target("ratings_csv").is_some());
/// ```
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|&(_, t)| t)
}

/// Elements (`f32`) above which a size is beyond any allocation [`Budget`] allows (2 GiB, twice [`LIMIT`]): the
/// library must refuse it or fail to allocate it gracefully, so targets never skip such inputs. Below it, a size
/// may be legitimately allocated (and slow to fill).
const HUGE: u128 = (LIMIT / 2) as u128;

/// Floating-point operations a target lets one input cost (about 0.1 s).
const WORK: u128 = 1 << 26;

/// Whether an input asks for valid work too slow for fuzzing: more than `WORK` (2^26) operations while its memory
/// (`elements`) stays within what the library may legitimately allocate. Sizes are `u128` products of `usize`s,
/// so they never wrap; a size beyond `HUGE` (2 GiB of `f32`) is never skipped (the library must refuse it itself).
///
/// ```
/// assert!(oximl_fuzz::too_slow(1 << 10, 1 << 40));
/// assert!(!oximl_fuzz::too_slow(1 << 60, 1 << 80)); // absurd memory: the library must refuse it
/// assert!(!oximl_fuzz::too_slow(10, 100));
/// ```
pub fn too_slow(elements: u128, work: u128) -> bool {
    elements <= HUGE && work > WORK
}

/// Reads fixed-size values off the front of an input (zeros once it is exhausted).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }

    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }

    fn rest(self) -> &'a [u8] {
        self.0
    }
}

/// Splits an input at its first newline: a JSON config, then the data it applies to.
fn config_and_data(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// The models of kind `T` an input holds: as the bytes of a file, and in its [`sealed`] form.
fn models<T: oximl_core::Persist>(data: &[u8]) -> Vec<T> {
    let sealed = sealed::seal(data, T::KIND);
    [Some(data), sealed.as_deref()].into_iter().flatten().filter_map(|bytes| T::from_bytes(bytes).ok()).collect()
}

/// Checks that a model saves, loads back, and saves to the same bytes again (nothing lost or changed on the way).
fn round_trip<T: oximl_core::Persist>(model: &T) {
    let bytes = model.to_bytes().expect("round trip: a loaded or trained model must save");
    let again = T::from_bytes(&bytes).expect("round trip: a saved model must load");
    assert!(again.to_bytes().expect("round trip: must save twice") == bytes, "round trip: the bytes changed");
}
