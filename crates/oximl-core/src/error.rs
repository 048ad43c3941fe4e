//! One error type for the whole library. Every variant has a stable number ([`Error::code`]) from which the
//! C status and the Python exception class are derived.

use oximl_kernel::KernelError;

/// Everything that can go wrong in oximl, as a value: no caller-triggered panics.
///
/// ```
/// use oximl_core::Error;
/// let e = Error::Shape { expected: "3 columns".into(), got: "4 columns".into() };
/// assert_eq!(e.code(), 2);
/// assert_eq!(e.to_string(), "shape mismatch: expected 3 columns, got 4 columns");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument outside its valid range (a hyper-parameter, an index, a name).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// Arrays whose shapes do not fit together or do not fit the model.
    #[error("shape mismatch: expected {expected}, got {got}")]
    Shape {
        /// The shape needed.
        expected: String,
        /// The shape given.
        got: String,
    },
    /// A NaN or infinity in the input, or one that appeared during training.
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// A file could not be read or written.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file or buffer that is not what it claims to be: corrupt, truncated, of another kind or a newer version.
    #[error("invalid format: {0}")]
    Format(String),
    /// A model used before it was trained or loaded.
    #[error("not fitted: {0}")]
    NotFitted(String),
    /// Work stopped by a callback or an interrupt.
    #[error("cancelled: {0}")]
    Cancelled(String),
}

impl Error {
    /// The stable number of the variant: 1 invalid argument, 2 shape, 3 non-finite, 4 I/O, 5 format,
    /// 6 not fitted, 7 cancelled. (0 is success and 255 an internal error in the C API.)
    ///
    /// ```
    /// assert_eq!(oximl_core::Error::NotFitted("model".into()).code(), 6);
    /// ```
    pub fn code(&self) -> u32 {
        match self {
            Error::InvalidArgument { .. } => 1,
            Error::Shape { .. } => 2,
            Error::NonFinite(_) => 3,
            Error::Io { .. } => 4,
            Error::Format(_) => 5,
            Error::NotFitted(_) => 6,
            Error::Cancelled(_) => 7,
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    ///
    /// ```
    /// let e = oximl_core::Error::invalid("epochs", "must be at least 1");
    /// assert_eq!(e.to_string(), "invalid argument `epochs`: must be at least 1");
    /// ```
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidArgument { name: name.into(), reason: reason.into() }
    }

    /// Shorthand for [`Error::Shape`].
    ///
    /// ```
    /// assert_eq!(oximl_core::Error::shape("2×3", "3×2").code(), 2);
    /// ```
    pub fn shape(expected: impl Into<String>, got: impl Into<String>) -> Error {
        Error::Shape { expected: expected.into(), got: got.into() }
    }

    /// Shorthand for [`Error::Io`] on `path`.
    ///
    /// ```
    /// let e = oximl_core::Error::io("model.oximl", std::io::Error::from(std::io::ErrorKind::NotFound));
    /// assert_eq!(e.code(), 4);
    /// ```
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Error {
        Error::Io { path: path.as_ref().display().to_string(), source }
    }
}

impl From<KernelError> for Error {
    fn from(e: KernelError) -> Error {
        match e {
            KernelError::Shape { op, expected, got } => Error::Shape { expected: format!("{op}: {expected}"), got },
            KernelError::InvalidArgument { name, reason } => Error::invalid(name, reason),
            other => Error::invalid("kernel", other.to_string()),
        }
    }
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;
