//! Model serving for oximl: the TensorFlow Serving REST API and the Open Inference Protocol (KServe v2) over HTTP,
//! for networks, recommenders and embeddings, with Prometheus metrics, hot reload of new versions and adaptive
//! batching. This is what `oximl serve` and `python -m oximl serve` run.
//!
//! - [`Config`]: the settings (the command line's arguments).
//! - [`Registry`] and [`Servable`]: the models by name, swapped atomically to new versions ([`Registry::poll`]).
//! - [`Model`]: a loaded network, recommender or embedding table and the methods it answers.
//! - [`Server`]: binds, serves until a shutdown signal, then finishes the requests in flight; [`run_blocking`]
//!   runs it on its own runtime until Ctrl-C, SIGTERM or a [`oximl_core::Cancel`].
//! - [`Metrics`]: the Prometheus series of `GET /metrics`; [`ApiError`]: an error answer.
//!
//! ```no_run
//! let config = oximl_serve::Config::new([("digits", "models/digits")]).unwrap();
//! oximl_serve::run_blocking(&config, &oximl_core::Cancel::new()).unwrap();
//! ```

mod batch;
mod config;
mod error;
mod kserve;
mod metrics;
mod model;
mod registry;
mod server;
mod tfserving;

pub use config::{Config, ModelSpec};
pub use error::ApiError;
pub use metrics::Metrics;
pub use model::Model;
pub use registry::{Registry, Servable};
pub use server::{Server, run_blocking};
