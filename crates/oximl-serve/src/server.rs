//! [`Server`]: the router of both protocols behind one middleware (metrics, access log, in-flight limit,
//! timeout), panic catching, the body limit, model polling and graceful shutdown.

use crate::{ApiError, Config, Metrics, Registry, Servable, kserve, tfserving};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use oximl_core::{Cancel, Error, Result};
use prometheus::IntGauge;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::catch_panic::CatchPanicLayer;

/// What every handler shares.
pub(crate) struct App {
    pub registry: Arc<Registry>,
    pub metrics: Arc<Metrics>,
    /// Set when shutdown begins: readiness turns false.
    pub stopping: AtomicBool,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    timeout: Duration,
    access_log: bool,
}

pub(crate) type AppState = State<Arc<App>>;

/// What a handler answered for, recorded by the middleware as metric labels.
#[derive(Clone)]
pub(crate) struct Served {
    pub model: String,
    pub version: String,
    pub endpoint: &'static str,
}

impl Served {
    /// A request for no model in particular (health, metrics).
    pub fn server(endpoint: &'static str) -> Served {
        Served { model: String::new(), version: String::new(), endpoint }
    }

    /// Attaches the labels to `response`.
    pub fn label(self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

impl App {
    /// The servable for `name` (and `version`, if given: it must be the one served), or a 404 as TensorFlow
    /// Serving words it.
    pub fn servable(&self, name: &str, version: Option<&str>) -> std::result::Result<Arc<Servable>, ApiError> {
        let missing = |what: String| ApiError::not_found(format!("Servable not found for request: {what}"));
        let servable = self.registry.get(name).ok_or_else(|| missing(format!("Latest({name})")))?;
        match version {
            Some(v) if v.parse::<u64>().ok() != Some(servable.version) => {
                Err(missing(format!("Specific({name}, {v})")))
            }
            _ => Ok(servable),
        }
    }
}

/// A running server's handle: bound, models loaded; [`Server::run`] serves until the shutdown signal.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
    poll: Option<Duration>,
    body_limit: usize,
}

impl Server {
    /// Loads every model of `config` and binds `config.host:config.port` (port 0: any free port).
    pub async fn bind(config: &Config) -> Result<Server> {
        let metrics = Arc::new(Metrics::new().map_err(|e| Error::invalid("metrics", e.to_string()))?);
        let loading = config.clone();
        let for_loading = Arc::clone(&metrics);
        let registry = tokio::task::spawn_blocking(move || Registry::load(&loading, for_loading))
            .await
            .map_err(|e| Error::invalid("model", e.to_string()))??;
        let address = format!("{}:{}", config.host, config.port);
        let listener = TcpListener::bind(&address).await.map_err(|e| Error::io(&address, e))?;
        let app = App {
            registry: Arc::new(registry),
            metrics,
            stopping: AtomicBool::new(false),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            max_in_flight: config.max_in_flight.max(1),
            timeout: Duration::from_millis(config.timeout_ms.max(1)),
            access_log: config.access_log,
        };
        Ok(Server { listener, app: Arc::new(app), poll: config.poll(), body_limit: config.max_body_bytes })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().map_err(|e| Error::io("listener", e))
    }

    /// Serves until `shutdown` completes, then stops accepting connections and returns once the requests in
    /// flight are answered.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        self.run_with(Router::new(), shutdown).await
    }

    /// [`Server::run`] with `extra` routes served beside the protocols' (behind the same middleware).
    pub async fn run_with(self, extra: Router<()>, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let address = self.local_addr()?;
        let poller = self.poll.map(|period| tokio::spawn(poll(Arc::clone(&self.app.registry), period)));
        let app = Arc::clone(&self.app);
        let stop = async move {
            shutdown.await;
            app.stopping.store(true, Ordering::SeqCst);
        };
        let router = router(Arc::clone(&self.app), extra, self.body_limit);
        let served = axum::serve(self.listener, router).with_graceful_shutdown(stop).await;
        if let Some(poller) = poller {
            poller.abort();
        }
        served.map_err(|e| Error::io(address.to_string(), e))
    }
}

/// Runs the server of `config` on its own runtime until Ctrl-C, SIGTERM or `cancel`, printing the address it
/// listens on: what `oximl serve` and Python's `python -m oximl serve` call.
pub fn run_blocking(config: &Config, cancel: &Cancel) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("oximl-serve")
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        let names: Vec<&str> = server.app.registry.names().collect();
        eprintln!("oximl serve: serving {} on http://{}", names.join(", "), server.local_addr()?);
        let cancel = cancel.clone();
        server
            .run(async move {
                let cancelled = async {
                    while !cancel.is_cancelled() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                };
                tokio::select! {
                    () = signal() => {}
                    () = cancelled => {}
                }
                eprintln!("oximl serve: shutting down (finishing the requests in flight)");
            })
            .await
    })
}

/// Ctrl-C or (Unix) SIGTERM.
async fn signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Scans for new versions every `period`.
async fn poll(registry: Arc<Registry>, period: Duration) {
    loop {
        tokio::time::sleep(period).await;
        let scan = Arc::clone(&registry);
        let _ = tokio::task::spawn_blocking(move || scan.poll()).await;
    }
}

fn router(app: Arc<App>, extra: Router<()>, body_limit: usize) -> Router {
    let metrics = Arc::clone(&app.metrics);
    let on_panic = move |_: Box<dyn std::any::Any + Send>| {
        metrics.panics.inc();
        ApiError::internal("internal error: the handler panicked (please report)").into_response()
    };
    Router::new()
        .route("/v1/models/{*rest}", get(tfserving::get).post(tfserving::post))
        .route("/v2", get(kserve::server_metadata))
        .route("/v2/health/live", get(kserve::live))
        .route("/v2/health/ready", get(kserve::ready))
        .route("/v2/models/{name}", get(kserve::metadata))
        .route("/v2/models/{name}/versions/{version}", get(kserve::metadata))
        .route("/v2/models/{name}/ready", get(kserve::model_ready))
        .route("/v2/models/{name}/versions/{version}/ready", get(kserve::model_ready))
        .route("/v2/models/{name}/infer", post(kserve::infer))
        .route("/v2/models/{name}/versions/{version}/infer", post(kserve::infer))
        .route("/metrics", get(scrape))
        .with_state(Arc::clone(&app))
        .merge(extra)
        .fallback(|| async { ApiError::not_found("no such endpoint").into_response() })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(from_fn_with_state(app, observe))
}

async fn scrape(State(app): AppState) -> Response {
    Served::server("metrics").label(app.metrics.render())
}

/// A request being handled: holds a slot of the in-flight limit and the gauge, released when dropped (also when
/// the client goes away mid-request).
struct InFlight(IntGauge, #[allow(dead_code)] OwnedSemaphorePermit);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The middleware around every request: the in-flight limit (503 beyond it), the timeout (504), the metrics and
/// the access log.
async fn observe(State(app): AppState, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let line = app.access_log.then(|| format!("{} {}", request.method(), request.uri().path()));
    let response = match Arc::clone(&app.in_flight).try_acquire_owned() {
        Err(_) => ApiError::unavailable(format!("overloaded: {} requests in flight, retry later", app.max_in_flight))
            .into_response(),
        Ok(permit) => {
            app.metrics.in_flight.inc();
            let _slot = InFlight(app.metrics.in_flight.clone(), permit);
            match tokio::time::timeout(app.timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => ApiError {
                    status: StatusCode::GATEWAY_TIMEOUT,
                    message: format!("the request took longer than {} ms", app.timeout.as_millis()),
                }
                .into_response(),
            }
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let served = response.extensions().get::<Served>().cloned().unwrap_or_else(|| Served::server("other"));
    let status = response.status().as_u16().to_string();
    let labels = [served.model.as_str(), served.version.as_str(), served.endpoint, status.as_str()];
    app.metrics.requests.with_label_values(&labels).inc();
    app.metrics.latency.with_label_values(&[served.model.as_str(), served.endpoint]).observe(seconds);
    if let Some(line) = line {
        let entry = serde_json::json!({
            "request": line, "status": response.status().as_u16(), "model": served.model,
            "version": served.version, "endpoint": served.endpoint, "seconds": seconds,
        });
        eprintln!("{entry}");
    }
    response
}
