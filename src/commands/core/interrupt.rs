//! Ctrl-C (SIGINT) as a future that is registered when it is made. tokio's `ctrl_c()`
//! registers its handler only when first polled, so a SIGINT arriving before that (say, right
//! after a prompt was printed) would end the process with the signal's status instead of the
//! command's own ending.

use std::future::Future;

use crate::error::{ImptError, Result};

/// A listener made now, resolving at the next Ctrl-C.
pub fn listener() -> Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut s = signal(SignalKind::interrupt())
            .map_err(|e| ImptError::msg(format!("cannot listen for Ctrl-C: {e}")))?;
        Ok(async move {
            s.recv().await;
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
