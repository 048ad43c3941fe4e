//! Model compression, as TF Model Optimization, PyTorch `torch.ao` and ONNX Runtime's quantizer know it:
//! int8 dynamic quantization ([`QuantizeConfig`]) and magnitude pruning ([`PruneConfig`], [`PruningSchedule`]),
//! with the sparse storage of pruned weights ([`sparse`]).
//!
//! The configurations and the algorithms live here; [`crate::nn::Sequential`] applies them
//! (`quantize`, `prune`, `prune_low_magnitude`, `strip_pruning`, `sparsity`).
//!
//! ```
//! use oximl_core::compress::{PruneConfig, QuantizeConfig};
//! use oximl_core::nn::{Dense, Sequential};
//! let mut pruned = Sequential::new(8);
//! pruned.add(Dense::new(16))?.add(Dense::new(2))?;
//! let mut quantized = pruned.clone();
//! pruned.prune(&PruneConfig::global(0.5))?;
//! assert!((pruned.sparsity().total - 0.5).abs() < 0.01);
//! quantized.quantize(&QuantizeConfig::from_name("int8")?)?;
//! assert!(quantized.quantization().is_some());
//! # Ok::<(), oximl_core::Error>(())
//! ```

mod prune;
mod quantize;
pub mod sparse;

pub use prune::{PruneConfig, PruningSchedule, Scope, Sparsity, magnitude_masks};
pub use quantize::{QuantizeConfig, QuantizeMode};
