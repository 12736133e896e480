//! Shared simulator state and the per-request context.

use super::error::{json_response, ApiError, ApiResult};
use super::model::Db;
pub use super::queue::SseMsg;
use super::queue::{QueueRx, QueueTx};
use super::SimConfig;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Stream {
    pub id: String,
    pub account: String,
    /// Subscribed device ids, least recently added first.
    pub devices: Vec<String>,
    pub tx: QueueTx,
    pub rx: Option<QueueRx>,
    /// Since when no client has been connected (`None` while one is).
    pub idle_since_ms: Option<i64>,
    /// Number of the current connection (a reconnection supersedes older ones).
    pub conn_gen: u64,
}

impl Stream {
    /// Queue `m` for the connection, unless its queue is full (see [`super::queue`]).
    pub fn send(&self, m: SseMsg) {
        self.tx.send(m);
    }

    /// Queue `m` whatever the bound (`closed`, `Drop`).
    pub fn control(&self, m: SseMsg) {
        self.tx.control(m);
    }
}

/// Mutable state behind one lock.
#[derive(Default)]
pub struct World {
    pub db: Db,
    pub streams: Vec<Stream>,
    /// Webhook calls, newest last (see the delivery module).
    pub deliveries: std::collections::VecDeque<super::webhook_calls::Delivery>,
    /// Devices' log history, kept apart from the entities (see the devlog module).
    pub logs: super::devlog::Logs,
}

/// An injected fault (see the control module).
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub remaining: Option<u64>,
    pub path: Option<regex::Regex>,
    pub method: Option<String>,
    pub delay_ms: u64,
}

#[derive(Default)]
pub struct Stats {
    pub total: u64,
    pub by_route: std::collections::BTreeMap<String, u64>,
}

pub struct App {
    pub cfg: SimConfig,
    /// Virtual time of the devices' code.
    pub clock: super::exec::Clock,
    /// The worker pool running the devices' code.
    pub runners: super::pool::Runners,
    /// Public base URL including the `/v5` prefix.
    pub base: String,
    pub world: Mutex<World>,
    /// Number of changes made (see [`super::persist`]).
    pub changes: AtomicU64,
    /// Number of changes the state file holds.
    pub saved: Mutex<u64>,
    pub stats: Mutex<Stats>,
    pub faults: Mutex<Vec<Fault>>,
    /// `/_sim/…/logs` emitters running now.
    pub emitters: std::sync::atomic::AtomicUsize,
    /// Rate limits and failed logins.
    pub guard: super::guard::Guard,
    /// Carries out the factory calls of the devices' code (see the factory module).
    pub factory: Option<fn(&Arc<App>, super::exec::FactoryCall)>,
    /// The parts attached to devices (see the hardware module).
    pub boards: super::hardware::Boards,
    /// The async runtime the agents' outgoing requests run on (none: a thread each).
    pub rt: Option<tokio::runtime::Handle>,
}

/// Locks `m`; a mutex poisoned by a panicking thread is used as it is (the workspace's one
/// mutex-poison policy, see ARCHITECTURE.md): one panic does not become a panic in every
/// later request.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl App {
    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// The URL of an agent: `<base without the API prefix>/agents/<agent_id>`.
    pub fn agent_url(&self, agent_id: &str) -> String {
        let prefix = self.cfg.prefix.trim_end_matches('/');
        let root = self.base.strip_suffix(prefix).unwrap_or(&self.base);
        format!("{root}/agents/{agent_id}")
    }

    pub fn mark_dirty(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }
}

/// One API request, already split and decoded.
pub struct Ctx {
    pub app: Arc<App>,
    pub method: Method,
    /// Path below the prefix, e.g. `/products/abc`.
    pub path: String,
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Ctx {
    pub fn seg(&self, i: usize) -> &str {
        self.segs.get(i).map(String::as_str).unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The account id of a valid bearer token.
    pub fn account(&self) -> ApiResult<String> {
        let h = self
            .header("authorization")
            .ok_or_else(ApiError::unauthorized)?;
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?
            .trim();
        let now = super::util::now_ms();
        let token = super::secrets::token_digest(token);
        let w = self.app.world();
        w.db.access_tokens
            .iter()
            .find(|t| t.token == token && t.expires_ms > now)
            .map(|t| t.account.clone())
            .ok_or_else(ApiError::unauthorized)
    }

    /// The body as JSON; `None` when empty.
    pub fn json(&self) -> ApiResult<Option<Value>> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(None);
        }
        serde_json::from_slice(&self.body)
            .map(Some)
            .map_err(|e| ApiError::bad_request(&format!("The request body is not valid JSON: {e}")))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.app.base, path)
    }
}

pub fn ok(status: u16, body: Value) -> ApiResult<Response> {
    ok_json(status, &body)
}

/// [`ok`] with any serialisable document (e.g. one written field by field, without a tree).
pub fn ok_json<T: serde::Serialize + ?Sized>(status: u16, body: &T) -> ApiResult<Response> {
    Ok(json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        body,
    ))
}

pub fn no_content() -> ApiResult<Response> {
    Ok(StatusCode::NO_CONTENT.into_response())
}
