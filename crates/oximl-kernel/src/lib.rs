//! The one tensor kernel of oximl: every matrix product and hot loop of every oximl feature runs here.
//!
//! - [`gemm()`] / [`gemm_fused`]: `C = α·op(A)·op(B) + β·C` over strided views (`f32` and `f64`), split over the
//!   library's own rayon pool, with a fused `+ bias` and activation epilogue.
//! - [`elementwise`]: activations and their derivatives, axpy, scale, mul, clamp, exp.
//! - [`reduce`]: sums, dot, norms, argmax, numerically stable softmax and log-softmax per row.
//! - [`qgemm()`] / [`qgemm_fused`]: exact int8 products (`u8` activations × packed `i8` weights, `i32` sums,
//!   VNNI where present) and quantized dense-layer inference with a fused dequantize + bias + activation epilogue.
//! - [`parallel`]: the thread pool ([`set_num_threads`], [`num_threads`]).
//! - [`cpu`]: the instruction-set level the loops run at, detected once ([`CpuLevel`]).
//!
//! Nothing here knows what a model is. Shapes are checked before any work and mismatches are returned as
//! [`KernelError`], never a panic.
//!
//! ```
//! use ndarray::array;
//! use oximl_kernel::{Activation, Epilogue, gemm_fused};
//! let x = array![[1.0f32, 2.0]];
//! let w = array![[1.0f32], [1.0]];
//! let mut y = ndarray::Array2::zeros((1, 1));
//! gemm_fused(1.0, x.view(), w.view(), 0.0, y.view_mut(), Epilogue { bias: None, activation: Activation::Sigmoid })
//!     .unwrap();
//! assert!((y[[0, 0]] - 0.952_574_1).abs() < 1e-6);
//! ```

pub mod cpu;
pub mod elementwise;
pub mod error;
pub mod float;
pub mod gemm;
mod map;
pub mod parallel;
pub mod qgemm;
pub mod reduce;

pub use cpu::{CpuLevel, vectorized};
pub use elementwise::{
    Activation, activate, activate_at, activate_backward, activate_backward_at, axpy, clamp, exp, mul, scale,
};
pub use error::{KernelError, Result};
pub use float::Float;
pub use gemm::{Epilogue, gemm, gemm_fused, matmul};
pub use parallel::{
    CHUNK_ELEMENTS, PAR_MIN_ELEMENTS, default_num_threads, install, num_threads, reset_after_fork, set_num_threads,
};
pub use qgemm::{ActivationRange, MAX_K, PackedI8, RowQuant, qgemm, qgemm_at, qgemm_fused, qgemm_fused_at};
pub use reduce::{
    argmax_rows, dot, dot_at, log_softmax_rows, norm_l2, softmax_rows, softmax_rows_at, sum, sum_at, sum_axis,
};
