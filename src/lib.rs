//! # oximl
//!
//! Embeddable machine learning on the CPU: dense neural networks, recommenders and sentence embeddings, trained,
//! saved and served from Rust, C and Python, all computing through one SIMD + rayon kernel.
//!
//! This crate is the facade Rust programs depend on; it re-exports [`oximl_core`].
//!
//! ```
//! use ndarray::array;
//! // Every feature computes through the one kernel, here directly:
//! let a = array![[1.0f32, 2.0], [3.0, 4.0]];
//! let c = oximl::kernel::matmul(a.view(), a.t()).unwrap();
//! assert_eq!(c, array![[5.0, 11.0], [11.0, 25.0]]);
//! oximl::set_num_threads(2).unwrap();
//! assert_eq!(oximl::num_threads(), 2);
//! ```

pub use oximl_core::*;
