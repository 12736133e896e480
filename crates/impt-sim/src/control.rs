//! Control endpoints of the simulator (not part of impCentral), under `/_sim/`, no auth.
//!
//! | request | effect |
//! |---|---|
//! | `GET /_sim/devices` | all virtual devices: `[{id, mac_address, owner, account, online, devicegroup, imp_type}]` |
//! | `POST /_sim/devices` `{account?, name?, online?, imp_type?}` | add a device (to the account with that username, email or id; default: the first account; `imp_type`: default `impt sim --imp-type`); `201 {id, mac_address, owner, imp_type}` |
//! | `POST /_sim/devices/{device}/online`, `…/offline` | bring a device online/offline; logs `Device connected`/`Device disconnected` |
//! | `POST /_sim/devices/{device}/restart` | run the boot sequence as if restarted |
//! | `POST /_sim/devices/{device}/disconnect` `{secs?, reason?}` | cut the device's network for `secs` (virtual) seconds, or until `…/reconnect`; its code sees the loss as an imp does (see the link module); `reason` (default `NO_WIFI`, a name or number) is what failed connection attempts report |
//! | `POST /_sim/devices/{device}/reconnect` | the network is back |
//! | `POST /_sim/devices/{device}/power-cycle` | power off and on: the device's code restarts with `WAKEREASON_POWER_ON` and an empty `nv` |
//! | `POST /_sim/devices/{device}/parts` (a part file, TOML) | attach virtual parts to the device's buses and pins (see the hardware module); `DELETE` removes them |
//! | `POST /_sim/devices/{device}/pins` `{pin, value}` | drive an input pin: 0/1 (runs a `DIGITAL_IN` callback on a change) or 0.0-1.0 (analog) |
//! | `POST /_sim/devices/{device}/logs` `{count?, interval_ms?, type?, message?}` | emit `count` (default 1) lines of `type` (default `server.log`), one every `interval_ms` (default 0); `{i}` in `message` (default `Message #{i}#`) is the line number; `202` |
//! | `POST /_sim/faults` `{status?, count?, path?, method?, delay_ms?, drop_sse?}` | inject a fault: the next `count` (default: all) API requests whose path (below `/v5`, or the whole path) matches the regex `path` and whose method is `method` wait `delay_ms` and, when `status` is given, fail with that status and an error document; `drop_sse: true` drops every open log stream connection now |
//! | `DELETE /_sim/faults`, `POST /_sim/faults/reset` | remove every fault |
//! | `GET /_sim/stats` | `{total, routes: {"METHOD /v5/template": count}, agent_http_in_flight}` for API requests (and agents' outgoing requests under way) |
//! | `POST /_sim/stats/reset` | zero the statistics |
//! | `GET /_sim/time` | the devices' clock and worker pool: `{now, virtual, scale, skipped, jumps, workers, jobs, ready, running, idle}` (`now`: virtual Unix time in seconds; `skipped`: seconds jumped so far; `idle`: no device or agent code running or ready to run) |
//! | `POST /_sim/time` `{virtual?, advance?}` | switch virtual time on/off (when on, the clock jumps to the next timer whenever all device and agent code is idle); `advance`: jump that many seconds ahead now (0 to 10 years); answers as `GET` |
//!
//! `{device}` is a device id or MAC address of any account.
//!
//! Who may call them: the simulator listens on loopback only, so these endpoints are for
//! the programs of the machine's user (tests, `impt watch --sim`, scripts), never for the
//! code the simulator runs. Every HTTP request the simulator itself sends (agents'
//! `http.request`, webhook calls, and any redirect they follow) carries [`HOP_HEADER`],
//! and a control request carrying it is refused (403), as is one from a web page (an
//! `Origin` header: a browser's cross-site request to loopback).
//!
//! Inputs are bounded: at most [`MAX_DEVICES`] devices, [`MAX_FAULTS`] faults (path regexes
//! up to [`MAX_REGEX`] bytes compiled), [`MAX_EMITTERS`] log emitters at a time,
//! `interval_ms` and `delay_ms` up to [`MAX_INTERVAL_MS`], messages up to
//! [`MAX_MESSAGE`] bytes.

use super::app::{lock, App, Fault, SseMsg};
use super::error::{json_response, ApiError, ApiResult};
use super::{link, runner, vdev};
use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

pub use super::newdev::MAX_DEVICES;
/// Marks the HTTP requests the simulator sends itself (see the module documentation).
pub const HOP_HEADER: &str = "x-impt-sim-hop";
pub const MAX_FAULTS: usize = 100;
pub const MAX_REGEX: usize = 1024;
pub const MAX_EMITTERS: usize = 16;
pub const MAX_INTERVAL_MS: u64 = 60_000;
pub const MAX_MESSAGE: usize = 64 * 1024;
/// The longest network cut in seconds (28 days, as the longest deep sleep).
pub const MAX_CUT_SECS: f64 = 2_419_200.0;
const MAX_NAME: usize = 256;

fn too_large(what: &str, max: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(&format!("\"{what}\" is limited to {max}."))
}

/// A string field of at most `max` bytes.
fn str_field<'a>(b: &'a Value, key: &str, max: usize) -> ApiResult<Option<&'a str>> {
    match b.get(key).and_then(Value::as_str) {
        Some(s) if s.len() > max => Err(too_large(key, format!("{max} bytes"))),
        s => Ok(s),
    }
}

/// A number field of at most `max`.
fn num_field(b: &Value, key: &str, max: u64) -> ApiResult<Option<u64>> {
    match b.get(key).and_then(Value::as_u64) {
        Some(n) if n > max => Err(too_large(key, max)),
        n => Ok(n),
    }
}

/// Ends an emitter's turn in [`App::emitters`].
struct Emitter(Arc<App>);

impl Drop for Emitter {
    fn drop(&mut self) {
        self.0.emitters.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Emit `count` log lines from a device, one every `interval`; `{i}` in `template` is the
/// 1-based line number. `None` when [`MAX_EMITTERS`] are running already.
fn spam(
    app: &Arc<App>,
    device_id: String,
    count: u64,
    interval: Duration,
    typ: String,
    template: String,
) -> Option<()> {
    if app.emitters.fetch_add(1, Ordering::AcqRel) >= MAX_EMITTERS {
        app.emitters.fetch_sub(1, Ordering::AcqRel);
        return None;
    }
    let turn = Emitter(app.clone());
    tokio::spawn(async move {
        let _turn = turn;
        let app = _turn.0.clone();
        for i in 1..=count {
            if i > 1 && !interval.is_zero() {
                tokio::time::sleep(interval).await;
            } else if i % 1000 == 0 {
                tokio::task::yield_now().await;
            }
            let msg = template.replace("{i}", &i.to_string());
            if !vdev::emit_app(&app, &device_id, &typ, &msg) {
                return;
            }
        }
    });
    Some(())
}

/// Largest jump `POST /_sim/time {advance}` takes: ten years.
const MAX_ADVANCE: f64 = 10.0 * 365.0 * 86_400.0;

/// `GET /_sim/time`: the devices' clock and the worker pool.
fn time_state(app: &App) -> Value {
    let c = &app.clock;
    let p = app.runners.stats();
    json!({
        "now": c.now(),
        "virtual": c.is_virtual(),
        "scale": c.scale(),
        "skipped": c.skipped(),
        "jumps": c.jumps(),
        "workers": p.workers,
        "jobs": p.jobs,
        "ready": p.ready,
        "running": p.running,
        "idle": p.ready == 0 && p.running == 0,
    })
}

fn body(b: &Bytes) -> ApiResult<Value> {
    if b.iter().all(|c| c.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(b)
        .map_err(|e| ApiError::bad_request(&format!("The request body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    Ok(v)
}

fn device_id(app: &App, ident: &str) -> ApiResult<String> {
    let w = app.world();
    let l = ident.to_ascii_lowercase();
    w.db.devices
        .iter()
        .find(|d| d.id == l || d.mac == l)
        .map(|d| d.id.clone())
        .ok_or_else(|| ApiError::not_found("device"))
}

/// A refusal of a control request that comes from the simulator's own outbound requests
/// or from a web page; `None` for the local programs these endpoints are for.
pub fn refused(headers: &axum::http::HeaderMap) -> Option<Response> {
    let why = if headers.contains_key(HOP_HEADER) {
        "Control endpoints cannot be called by the simulator's agents or webhooks."
    } else if headers.contains_key("origin") {
        "Control endpoints cannot be called from a web page."
    } else {
        return None;
    };
    Some(ApiError::new(403, "XX403", "Forbidden", why).into_response())
}

pub fn handle(app: &Arc<App>, method: &Method, segs: &[String], raw: &Bytes) -> Response {
    match route(app, method, segs, raw) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn route(app: &Arc<App>, method: &Method, segs: &[String], raw: &Bytes) -> ApiResult<Response> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let done = || Ok(StatusCode::NO_CONTENT.into_response());
    match (method.as_str(), s.as_slice()) {
        ("GET", ["devices"]) => {
            let w = app.world();
            let list: Vec<Value> = w
                .db
                .devices
                .iter()
                .map(|d| {
                    let acc = w.db.account(&d.owner).map(|a| a.username.clone());
                    json!({"id": d.id, "mac_address": d.mac, "owner": d.owner, "account": acc, "online": d.online, "devicegroup": d.group, "imp_type": d.imp_type})
                })
                .collect();
            Ok(json_response(StatusCode::OK, &Value::Array(list)))
        }
        ("POST", ["devices"]) => {
            let b = body(raw)?;
            let mut w = app.world();
            let owner = match b.get("account").and_then(Value::as_str) {
                Some(a) => {
                    w.db.accounts
                        .iter()
                        .find(|x| x.id == a || x.username == a || x.email == a)
                        .map(|x| x.id.clone())
                        .ok_or_else(|| ApiError::not_found("account"))?
                }
                None => {
                    w.db.accounts
                        .first()
                        .map(|x| x.id.clone())
                        .ok_or_else(|| ApiError::not_found("account"))?
                }
            };
            let name = str_field(&b, "name", MAX_NAME)?.map(str::to_string);
            if w.db.devices.len() >= MAX_DEVICES {
                return Err(ApiError::bad_request(&format!(
                    "The simulator holds at most {MAX_DEVICES} devices."
                )));
            }
            let online = b.get("online").and_then(Value::as_bool).unwrap_or(true);
            let mut d = vdev::new_device(&w.db, &owner, name, online);
            d.imp_type = super::hardware::imp_type_field(&b, &app.cfg.imp_type)?;
            let out =
                json!({"id": d.id, "mac_address": d.mac, "owner": owner, "imp_type": d.imp_type});
            w.logs.adopt(&mut d);
            w.db.push_device(d);
            drop(w);
            app.mark_dirty();
            Ok(json_response(StatusCode::CREATED, &out))
        }
        ("POST", ["devices", ident, action @ ("online" | "offline")]) => {
            let id = device_id(app, ident)?;
            vdev::set_online(app, &id, *action == "online");
            done()
        }
        ("POST", ["devices", ident, "disconnect"]) => {
            let id = device_id(app, ident)?;
            let b = body(raw)?;
            let secs = match b.get("secs") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_f64() {
                    Some(s) if s.is_finite() && (0.0..=MAX_CUT_SECS).contains(&s) => Some(s),
                    _ => return Err(too_large("secs", format!("0 to {MAX_CUT_SECS} seconds"))),
                },
            };
            let reason = match b.get("reason") {
                None | Some(Value::Null) => link::NO_WIFI,
                Some(v) => link::reason(v).ok_or_else(|| {
                    ApiError::bad_request(
                        "\"reason\" is one of the imp's reasons (NO_WIFI, NO_IP_ADDRESS, NOT_RESOLVED, NO_SERVER, …) or its number.",
                    )
                })?,
            };
            runner::send(
                app,
                &id,
                runner::Cmd::Link(link::LinkCmd::Cut { secs, reason }),
            );
            done()
        }
        ("POST", ["devices", ident, "reconnect"]) => {
            let id = device_id(app, ident)?;
            runner::send(app, &id, runner::Cmd::Link(link::LinkCmd::Restore));
            done()
        }
        ("POST", ["devices", ident, "power-cycle"]) => {
            let id = device_id(app, ident)?;
            runner::send(app, &id, runner::Cmd::Link(link::LinkCmd::PowerCycle));
            done()
        }
        ("POST", ["devices", ident, "parts"]) => {
            let id = device_id(app, ident)?;
            let text = std::str::from_utf8(raw)
                .map_err(|_| ApiError::bad_request("The part file is not UTF-8 text."))?;
            super::hardware::attach(app, &id, text).map_err(|e| ApiError::bad_request(&e))?;
            done()
        }
        ("DELETE", ["devices", ident, "parts"]) => {
            let id = device_id(app, ident)?;
            super::hardware::detach(app, &id);
            done()
        }
        ("POST", ["devices", ident, "pins"]) => {
            let id = device_id(app, ident)?;
            let b = body(raw)?;
            let pin =
                super::hardware::parts::pin_name(b.get("pin").and_then(Value::as_str).ok_or_else(
                    || ApiError::bad_request("\"pin\" (e.g. \"pinM\") is required."),
                )?);
            let typ = super::hardware::device_imp_type(app, &id);
            if !impt_vm::imp_type(&typ).is_some_and(|t| t.pins.contains(&pin.as_str())) {
                return Err(ApiError::bad_request(&format!(
                    "{typ} has no pin \"{pin}\"."
                )));
            }
            let value = b
                .get("value")
                .and_then(super::hardware::pin_value)
                .ok_or_else(|| {
                    ApiError::bad_request("\"value\" must be 0, 1, true, false or 0.0-1.0.")
                })?;
            super::runner::notify(app, &id, super::exec::Cmd::Pin(pin, value));
            done()
        }
        ("POST", ["devices", ident, "blinkup"]) => {
            let id = device_id(app, ident)?;
            // configured anew, the device reconnects and loads its group's code (a blessed
            // device of a group without load_code_after_blessing gets its production code now)
            if super::factory::user_blinkup(app, &id) {
                vdev::boot(app, id);
            }
            done()
        }
        ("GET", ["webhooks"]) => {
            let w = app.world();
            let list: Vec<&super::delivery::Delivery> = w.deliveries.iter().collect();
            Ok(json_response(StatusCode::OK, &json!(list)))
        }
        ("POST", ["devices", ident, "restart"]) => {
            let id = device_id(app, ident)?;
            vdev::boot(app, id);
            done()
        }
        ("POST", ["devices", ident, "logs"]) => {
            let id = device_id(app, ident)?;
            let b = body(raw)?;
            let count = b
                .get("count")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .min(100_000);
            let interval = num_field(&b, "interval_ms", MAX_INTERVAL_MS)?.unwrap_or(0);
            let typ = str_field(&b, "type", MAX_NAME)?
                .unwrap_or("server.log")
                .to_string();
            let msg = str_field(&b, "message", MAX_MESSAGE)?
                .unwrap_or("Message #{i}#")
                .to_string();
            if spam(app, id, count, Duration::from_millis(interval), typ, msg).is_none() {
                return Err(ApiError::new(
                    429,
                    "XX429",
                    "Too Many Requests",
                    &format!("At most {MAX_EMITTERS} log emitters run at a time."),
                ));
            }
            Ok(json_response(
                StatusCode::ACCEPTED,
                &json!({"count": count}),
            ))
        }
        ("POST", ["faults"]) => {
            let b = body(raw)?;
            if b.get("drop_sse").and_then(Value::as_bool) == Some(true) {
                let w = app.world();
                for s in &w.streams {
                    s.control(SseMsg::Drop);
                }
            }
            let status = b.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
            if status != 0 && !(100..=599).contains(&status) {
                return Err(ApiError::bad_request(
                    "\"status\" must be an HTTP status code.",
                ));
            }
            let path = match str_field(&b, "path", MAX_REGEX)? {
                Some(p) => Some(
                    regex::RegexBuilder::new(p)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| ApiError::bad_request(&format!("bad path regex: {e}")))?,
                ),
                None => None,
            };
            let delay_ms = num_field(&b, "delay_ms", MAX_INTERVAL_MS)?.unwrap_or(0);
            let method = str_field(&b, "method", MAX_NAME)?.map(|m| m.to_ascii_uppercase());
            if status != 0 || delay_ms != 0 {
                let mut faults = lock(&app.faults);
                if faults.len() >= MAX_FAULTS {
                    return Err(ApiError::bad_request(&format!(
                        "At most {MAX_FAULTS} faults can be injected at a time."
                    )));
                }
                faults.push(Fault {
                    status,
                    remaining: b.get("count").and_then(Value::as_u64),
                    path,
                    method,
                    delay_ms,
                });
            }
            Ok(json_response(
                StatusCode::CREATED,
                &json!({"faults": lock(&app.faults).len()}),
            ))
        }
        ("DELETE", ["faults"]) | ("POST", ["faults", "reset"]) => {
            lock(&app.faults).clear();
            done()
        }
        ("GET", ["stats"]) => {
            let st = lock(&app.stats);
            Ok(json_response(
                StatusCode::OK,
                &json!({
                    "total": st.total,
                    "routes": st.by_route,
                    "agent_http_in_flight": super::agent_http::total_in_flight(),
                }),
            ))
        }
        ("GET", ["time"]) => Ok(json_response(StatusCode::OK, &time_state(app))),
        ("POST", ["time"]) => {
            let b = body(raw)?;
            let on = match b.get("virtual") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(v)) => Some(*v),
                Some(_) => return Err(ApiError::bad_request("\"virtual\" must be true or false.")),
            };
            let advance = match b.get("advance") {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_f64() {
                    Some(a) if a.is_finite() && (0.0..=MAX_ADVANCE).contains(&a) => Some(a),
                    _ => return Err(too_large("advance", format!("{MAX_ADVANCE} seconds"))),
                },
            };
            if let Some(on) = on {
                app.clock.set_virtual(on);
            }
            if let Some(a) = advance {
                app.clock.advance_to(app.clock.now() + a);
            }
            app.runners.kick();
            Ok(json_response(StatusCode::OK, &time_state(app)))
        }
        ("POST", ["stats", "reset"]) => {
            let mut st = lock(&app.stats);
            st.total = 0;
            st.by_route.clear();
            done()
        }
        _ => Err(ApiError::new(
            404,
            "NF000",
            "Not Found",
            "No such simulator control endpoint.",
        )),
    }
}

/// The fault to apply to an API request, if any (consumes one use). A fault's `path` regex
/// matches the path below the API prefix (`/devices`) or the whole path (`/v5/devices`).
pub fn take_fault(app: &App, method: &str, path: &str, full_path: &str) -> Option<(u16, u64)> {
    let mut faults = lock(&app.faults);
    let i = faults.iter().position(|f| {
        f.method.as_deref().is_none_or(|m| m == method)
            && f.path
                .as_ref()
                .is_none_or(|r| r.is_match(path) || r.is_match(full_path))
            && f.remaining != Some(0)
    })?;
    let f = &mut faults[i];
    if let Some(r) = f.remaining.as_mut() {
        *r -= 1;
    }
    let out = (f.status, f.delay_ms);
    if f.remaining == Some(0) {
        faults.remove(i);
    }
    Some(out)
}
