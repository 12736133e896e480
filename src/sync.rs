//! The concurrency policy every layer shares (the lowest layer: it imports nothing of the
//! crate): the one way a tokio runtime is built.

/// A multi-threaded tokio runtime with I/O and timers: `workers` threads, or tokio's
/// default (one a core) for `None`. The caller reports the error in its own words.
pub fn runtime(workers: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        b.worker_threads(n);
    }
    b.enable_all().build()
}
