//! The library's own rayon thread pool. oximl never configures the global rayon pool of the program that embeds
//! it: all of its parallel work runs here.
//!
//! Work below a size threshold stays on the caller's thread (spreading it costs more than it saves). Every output
//! element is computed by exactly one task, and reductions combine fixed-size chunks in a fixed order, so results
//! do not depend on the thread count.

use crate::error::{KernelError, Result};
use rayon::ThreadPool;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// Elementwise maps and reductions shorter than this stay serial.
pub const PAR_MIN_ELEMENTS: usize = 1 << 16;
/// Chunk length for parallel elementwise work and for the partial sums of reductions (independent of the thread
/// count, so that a reduction's rounding is too).
pub const CHUNK_ELEMENTS: usize = 1 << 14;

/// The pool, built at first use.
static POOL: RwLock<Option<Arc<ThreadPool>>> = RwLock::new(None);
/// The size asked for with [`set_num_threads`]; 0 for the default.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// The default size of the pool: the number of physical cores (read once: `num_cpus` parses /proc/cpuinfo).
///
/// ```
/// assert!(oximl_kernel::default_num_threads() >= 1);
/// ```
pub fn default_num_threads() -> usize {
    static PHYSICAL: OnceLock<usize> = OnceLock::new();
    *PHYSICAL.get_or_init(|| num_cpus::get_physical().max(1))
}

fn build(threads: usize) -> Result<Arc<ThreadPool>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("oximl-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| KernelError::InvalidArgument { name: "threads", reason: e.to_string() })
}

/// Sets the number of threads oximl uses; `0` restores the default ([`default_num_threads`]).
/// Work already running finishes on the old pool.
///
/// ```
/// oximl_kernel::set_num_threads(2).unwrap();
/// assert_eq!(oximl_kernel::num_threads(), 2);
/// oximl_kernel::set_num_threads(0).unwrap();
/// assert_eq!(oximl_kernel::num_threads(), oximl_kernel::default_num_threads());
/// ```
pub fn set_num_threads(threads: usize) -> Result<()> {
    const MAX: usize = 4096;
    if threads > MAX {
        return Err(KernelError::InvalidArgument { name: "threads", reason: format!("{threads} is more than {MAX}") });
    }
    let pool = build(if threads == 0 { default_num_threads() } else { threads })?;
    let mut slot = POOL.write().unwrap_or_else(|e| e.into_inner());
    THREADS.store(threads, Ordering::Relaxed);
    *slot = Some(pool);
    Ok(())
}

/// The number of threads oximl uses.
///
/// ```
/// assert!(oximl_kernel::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => default_num_threads(),
        n => n,
    }
}

fn pool() -> Option<Arc<ThreadPool>> {
    if let Some(pool) = POOL.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Some(Arc::clone(pool));
    }
    let mut slot = POOL.write().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        *slot = build(num_threads()).ok();
    }
    slot.clone()
}

/// Runs `f` on oximl's pool, so that rayon parallel iterators inside it use that pool.
/// If the pool cannot be created (the OS refuses threads), `f` runs on the caller's thread.
///
/// ```
/// use rayon::prelude::*;
/// let total: u64 = oximl_kernel::install(|| (0..1000u64).into_par_iter().sum());
/// assert_eq!(total, 499_500);
/// ```
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// Forgets the pool without joining its threads; a child process calls this right after `fork`, where the
/// parent's worker threads do not exist. The next parallel call builds a new pool of the same size.
/// (The Python module registers it with `os.register_at_fork`.)
///
/// ```
/// oximl_kernel::reset_after_fork();
/// assert!(oximl_kernel::num_threads() >= 1);
/// ```
pub fn reset_after_fork() {
    if let Some(old) = POOL.write().unwrap_or_else(|e| e.into_inner()).take() {
        std::mem::forget(old);
    }
}
