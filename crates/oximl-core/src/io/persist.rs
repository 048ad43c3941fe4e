//! [`Persist`]: the one way every savable kind (networks, recommenders, embeddings, scalers) goes to and from the
//! oximl file format.

use super::{Loaded, ReadMode, Storage, TensorRef, in_file, looks_like_oximl};
use crate::Result;
use serde_json::Value;
use std::path::Path;

/// A model kind stored in the oximl file format. A kind provides its name, its tensors and config
/// ([`Persist::with_tensors`]) and how to rebuild itself from a validated file ([`Persist::from_loaded`]); saving
/// (atomic), loading (validated), and the in-memory forms come from here, the same for every kind.
///
/// ```
/// use oximl_core::io::Persist;
/// use oximl_core::nn::{Dense, Sequential};
/// let mut m = Sequential::new(3);
/// m.add(Dense::new(2)).unwrap();
/// let path = std::env::temp_dir().join("oximl-doc-persist.oximl");
/// m.save(&path).unwrap();
/// assert_eq!(Sequential::load(&path).unwrap().get_weights(), m.get_weights());
/// assert_eq!(Sequential::from_bytes(&m.to_bytes().unwrap()).unwrap().get_weights(), m.get_weights());
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub trait Persist: Sized {
    /// The `kind` written in the file's header and required on load (`"sequential"`, `"mf"`, ...).
    const KIND: &'static str;

    /// Calls `f` with the model's JSON config and its named tensors (borrowed, not copied).
    fn with_tensors<R>(&self, f: impl FnOnce(&Value, &[(&str, TensorRef<'_>)]) -> Result<R>) -> Result<R>;

    /// Rebuilds the model from a file already validated as of kind [`Persist::KIND`]; checks what only the kind
    /// knows (config keys, tensor shapes, value ranges).
    fn from_loaded(file: &Loaded) -> Result<Self>;

    /// Reads what an older oximl saved for this kind in another format (bytes that are not an oximl file), or
    /// `None` (the default) if the kind never had another format. Scalers use it for their former JSON files.
    fn from_legacy(bytes: &[u8]) -> Option<Result<Self>> {
        let _ = bytes;
        None
    }

    /// Saves the model to `path` atomically (a crash leaves the old file intact).
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.with_tensors(|config, tensors| super::save(path.as_ref(), Self::KIND, config, tensors))
    }

    /// Loads a model saved by [`Persist::save`] (from Rust, C or Python), validating everything.
    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(path, ReadMode::Map)
    }

    /// [`Persist::load`] with the file brought into memory as `mode` says ([`ReadMode::Copy`] avoids the
    /// `SIGBUS` risk of a memory-mapped file that another program truncates).
    ///
    /// ```
    /// use oximl_core::io::{Persist, ReadMode};
    /// use oximl_core::nn::{Dense, Sequential};
    /// let mut m = Sequential::new(2);
    /// m.add(Dense::new(1)).unwrap();
    /// let path = std::env::temp_dir().join("oximl-doc-load-with.oximl");
    /// m.save(&path).unwrap();
    /// assert_eq!(Sequential::load_with(&path, ReadMode::Copy).unwrap().get_weights(), m.get_weights());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    fn load_with(path: impl AsRef<Path>, mode: ReadMode) -> Result<Self> {
        let path = path.as_ref();
        let storage = Storage::read(path, mode)?;
        in_file(
            path,
            match Self::from_legacy(storage.bytes()).filter(|_| !looks_like_oximl(storage.bytes())) {
                Some(old) => old,
                None => Loaded::parse(storage, Self::KIND).and_then(|file| Self::from_loaded(&file)),
            },
        )
    }

    /// The model as the bytes of an oximl file (what [`Persist::save`] writes).
    fn to_bytes(&self) -> Result<Vec<u8>> {
        self.with_tensors(|config, tensors| super::to_bytes(Self::KIND, config, tensors))
    }

    /// Reads a model from bytes made by [`Persist::to_bytes`].
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        match Self::from_legacy(bytes).filter(|_| !looks_like_oximl(bytes)) {
            Some(old) => old,
            None => Self::from_loaded(&super::from_bytes(bytes, Self::KIND)?),
        }
    }
}
