//! The C ABI of oximl as a Rust library; the package `oximl-ffi` (bindings/c/cdylib) exports it as `liboximl.so`
//! and `liboximl.a`, and cbindgen generates `include/oximl.h` from it.
//!
//! Conventions, the same for every function:
//! - every fallible function returns an [`oximl_status`] (`OXIML_STATUS_OK` = 0) and, on failure, leaves a
//!   message for [`oximl_last_error`] on the calling thread;
//! - no panic crosses the boundary: each entry point runs inside [`guard`], which turns a panic into
//!   `OXIML_STATUS_INTERNAL`;
//! - handles are opaque, created by `oximl_*_new`/`_load` and released by `oximl_*_free` (NULL is a no-op); each
//!   is made by `convert::boxed` and carries a type tag, so a handle of another type (or a freed one) passed by
//!   mistake is an `OXIML_STATUS_INVALID_ARGUMENT` naming the type expected, not memory read as the wrong type;
//! - thread-safety is stated per function: a `const` handle may be used from many threads at once, a mutable
//!   one needs exclusive access, and every handle is `Send + Sync` (checked by a test).
#![allow(non_camel_case_types)]
// Every entry point is called from C, where Rust's `unsafe` marker does not exist: each documents its pointer
// contract, checks for NULL, and dereferences only inside a `// SAFETY:`-commented block.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod cancel;
mod compress;
mod convert;
mod embeddings;
mod ratings;
mod recommender;
mod sequential;

pub use cancel::*;
pub use compress::*;
pub use embeddings::*;
pub use ratings::*;
pub use recommender::*;
pub use sequential::*;

use oximl_core::Error;
use std::cell::{Cell, RefCell};
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

/// Major version of the header; compare with [`oximl_version`] at run time.
pub const OXIML_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const OXIML_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const OXIML_VERSION_PATCH: u32 = 0;

/// The result of every fallible call. The numbers are stable and match `oximl_core::Error::code`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum oximl_status {
    /// Success.
    OXIML_STATUS_OK = 0,
    /// An argument outside its valid range, or a NULL pointer where one is required.
    OXIML_STATUS_INVALID_ARGUMENT = 1,
    /// Array dimensions that do not fit together or do not fit the model.
    OXIML_STATUS_SHAPE = 2,
    /// A NaN or infinity in the input or during training.
    OXIML_STATUS_NON_FINITE = 3,
    /// A file could not be read or written.
    OXIML_STATUS_IO = 4,
    /// A corrupt, truncated, wrong-kind or newer-version file.
    OXIML_STATUS_FORMAT = 5,
    /// A model used before it was trained or loaded.
    OXIML_STATUS_NOT_FITTED = 6,
    /// Work stopped by a callback.
    OXIML_STATUS_CANCELLED = 7,
    /// A bug in oximl (a caught panic); the message says where.
    OXIML_STATUS_INTERNAL = 255,
}

impl From<&Error> for oximl_status {
    fn from(e: &Error) -> oximl_status {
        use oximl_status::*;
        match e.code() {
            1 => OXIML_STATUS_INVALID_ARGUMENT,
            2 => OXIML_STATUS_SHAPE,
            3 => OXIML_STATUS_NON_FINITE,
            4 => OXIML_STATUS_IO,
            5 => OXIML_STATUS_FORMAT,
            6 => OXIML_STATUS_NOT_FITTED,
            7 => OXIML_STATUS_CANCELLED,
            _ => OXIML_STATUS_INTERNAL,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// Whether this thread is running inside [`catch`], where a panic is reported through `oximl_last_error`.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last panic inside [`catch`] on this thread, kept by the panic hook.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn set_last_error(message: String) {
    // A message with an interior NUL is cut there rather than lost.
    let message = CString::new(message).unwrap_or_else(|e| {
        let end = e.nul_position();
        CString::new(e.into_vec()[..end].to_vec()).unwrap_or_default()
    });
    LAST_ERROR.with(|slot| *slot.borrow_mut() = message);
}

/// Installs, once, a panic hook that keeps quiet about panics inside [`catch`] (it records their message and
/// location instead: a library must not write to its host's stderr) and hands every other panic, such as the
/// host's own, to the hook that was there before.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| match CATCHING.with(Cell::get) {
            true => {
                let what = info.payload_as_str().unwrap_or("unknown panic");
                let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
                PANIC.with(|p| *p.borrow_mut() = Some(format!("{what}{at}")));
            }
            false => previous(info),
        }));
    });
}

/// Runs `f`, turning a panic into `Err(message with its location)` without printing anything.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    install_panic_hook();
    PANIC.with(|p| p.borrow_mut().take());
    let outer = CATCHING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(outer));
    // A panic raised on another thread (a worker of the pool) and carried here has no record on this one.
    result.map_err(|payload| {
        PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| {
            let text = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(|s| s.as_str()));
            text.unwrap_or("unknown panic").to_owned()
        })
    })
}

/// Runs one entry point's body: `Ok` → `OXIML_STATUS_OK`; `Err(e)` → its status, with its message kept for
/// [`oximl_last_error`]; a panic → `OXIML_STATUS_INTERNAL`, never unwinding into C and never printing.
pub(crate) fn guard(body: impl FnOnce() -> oximl_core::Result<()>) -> oximl_status {
    match catch(body) {
        Ok(Ok(())) => oximl_status::OXIML_STATUS_OK,
        Ok(Err(e)) => {
            let status = oximl_status::from(&e);
            set_last_error(e.to_string());
            status
        }
        Err(panic) => {
            set_last_error(format!("internal error (please report): {panic}"));
            oximl_status::OXIML_STATUS_INTERNAL
        }
    }
}

/// The library's version as a static NUL-terminated string, e.g. `"0.1.0"`. Never NULL; do not free.
/// Thread-safe.
///
/// ```c
/// printf("oximl %s\n", oximl_version());
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The message of the last failed call on this thread (an empty string if none has failed). Never NULL; the
/// pointer stays valid until the next failing call on this thread. Do not free. Thread-safe: each thread has
/// its own message.
///
/// ```c
/// if (oximl_set_num_threads(1u << 20) != OXIML_STATUS_OK) fprintf(stderr, "%s\n", oximl_last_error());
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_last_error() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().as_ptr())
}

/// Sets the number of threads of oximl's own pool; 0 restores the default (one per physical core).
/// Thread-safe; work already running finishes on the old pool.
///
/// ```c
/// oximl_status s = oximl_set_num_threads(2);
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_set_num_threads(threads: usize) -> oximl_status {
    guard(|| oximl_core::set_num_threads(threads))
}

/// The number of threads of oximl's pool. Thread-safe.
///
/// ```c
/// size_t n = oximl_num_threads();
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn oximl_num_threads() -> usize {
    oximl_core::num_threads()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn header_version_macros_match_the_crate() {
        let v = format!("{OXIML_VERSION_MAJOR}.{OXIML_VERSION_MINOR}.{OXIML_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        let s = unsafe { CStr::from_ptr(oximl_version()) };
        assert_eq!(s.to_str().unwrap(), v);
    }

    #[test]
    fn errors_and_panics_become_statuses_with_messages() {
        assert_eq!(oximl_set_num_threads(1 << 20), oximl_status::OXIML_STATUS_INVALID_ARGUMENT);
        let msg = unsafe { CStr::from_ptr(oximl_last_error()) }.to_str().unwrap().to_owned();
        assert!(msg.contains("threads"), "{msg}");
        assert_eq!(guard(|| panic!("boom")), oximl_status::OXIML_STATUS_INTERNAL);
        let msg = unsafe { CStr::from_ptr(oximl_last_error()) }.to_str().unwrap().to_owned();
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(guard(|| Err(Error::Format("a\0b".into()))), oximl_status::OXIML_STATUS_FORMAT);
        assert_eq!(unsafe { CStr::from_ptr(oximl_last_error()) }.to_str().unwrap(), "invalid format: a");
    }

    /// A panic inside `guard` prints nothing (the host owns stderr) and reports its place; a panic elsewhere still
    /// reaches the previous hook. Checked in a child run of this test binary, whose stderr is captured whole.
    #[test]
    fn caught_panics_stay_off_stderr_and_other_panics_do_not() {
        if std::env::var_os("OXIML_PANIC_CHILD").is_some() {
            assert_eq!(guard(|| panic!("quiet boom")), oximl_status::OXIML_STATUS_INTERNAL);
            let msg = unsafe { CStr::from_ptr(oximl_last_error()) }.to_str().unwrap().to_owned();
            assert!(msg.contains("quiet boom at bindings/c/src/lib.rs:"), "{msg}");
            assert!(catch_unwind(|| panic!("host's own panic")).is_err());
            return;
        }
        let test = "tests::caught_panics_stay_off_stderr_and_other_panics_do_not";
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env("OXIML_PANIC_CHILD", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(child.status.success(), "{stderr}");
        assert!(!stderr.contains("quiet boom"), "{stderr}");
        assert!(stderr.contains("host's own panic"), "{stderr}");
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<oximl_sequential>();
    }

    #[test]
    fn status_numbers_follow_error_codes() {
        for (e, s) in [
            (Error::invalid("x", "y"), 1),
            (Error::shape("a", "b"), 2),
            (Error::NonFinite("n".into()), 3),
            (Error::io("p", std::io::Error::other("o")), 4),
            (Error::Format("f".into()), 5),
            (Error::NotFitted("m".into()), 6),
            (Error::Cancelled("c".into()), 7),
        ] {
            assert_eq!(oximl_status::from(&e) as u32, s);
            assert_eq!(e.code(), s);
        }
    }
}
