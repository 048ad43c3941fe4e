//! The one oximl model file, shared by every model kind.
//!
//! A file is a plain [safetensors](https://huggingface.co/docs/safetensors) file (so Python users can open it with
//! the `safetensors` package) whose string metadata holds one entry, key [`METADATA_KEY`], a JSON object:
//!
//! ```json
//! {"format": "oximl", "version": 1, "kind": "embeddings", "config": {...}, "checksum": "0123456789abcdef"}
//! ```
//!
//! - `kind` names the model (`"sequential"`, `"mf"`, `"embeddings"`, ...) and `config` is that model's own JSON.
//! - `checksum` is the XXH3-64 hash (hex) of the tensors' names, dtypes, shapes and bytes, in name order: a flipped
//!   byte anywhere in the tensor data is caught on load.
//!
//! Loading ([`load`], [`from_bytes`]) refuses, with [`Error::Format`], anything that is not exactly that: a
//! truncated or corrupted file, another format, another kind, a newer version, unsupported dtypes. Shapes and dtypes
//! are checked again when a tensor is read ([`Loaded::tensor`]). Files are written atomically (a temporary file in
//! the same directory, synced, then renamed) and memory-mapped on load.
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
use ndarray::{Array2, ArrayD, ArrayView, Dimension, IxDyn};
use safetensors::{Dtype, SafeTensors, View};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use xxhash_rust::xxh3::Xxh3Default;

mod persist;
pub use persist::Persist;

/// The value of the `format` field.
pub const FORMAT: &str = "oximl";
/// The newest format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The safetensors metadata key under which the oximl JSON header is stored.
pub const METADATA_KEY: &str = "oximl";

/// The element types an oximl file may hold.
///
/// ```
/// assert_eq!(oximl_core::io::DType::F32.size(), 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `u8` (also raw bytes, e.g. UTF-8 text)
    U8,
    /// `i64`
    I64,
    /// `u64`
    U64,
}

impl DType {
    /// Bytes per element.
    ///
    /// ```
    /// assert_eq!(oximl_core::io::DType::U8.size(), 1);
    /// ```
    pub fn size(self) -> usize {
        match self {
            DType::U8 => 1,
            DType::F32 => 4,
            DType::F64 | DType::I64 | DType::U64 => 8,
        }
    }

    /// The safetensors spelling (`"F32"`, ...).
    ///
    /// ```
    /// assert_eq!(oximl_core::io::DType::I64.name(), "I64");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "F32",
            DType::F64 => "F64",
            DType::U8 => "U8",
            DType::I64 => "I64",
            DType::U64 => "U64",
        }
    }

    fn to_safetensors(self) -> Dtype {
        match self {
            DType::F32 => Dtype::F32,
            DType::F64 => Dtype::F64,
            DType::U8 => Dtype::U8,
            DType::I64 => Dtype::I64,
            DType::U64 => Dtype::U64,
        }
    }

    fn from_safetensors(d: Dtype) -> Option<DType> {
        Some(match d {
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
            Dtype::U8 => DType::U8,
            Dtype::I64 => DType::I64,
            Dtype::U64 => DType::U64,
            _ => return None,
        })
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust element type stored in oximl files: `f32`, `f64`, `u8`, `i64`, `u64` (little-endian on disk).
///
/// ```
/// use oximl_core::io::{DType, Element};
/// assert_eq!(<f64 as Element>::DTYPE, DType::F64);
/// ```
pub trait Element: Copy + Send + Sync + sealed::Sealed + 'static {
    /// Its dtype in the file.
    const DTYPE: DType;
    /// Reads one element from its little-endian bytes (exactly `DTYPE.size()` of them).
    fn from_le(bytes: &[u8]) -> Self;
    /// Appends its little-endian bytes.
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($t:ty, $d:ident, $n:literal) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline(always)]
            fn from_le(bytes: &[u8]) -> Self {
                let mut b = [0u8; $n];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
            #[inline(always)]
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    };
}
element!(f32, F32, 4);
element!(f64, F64, 8);
element!(u8, U8, 1);
element!(i64, I64, 8);
element!(u64, U64, 8);

/// A tensor to save: dtype, shape and little-endian bytes, borrowed from an array when its memory already has
/// that layout (a standard-layout array on a little-endian machine), copied otherwise.
///
/// ```
/// use ndarray::array;
/// use oximl_core::io::{DType, TensorRef};
/// let a = array![[1.0f64, 2.0, 3.0]];
/// let t = TensorRef::new(a.t()); // transposed views are fine (copied in row-major order)
/// assert_eq!((t.dtype(), t.shape()), (DType::F64, &[3usize, 1][..]));
/// ```
#[derive(Clone, Debug)]
pub struct TensorRef<'a> {
    dtype: DType,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

impl<'a> TensorRef<'a> {
    /// A tensor from an array view of any shape and strides.
    ///
    /// ```
    /// let v = ndarray::Array1::<u64>::from(vec![1, 2]);
    /// assert_eq!(oximl_core::io::TensorRef::new(v.view()).shape(), &[2]);
    /// ```
    pub fn new<T: Element, D: Dimension>(a: ArrayView<'a, T, D>) -> TensorRef<'a> {
        let shape = a.shape().to_vec();
        let data = match a.to_slice() {
            // SAFETY: `T` is one of the plain numeric types of `Element` (no padding, every byte initialised);
            // the byte slice covers exactly the elements of `s` and lives as long as it does. On a
            // little-endian machine these bytes are the little-endian encoding the file needs.
            Some(s) if cfg!(target_endian = "little") => {
                Cow::Borrowed(unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) })
            }
            _ => {
                let mut out = Vec::with_capacity(a.len() * T::DTYPE.size());
                for &v in a.iter() {
                    v.put_le(&mut out);
                }
                Cow::Owned(out)
            }
        };
        TensorRef { dtype: T::DTYPE, shape, data }
    }

    /// A one-dimensional `U8` tensor of raw bytes (e.g. UTF-8 text).
    ///
    /// ```
    /// assert_eq!(oximl_core::io::TensorRef::bytes(b"abc").shape(), &[3]);
    /// ```
    pub fn bytes(data: &'a [u8]) -> TensorRef<'a> {
        TensorRef { dtype: DType::U8, shape: vec![data.len()], data: Cow::Borrowed(data) }
    }

    /// Its element type.
    ///
    /// ```
    /// assert_eq!(oximl_core::io::TensorRef::bytes(b"").dtype(), oximl_core::io::DType::U8);
    /// ```
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Its shape.
    ///
    /// ```
    /// assert_eq!(oximl_core::io::TensorRef::bytes(b"ab").shape(), &[2]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
}

impl View for &TensorRef<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype.to_safetensors()
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// XXH3-64 of the tensors in name order; every part is preceded by its length (little-endian `u64`), so
/// `("ab", "c")` and `("a", "bc")` differ.
fn checksum_of<'b>(tensors: impl Iterator<Item = (&'b str, DType, &'b [usize], &'b [u8])>) -> String {
    let sorted: BTreeMap<&str, (DType, &[usize], &[u8])> = tensors.map(|(n, d, s, b)| (n, (d, s, b))).collect();
    let mut h = Xxh3Default::new();
    let mut part = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for (name, (dtype, shape, bytes)) in sorted {
        part(name.as_bytes());
        part(dtype.name().as_bytes());
        let dims: Vec<u8> = shape.iter().flat_map(|&d| (d as u64).to_le_bytes()).collect();
        part(&dims);
        part(bytes);
    }
    format!("{:016x}", h.digest())
}

fn header(kind: &str, config: &Value, tensors: &[(&str, TensorRef<'_>)]) -> Result<HashMap<String, String>> {
    if kind.is_empty() {
        return Err(Error::invalid("kind", "must not be empty"));
    }
    let mut seen = std::collections::HashSet::new();
    for (name, t) in tensors {
        if !seen.insert(*name) {
            return Err(Error::invalid("tensors", format!("tensor name `{name}` appears twice")));
        }
        let elements = t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if elements.and_then(|e| e.checked_mul(t.dtype.size())) != Some(t.data.len()) {
            return Err(Error::shape(
                format!("{} bytes for tensor `{name}`", t.data.len()),
                format!("shape {:?} of {}", t.shape, t.dtype.name()),
            ));
        }
    }
    let sum = checksum_of(tensors.iter().map(|(n, t)| (*n, t.dtype, &t.shape[..], &t.data[..])));
    let json =
        serde_json::json!({"format": FORMAT, "version": VERSION, "kind": kind, "config": config, "checksum": sum});
    Ok(HashMap::from([(METADATA_KEY.to_string(), json.to_string())]))
}

fn st_error(e: safetensors::SafeTensorError) -> Error {
    Error::Format(format!("not a valid safetensors file: {e}"))
}

/// Serializes a model into the bytes of an oximl file (what [`save`] writes).
///
/// ```
/// let bytes = oximl_core::io::to_bytes("demo", &serde_json::json!({}), &[]).unwrap();
/// assert!(oximl_core::io::from_bytes(&bytes, "demo").is_ok());
/// ```
pub fn to_bytes(kind: &str, config: &Value, tensors: &[(&str, TensorRef<'_>)]) -> Result<Vec<u8>> {
    let meta = header(kind, config, tensors)?;
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
    let meta = header(kind, config, tensors)?;
    write_atomically(path, |tmp| {
        safetensors::serialize_to_file(tensors.iter().map(|(n, t)| (*n, t)), Some(meta), tmp).map_err(|e| match e {
            safetensors::SafeTensorError::IoError(io) => Error::io(tmp, io),
            other => st_error(other),
        })
    })
}

/// Runs `write` on a temporary path next to `path`, syncs it and renames it to `path`; the temporary file is
/// removed on failure.
pub(crate) fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| Error::invalid("path", format!("{} is not a file", path.display())))?;
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id()));
    let result = write(&tmp).and_then(|()| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically (see [`save`]).
pub(crate) fn write_bytes_atomically(
    path: &Path,
    bytes: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_atomically(path, |tmp| {
        let file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        bytes(&mut w).and_then(|()| w.flush()).map_err(|e| Error::io(tmp, e))
    })
}

/// The bytes of a file: a memory map or an owned buffer.
pub(crate) enum Storage {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Storage {
    /// Maps `path` into memory (an empty file becomes an empty buffer, which cannot be mapped).
    pub(crate) fn open(path: &Path) -> Result<Storage> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Ok(Storage::Owned(Vec::new()));
        }
        // SAFETY: the map is read-only; as with every memory-mapped file, another process truncating or rewriting
        // the file while it is loaded is outside what oximl can guard against (its writes go through a rename,
        // which leaves mapped readers on the old file).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(Storage::Map(map))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Storage::Map(m) => m,
            Storage::Owned(v) => v,
        }
    }
}

#[derive(Clone, Debug)]
struct Info {
    dtype: DType,
    shape: Vec<usize>,
    start: usize,
    end: usize,
}

/// A validated oximl file: its kind, version, config and tensors, which are decoded (and checked against the
/// shape the caller expects) on request.
///
/// ```
/// let bytes = oximl_core::io::to_bytes("demo", &serde_json::json!({"k": "v"}), &[]).unwrap();
/// let l = oximl_core::io::from_bytes(&bytes, "demo").unwrap();
/// assert_eq!((l.kind(), l.version(), l.config()["k"].as_str()), ("demo", 1, Some("v")));
/// ```
pub struct Loaded {
    kind: String,
    version: u32,
    config: Value,
    storage: Storage,
    tensors: BTreeMap<String, Info>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded").field("kind", &self.kind).field("version", &self.version).finish_non_exhaustive()
    }
}

/// Reads and validates the oximl file at `path` (memory-mapped), which must be of kind `expected_kind`.
///
/// ```
/// let e = oximl_core::io::load("/no/such/file.oximl", "demo").unwrap_err();
/// assert_eq!(e.code(), 4); // Error::Io
/// ```
pub fn load(path: impl AsRef<Path>, expected_kind: &str) -> Result<Loaded> {
    let path = path.as_ref();
    Loaded::parse(Storage::open(path)?, expected_kind).map_err(|e| match e {
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

impl Loaded {
    fn parse(storage: Storage, expected_kind: &str) -> Result<Loaded> {
        let bytes = storage.bytes();
        if bytes.is_empty() {
            return Err(Error::Format("empty file".into()));
        }
        let st = SafeTensors::deserialize(bytes).map_err(st_error)?;
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(st_error)?;
        let raw = meta.metadata().as_ref().and_then(|m| m.get(METADATA_KEY)).ok_or_else(|| {
            Error::Format(format!("a safetensors file without oximl metadata (key `{METADATA_KEY}`)"))
        })?;
        let head: Value =
            serde_json::from_str(raw).map_err(|e| Error::Format(format!("oximl metadata is not valid JSON: {e}")))?;
        if head.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(Error::Format(format!("metadata `format` is not \"{FORMAT}\"")));
        }
        let version = head
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::Format("metadata has no integer `version`".into()))?;
        if version > u64::from(VERSION) {
            return Err(Error::Format(format!(
                "written by a newer oximl (file format version {version}); this build reads versions up to {VERSION}"
            )));
        }
        if version == 0 {
            return Err(Error::Format("file format version 0 does not exist".into()));
        }
        let kind =
            head.get("kind").and_then(Value::as_str).ok_or_else(|| Error::Format("metadata has no `kind`".into()))?;
        if kind != expected_kind {
            return Err(Error::Format(format!("the file holds a `{kind}` model, expected `{expected_kind}`")));
        }
        let config = head.get("config").cloned().ok_or_else(|| Error::Format("metadata has no `config`".into()))?;
        let mut tensors = BTreeMap::new();
        let base = bytes.as_ptr() as usize;
        for (name, view) in st.iter() {
            let dtype = DType::from_safetensors(view.dtype())
                .ok_or_else(|| Error::Format(format!("tensor `{name}` has unsupported dtype {:?}", view.dtype())))?;
            let start = view.data().as_ptr() as usize - base;
            let info = Info { dtype, shape: view.shape().to_vec(), start, end: start + view.data().len() };
            tensors.insert(name.to_string(), info);
        }
        let expected =
            head.get("checksum").and_then(Value::as_str).ok_or_else(|| Error::Format("no `checksum`".into()))?;
        let actual =
            checksum_of(tensors.iter().map(|(n, i)| (n.as_str(), i.dtype, &i.shape[..], &bytes[i.start..i.end])));
        if actual != expected {
            return Err(Error::Format("checksum mismatch: the tensor data is corrupted".into()));
        }
        let kind = kind.to_string();
        let version = version as u32;
        Ok(Loaded { kind, version, config, storage, tensors })
    }

    /// The model kind (`"embeddings"`, ...).
    ///
    /// ```
    /// let b = oximl_core::io::to_bytes("mf", &serde_json::json!({}), &[]).unwrap();
    /// assert_eq!(oximl_core::io::from_bytes(&b, "mf").unwrap().kind(), "mf");
    /// ```
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The format version the file was written with.
    ///
    /// ```
    /// let b = oximl_core::io::to_bytes("mf", &serde_json::json!({}), &[]).unwrap();
    /// assert_eq!(oximl_core::io::from_bytes(&b, "mf").unwrap().version(), oximl_core::io::VERSION);
    /// ```
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The model's configuration as saved.
    ///
    /// ```
    /// let b = oximl_core::io::to_bytes("mf", &serde_json::json!({"rank": 8}), &[]).unwrap();
    /// assert_eq!(oximl_core::io::from_bytes(&b, "mf").unwrap().config()["rank"], 8);
    /// ```
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// The tensor names, sorted.
    ///
    /// ```
    /// use oximl_core::io::{self, TensorRef};
    /// let b = io::to_bytes("k", &serde_json::json!({}), &[("z", TensorRef::bytes(b"1")), ("a", TensorRef::bytes(b""))]).unwrap();
    /// assert_eq!(io::from_bytes(&b, "k").unwrap().names(), vec!["a", "z"]);
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }

    /// The dtype and shape of tensor `name`, if present.
    ///
    /// ```
    /// use oximl_core::io::{self, DType, TensorRef};
    /// let b = io::to_bytes("k", &serde_json::json!({}), &[("t", TensorRef::bytes(b"12"))]).unwrap();
    /// assert_eq!(io::from_bytes(&b, "k").unwrap().info("t"), Some((DType::U8, &[2usize][..])));
    /// ```
    pub fn info(&self, name: &str) -> Option<(DType, &[usize])> {
        self.tensors.get(name).map(|i| (i.dtype, &i.shape[..]))
    }

    fn checked(&self, name: &str, dtype: DType, expected: &[Option<usize>]) -> Result<&Info> {
        let info = self.tensors.get(name).ok_or_else(|| Error::Format(format!("tensor `{name}` is missing")))?;
        if info.dtype != dtype {
            return Err(Error::Format(format!(
                "tensor `{name}` has dtype {}, expected {}",
                info.dtype.name(),
                dtype.name()
            )));
        }
        let fits = info.shape.len() == expected.len()
            && info.shape.iter().zip(expected).all(|(&d, e)| e.is_none_or(|e| e == d));
        if !fits {
            let want: Vec<String> = expected.iter().map(|e| e.map_or("_".to_string(), |d| d.to_string())).collect();
            return Err(Error::Format(format!(
                "tensor `{name}` has shape {:?}, expected [{}]",
                info.shape,
                want.join(", ")
            )));
        }
        Ok(info)
    }

    /// Decodes tensor `name` as elements of `T`, checking its dtype and its shape against `expected` (`None` = any
    /// length on that axis). A mismatch is an [`Error::Format`].
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::io::{self, TensorRef};
    /// let a = array![[1i64, 2, 3]];
    /// let b = io::to_bytes("k", &serde_json::json!({}), &[("a", TensorRef::new(a.view()))]).unwrap();
    /// let l = io::from_bytes(&b, "k").unwrap();
    /// assert_eq!(l.tensor::<i64>("a", &[Some(1), None]).unwrap(), a.into_dyn());
    /// assert!(l.tensor::<f32>("a", &[Some(1), None]).is_err()); // wrong dtype
    /// assert!(l.tensor::<i64>("a", &[Some(2), None]).is_err()); // wrong shape
    /// ```
    pub fn tensor<T: Element>(&self, name: &str, expected: &[Option<usize>]) -> Result<ArrayD<T>> {
        let info = self.checked(name, T::DTYPE, expected)?;
        let bytes = &self.storage.bytes()[info.start..info.end];
        let values: Vec<T> = bytes.chunks_exact(T::DTYPE.size()).map(T::from_le).collect();
        ArrayD::from_shape_vec(IxDyn(&info.shape), values)
            .map_err(|e| Error::Format(format!("tensor `{name}` does not match its shape: {e}")))
    }

    /// [`Loaded::tensor`] for a matrix of `rows × cols` (`None` = any).
    ///
    /// ```
    /// use ndarray::array;
    /// use oximl_core::io::{self, TensorRef};
    /// let w = array![[1.0f32, 2.0]];
    /// let b = io::to_bytes("k", &serde_json::json!({}), &[("w", TensorRef::new(w.view()))]).unwrap();
    /// assert_eq!(io::from_bytes(&b, "k").unwrap().matrix::<f32>("w", None, Some(2)).unwrap(), w);
    /// ```
    pub fn matrix<T: Element>(&self, name: &str, rows: Option<usize>, cols: Option<usize>) -> Result<Array2<T>> {
        self.tensor::<T>(name, &[rows, cols])?
            .into_dimensionality()
            .map_err(|e| Error::Format(format!("tensor `{name}`: {e}")))
    }

    /// The raw bytes of the one-dimensional `U8` tensor `name`, without a copy.
    ///
    /// ```
    /// use oximl_core::io::{self, TensorRef};
    /// let b = io::to_bytes("k", &serde_json::json!({}), &[("text", TensorRef::bytes("héllo".as_bytes()))]).unwrap();
    /// assert_eq!(io::from_bytes(&b, "k").unwrap().bytes("text").unwrap(), "héllo".as_bytes());
    /// ```
    pub fn bytes(&self, name: &str) -> Result<&[u8]> {
        let info = self.checked(name, DType::U8, &[None])?;
        Ok(&self.storage.bytes()[info.start..info.end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn sample() -> Vec<u8> {
        let w = array![[1.0f32, -2.0, 3.5], [0.25, 5.0, -6.0]];
        let ids = array![7i64, -8];
        to_bytes(
            "sequential",
            &serde_json::json!({"layers": [3, 2]}),
            &[("w", TensorRef::new(w.view())), ("ids", TensorRef::new(ids.view())), ("name", TensorRef::bytes(b"x"))],
        )
        .unwrap()
    }

    fn format_err(r: Result<Loaded>) -> String {
        match r {
            Err(Error::Format(m)) => m,
            other => panic!("expected a format error, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_in_memory_and_on_disk() {
        let dir = std::env::temp_dir().join(format!("oximl-io-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.oximl");
        let w = array![[1.0f32, -2.0, 3.5], [0.25, 5.0, -6.0]];
        let wt = w.t();
        save(
            &path,
            "sequential",
            &serde_json::json!({"a": [1, 2]}),
            &[("w", TensorRef::new(w.view())), ("wt", TensorRef::new(wt))],
        )
        .unwrap();
        let l = load(&path, "sequential").unwrap();
        assert_eq!(l.config()["a"][1], 2);
        assert_eq!(l.matrix::<f32>("w", Some(2), Some(3)).unwrap(), w);
        assert_eq!(l.matrix::<f32>("wt", Some(3), Some(2)).unwrap(), wt);
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
        let l = from_bytes(&sample(), "sequential").unwrap();
        assert_eq!(l.tensor::<i64>("ids", &[Some(2)]).unwrap(), array![7i64, -8].into_dyn());
        assert_eq!(l.bytes("name").unwrap(), b"x");
        assert!(looks_like_oximl(&sample()));
    }

    #[test]
    fn every_truncation_is_a_format_error() {
        let b = sample();
        for n in 0..b.len() {
            format_err(from_bytes(&b[..n], "sequential"));
        }
    }

    #[test]
    fn every_flipped_bit_changes_the_checksum() {
        let data: Vec<u8> = (0..100u8).collect();
        let sum =
            |name: &str, shape: &[usize], bytes: &[u8]| checksum_of([(name, DType::F32, shape, bytes)].into_iter());
        let base = sum("w", &[25], &data);
        for i in 0..data.len() {
            for bit in 0..8 {
                let mut d = data.clone();
                d[i] ^= 1 << bit;
                assert_ne!(sum("w", &[25], &d), base, "byte {i} bit {bit}");
            }
        }
        assert_ne!(sum("v", &[25], &data), base);
        assert_ne!(sum("w", &[5, 5], &data), base);
        // Parts are length-delimited: moving a byte from the name into the data changes the sum.
        assert_ne!(sum("ab", &[0], b"c"), sum("a", &[0], b"bc"));
    }

    #[test]
    fn every_flipped_byte_is_a_format_error() {
        let b = sample();
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x5a;
            match from_bytes(&c, "sequential") {
                Err(Error::Format(_)) => {}
                // A flip inside padding spaces or a JSON string can leave a valid file; it must then still read
                // back the same tensors.
                Ok(l) => assert_eq!(l.matrix::<f32>("w", Some(2), Some(3)).unwrap()[[1, 2]], -6.0, "byte {i}"),
                Err(e) => panic!("byte {i}: {e}"),
            }
        }
    }

    #[test]
    fn wrong_kind_newer_version_wrong_dtype_and_shape() {
        let m = format_err(from_bytes(&sample(), "mf"));
        assert!(m.contains("`sequential`") && m.contains("`mf`"), "{m}");
        let l = from_bytes(&sample(), "sequential").unwrap();
        assert!(matches!(l.matrix::<f64>("w", None, None), Err(Error::Format(m)) if m.contains("F32")));
        assert!(matches!(l.matrix::<f32>("w", Some(3), None), Err(Error::Format(_))));
        assert!(matches!(l.matrix::<f32>("missing", None, None), Err(Error::Format(_))));
        // A file from a future version: rewrite the metadata by hand.
        let meta = HashMap::from([(
            METADATA_KEY.to_string(),
            serde_json::json!({"format": "oximl", "version": VERSION + 1, "kind": "mf", "config": {}, "checksum": ""})
                .to_string(),
        )]);
        let b = safetensors::serialize(Vec::<(&str, &TensorRef<'_>)>::new(), Some(meta)).unwrap();
        let m = format_err(from_bytes(&b, "mf"));
        assert!(m.contains("newer"), "{m}");
        // A plain safetensors file without our metadata.
        let b = safetensors::serialize(Vec::<(&str, &TensorRef<'_>)>::new(), None).unwrap();
        format_err(from_bytes(&b, "mf"));
        // Unsupported dtype.
        let t = safetensors::tensor::TensorView::new(Dtype::F16, vec![1], &[0, 0]).unwrap();
        let meta = HashMap::from([(
            METADATA_KEY.to_string(),
            serde_json::json!({"format": "oximl", "version": 1, "kind": "mf", "config": {}, "checksum": ""})
                .to_string(),
        )]);
        let b = safetensors::serialize([("h", t)], Some(meta)).unwrap();
        assert!(format_err(from_bytes(&b, "mf")).contains("dtype"));
        format_err(from_bytes(&b, "mf"));
    }

    #[test]
    fn bad_save_arguments() {
        let a = TensorRef::bytes(b"1");
        assert!(matches!(to_bytes("", &Value::Null, &[]), Err(Error::InvalidArgument { .. })));
        assert!(matches!(
            to_bytes("k", &Value::Null, &[("a", a.clone()), ("a", a)]),
            Err(Error::InvalidArgument { .. })
        ));
    }
}
