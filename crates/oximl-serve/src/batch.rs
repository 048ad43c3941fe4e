//! [`Batcher`]: adaptive batching as TensorFlow Serving's `--enable_batching`. Concurrent predict requests for one
//! network wait in a bounded queue; a worker thread takes the first, adds those already waiting (or arriving
//! within `batch_timeout`) up to `max_batch_size` rows, runs one predict call on all of them and splits the rows
//! back.

use crate::ApiError;
use ndarray::{Array2, ArrayView2, Axis, concatenate};
use oximl_core::Result;
use prometheus::{Histogram, IntGauge};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How predict requests are merged.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchSettings {
    /// The most rows in one merged call (1: no batching).
    pub max_batch_size: usize,
    /// How long a batch waits for more requests after its first.
    pub timeout: Duration,
    /// The queue's capacity (more waiting requests: 503).
    pub queue: usize,
}

/// One request's rows and where its predictions go.
struct Job {
    rows: Array2<f32>,
    reply: oneshot::Sender<Result<Array2<f32>>>,
}

/// The queue of a network's predict requests, served by one worker thread (which stops when the batcher is
/// dropped, after the requests already queued).
pub(crate) struct Batcher {
    queue: SyncSender<Job>,
    depth: IntGauge,
    max_batch_size: usize,
}

impl Batcher {
    /// Starts the worker thread computing with `model` (a network's predict); `depth` follows the queue's length,
    /// `sizes` records each merged call's rows.
    pub fn start(
        model: impl Fn(ArrayView2<'_, f32>) -> Result<Array2<f32>> + Send + 'static,
        settings: BatchSettings,
        depth: IntGauge,
        sizes: Histogram,
    ) -> std::io::Result<Batcher> {
        let (queue, jobs) = sync_channel(settings.queue);
        let worker_depth = depth.clone();
        std::thread::Builder::new()
            .name("oximl-batcher".into())
            .spawn(move || work(&model, &jobs, settings, &worker_depth, &sizes))?;
        Ok(Batcher { queue, depth, max_batch_size: settings.max_batch_size })
    }

    /// Whether `rows` rows go through the queue (a request as large as a batch is computed on its own).
    pub fn takes(&self, rows: usize) -> bool {
        rows < self.max_batch_size
    }

    /// The predictions for `rows` (already checked to have the model's input width), computed in a merged call.
    pub async fn predict(&self, rows: Array2<f32>) -> std::result::Result<Array2<f32>, ApiError> {
        let (reply, answer) = oneshot::channel();
        match self.queue.try_send(Job { rows, reply }) {
            Ok(()) => self.depth.inc(),
            Err(TrySendError::Full(_)) => return Err(ApiError::unavailable("the batching queue is full: retry later")),
            Err(TrySendError::Disconnected(_)) => return Err(ApiError::internal("the batching worker stopped")),
        }
        match answer.await {
            Ok(result) => Ok(result?),
            Err(_) => Err(ApiError::internal("the batching worker failed on this batch")),
        }
    }
}

/// A network's predict call.
trait Predict: Fn(ArrayView2<'_, f32>) -> Result<Array2<f32>> {}
impl<F: Fn(ArrayView2<'_, f32>) -> Result<Array2<f32>>> Predict for F {}

/// The worker: merges queued jobs into batches until the queue is closed.
fn work(model: &impl Predict, jobs: &Receiver<Job>, settings: BatchSettings, depth: &IntGauge, sizes: &Histogram) {
    let mut carried: Option<Job> = None;
    while let Some(first) = carried.take().or_else(|| jobs.recv().ok()) {
        depth.dec();
        let deadline = Instant::now() + settings.timeout;
        let mut rows = first.rows.nrows();
        let mut batch = vec![first];
        while rows < settings.max_batch_size {
            let next = match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => jobs.recv_timeout(left).ok(),
                _ => jobs.try_recv().ok(),
            };
            let Some(job) = next else { break };
            if rows + job.rows.nrows() > settings.max_batch_size {
                carried = Some(job);
                break;
            }
            depth.dec();
            rows += job.rows.nrows();
            batch.push(job);
        }
        sizes.observe(rows as f64);
        // A panic (a bug) drops this batch's reply channels, so its requests answer 500; the worker goes on.
        let _ = catch_unwind(AssertUnwindSafe(|| run(model, batch)));
    }
}

/// One predict call for the whole batch, split back; if it fails, each job is computed alone for its own error.
fn run(model: &impl Predict, batch: Vec<Job>) {
    if let [_] = batch.as_slice() {
        for job in batch {
            let _ = job.reply.send(model(job.rows.view()));
        }
        return;
    }
    let views: Vec<_> = batch.iter().map(|j| j.rows.view()).collect();
    let merged = concatenate(Axis(0), &views).map_err(|e| oximl_core::Error::shape("rows of one width", e.to_string()));
    match merged.and_then(|x| model(x.view())) {
        Ok(out) => {
            let mut start = 0;
            for job in batch {
                let n = job.rows.nrows();
                let _ = job.reply.send(Ok(out.slice(ndarray::s![start..start + n, ..]).to_owned()));
                start += n;
            }
        }
        Err(_) => {
            for job in batch {
                let _ = job.reply.send(model(job.rows.view()));
            }
        }
    }
}
