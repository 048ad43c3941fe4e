//! Keras' callbacks in the core, each with Keras' arguments (as serde fields, the one place their names and
//! defaults are written) and Keras' semantics: [`ModelCheckpoint`], [`ReduceLrOnPlateau`], [`CsvLogger`],
//! [`LearningRateScheduler`], [`TerminateOnNaN`], and the progress display ([`Verbosity`]). They follow the
//! pattern of [`crate::nn::EarlyStopping`]: plain data configured from JSON by C and Python, implementing
//! [`crate::nn::Callback`].

mod checkpoint;
mod csv_logger;
mod format;
mod plateau;
mod progress;

pub use checkpoint::ModelCheckpoint;
pub use csv_logger::CsvLogger;
pub use plateau::{LearningRateScheduler, ReduceLrOnPlateau};
pub(crate) use progress::Progress;
pub use progress::Verbosity;

use crate::Result;
use crate::nn::{Callback, Control};

/// Stops training at the first batch whose loss is NaN or infinite (Keras' `TerminateOnNaN`): `fit` returns the
/// history so far, that epoch's logs included, instead of an [`crate::Error::NonFinite`]. The step of that batch
/// is not taken. In JSON: `"terminate_on_nan": true`.
///
/// ```
/// use oximl_core::nn::{Callback, Control, TerminateOnNaN};
/// assert_eq!(TerminateOnNaN.on_batch_end(0, 3, f64::NAN)?, Control::Stop);
/// assert_eq!(TerminateOnNaN.on_batch_end(0, 3, 0.5)?, Control::Continue);
/// # Ok::<(), oximl_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminateOnNaN;

impl Callback for TerminateOnNaN {
    fn on_batch_end(&mut self, _epoch: usize, batch: usize, loss: f64) -> Result<Control> {
        if loss.is_finite() {
            return Ok(Control::Continue);
        }
        println!("Batch {batch}: Invalid loss, terminating training");
        Ok(Control::Stop)
    }
}
