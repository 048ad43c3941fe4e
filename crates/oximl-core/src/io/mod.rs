//! The one oximl model file, shared by every model kind.
//!
//! A file is a plain [safetensors](https://huggingface.co/docs/safetensors) file (so Python users can open it with
//! the `safetensors` package) whose string metadata holds one entry, key [`METADATA_KEY`], a JSON object:
//!
//! ```json
//! {"format":"oximl","version":2,"kind":"embeddings","config":{...},"checksum":"0123456789abcdef"}
//! ```
//!
//! - `kind` names the model (`"sequential"`, `"mf"`, `"embeddings"`, ...) and `config` is that model's own JSON.
//! - `checksum`, written last, is the XXH3-64 hash (hex) of the header text before the checksum's value (up to
//!   and including `"checksum":`) and of every tensor's name, dtype, shape and bytes, in name order: a flipped
//!   byte anywhere in the config or the tensors is caught on load. (Version-1 files, from older oximl, hash only
//!   the tensors; they still load.)
//!
//! Loading ([`load`], [`from_bytes`]) refuses, with [`Error::Format`], anything that is not exactly that: a
//! truncated or corrupted file, another format, another kind, a newer version, unsupported dtypes. Shapes and dtypes
//! are checked again when a tensor is read ([`Loaded::tensor`]). Only regular files are read: a directory, FIFO,
//! socket or device is refused with [`Error::Io`] (never a blocked read). Files are written atomically (a
//! temporary file in the same directory, synced, then renamed) and memory-mapped on load unless [`ReadMode::Copy`]
//! is asked for (see [`ReadMode`] for the `SIGBUS` risk of mapped files that others truncate).
//!
//! ```
//! use ndarray::array;
//! use oximl_core::io::{self, TensorRef};
//! let w = array![[1.0f32, 2.0], [3.0, 4.0]];
//! let bytes = io::to_bytes("demo", &serde_json::json!({"units": 2}), &[("w", TensorRef::new(w.view()))]).unwrap();
//! let loaded = io::from_bytes(&bytes, "demo").unwrap();
//! assert_eq!(loaded.config()["units"], 2);
//! assert_eq!(loaded.matrix::<f32>("w", Some(2), Some(2)).unwrap(), w);
//! ```

use crate::{Error, Result};
use serde_json::Value;
use std::path::Path;

mod files;
mod header;
mod loaded;
mod persist;
mod tensor;
#[cfg(test)]
mod tests;

pub(crate) use files::{LineLimit, Storage, open_file, write_atomically, write_bytes_atomically};
pub use files::{MAX_LINE_BYTES, ReadMode};
pub use loaded::Loaded;
use loaded::st_error;
pub use persist::Persist;
pub use tensor::{DType, Element, TensorRef};

/// The value of the `format` field.
pub const FORMAT: &str = "oximl";
/// The newest format version this build writes and reads (2: the checksum covers the header too).
pub const VERSION: u32 = 2;
/// The safetensors metadata key under which the oximl JSON header is stored.
pub const METADATA_KEY: &str = "oximl";

/// Serializes a model into the bytes of an oximl file (what [`save`] writes).
///
/// ```
/// let bytes = oximl_core::io::to_bytes("demo", &serde_json::json!({}), &[]).unwrap();
/// assert!(oximl_core::io::from_bytes(&bytes, "demo").is_ok());
/// ```
pub fn to_bytes(kind: &str, config: &Value, tensors: &[(&str, TensorRef<'_>)]) -> Result<Vec<u8>> {
    let meta = header::metadata(kind, config, tensors)?;
    safetensors::serialize(tensors.iter().map(|(n, t)| (*n, t)), Some(meta)).map_err(st_error)
}

/// Writes a model to `path` atomically: into a temporary file of the same directory, synced, then renamed over
/// `path`, so a crash never leaves a half-written model behind.
///
/// ```
/// let path = std::env::temp_dir().join("oximl-io-save-doc.oximl");
/// oximl_core::io::save(&path, "demo", &serde_json::json!({"a": 1}), &[]).unwrap();
/// assert_eq!(oximl_core::io::load(&path, "demo").unwrap().config()["a"], 1);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save(path: impl AsRef<Path>, kind: &str, config: &Value, tensors: &[(&str, TensorRef<'_>)]) -> Result<()> {
    let path = path.as_ref();
    let meta = header::metadata(kind, config, tensors)?;
    write_atomically(path, |tmp| {
        safetensors::serialize_to_file(tensors.iter().map(|(n, t)| (*n, t)), Some(meta), tmp).map_err(|e| match e {
            safetensors::SafeTensorError::IoError(io) => Error::io(tmp, io),
            other => st_error(other),
        })
    })
}

/// Reads and validates the oximl file at `path` (memory-mapped), which must be of kind `expected_kind`.
///
/// ```
/// let e = oximl_core::io::load("/no/such/file.oximl", "demo").unwrap_err();
/// assert_eq!(e.code(), 4); // Error::Io
/// ```
pub fn load(path: impl AsRef<Path>, expected_kind: &str) -> Result<Loaded> {
    load_with(path, expected_kind, ReadMode::Map)
}

/// [`load`] with the file brought into memory as `mode` says ([`ReadMode::Copy`]: immune to the file being
/// truncated afterwards).
///
/// ```
/// use oximl_core::io::{self, ReadMode};
/// let path = std::env::temp_dir().join("oximl-io-load-with-doc.oximl");
/// io::save(&path, "demo", &serde_json::json!({"a": 1}), &[]).unwrap();
/// let loaded = io::load_with(&path, "demo", ReadMode::Copy).unwrap();
/// std::fs::remove_file(&path).unwrap(); // the loaded copy does not need the file any more
/// assert_eq!(loaded.config()["a"], 1);
/// ```
pub fn load_with(path: impl AsRef<Path>, expected_kind: &str, mode: ReadMode) -> Result<Loaded> {
    let path = path.as_ref();
    in_file(path, Loaded::parse(Storage::read(path, mode)?, expected_kind))
}

/// Prefixes a format error with the file it was found in.
fn in_file<T>(path: &Path, result: Result<T>) -> Result<T> {
    result.map_err(|e| match e {
        Error::Format(m) => Error::Format(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Reads and validates an oximl file held in memory (copied once), which must be of kind `expected_kind`.
///
/// ```
/// let e = oximl_core::io::from_bytes(b"not a model", "demo").unwrap_err();
/// assert!(matches!(e, oximl_core::Error::Format(_)));
/// ```
pub fn from_bytes(bytes: &[u8], expected_kind: &str) -> Result<Loaded> {
    Loaded::parse(Storage::Owned(bytes.to_vec()), expected_kind)
}

/// Whether `bytes` start like an oximl (safetensors) file: a plausible little-endian header length followed by `{`.
pub(crate) fn looks_like_oximl(bytes: &[u8]) -> bool {
    if bytes.len() < 9 {
        return false;
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[..8]);
    let n = u64::from_le_bytes(n);
    bytes[8] == b'{' && n >= 2 && n <= bytes.len() as u64 - 8
}
