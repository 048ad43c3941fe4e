//! The tensors of an oximl file: their element types ([`DType`], [`Element`]) and the borrowed form they are
//! saved from ([`TensorRef`]).

use ndarray::{ArrayView, Dimension};
use safetensors::{Dtype, View};
use std::borrow::Cow;

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
    /// `i8` (quantized weights)
    I8,
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
            DType::U8 | DType::I8 => 1,
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
            DType::I8 => "I8",
            DType::I64 => "I64",
            DType::U64 => "U64",
        }
    }

    pub(super) fn to_safetensors(self) -> Dtype {
        match self {
            DType::F32 => Dtype::F32,
            DType::F64 => Dtype::F64,
            DType::U8 => Dtype::U8,
            DType::I8 => Dtype::I8,
            DType::I64 => Dtype::I64,
            DType::U64 => Dtype::U64,
        }
    }

    pub(super) fn from_safetensors(d: Dtype) -> Option<DType> {
        Some(match d {
            Dtype::F32 => DType::F32,
            Dtype::F64 => DType::F64,
            Dtype::U8 => DType::U8,
            Dtype::I8 => DType::I8,
            Dtype::I64 => DType::I64,
            Dtype::U64 => DType::U64,
            _ => return None,
        })
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust element type stored in oximl files: `f32`, `f64`, `u8`, `i8`, `i64`, `u64` (little-endian on disk).
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
element!(i8, I8, 1);
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
    pub(super) dtype: DType,
    pub(super) shape: Vec<usize>,
    pub(super) data: Cow<'a, [u8]>,
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
