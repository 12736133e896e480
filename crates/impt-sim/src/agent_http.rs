//! Outgoing HTTP of simulated agents (`http.request(...).sendasync()` / `sendsync()`).
//!
//! A request to the device's own agent URL is served by the simulator itself: it is queued
//! and handed to the agent's `http.onrequest` handler on the runner's next turn (never while
//! the agent is still running the code that sent it), and the answer goes back to the
//! `sendasync` callback. Any other URL is fetched for real with a blocking HTTP client on a
//! thread of its own, unless the simulator runs with `--no-outbound`, where the call fails
//! with a runtime error saying so. Transport failures answer with the libcurl-style status
//! codes under 100 the imp uses (e.g. 28 for a timeout).
//!
//! Every request, to the own URL or anywhere else, spends one of the agent's rate credits
//! (see the limits module: they refill on the simulator's clock, so virtual time's jumps
//! refill them too; a new agent, by new code or a restart, has them all); one agent has at most `--http-in-flight` real requests under
//! way and all agents together `--http-in-flight-total` (the simulator's sockets); a
//! response body is read up to `--http-max-body` bytes. A request over a limit is answered
//! at once with status 429 and a body saying which limit. `sendasync` requests run as tasks
//! of the simulator's async runtime (no thread each); when the agent restarts or stops (new
//! code, restart, unassignment, deletion) its requests under way are dropped at once, their
//! sockets closed and their slots given back.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::app::lock;
use super::limits::{Credits, PlatformLimits};

use impt_vm::{HttpRequest, HttpResponse, OutgoingRequest};

/// Outgoing requests of one device's agent.
#[derive(Default)]
pub struct AgentHttp {
    /// Raised when the agent's requests under way are abandoned (see [`AgentHttp::cancel_all`]).
    pub cancel: Cancel,
    /// Requests to the own agent URL waiting to be served: (outgoing id, request).
    pub own: VecDeque<(u64, HttpRequest)>,
    /// Own-URL requests the handler has not answered yet: handler request id → outgoing id.
    pub served: HashMap<u64, u64>,
    /// Answers of real requests, filled by their threads.
    pub done: Arc<Mutex<Vec<(u64, HttpResponse)>>>,
    /// Real requests still running.
    pub inflight: Arc<Mutex<usize>>,
    /// Rate credits.
    pub credits: Credits,
}

/// The signal that drops one generation of an agent's requests under way.
pub struct Cancel(tokio::sync::watch::Sender<bool>);

impl Default for Cancel {
    fn default() -> Cancel {
        Cancel(tokio::sync::watch::channel(false).0)
    }
}

/// Real requests of all agents under way.
static TOTAL: AtomicUsize = AtomicUsize::new(0);

/// Real requests of all agents under way now.
pub fn total_in_flight() -> usize {
    TOTAL.load(Ordering::Acquire)
}

/// The answer to a request refused by a limit.
pub fn refusal(what: &str) -> HttpResponse {
    HttpResponse {
        status: 429,
        headers: Vec::new(),
        body: format!("Too Many Requests: {what}"),
    }
}

/// A slot in the simulator's budget of requests under way, given back on drop.
pub struct Slot;

impl Slot {
    pub fn take(limits: &PlatformLimits) -> Option<Slot> {
        if TOTAL.fetch_add(1, Ordering::AcqRel) >= limits.http_in_flight_total {
            TOTAL.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        TOTAL.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The request as the agent's own `http.onrequest` sees it, if `url` is below `agent_url`.
pub fn own_request(agent_url: &str, req: &OutgoingRequest) -> Option<HttpRequest> {
    let agent_url = agent_url.trim_end_matches('/');
    let rest = req.url.strip_prefix(agent_url)?;
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
        return None;
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = if path.is_empty() { "/" } else { path };
    Some(HttpRequest {
        method: req.method.clone(),
        path: percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned(),
        query: url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.clone()))
            .collect(),
        body: req.body.clone(),
    })
}

/// The runtime error of a refused request under `--no-outbound`.
pub fn refused(req: &OutgoingRequest) -> String {
    format!(
        "outbound HTTP is disabled in this simulator (impt sim --no-outbound): {} {}",
        req.method, req.url
    )
}

/// Fetches `req` for real (blocking); failures become imp-style status codes under 100; a
/// body over `max_body` bytes is cut off there (status 63, libcurl's "maximum file size
/// exceeded").
pub fn fetch(req: &OutgoingRequest, max_body: usize) -> HttpResponse {
    let failed = |status: u16, text: String| HttpResponse {
        status,
        headers: Vec::new(),
        body: text,
    };
    let timeout = Duration::from_secs_f64(req.timeout.clamp(1.0, 600.0));
    let client = match reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => return failed(1, e.to_string()),
    };
    let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => return failed(3, format!("bad HTTP method '{}'", req.method)),
    };
    let mut rb = client.request(method, &req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    // Set last, kept on redirects: the simulator's control endpoints refuse it.
    rb = rb.header(super::control::HOP_HEADER, "agent");
    match rb.send() {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = header_pairs(resp.headers());
            let mut bytes = Vec::new();
            let cap = max_body as u64 + 1;
            if let Err(e) = resp.take(cap).read_to_end(&mut bytes) {
                return failed(if is_timeout(&e) { 28 } else { 56 }, e.to_string());
            }
            if bytes.len() > max_body {
                return failed(
                    63,
                    format!(
                        "the response body exceeds {max_body} bytes (impt sim --http-max-body)"
                    ),
                );
            }
            let body = String::from_utf8_lossy(&bytes).into_owned();
            HttpResponse {
                status,
                headers,
                body,
            }
        }
        Err(e) if e.is_timeout() => failed(28, e.to_string()),
        Err(e) if e.is_builder() => failed(3, e.to_string()),
        Err(e) => failed(7, e.to_string()),
    }
}

/// The client of the agents' requests (connections pooled across them).
fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

/// [`fetch`] as a task: the same answers, without a thread.
pub async fn fetch_async(req: &OutgoingRequest, max_body: usize) -> HttpResponse {
    let failed = |status: u16, text: String| HttpResponse {
        status,
        headers: Vec::new(),
        body: text,
    };
    let timeout = Duration::from_secs_f64(req.timeout.clamp(1.0, 600.0));
    let method = match reqwest::Method::from_bytes(req.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => return failed(3, format!("bad HTTP method '{}'", req.method)),
    };
    let mut rb = client()
        .request(method, &req.url)
        .timeout(timeout)
        .body(req.body.clone());
    for (k, v) in &req.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    // Set last, kept on redirects: the simulator's control endpoints refuse it.
    rb = rb.header(super::control::HOP_HEADER, "agent");
    let mut resp = match rb.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return failed(28, e.to_string()),
        Err(e) if e.is_builder() => return failed(3, e.to_string()),
        Err(e) => return failed(7, e.to_string()),
    };
    let status = resp.status().as_u16();
    let headers = header_pairs(resp.headers());
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                bytes.extend_from_slice(&c);
                if bytes.len() > max_body {
                    return failed(
                        63,
                        format!(
                            "the response body exceeds {max_body} bytes (impt sim --http-max-body)"
                        ),
                    );
                }
            }
            Ok(None) => break,
            Err(e) => return failed(if e.is_timeout() { 28 } else { 56 }, e.to_string()),
        }
    }
    HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A response's headers as the agent's `headers` table gets them: lower-case names, values
/// as text.
fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) || e.to_string().contains("timed out")
}

impl AgentHttp {
    /// Spends a rate credit for a request at clock time `now` (the simulator's clock, in
    /// seconds); `Some` answer when there is none left.
    pub fn admit(&mut self, now: f64) -> Option<HttpResponse> {
        if self.credits.take(now) {
            None
        } else {
            Some(refusal(
                "the agent's HTTP request rate limit (40 at once, 2 more a second)",
            ))
        }
    }

    /// Answers request `id` with `resp` on the runner's next turn.
    pub fn answer(&self, id: u64, resp: HttpResponse) {
        lock(&self.done).push((id, resp));
    }

    /// Abandons everything under way (the agent restarts or stops): real requests are
    /// dropped (their tasks end at once, closing their sockets and giving back their
    /// slots), answers not yet delivered and own-URL requests are forgotten; the new agent
    /// starts with none under way and its whole allowance of rate credits.
    pub fn cancel_all(&mut self) {
        let _ = self.cancel.0.send(true);
        self.credits = Credits::default();
        self.cancel = Cancel::default();
        self.done = Arc::default();
        self.inflight = Arc::default();
        self.own.clear();
        self.served.clear();
    }

    /// Starts a real request `id` (a task on `rt`, else a thread); its answer lands in
    /// `done`. Over the requests-in-flight limits it is answered at once with a refusal.
    pub fn spawn(
        &self,
        id: u64,
        req: OutgoingRequest,
        limits: &PlatformLimits,
        rt: Option<&tokio::runtime::Handle>,
    ) -> Result<(), String> {
        if *lock(&self.inflight) >= limits.http_in_flight {
            self.answer(
                id,
                refusal(&format!(
                    "more than {} of this agent's requests under way (impt sim --http-in-flight)",
                    limits.http_in_flight
                )),
            );
            return Ok(());
        }
        let Some(slot) = Slot::take(limits) else {
            self.answer(
                id,
                refusal(&format!(
                    "more than {} requests of all agents under way (impt sim --http-in-flight-total)",
                    limits.http_in_flight_total
                )),
            );
            return Ok(());
        };
        let max_body = limits.http_max_body;
        let done = self.done.clone();
        let inflight = self.inflight.clone();
        *lock(&inflight) += 1;
        if let Some(rt) = rt {
            let mut cancelled = self.cancel.0.subscribe();
            rt.spawn(async move {
                let _slot = slot;
                tokio::select! {
                    resp = fetch_async(&req, max_body) => {
                        lock(&done)
                            .push((id, resp));
                    }
                    _ = cancelled.wait_for(|c| *c) => {}
                }
                *lock(&inflight) -= 1;
            });
            return Ok(());
        }
        let spawned = std::thread::Builder::new()
            .name("agent-http".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                let _slot = slot;
                let resp = fetch(&req, max_body);
                lock(&done).push((id, resp));
                *lock(&inflight) -= 1;
            });
        if let Err(e) = spawned {
            *lock(&self.inflight) -= 1;
            return Err(format!("http.request: cannot start the request: {e}"));
        }
        Ok(())
    }

    /// Whether anything waits for the runner (served at once) or for a thread (polled).
    pub fn busy(&self) -> (bool, bool) {
        let ready = !self.own.is_empty() || !lock(&self.done).is_empty();
        let waiting = *lock(&self.inflight) > 0;
        (ready, waiting)
    }

    /// Answers of real requests that arrived.
    pub fn take_done(&self) -> Vec<(u64, HttpResponse)> {
        std::mem::take(&mut *lock(&self.done))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_url_requests() {
        let req = OutgoingRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:5/agents/abc/led/on?x=1&y=a%20b".into(),
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: "hi".into(),
            timeout: 10.0,
        };
        let r = own_request("http://127.0.0.1:5/agents/abc", &req).unwrap();
        assert_eq!(r.path, "/led/on");
        assert_eq!(
            r.query,
            vec![("x".into(), "1".into()), ("y".into(), "a b".into())]
        );
        assert_eq!(r.headers[0].0, "content-type");
        let other = OutgoingRequest {
            url: "http://127.0.0.1:5/agents/abcd".into(),
            ..req.clone()
        };
        assert!(own_request("http://127.0.0.1:5/agents/abc", &other).is_none());
        let root = OutgoingRequest {
            url: "http://127.0.0.1:5/agents/abc".into(),
            ..req
        };
        assert_eq!(
            own_request("http://127.0.0.1:5/agents/abc", &root)
                .unwrap()
                .path,
            "/"
        );
    }

    #[test]
    fn unreachable_host_gives_a_curl_style_status() {
        // Port 9 on loopback: nothing listens (connection refused, no network needed).
        let r = fetch(
            &OutgoingRequest {
                method: "GET".into(),
                url: "http://127.0.0.1:9/".into(),
                timeout: 5.0,
                ..Default::default()
            },
            1024,
        );
        assert!(r.status < 100, "{r:?}");
    }
}
