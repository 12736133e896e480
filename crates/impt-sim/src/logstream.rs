//! Log streams: `POST /logstream`, the Server-Sent Events `GET /logstream/{id}` and device
//! subscription with `PUT`/`DELETE /logstream/{id}/{device}`.

use super::app::{no_content, ok, App, Ctx, SseMsg, Stream, World};
use super::error::{ApiError, ApiResult};
use super::queue::{queue, QueueRx};
use super::util::new_id;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

fn closed() -> SseMsg {
    SseMsg::State {
        state: "closed",
        device_id: None,
    }
}

/// Close a stream: tell its connection `closed` and forget it.
pub fn close(w: &mut World, idx: usize) {
    let s = w.streams.remove(idx);
    s.control(closed());
}

pub fn handle(ctx: &Ctx) -> ApiResult<Response> {
    match (ctx.method.as_str(), ctx.segs.len()) {
        ("POST", 1) => create(ctx),
        ("GET", 2) => open(ctx),
        ("PUT", 3) => subscribe(ctx, true),
        ("DELETE", 3) => subscribe(ctx, false),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn create(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    let limit = ctx.app.cfg.streams_per_account.max(1);
    let id = new_id();
    {
        let mut w = ctx.app.world();
        while w.streams.iter().filter(|s| s.account == me).count() >= limit {
            if let Some(i) = w.streams.iter().position(|s| s.account == me) {
                close(&mut w, i);
            }
        }
        let (tx, rx) = queue();
        w.streams.push(Stream {
            id: id.clone(),
            account: me,
            devices: Vec::new(),
            tx,
            rx: Some(rx),
            idle_since_ms: Some(super::util::now_ms()),
            conn_gen: 0,
        });
    }
    let url = ctx.url(&format!("/logstream/{id}"));
    ok(
        200,
        json!({"data": {"type": "logstream", "id": id, "links": {"self": url}, "attributes": {"url": url}}}),
    )
}

fn subscribe(ctx: &Ctx, add: bool) -> ApiResult<Response> {
    let me = ctx.account()?;
    let sid = ctx.seg(1);
    let ident = ctx.seg(2);
    let max = ctx.app.cfg.devices_per_stream.max(1);
    let mut w = ctx.app.world();
    let si = w
        .streams
        .iter()
        .position(|s| s.id == sid && s.account == me)
        .ok_or_else(|| ApiError::not_found("log stream"))?;
    let di =
        w.db.device_index(&me, ident)
            .ok_or_else(|| ApiError::not_found("device"))?;
    let dev = w.db.devices[di].id.clone();
    let s = &mut w.streams[si];
    if add {
        s.devices.retain(|d| d != &dev);
        s.devices.push(dev.clone());
        s.send(SseMsg::State {
            state: "subscribed",
            device_id: Some(dev),
        });
        while s.devices.len() > max {
            let old = s.devices.remove(0);
            s.send(SseMsg::State {
                state: "unsubscribed",
                device_id: Some(old),
            });
        }
    } else {
        if !s.devices.contains(&dev) {
            return Err(ApiError::not_found("device subscription"));
        }
        s.devices.retain(|d| d != &dev);
        s.send(SseMsg::State {
            state: "unsubscribed",
            device_id: Some(dev),
        });
    }
    no_content()
}

/// One SSE frame; multi-line data becomes several `data:` lines.
pub fn frame(event: &str, data: &str) -> String {
    let mut f = format!("event: {event}\n");
    for line in data.split('\n') {
        f.push_str("data: ");
        f.push_str(line);
        f.push('\n');
    }
    f.push('\n');
    f
}

fn render(m: &SseMsg, json_fmt: bool) -> String {
    match m {
        SseMsg::State { state, device_id } => {
            let data = if json_fmt {
                let mut v = json!({"state": state});
                if let Some(d) = device_id {
                    v["device_id"] = d.clone().into();
                }
                v.to_string()
            } else {
                match device_id {
                    Some(d) => format!("{d} {state}"),
                    None => state.to_string(),
                }
            };
            frame("state_change", &data)
        }
        SseMsg::Log {
            device_id,
            ts,
            log_type,
            typ,
            msg,
        } => {
            let data = if json_fmt {
                json!({"device_id": device_id, "ts": ts, "log_type": log_type, "type": typ, "msg": msg})
                    .to_string()
            } else {
                format!("{device_id} {ts} {log_type} {typ} {msg}")
            };
            frame("message", &data)
        }
        SseMsg::Drop => String::new(),
    }
}

/// Marks its stream idle when the connection ends.
struct IdleGuard {
    app: Arc<App>,
    id: String,
    gen: u64,
}

impl Drop for IdleGuard {
    fn drop(&mut self) {
        let mut w = self.app.world();
        if let Some(s) = w
            .streams
            .iter_mut()
            .find(|s| s.id == self.id && s.conn_gen == self.gen)
        {
            s.idle_since_ms = Some(super::util::now_ms());
        }
    }
}

/// Close streams that have had no client for `idle_ms`.
pub fn expire_idle(app: &App, idle_ms: i64) {
    let now = super::util::now_ms();
    let mut w = app.world();
    while let Some(i) = w
        .streams
        .iter()
        .position(|s| s.idle_since_ms.is_some_and(|t| now - t >= idle_ms))
    {
        close(&mut w, i);
    }
}

struct Conn {
    _guard: IdleGuard,
    rx: QueueRx,
    keepalive: tokio::time::Interval,
    json: bool,
    first: bool,
    done: bool,
}

fn open(ctx: &Ctx) -> ApiResult<Response> {
    let json_fmt = match ctx.query_value("format").unwrap_or("text") {
        "text" => false,
        "json" => true,
        f => {
            return Err(ApiError::new(
                400,
                "VX005",
                "Invalid Format",
                &format!("The log stream format must be text or json, not \"{f}\"."),
            ))
        }
    };
    // The official client opens the stream without a token (the id is the capability):
    // that is allowed while no client is connected. With a token, it must be the owner's
    // (another account's stream is not found, a bad token is unauthorized), and only then
    // may a new connection take over a connected stream.
    let me = match ctx.header("authorization") {
        Some(_) => Some(ctx.account()?),
        None => None,
    };
    let (rx, guard) = {
        let mut w = ctx.app.world();
        let s = w
            .streams
            .iter_mut()
            .find(|s| s.id == ctx.seg(1) && me.as_ref().is_none_or(|m| *m == s.account))
            .ok_or_else(|| ApiError::not_found("log stream"))?;
        if me.is_none() && s.idle_since_ms.is_none() {
            return Err(ApiError::new(
                403,
                "PX003",
                "Forbidden",
                "The log stream already has a connected client; only its owner (with an \
                 Authorization header) may take it over.",
            ));
        }
        s.conn_gen += 1;
        s.idle_since_ms = None;
        let guard = IdleGuard {
            app: ctx.app.clone(),
            id: s.id.clone(),
            gen: s.conn_gen,
        };
        let rx = match s.rx.take() {
            Some(rx) => rx,
            None => {
                // A reconnection: the previous connection ends, this one takes over.
                let (tx, rx) = queue();
                let old = std::mem::replace(&mut s.tx, tx);
                old.control(SseMsg::Drop);
                rx
            }
        };
        (rx, guard)
    };
    let period = Duration::from_millis(ctx.app.cfg.keepalive_ms.max(10));
    let conn = Conn {
        _guard: guard,
        rx,
        keepalive: tokio::time::interval_at(tokio::time::Instant::now() + period, period),
        json: json_fmt,
        first: true,
        done: false,
    };
    let stream = futures::stream::unfold(conn, |mut c| async move {
        if c.done {
            return None;
        }
        if c.first {
            c.first = false;
            let m = SseMsg::State {
                state: "opened",
                device_id: None,
            };
            return Some((Ok::<_, Infallible>(Bytes::from(render(&m, c.json))), c));
        }
        tokio::select! {
            m = c.rx.recv() => match m {
                None | Some(SseMsg::Drop) => None,
                Some(m) => {
                    if matches!(m, SseMsg::State { state: "closed", .. }) {
                        c.done = true;
                    }
                    let b = Bytes::from(render(&m, c.json));
                    Some((Ok(b), c))
                }
            },
            _ = c.keepalive.tick() => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), c)),
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(r)
}
