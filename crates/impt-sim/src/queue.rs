//! The queue between the simulator and one log stream connection, bounded in lines and
//! bytes: a client that does not read (or reads slowly) loses the newest lines instead of
//! growing the simulator's memory, and is told how many were dropped (a `status` log line
//! before the next line that fits).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// What a log stream connection is told.
#[derive(Debug, Clone)]
pub enum SseMsg {
    State {
        state: &'static str,
        device_id: Option<String>,
    },
    Log {
        device_id: String,
        ts: String,
        log_type: String,
        typ: String,
        msg: String,
    },
    /// End the connection without a `closed` event (fault injection).
    Drop,
}

/// Events a stream may hold for its client.
pub const MAX_LINES: usize = 10_000;
/// Bytes (of message text) a stream may hold for its client.
pub const MAX_BYTES: usize = 8 << 20;

#[derive(Default)]
struct Used {
    lines: AtomicUsize,
    bytes: AtomicUsize,
}

/// The simulator's end.
pub struct QueueTx {
    tx: UnboundedSender<SseMsg>,
    used: Arc<Used>,
    dropped: AtomicU64,
}

/// The connection's end.
pub struct QueueRx {
    rx: UnboundedReceiver<SseMsg>,
    used: Arc<Used>,
}

pub fn queue() -> (QueueTx, QueueRx) {
    let (tx, rx) = unbounded_channel();
    let used = Arc::new(Used::default());
    (
        QueueTx {
            tx,
            used: used.clone(),
            dropped: AtomicU64::new(0),
        },
        QueueRx { rx, used },
    )
}

fn size(m: &SseMsg) -> usize {
    match m {
        SseMsg::Log {
            device_id,
            ts,
            log_type,
            typ,
            msg,
        } => 64 + device_id.len() + ts.len() + log_type.len() + typ.len() + msg.len(),
        SseMsg::State { device_id, .. } => 64 + device_id.as_ref().map_or(0, String::len),
        SseMsg::Drop => 0,
    }
}

/// The notice that `n` events were dropped, in the shape of a log line of the device of `m`.
pub fn dropped_notice(n: u64, m: &SseMsg) -> Option<SseMsg> {
    let SseMsg::Log {
        device_id,
        ts,
        log_type,
        ..
    } = m
    else {
        return None;
    };
    Some(SseMsg::Log {
        device_id: device_id.clone(),
        ts: ts.clone(),
        log_type: log_type.clone(),
        typ: "status".into(),
        msg: format!(
            "WARNING: {n} log stream messages dropped: the stream is not read fast enough"
        ),
    })
}

impl QueueTx {
    fn push(&self, m: SseMsg) {
        self.used.lines.fetch_add(1, Ordering::AcqRel);
        self.used.bytes.fetch_add(size(&m), Ordering::AcqRel);
        let _ = self.tx.send(m);
    }

    fn fits(&self, lines: usize, bytes: usize) -> bool {
        let l = self.used.lines.load(Ordering::Acquire);
        let b = self.used.bytes.load(Ordering::Acquire);
        // An empty queue takes any one message, however large.
        l == 0 || (l + lines <= MAX_LINES && b + bytes <= MAX_BYTES)
    }

    /// Queue `m` if it fits; otherwise count it as dropped. Returns whether it was queued.
    pub fn send(&self, m: SseMsg) -> bool {
        let n = self.dropped.load(Ordering::Acquire);
        if n > 0 {
            if let Some(notice) = dropped_notice(n, &m) {
                if self.fits(2, size(&m) + size(&notice)) {
                    self.dropped.store(0, Ordering::Release);
                    self.push(notice);
                    self.push(m);
                    return true;
                }
                self.dropped.fetch_add(1, Ordering::AcqRel);
                return false;
            }
        }
        if self.fits(1, size(&m)) {
            self.push(m);
            true
        } else {
            self.dropped.fetch_add(1, Ordering::AcqRel);
            false
        }
    }

    /// Queue `m` whatever the bound (ending the connection: rare and small).
    pub fn control(&self, m: SseMsg) {
        self.push(m);
    }

    /// Events dropped since the last notice.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Acquire)
    }

    /// Events waiting for the client.
    pub fn queued(&self) -> usize {
        self.used.lines.load(Ordering::Acquire)
    }
}

impl QueueRx {
    pub async fn recv(&mut self) -> Option<SseMsg> {
        let m = self.rx.recv().await?;
        self.used.lines.fetch_sub(1, Ordering::AcqRel);
        self.used.bytes.fetch_sub(size(&m), Ordering::AcqRel);
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize, len: usize) -> SseMsg {
        SseMsg::Log {
            device_id: "d".into(),
            ts: "t".into(),
            log_type: "development".into(),
            typ: "server.log".into(),
            msg: format!("{i}{}", "x".repeat(len)),
        }
    }

    #[tokio::test]
    async fn bounded_and_says_so() {
        let (tx, mut rx) = queue();
        let mut sent = 0;
        for i in 0..MAX_LINES * 3 {
            if tx.send(line(i, 10)) {
                sent += 1;
            }
        }
        assert_eq!(sent, MAX_LINES);
        assert_eq!(tx.queued(), MAX_LINES);
        assert_eq!(tx.dropped(), (MAX_LINES * 2) as u64);
        tx.control(SseMsg::Drop);
        for _ in 0..10 {
            rx.recv().await.unwrap();
        }
        assert!(tx.send(line(0, 10)));
        assert_eq!(tx.dropped(), 0);
        let mut last = Vec::new();
        while tx.queued() > 0 {
            last.push(rx.recv().await.unwrap());
        }
        let SseMsg::Log { msg, typ, .. } = &last[last.len() - 2] else {
            panic!("no notice")
        };
        assert_eq!(typ, "status");
        assert!(msg.contains(&format!("{} log stream messages dropped", MAX_LINES * 2)));
        // Bytes are bounded too: large lines stop well before the line bound.
        let (tx, _rx) = queue();
        let n = (0..1000).filter(|i| tx.send(line(*i, 64 * 1024))).count();
        assert!(n < 200, "{n}");
    }
}
