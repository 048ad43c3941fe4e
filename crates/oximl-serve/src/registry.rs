//! [`Registry`]: the served models by name, each swapped atomically to its newest version.
//!
//! A model's path is either a TensorFlow Serving base directory (`BASE/<version>/<one model file>`, the highest
//! numbered version served) or one model file (version 1, never reloaded). [`Registry::poll`] loads a newer
//! version completely (file validated, batching worker started) before swapping it in; requests that already hold
//! the old version finish with it. A version that fails to load is refused (logged, counted) and retried only
//! once its file changes; the old version keeps serving.

use crate::batch::{BatchSettings, Batcher};
use crate::{ApiError, Config, Metrics, Model};
use arc_swap::ArcSwap;
use ndarray::Array2;
use oximl_core::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// One loaded version of a model.
pub struct Servable {
    /// The model's name.
    pub name: String,
    /// The version served.
    pub version: u64,
    /// The model.
    pub model: Arc<Model>,
    batcher: Option<Batcher>,
}

impl Servable {
    /// The network's outputs for `rows`, merged with concurrent requests when batching is on.
    pub(crate) async fn predict(&self, rows: Array2<f32>) -> std::result::Result<Array2<f32>, ApiError> {
        let Model::Network(net) = &*self.model else { return Err(self.model.refuse(&self.name, "predict")) };
        if rows.ncols() != net.input_dim() {
            return Err(ApiError::bad_request(format!(
                "each instance must have {} values (the model's input width), got {}",
                net.input_dim(),
                rows.ncols()
            )));
        }
        match &self.batcher {
            Some(batcher) if batcher.takes(rows.nrows()) => batcher.predict(rows).await,
            _ => {
                let model = Arc::clone(&self.model);
                let computed = tokio::task::spawn_blocking(move || model.predict(rows.view()));
                Ok(computed.await.map_err(|_| ApiError::internal("the predict call failed"))??)
            }
        }
    }
}

/// Where a model's versions come from.
enum Source {
    /// A base directory of numbered version directories.
    Versions(PathBuf),
    /// One file, version 1.
    File(PathBuf),
}

/// The identity of a model file that failed to load: retried only when it changes.
type Fingerprint = (u64, PathBuf, u64, Option<SystemTime>);

struct Entry {
    source: Source,
    current: ArcSwap<Servable>,
    refused: Mutex<Option<Fingerprint>>,
}

/// The served models by name.
pub struct Registry {
    entries: BTreeMap<String, Entry>,
    batching: BatchSettings,
    metrics: Arc<Metrics>,
}

impl Registry {
    /// Loads every model of `config` (its newest version); any failure here fails the whole start.
    pub fn load(config: &Config, metrics: Arc<Metrics>) -> Result<Registry> {
        let batching = BatchSettings {
            max_batch_size: config.max_batch_size.max(1),
            timeout: std::time::Duration::from_micros(config.batch_timeout_micros),
            queue: config.max_in_flight.max(1),
        };
        let mut registry = Registry { entries: BTreeMap::new(), batching, metrics };
        for spec in &config.models {
            if registry.entries.contains_key(&spec.name) {
                return Err(Error::invalid("model", format!("the name `{}` is given twice", spec.name)));
            }
            let source =
                if spec.path.is_dir() { Source::Versions(spec.path.clone()) } else { Source::File(spec.path.clone()) };
            let (version, file) = newest(&source)?;
            let servable = registry.servable(&spec.name, version, &file)?;
            registry.metrics.model_version.with_label_values(&[&spec.name]).set(version as i64);
            let entry = Entry { source, current: ArcSwap::from_pointee(servable), refused: Mutex::new(None) };
            registry.entries.insert(spec.name.clone(), entry);
        }
        Ok(registry)
    }

    /// The version of `name` being served.
    pub fn get(&self, name: &str) -> Option<Arc<Servable>> {
        self.entries.get(name).map(|e| e.current.load_full())
    }

    /// The served models' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Scans the base directories once and swaps in every newer version that loads; returns how many were
    /// swapped in. Blocking (reads and validates files).
    pub fn poll(&self) -> usize {
        let mut swapped = 0;
        for (name, entry) in &self.entries {
            if matches!(entry.source, Source::File(_)) {
                continue;
            }
            let current = entry.current.load().version;
            match newest(&entry.source) {
                Ok((version, file)) if version > current => {
                    let print = fingerprint(version, &file);
                    let mut refused = entry.refused.lock().unwrap_or_else(|p| p.into_inner());
                    if refused.as_ref() == Some(&print) {
                        continue;
                    }
                    match self.servable(name, version, &file) {
                        Ok(servable) => {
                            entry.current.store(Arc::new(servable));
                            self.metrics.model_version.with_label_values(&[name]).set(version as i64);
                            eprintln!("oximl serve: model `{name}` now serves version {version}");
                            *refused = None;
                            swapped += 1;
                        }
                        Err(e) => {
                            self.metrics.load_failures.with_label_values(&[name]).inc();
                            eprintln!(
                                "oximl serve: model `{name}` version {version} refused, still serving {current}: {e}"
                            );
                            *refused = Some(print);
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => eprintln!("oximl serve: model `{name}`: scan failed, still serving {current}: {e}"),
            }
        }
        swapped
    }

    fn servable(&self, name: &str, version: u64, file: &Path) -> Result<Servable> {
        let model = Arc::new(Model::load(file)?);
        let batcher = match &*model {
            Model::Network(_) if self.batching.max_batch_size > 1 => {
                let for_worker = Arc::clone(&model);
                let predict = move |x: ndarray::ArrayView2<'_, f32>| for_worker.predict(x);
                let depth = self.metrics.queue_depth.with_label_values(&[name]);
                let sizes = self.metrics.batch_size.with_label_values(&[name]);
                Some(Batcher::start(predict, self.batching, depth, sizes).map_err(|e| Error::io(file, e))?)
            }
            _ => None,
        };
        Ok(Servable { name: name.to_string(), version, model, batcher })
    }
}

/// The newest version of a source and its model file.
fn newest(source: &Source) -> Result<(u64, PathBuf)> {
    let base = match source {
        Source::File(path) => return Ok((1, path.clone())),
        Source::Versions(base) => base,
    };
    let versions = std::fs::read_dir(base).map_err(|e| Error::io(base, e))?;
    let newest = versions
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u64>().ok()?;
            entry.file_type().ok()?.is_dir().then_some(version)
        })
        .max()
        .ok_or_else(|| Error::Format(format!("{}: no version directory (1/, 2/, ...)", base.display())))?;
    let dir = base.join(newest.to_string());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && entry.file_type().map_err(|e| Error::io(&dir, e))?.is_file() {
            files.push(entry.path());
        }
    }
    match files.as_slice() {
        [file] => Ok((newest, file.clone())),
        _ => Err(Error::Format(format!("{}: expected one model file, found {}", dir.display(), files.len()))),
    }
}

fn fingerprint(version: u64, file: &Path) -> Fingerprint {
    let meta = std::fs::metadata(file).ok();
    (version, file.to_path_buf(), meta.as_ref().map_or(0, |m| m.len()), meta.and_then(|m| m.modified().ok()))
}
