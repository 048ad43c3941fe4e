//! `liboximl.so` and `liboximl.a`: the C API of `oximl-capi` (bindings/c/src), exported as is. Its entry points
//! live in an ordinary library crate so that its tests and benchmarks can use them as a normal dependency.

pub use oximl_capi::*;
