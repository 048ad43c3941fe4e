//! Dense neural networks in Keras' vocabulary: [`Sequential`] of [`Dense`] and dropout layers, losses, metrics,
//! `compile`/`fit`/`evaluate`/`predict`, callbacks, and save/load in the oximl format.

mod callbacks;
mod compressed;
mod early_stopping;
mod file;
mod fit;
mod init;
mod layer;
mod loss;
mod metric;
mod predict;
mod sequential;
mod train;

pub use callbacks::{CsvLogger, LearningRateScheduler, ModelCheckpoint, ReduceLrOnPlateau, TerminateOnNaN, Verbosity};
pub use early_stopping::{EarlyStopping, Mode};
pub use file::KIND;
pub use fit::{Callback, Control, FitConfig, FitOptions, History, Logs, Plan};
pub(crate) use init::zeros;
pub use init::{Initializer, MAX_MATRIX_VALUES};
pub use layer::{Dense, Layer};
pub use loss::Loss;
pub use metric::{Accumulator, Metric};
pub use sequential::{Compiled, Param, Sequential};

/// A configuration from its name alone (case-insensitive), every other field at its serde default: the one
/// reader of the names and aliases declared on the serde types (`{"name": "adam"}` → Adam with Keras' defaults).
pub(crate) fn by_name<T: serde::de::DeserializeOwned>(what: &str, name: &str) -> crate::Result<T> {
    serde_json::from_value(serde_json::json!({ "name": name.to_ascii_lowercase() }))
        .map_err(|e| crate::Error::invalid(what, format!("unknown {what} {name:?}: {e}")))
}
