//! Request entry point: prefix, body limit, statistics, faults, rate limiting and dispatch.

use super::app::{lock, App, Ctx};
use super::error::{ApiError, ApiResult};
use super::{
    auth, control, deployments, devicegroups, devices, guard, logstream, persist, products, runner,
    webhooks,
};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use std::net::SocketAddr;
use std::sync::Arc;

/// Request bodies larger than this take turns with compilations (a large deployment).
const HEAVY_BODY: usize = 256 * 1024;

const TEMPLATES: &[&str] = &[
    "/auth",
    "/auth/token",
    "/accounts",
    "/accounts/me/login_keys",
    "/accounts/me/login_keys/{id}",
    "/accounts/me/refresh_tokens",
    "/accounts/me/refresh_tokens/{id}",
    "/accounts/{id}",
    "/products",
    "/products/{id}",
    "/devicegroups",
    "/devicegroups/{id}",
    "/devicegroups/{id}/restart",
    "/devicegroups/{id}/conditional_restart",
    "/devicegroups/{id}/relationships/devices",
    "/devicegroups/{id}/relationships/min_supported_deployment",
    "/devices",
    "/devices/{id}",
    "/devices/{id}/restart",
    "/devices/{id}/conditional_restart",
    "/devices/{id}/logs",
    "/devices/{id}/history",
    "/deployments",
    "/deployments/{id}",
    "/webhooks",
    "/webhooks/{id}",
    "/logstream",
    "/logstream/{id}",
    "/logstream/{id}/{device}",
];

/// The route template matching `segs`, e.g. `/devices/{id}/logs`.
pub fn template(segs: &[String]) -> Option<&'static str> {
    TEMPLATES.iter().copied().find(|t| {
        let parts: Vec<&str> = t[1..].split('/').collect();
        parts.len() == segs.len()
            && parts
                .iter()
                .zip(segs)
                .all(|(p, s)| p.starts_with('{') || *p == s)
    })
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

fn dispatch(ctx: &Ctx) -> ApiResult<Response> {
    let tpl = template(&ctx.segs).ok_or_else(|| {
        ApiError::new(
            404,
            "NF000",
            "Not Found",
            "The requested path does not exist.",
        )
    })?;
    match (ctx.seg(0), tpl) {
        ("auth", "/auth") if ctx.method == Method::POST => auth::login(ctx),
        ("auth", "/auth/token") if ctx.method == Method::POST => auth::token(ctx),
        ("auth", _) => Err(ApiError::method_not_allowed()),
        ("accounts", "/accounts") if ctx.method == Method::GET => auth::list_accounts(ctx),
        ("accounts", "/accounts/{id}") if ctx.method == Method::GET => auth::get_account(ctx),
        ("accounts", t) if t.starts_with("/accounts/me/login_keys") => auth::login_keys(ctx),
        ("accounts", t) if t.starts_with("/accounts/me/refresh_tokens") => {
            auth::refresh_tokens(ctx)
        }
        ("accounts", _) => Err(ApiError::method_not_allowed()),
        ("products", _) => products::handle(ctx),
        ("devicegroups", _) => devicegroups::handle(ctx),
        ("devices", _) => devices::handle(ctx),
        ("deployments", _) => deployments::handle(ctx),
        ("webhooks", _) => webhooks::handle(ctx),
        ("logstream", _) => logstream::handle(ctx),
        _ => Err(ApiError::new(
            404,
            "NF000",
            "Not Found",
            "The requested path does not exist.",
        )),
    }
}

fn rate_headers(r: &mut Response, limit: u32, remaining: u32) {
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
}

/// The method as counted in the statistics: the ones the API knows, or `OTHER`.
fn stats_method(m: &Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

fn too_many(limit: u32, retry_after: u64) -> Response {
    let mut r = ApiError::new(
        429,
        "XX429",
        "Too Many Requests",
        "Rate limit exceeded; retry later.",
    )
    .into_response();
    rate_headers(&mut r, limit, 0);
    r.headers_mut()
        .insert("retry-after", HeaderValue::from(retry_after));
    r
}

/// The account of a valid bearer token in `headers`.
fn token_account(app: &App, headers: &axum::http::HeaderMap) -> Option<String> {
    let h = headers.get("authorization")?.to_str().ok()?;
    let token = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?
        .trim();
    let now = super::util::now_ms();
    let token = super::secrets::token_digest(token);
    let w = app.world();
    w.db.access_tokens
        .iter()
        .find(|t| t.token == token && t.expires_ms > now)
        .map(|t| t.account.clone())
}

/// The login id a `POST /auth` or `/auth/token` body names (for failed-login counting).
fn login_id(segs: &[String], body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = match segs.get(1).map(String::as_str) {
        Some("token") => "key",
        _ => "id",
    };
    match v.get(field).and_then(serde_json::Value::as_str) {
        Some(id) => id.chars().take(256).collect::<String>().to_lowercase(),
        None if segs.len() == 2 => "refresh token".into(),
        None => "login token".into(),
    }
}

/// `r` once the change it acknowledges is in the state file (`--state`); a 500 if it
/// cannot be saved.
async fn committed(app: &Arc<App>, r: Response) -> Response {
    match persist::commit_async(app).await {
        Ok(()) => r,
        Err(e) => {
            eprintln!("impt sim: cannot save state: {e:#}");
            ApiError::new(
                500,
                "XX500",
                "Internal Server Error",
                "The change could not be saved to the state file.",
            )
            .into_response()
        }
    }
}

/// The single handler behind every path.
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_string();
    let prefix = app.cfg.prefix.trim_end_matches('/').to_string();
    let addr = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let read = axum::body::to_bytes(body, app.cfg.max_body);
    let body = match tokio::time::timeout(app.cfg.read_timeout, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => {
            return ApiError::new(
                413,
                "VX413",
                "Request Entity Too Large",
                &format!("The request body exceeds {} bytes.", app.cfg.max_body),
            )
            .into_response()
        }
        Err(_) => {
            return ApiError::new(
                408,
                "VX408",
                "Request Timeout",
                "The request body was not received in time.",
            )
            .into_response()
        }
    };
    let split = |p: &str| -> Vec<String> {
        let p = p.strip_prefix('/').unwrap_or(p);
        if p.is_empty() {
            Vec::new()
        } else {
            p.split('/').map(decode).collect()
        }
    };
    if let Some(rest) = raw_path.strip_prefix("/_sim") {
        if rest.is_empty() || rest.starts_with('/') {
            if let Some(r) = control::refused(&parts.headers) {
                return r;
            }
            let segs = split(rest);
            let r = control::handle(&app, &parts.method, &segs, &body);
            if parts.method != Method::GET && r.status().is_success() {
                app.mark_dirty();
                return committed(&app, r).await;
            }
            return r;
        }
    }
    if let Some(rest) = raw_path.strip_prefix("/agents/") {
        return agent_request(&app, &parts, rest, &body).await;
    }
    let Some(rest) = raw_path
        .strip_prefix(&prefix)
        .filter(|r| r.is_empty() || r.starts_with('/'))
    else {
        return ApiError::new(
            404,
            "NF000",
            "Not Found",
            "The requested path does not exist.",
        )
        .into_response();
    };
    let segs = split(rest);
    let method = parts.method.clone();
    {
        let tpl = template(&segs).unwrap_or("/{unknown}");
        let mut st = lock(&app.stats);
        st.total += 1;
        *st.by_route
            .entry(format!("{} {}{}", stats_method(&method), prefix, tpl))
            .or_insert(0) += 1;
    }
    if let Some((status, delay)) = control::take_fault(&app, method.as_str(), rest, &raw_path) {
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        if status != 0 {
            let reason = axum::http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Injected Fault");
            return ApiError::new(status, "XX999", reason, "Fault injected by the simulator.")
                .into_response();
        }
    }
    let limit = app.cfg.rate_limit.unwrap_or(40);
    let account = token_account(&app, &parts.headers);
    let now_ms = super::util::now_ms();
    let (remaining, over) = app.guard.count(
        guard::rate_key(account.as_deref(), addr),
        limit,
        now_ms.div_euclid(1000),
    );
    if over && app.cfg.rate_limit.is_some() {
        return too_many(limit, 1);
    }
    let login = (segs.first().map(String::as_str) == Some("auth") && method == Method::POST)
        .then(|| login_id(&segs, &body));
    if let Some(id) = &login {
        if let Some(wait) = app.guard.login_blocked(addr, id, now_ms) {
            return too_many(limit, wait);
        }
    }
    let ctx = Ctx {
        app: app.clone(),
        method: method.clone(),
        path: rest.to_string(),
        segs,
        query: parse_query(parts.uri.query()),
        headers: parts.headers,
        body,
    };
    // Off the async runtime: a handler may compile, hash or serialise a lot; large
    // requests take turns (see compile::turn) so that small ones are answered meanwhile.
    let heavy = ctx.body.len() > HEAVY_BODY;
    let failed = || {
        ApiError::new(500, "XX500", "Internal Server Error", "The request failed.").into_response()
    };
    let mut r = tokio::task::spawn_blocking(move || {
        let run = || match dispatch(&ctx) {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        if heavy {
            super::compile::heavy(run).unwrap_or_else(failed)
        } else {
            run()
        }
    })
    .await
    .unwrap_or_else(|_| failed());
    if let Some(id) = &login {
        match r.status().as_u16() {
            200..=299 => app.guard.login_succeeded(addr, id),
            401 | 404 => app.guard.login_failed(addr, id, now_ms),
            _ => {}
        }
    }
    rate_headers(&mut r, limit, remaining);
    if method != Method::GET && r.status().is_success() {
        app.mark_dirty();
        return committed(&app, r).await;
    }
    r
}

/// `ANY /agents/{agent_id}[/path]`: a request to an agent's URL, answered by its
/// `http.onrequest` handler (no auth).
async fn agent_request(
    app: &Arc<App>,
    parts: &axum::http::request::Parts,
    rest: &str,
    body: &axum::body::Bytes,
) -> Response {
    use axum::http::StatusCode;
    let (agent_id, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let text = |status: StatusCode, msg: &str| (status, msg.to_string()).into_response();
    let device = {
        let w = app.world();
        w.db.device_pos_by_agent(agent_id)
            .map(|i| &w.db.devices[i])
            .filter(|d| d.group.is_some())
            .map(|d| d.id.clone())
    };
    let Some(device) = device else {
        return text(StatusCode::NOT_FOUND, "No agent with this id.\n");
    };
    let req = impt_vm::HttpRequest {
        method: parts.method.as_str().to_string(),
        path: decode(path),
        query: parse_query(parts.uri.query()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_ascii_lowercase(), v)
            })
            .collect(),
        body: String::from_utf8_lossy(body).into_owned(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    runner::send(app, &device, runner::Cmd::Http(req, tx));
    match tokio::time::timeout(std::time::Duration::from_secs(30), rx).await {
        Ok(Ok(Ok(resp))) => {
            let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
            let mut r = (status, resp.body).into_response();
            for (k, v) in resp.headers {
                if let (Ok(k), Ok(v)) = (
                    axum::http::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&v),
                ) {
                    r.headers_mut().insert(k, v);
                }
            }
            r
        }
        Ok(Ok(Err(msg))) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("{msg}\n")),
        _ => text(StatusCode::GATEWAY_TIMEOUT, "The agent did not answer.\n"),
    }
}
