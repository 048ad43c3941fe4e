//! `oximl_cancel`: a token that stops a long operation (training, loading, batch embedding) from another thread.

use crate::convert::{boxed, handle, out_slot, release};
use crate::{guard, oximl_status};
use oximl_core::{Cancel, Result};

/// A cancellation token. Pass it to a long operation; `oximl_cancel_cancel` from any thread makes that operation
/// return `OXIML_STATUS_CANCELLED` soon after, leaving its inputs as they were. Every function on a token is
/// thread-safe except `oximl_cancel_free`.
pub struct oximl_cancel {
    token: Cancel,
}
impl crate::convert::Handle for oximl_cancel {
    const NAME: &str = "oximl_cancel";
}

/// The token a long operation polls: the caller's, or one never cancelled when `cancel` is NULL.
pub(crate) fn token(cancel: *const oximl_cancel) -> Result<Cancel> {
    match cancel.is_null() {
        true => Ok(Cancel::new()),
        false => Ok(handle("cancel", cancel)?.token.clone()),
    }
}

/// Creates a token, not yet cancelled; free it with `oximl_cancel_free`. Thread-safe.
///
/// ```c
/// oximl_cancel *cancel = NULL;
/// oximl_cancel_new(&cancel);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_cancel_new(out: *mut *mut oximl_cancel) -> oximl_status {
    guard(|| {
        boxed(oximl_cancel { token: Cancel::new() }, out_slot("out", out)?);
        Ok(())
    })
}

/// Cancels every operation running (or started later) with `cancel`. Thread-safe: call it from any thread,
/// including a signal-watching one, while the operation runs on another.
///
/// ```c
/// oximl_cancel_cancel(cancel);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_cancel_cancel(cancel: *const oximl_cancel) -> oximl_status {
    guard(|| {
        handle("cancel", cancel)?.token.cancel();
        Ok(())
    })
}

/// Releases a token; NULL is a no-op. No operation may still be using it.
///
/// ```c
/// oximl_cancel_free(cancel);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_cancel_free(cancel: *mut oximl_cancel) {
    release(cancel)
}
