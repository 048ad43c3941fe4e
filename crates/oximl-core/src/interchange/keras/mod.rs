//! Keras model files: Keras 3's `.keras` (a zip of `config.json` and `model.weights.h5`) and the legacy `.h5`
//! (`model_config` and `training_config` attributes, weights under `model_weights/`), read into a [`Sequential`].
//!
//! - Models: `Sequential`, and functional models whose layers form one chain from the input to the output, of
//!   `InputLayer`, `Dense` (its activation, `use_bias`, L1/L2 kernel and bias regularizers), `Dropout` and
//!   `Activation` (folded into the dense layer before it, or applied by an exact identity layer). Any other layer
//!   is an [`Error::Format`] naming it.
//! - The compile config comes along: loss (`from_logits`, Huber's `delta`), metrics, and the optimizer with the
//!   hyper-parameters oximl shares with Keras (learning rate, betas, epsilon, momentum, ...); an unknown loss,
//!   metric or optimizer is an error naming it. The optimizer's state (moments) is not read.
//! - Loading recognizes the files by content: [`Persist::load`](crate::Persist::load) of a `.keras` or `.h5` file
//!   works where an oximl file does.
//!
//! HDF5 is read by the pure-Rust `hdf5-reader` crate: no C libhdf5 on the user's machine, for Rust, C and Python
//! alike (the trade-off: one more reader of a large format to trust, guarded here by size limits and the tests of
//! corrupted files; `hdf5-metno` would need Debian's `libhdf5-dev` at build and run time, and reading in Python
//! with `h5py` would leave C and Rust users without Keras files).
//!
//! ```no_run
//! use oximl_core::{nn::Sequential, Persist};
//! let model = Sequential::load("model.keras")?; // or "model.h5"
//! println!("{}", model.summary());
//! # Ok::<(), oximl_core::Error>(())
//! ```

mod config;

use crate::error::{Error, Result};
use crate::interchange::stack::{Stack, matrix};
use crate::nn::Sequential;
pub use config::SUPPORTED;
use config::{KerasLayer, Kind, ModelConfig};
use hdf5_reader::Hdf5File;
use ndarray::Array1;
use std::io::Read;

/// The first bytes of a zip archive (a `.keras` file).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The first bytes of an HDF5 file (a legacy `.h5` file, and the weights inside a `.keras` file).
const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";
/// The largest file read out of a `.keras` archive (bytes).
const MAX_ENTRY: u64 = 1 << 32;

/// Whether `bytes` start as a Keras file does (a zip archive or an HDF5 file). How loading tells Keras files from
/// oximl files.
///
/// ```
/// use oximl_core::interchange::keras::looks_like_keras;
/// assert!(looks_like_keras(b"\x89HDF\r\n\x1a\n...") && !looks_like_keras(b"{}"));
/// ```
pub fn looks_like_keras(bytes: &[u8]) -> bool {
    bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(HDF5_MAGIC)
}

impl Sequential {
    /// Reads a Keras `.keras` or `.h5` model from its bytes (see [the module](crate::interchange::keras)).
    ///
    /// ```
    /// let e = oximl_core::nn::Sequential::from_keras(b"PK\x03\x04 truncated").unwrap_err();
    /// assert_eq!(e.code(), 5);
    /// ```
    pub fn from_keras(bytes: &[u8]) -> Result<Sequential> {
        if bytes.starts_with(ZIP_MAGIC) {
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zip_error)?;
            let config = entry(&mut archive, "config.json")?;
            let config: serde_json::Value = serde_json::from_slice(&config)
                .map_err(|e| Error::Format(format!("the Keras config.json is not JSON: {e}")))?;
            let weights = open_hdf5(&entry(&mut archive, "model.weights.h5")?)?;
            let model = ModelConfig::read(&config, config.get("compile_config"))?;
            build(&model, |layer, i| dataset(&weights, &format!("layers/{}/vars/{i}", layer.path)))
        } else if bytes.starts_with(HDF5_MAGIC) {
            let file = open_hdf5(bytes)?;
            let root = file.root_group().map_err(hdf5_error)?;
            let json = |name: &str| -> Result<Option<serde_json::Value>> {
                let Ok(attribute) = root.attribute(name) else { return Ok(None) };
                let text = attribute.read_string().map_err(hdf5_error)?;
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|e| Error::Format(format!("the Keras {name} attribute is not JSON: {e}")))
            };
            let config = json("model_config")?.ok_or_else(|| {
                Error::Format("an HDF5 file without a model_config attribute (a weights-only file?)".into())
            })?;
            let model = ModelConfig::read(&config, json("training_config")?.as_ref())?;
            build(&model, |layer, i| {
                let name = &layer.name;
                let group = file.group(&format!("model_weights/{name}")).map_err(hdf5_error)?;
                let names = match group.attribute("weight_names") {
                    Ok(a) if a.num_elements().map_err(hdf5_error)? > 0 => a.read_strings().map_err(hdf5_error)?,
                    _ => Vec::new(),
                };
                let weight = names.get(i).ok_or_else(|| {
                    Error::Format(format!("Keras layer '{name}' has {} weights, expected more", names.len()))
                })?;
                dataset(&file, &format!("model_weights/{name}/{weight}"))
            })
        } else {
            Err(Error::Format("not a Keras file (neither a .keras zip archive nor an HDF5 .h5 file)".into()))
        }
    }
}

/// The model of `config`, its `i`-th weight of the layer named `name` read by `weight`.
fn build(
    config: &ModelConfig,
    weight: impl Fn(&KerasLayer, usize) -> Result<ndarray::ArrayD<f32>>,
) -> Result<Sequential> {
    let mut stack = Stack::new(config.input_dim);
    for layer in &config.layers {
        let in_layer = |e: Error| match e {
            Error::Format(m) => Error::Format(format!("Keras layer '{}': {m}", layer.name)),
            other => other,
        };
        match &layer.kind {
            Kind::Dense(dense) => {
                let kernel = matrix(weight(layer, 0)?).map_err(in_layer)?;
                if kernel.ncols() != dense.units {
                    return Err(in_layer(Error::Format(format!(
                        "a kernel of {} columns for {} units",
                        kernel.ncols(),
                        dense.units
                    ))));
                }
                let bias = match dense.use_bias {
                    true => Some(weight(layer, 1)?.into_iter().collect::<Array1<f32>>()),
                    false => None,
                };
                stack.dense(dense.clone(), kernel, bias).map_err(in_layer)?;
                stack.activate(dense.activation).map_err(in_layer)?;
            }
            Kind::Dropout(rate) => stack.dropout(*rate),
            Kind::Activation(activation) => stack.activate(*activation).map_err(in_layer)?,
        }
    }
    let mut model = stack.finish()?;
    if let Some(c) = &config.compile {
        model.compile(c.optimizer.clone(), c.loss, &c.metrics)?;
    }
    Ok(model)
}

/// The HDF5 file in `bytes`, refused if shorter than its superblock says (truncated).
fn open_hdf5(bytes: &[u8]) -> Result<Hdf5File> {
    let file = Hdf5File::from_bytes(bytes).map_err(hdf5_error)?;
    let end = file.superblock().eof_address;
    if end > bytes.len() as u64 {
        return Err(Error::Format(format!("a truncated HDF5 file: {} bytes of {end}", bytes.len())));
    }
    Ok(file)
}

/// A float dataset of the weights file.
fn dataset(file: &Hdf5File, path: &str) -> Result<ndarray::ArrayD<f32>> {
    let data = file.dataset(path).map_err(|e| Error::Format(format!("Keras weight {path}: {e}")))?;
    let values = data.read_array::<f32>().map_err(|e| Error::Format(format!("Keras weight {path}: {e}")))?;
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(Error::Format(format!("Keras weight {path} holds {v}")));
    }
    Ok(values)
}

/// The bytes of the archive's file `name`, refused past [`MAX_ENTRY`] bytes.
fn entry(archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>> {
    let file = archive.by_name(name).map_err(|e| Error::Format(format!("the .keras archive's {name}: {e}")))?;
    let size = file.size();
    if size > MAX_ENTRY {
        return Err(Error::Format(format!("the .keras archive's {name} claims {size} bytes")));
    }
    let mut bytes = Vec::new();
    file.take(size).read_to_end(&mut bytes).map_err(|e| Error::Format(format!("the .keras archive's {name}: {e}")))?;
    Ok(bytes)
}

fn zip_error(e: zip::result::ZipError) -> Error {
    Error::Format(format!("not a valid .keras archive: {e}"))
}

fn hdf5_error(e: hdf5_reader::error::Error) -> Error {
    Error::Format(format!("invalid Keras HDF5 data: {e}"))
}
