//! Keras' `CSVLogger`.

use super::format::py_float;
use crate::error::{Error, Result};
use crate::nn::{Callback, Control, Logs, Plan, Sequential};
use serde::{Deserialize, Serialize};
use std::io::Write;

/// Writes one CSV row per epoch, as Keras: a header `epoch` then the log names in sorted order, the 0-based epoch
/// and the values as Python prints floats, lines ending in `\r\n` (Python's `csv` module); `append` continues an existing file (no second header). As JSON:
/// `{"filename": "log.csv", "separator": ",", "append": false}`.
///
/// ```
/// let c: oximl_core::nn::CsvLogger = serde_json::from_str(r#"{"filename": "log.csv"}"#).unwrap();
/// assert_eq!((c.separator.as_str(), c.append), (",", false));
/// ```
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvLogger {
    /// The file to write.
    pub filename: String,
    /// Between fields.
    #[serde(default = "comma")]
    pub separator: String,
    /// Append to an existing file rather than overwrite it.
    #[serde(default)]
    pub append: bool,
    #[serde(skip)]
    file: Option<std::fs::File>,
    #[serde(skip)]
    keys: Option<Vec<String>>,
    #[serde(skip)]
    header: bool,
}

fn comma() -> String {
    ",".into()
}

impl Clone for CsvLogger {
    /// The settings (an open file is not shared).
    fn clone(&self) -> Self {
        CsvLogger::new(&self.filename, &self.separator, self.append)
    }
}

impl CsvLogger {
    /// Logs to `filename`.
    ///
    /// ```
    /// assert!(oximl_core::nn::CsvLogger::new("log.csv", ";", true).append);
    /// ```
    pub fn new(filename: &str, separator: &str, append: bool) -> CsvLogger {
        CsvLogger {
            filename: filename.into(),
            separator: separator.into(),
            append,
            file: None,
            keys: None,
            header: true,
        }
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _plan: &Plan) -> Result<()> {
        // Keras writes no header when appending to a file that has a first line.
        self.header = !(self.append && std::fs::metadata(&self.filename).is_ok_and(|m| m.len() > 0));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(self.append)
            .truncate(!self.append)
            .open(&self.filename)
            .map_err(|e| Error::io(&self.filename, e))?;
        self.file = Some(file);
        self.keys = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &mut Logs, _model: &mut Sequential) -> Result<Control> {
        let Some(file) = self.file.as_mut() else { return Ok(Control::Continue) };
        let mut text = String::new();
        let keys = self.keys.get_or_insert_with(|| {
            // The first epoch's names, sorted; without validation, Keras adds the `val_` columns anyway (NA).
            let mut keys: Vec<String> = logs.0.iter().map(|(k, _)| k.clone()).collect();
            keys.sort();
            if !keys.iter().any(|k| k.starts_with("val_")) {
                let val: Vec<String> = keys.iter().map(|k| format!("val_{k}")).collect();
                keys.extend(val);
            }
            keys
        });
        if std::mem::take(&mut self.header) {
            let names: Vec<&str> = std::iter::once("epoch").chain(keys.iter().map(String::as_str)).collect();
            text = names.join(&self.separator) + "\r\n";
        }
        let values = keys.iter().map(|k| logs.get(k).map_or("NA".into(), py_float));
        let row: Vec<String> = std::iter::once(epoch.to_string()).chain(values).collect();
        text.push_str(&row.join(&self.separator));
        text.push_str("\r\n");
        file.write_all(text.as_bytes()).and_then(|()| file.flush()).map_err(|e| Error::io(&self.filename, e))?;
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _model: &mut Sequential) -> Result<()> {
        self.file = None;
        Ok(())
    }
}
