//! The concurrency policy every layer shares (the lowest layer: it imports nothing of the
//! crate): the one way a tokio runtime is built, and the one answer to a poisoned mutex.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A multi-threaded tokio runtime with I/O and timers: `workers` threads, or tokio's
/// default (one a core) for `None`. The caller reports the error in its own words.
pub fn runtime(workers: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        b.worker_threads(n);
    }
    b.enable_all().build()
}

/// Locks `m`. A mutex poisoned by a thread that panicked while holding it is used as it is:
/// the data guarded here (caches, buffers, counters) stays meaningful after a panic, and
/// one panic must not turn every later lock into another.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
