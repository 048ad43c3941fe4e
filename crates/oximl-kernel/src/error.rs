//! The kernel's own small error type; `oximl_core::Error` converts from it.

/// What can go wrong in a kernel call: every variant is a caller's mistake, reported before any work is done.
///
/// ```
/// use ndarray::{Array1, Array2};
/// let err = oximl_kernel::dot(Array1::<f32>::zeros(3).view(), Array1::zeros(4).view()).unwrap_err();
/// assert!(matches!(err, oximl_kernel::KernelError::Shape { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// Operand shapes that do not fit together.
    #[error("{op}: shape mismatch: expected {expected}, got {got}")]
    Shape {
        /// The operation that refused its operands.
        op: &'static str,
        /// The shape it needed.
        expected: String,
        /// The shape it was given.
        got: String,
    },
    /// An argument outside its valid range.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// Why it was refused.
        reason: String,
    },
}

/// The kernel's result type.
pub type Result<T> = std::result::Result<T, KernelError>;

/// Returns a [`KernelError::Shape`] for `op` unless `got == expected`.
pub(crate) fn check_shape(op: &'static str, expected: &[usize], got: &[usize]) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(KernelError::Shape { op, expected: format!("{expected:?}"), got: format!("{got:?}") })
    }
}
