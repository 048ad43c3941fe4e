//! Dense neural networks in Keras' vocabulary: [`Sequential`] of [`Dense`] and dropout layers, losses, metrics,
//! `compile`/`fit`/`evaluate`/`predict`, callbacks, and save/load in the oximl format.

mod fit;
mod init;
mod layer;
mod loss;
mod metric;
mod sequential;

pub use fit::{Callback, Control, EarlyStopping, FitOptions, History, Logs};
pub use init::Initializer;
pub use layer::{Dense, Layer};
pub use loss::Loss;
pub use metric::{Accumulator, Metric};
pub use sequential::{Compiled, KIND, Param, Sequential};
