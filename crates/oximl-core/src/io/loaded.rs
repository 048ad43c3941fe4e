//! [`Loaded`]: a validated oximl file whose tensors are decoded on request.

use super::files::Storage;
use super::header::{self, Header};
use super::{DType, Element, METADATA_KEY};
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, IxDyn};
use safetensors::SafeTensors;
use serde_json::Value;
use std::collections::BTreeMap;

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
/// assert_eq!((l.kind(), l.version(), l.config()["k"].as_str()), ("demo", oximl_core::io::VERSION, Some("v")));
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

pub(super) fn st_error(e: safetensors::SafeTensorError) -> Error {
    Error::Format(format!("not a valid safetensors file: {e}"))
}

impl Loaded {
    pub(super) fn parse(storage: Storage, expected_kind: &str) -> Result<Loaded> {
        let bytes = storage.bytes();
        if bytes.is_empty() {
            return Err(Error::Format("empty file".into()));
        }
        let st = SafeTensors::deserialize(bytes).map_err(st_error)?;
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(st_error)?;
        let raw = meta.metadata().as_ref().and_then(|m| m.get(METADATA_KEY)).ok_or_else(|| {
            Error::Format(format!("a safetensors file without oximl metadata (key `{METADATA_KEY}`)"))
        })?;
        let (header, signed) = header::parse(raw)?;
        if header.kind != expected_kind {
            return Err(Error::Format(format!("the file holds a `{}` model, expected `{expected_kind}`", header.kind)));
        }
        let mut tensors = BTreeMap::new();
        let base = bytes.as_ptr() as usize;
        for (name, view) in st.iter() {
            let dtype = DType::from_safetensors(view.dtype())
                .ok_or_else(|| Error::Format(format!("tensor `{name}` has unsupported dtype {:?}", view.dtype())))?;
            let start = view.data().as_ptr() as usize - base;
            let info = Info { dtype, shape: view.shape().to_vec(), start, end: start + view.data().len() };
            tensors.insert(name.to_string(), info);
        }
        let actual = header::checksum(
            signed,
            tensors.iter().map(|(n, i)| (n.as_str(), i.dtype, &i.shape[..], &bytes[i.start..i.end])),
        );
        if actual != header.checksum {
            return Err(Error::Format("checksum mismatch: the file is corrupted".into()));
        }
        let Header { kind, version, config, .. } = header;
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
