//! oximl's core: models, training and file formats, all computing through [`kernel`].
//!
//! - [`data`]: CSV loading, missing values, scalers, one-hot labels, splits, batches, shipped datasets.
//! - [`nn`] and [`optim`]: Keras-style dense networks, their losses, metrics, optimizers and callbacks.
//! - [`mf`]: recommenders by matrix factorization (SGD, ALS, implicit ALS) and ranking metrics.
//! - [`embed`]: pretrained word vectors, normalized sentence vectors, nearest neighbours.
//! - [`interchange`]: ONNX export and import of dense networks.
//! - [`io`]: the one model file format (safetensors + JSON metadata) that Rust, C and Python share; every savable
//!   kind implements [`Persist`] (`save`, `load`, `to_bytes`, `from_bytes`).
//! - [`Cancel`]: stops a long operation from another thread (Ctrl-C in Python, `oximl_cancel` in C).
//! - [`Error`]: the one error type; [`set_num_threads`]: the size of the library's own thread pool.
//!
//! Arrays are [`ndarray`] arrays, re-exported so that callers use the same version.
//!
//! ```
//! oximl_core::set_num_threads(2).unwrap();
//! assert_eq!(oximl_core::num_threads(), 2);
//! ```

pub mod cancel;
pub mod compress;
pub mod data;
pub mod embed;
pub mod error;
pub mod interchange;
pub mod io;
pub mod mf;
pub mod nn;
pub mod optim;

pub use cancel::Cancel;
pub use error::{Error, Result};
pub use io::Persist;
pub use ndarray;
pub use oximl_kernel as kernel;

/// The library's version, as in `Cargo.toml`.
///
/// ```
/// assert!(oximl_core::VERSION.starts_with("0."));
/// ```
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Sets the number of threads of oximl's own pool (0 = one per physical core). The global rayon pool of the
/// program is never touched.
///
/// ```
/// oximl_core::set_num_threads(0).unwrap();
/// ```
pub fn set_num_threads(threads: usize) -> Result<()> {
    Ok(oximl_kernel::set_num_threads(threads)?)
}

/// The number of threads of oximl's pool.
///
/// ```
/// assert!(oximl_core::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    oximl_kernel::num_threads()
}
