//! [`Metrics`]: the Prometheus series the server exports on `GET /metrics`.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder, exponential_buckets,
};

/// Every series, registered in one Prometheus registry (names prefixed `oximl_`).
pub struct Metrics {
    registry: Registry,
    /// Requests by `model`, `version`, `endpoint` and HTTP `status` (errors are the statuses >= 400; requests for
    /// an unknown model are counted with an empty `model`).
    pub requests: IntCounterVec,
    /// Request latency in seconds by `model` and `endpoint`.
    pub latency: HistogramVec,
    /// Rows per merged predict call, by `model`.
    pub batch_size: HistogramVec,
    /// Predict requests waiting for their batch, by `model`.
    pub queue_depth: IntGaugeVec,
    /// Requests being handled.
    pub in_flight: IntGauge,
    /// The served version, by `model` (one series per loaded model).
    pub model_version: IntGaugeVec,
    /// Versions that failed to load (the previous one kept serving), by `model`.
    pub load_failures: IntCounterVec,
    /// Handler panics answered with a 500.
    pub panics: IntCounter,
    /// The process's resident memory, read at each scrape.
    pub resident_memory: IntGauge,
}

impl Metrics {
    /// The series, all at zero.
    pub fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new_custom(Some("oximl".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("requests_total", "Requests by model, version, endpoint and HTTP status."),
            &["model", "version", "endpoint", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("request_duration_seconds", "Request latency by model and endpoint.")
                .buckets(exponential_buckets(25e-6, 2.0, 18)?),
            &["model", "endpoint"],
        )?;
        let batch_size = HistogramVec::new(
            HistogramOpts::new("batch_size", "Rows per merged predict call.")
                .buckets(exponential_buckets(1.0, 2.0, 11)?),
            &["model"],
        )?;
        let queue_depth =
            IntGaugeVec::new(Opts::new("queue_depth", "Predict requests waiting for their batch."), &["model"])?;
        let in_flight = IntGauge::new("in_flight_requests", "Requests being handled.")?;
        let model_version =
            IntGaugeVec::new(Opts::new("model_version", "The served version of each model."), &["model"])?;
        let load_failures =
            IntCounterVec::new(Opts::new("model_load_failures_total", "Versions refused at load."), &["model"])?;
        let panics = IntCounter::new("panics_total", "Handler panics answered with a 500.")?;
        let resident_memory = IntGauge::new("process_resident_memory_bytes", "Resident memory of the process.")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(model_version.clone()))?;
        registry.register(Box::new(load_failures.clone()))?;
        registry.register(Box::new(panics.clone()))?;
        registry.register(Box::new(resident_memory.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            batch_size,
            queue_depth,
            in_flight,
            model_version,
            load_failures,
            panics,
            resident_memory,
        })
    }

    /// The text exposition format of every series.
    pub fn render(&self) -> String {
        if let Some(bytes) = resident_bytes() {
            self.resident_memory.set(bytes);
        }
        let mut text = Vec::new();
        // Encoding into a Vec cannot fail on I/O; a series that cannot be encoded is left out.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut text);
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// The resident set size from `/proc/self/status` (Linux), `None` elsewhere.
pub fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
