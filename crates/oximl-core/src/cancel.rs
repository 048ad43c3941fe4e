//! [`Cancel`]: how a caller stops a long operation (training, loading, batch embedding) from another thread.
//!
//! Long operations come in two spellings: `op(...)`, which runs to the end, and `op_cancellable(..., &Cancel)`,
//! which polls the token between units of work (an epoch, a block of rows, a chunk of a file) and returns
//! [`Error::Cancelled`] soon after [`Cancel::cancel`] is called, leaving every input as it was. Python's Ctrl-C and
//! the C API's `oximl_cancel` handle both set such a token.

use crate::{Error, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancellation flag shared between the thread that runs an operation and the ones that may stop it; clones
/// share one flag.
///
/// ```
/// use oximl_core::Cancel;
/// let token = Cancel::new();
/// let other = token.clone();
/// assert!(token.check("fit").is_ok());
/// other.cancel();
/// assert!(token.is_cancelled());
/// assert_eq!(token.check("fit").unwrap_err().code(), 7); // Error::Cancelled
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token not yet cancelled.
    ///
    /// ```
    /// assert!(!oximl_core::Cancel::new().is_cancelled());
    /// ```
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks every operation polling this token (or a clone) to stop.
    ///
    /// ```
    /// let t = oximl_core::Cancel::new();
    /// t.cancel();
    /// assert!(t.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`Cancel::cancel`] was called.
    ///
    /// ```
    /// assert!(!oximl_core::Cancel::new().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Error::Cancelled)` naming `what` once cancelled, `Ok` before: the one check long operations poll.
    ///
    /// ```
    /// let t = oximl_core::Cancel::new();
    /// t.cancel();
    /// assert_eq!(t.check("ALS").unwrap_err().to_string(), "cancelled: ALS was cancelled");
    /// ```
    pub fn check(&self, what: &str) -> Result<()> {
        match self.is_cancelled() {
            true => Err(Error::Cancelled(format!("{what} was cancelled"))),
            false => Ok(()),
        }
    }
}
