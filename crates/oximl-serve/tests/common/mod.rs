//! What the integration tests share: model files, a server on an ephemeral port, a metrics parser.

#![allow(dead_code)] // each test file uses a part

use ndarray::{Array2, ArrayD, IxDyn};
use oximl_core::Persist;
use oximl_core::embed::KeyedVectors;
use oximl_core::mf::{Als, MfModel, Ratings};
use oximl_core::nn::{Dense, Sequential};
use oximl_serve::{Config, Server};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The input width of the test networks.
pub const WIDTH: usize = 4;

/// A fresh empty directory under the system's temporary directory.
pub fn temp_dir(what: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("oximl-serve-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 4 → 3 network whose weights depend on `scale` (so two versions answer differently).
pub fn network(scale: f32) -> Sequential {
    let mut net = Sequential::new(WIDTH);
    net.add(Dense::new(3)).unwrap();
    let kernel = ArrayD::from_shape_fn(IxDyn(&[WIDTH, 3]), |i| scale * (i[0] as f32 - 1.5) * (i[1] as f32 + 1.0));
    let bias = ArrayD::from_shape_fn(IxDyn(&[3]), |i| scale * i[0] as f32);
    net.set_weights(vec![kernel, bias]).unwrap();
    net
}

/// Writes `net` as version `version` of the TF Serving layout under `base`, atomically (written aside, then the
/// directory renamed into place, as a deployment would).
pub fn publish(base: &Path, version: u64, write: impl FnOnce(&Path)) {
    let aside = base.join(format!(".incoming-{version}"));
    std::fs::create_dir_all(&aside).unwrap();
    write(&aside.join("model.oximl"));
    std::fs::rename(&aside, base.join(version.to_string())).unwrap();
}

/// A recommender trained on a few ratings.
pub fn recommender() -> MfModel {
    let triplets = [
        ("ann", "tea", 5.0),
        ("ann", "milk", 1.0),
        ("bob", "tea", 4.0),
        ("bob", "beer", 2.0),
        ("cid", "milk", 5.0),
        ("cid", "wine", 3.0),
    ];
    let ratings = Ratings::from_triplets(triplets, Default::default()).unwrap();
    Als { factors: 2, seed: 7, ..Default::default() }.fit(&ratings).unwrap()
}

/// A small embedding table.
pub fn embeddings() -> KeyedVectors {
    let words = ["king", "queen", "apple", "pear"].map(String::from).to_vec();
    let vectors = ndarray::array![[1.0f32, 0.1, 0.0], [0.9, 0.2, 0.1], [0.0, 1.0, 0.3], [0.1, 0.9, 0.4]];
    KeyedVectors::new(words, vectors).unwrap()
}

/// Saves `model` to `dir/name.oximl`.
pub fn save(model: &impl Persist, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.oximl"));
    model.save(&path).unwrap();
    path
}

/// The rows `[[0, 1, 2, 3], [4, 5, 6, 7], ...]` divided by 10.
pub fn rows(n: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, WIDTH), |(i, j)| (i * WIDTH + j) as f32 / 10.0)
}

/// A running server and how to stop it.
pub struct Running {
    pub base: String,
    pub stop: Option<oneshot::Sender<()>>,
    pub done: JoinHandle<oximl_core::Result<()>>,
}

impl Running {
    /// Triggers the graceful shutdown and waits for the server to return.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.done.await.unwrap().unwrap();
    }
}

/// Starts the server of `config` on an ephemeral 127.0.0.1 port, with `extra` routes.
pub async fn start_with(mut config: Config, extra: axum::Router) -> Running {
    config.host = "127.0.0.1".into();
    config.port = 0;
    let server = Server::bind(&config).await.unwrap();
    let address: SocketAddr = server.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(server.run_with(extra, async {
        let _ = stopped.await;
    }));
    Running { base: format!("http://{address}"), stop: Some(stop), done }
}

/// [`start_with`] without extra routes.
pub async fn start(config: Config) -> Running {
    start_with(config, axum::Router::new()).await
}

/// The sum of the samples `name{labels}` of a Prometheus text exposition whose labels include every one of
/// `labels` (`key="value"` pairs); `None` if there is none.
pub fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = series.split_once('{').unwrap_or((series, ""));
            let matches = series_name == name && labels.iter().all(|l| series_labels.contains(l));
            matches.then(|| value.parse().ok())?
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// `GET base + path` as JSON, with the status.
pub async fn get(client: &reqwest::Client, url: String) -> (u16, serde_json::Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// `POST base + path` of a JSON body, with the status.
pub async fn post(client: &reqwest::Client, url: String, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let response = client.post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// `rows` as JSON lists.
pub fn json_rows(rows: &Array2<f32>) -> serde_json::Value {
    serde_json::json!(rows.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
}

/// The JSON answer `[[...], ...]` as a matrix.
pub fn matrix(value: &serde_json::Value) -> Array2<f32> {
    let rows: Vec<Vec<f32>> = serde_json::from_value(value.clone()).unwrap();
    let width = rows[0].len();
    Array2::from_shape_vec((rows.len(), width), rows.concat()).unwrap()
}
