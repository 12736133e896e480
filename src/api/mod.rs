//! impCentral API v5 client: auth and token refresh, JSON:API documents, pagination, retries.
//! Entities are kept as `serde_json::Value` (attributes in the order the API sends them);
//! The wire vocabulary shared with the simulator is the `impt_wire` crate.

pub mod auth;
pub mod deployments;
pub mod endpoint;
pub mod json;
pub mod logstream;
pub mod simctl;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::config::auth::AuthFile;
use crate::error::{ApiError, ApiErrorItem, ConfigKind, Entity, ImptError, Result};

/// Content type of JSON:API documents.
pub const JSONAPI: &str = "application/vnd.api+json";
/// Page size used for every list, as the original does.
pub const LIST_PAGE_SIZE: usize = 100;
/// Refresh tokens this long before they expire.
const REFRESH_MARGIN_SECS: i64 = 180;
/// Give up after this many 429 answers in a row.
const MAX_RATE_LIMIT_RETRIES: u32 = 60;

/// What the client tells the outside world: debug traces and a busy indicator.
pub trait Hooks: Send + Sync {
    /// Whether [`Hooks::debug`] shows anything: the traces are only made when it does
    /// (a trace is the whole body, pretty-printed: more work than the request itself).
    fn tracing(&self) -> bool {
        false
    }
    fn debug(&self, _text: &str) {}
    fn busy(&self, _on: bool) {}
}

/// No hooks.
pub struct Quiet;
impl Hooks for Quiet {}

/// How an expired access token can be renewed.
#[derive(Clone, Debug, PartialEq)]
pub enum Renewal {
    RefreshToken(String),
    LoginKey(String),
    None,
}

/// The token of a client and where to save it when renewed.
#[derive(Clone, Debug)]
pub struct Session {
    pub access_token: String,
    pub expires_at: String,
    pub renewal: Renewal,
    /// The auth file to rewrite after a refresh, and its kind for error texts.
    pub file: Option<(PathBuf, AuthFile)>,
    pub kind: ConfigKind,
}

pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    session: tokio::sync::Mutex<Session>,
    /// Seconds before expiry a token is refreshed (see [`margin_for`]).
    margin: std::sync::atomic::AtomicI64,
    hooks: Arc<dyn Hooks>,
}

/// Parses one item of an `errors` array (or a `data.meta` notice).
pub fn parse_error_item(v: &Value) -> ApiErrorItem {
    let s = |k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    ApiErrorItem {
        status: s("status"),
        code: s("code"),
        title: s("title"),
        detail: s("detail"),
        meta: v.get("meta").cloned().unwrap_or(Value::Null),
    }
}

/// Builds an [`ApiError`] from a status and body text.
pub fn api_error(status: u16, body: &str) -> ApiError {
    let errors = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
        .map(|items| items.iter().map(parse_error_item).collect())
        .unwrap_or_default();
    ApiError {
        status,
        errors,
        raw: body.to_string(),
        notes: vec![],
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("impt-rs/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

pub(crate) fn network_error(e: &reqwest::Error) -> ImptError {
    ImptError::Network(e.to_string())
}

/// Replaces secrets in a JSON value for debug output.
pub fn redact(v: &Value) -> Value {
    const SECRET: [&str; 7] = [
        "password",
        "access_token",
        "refresh_token",
        "key",
        "token",
        "login_token",
        "accessToken",
    ];
    match v {
        Value::Object(m) => {
            let hide_id = m.get("type").and_then(Value::as_str) == Some("login_key");
            Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let hidden = SECRET.contains(&k.as_str()) || (hide_id && k == "id");
                        (
                            k.clone(),
                            if hidden && !v.is_null() {
                                json!("[hidden]")
                            } else {
                                redact(v)
                            },
                        )
                    })
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Seconds the token has left (negative: expired; `None`: unreadable expiry).
fn seconds_left(expires_at: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(expires_at)
        .ok()
        .map(|t| (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds())
}

fn expires_soon(expires_at: &str, margin: i64) -> bool {
    seconds_left(expires_at).is_none_or(|left| left < margin)
}

/// The refresh margin for tokens that live `lifetime` seconds: [`REFRESH_MARGIN_SECS`], or a
/// quarter of the lifetime when that is shorter (else every request would refresh first).
fn margin_for(lifetime: i64) -> i64 {
    if lifetime <= REFRESH_MARGIN_SECS {
        (lifetime / 4).max(1)
    } else {
        REFRESH_MARGIN_SECS
    }
}

/// An id of a JSON:API resource.
pub fn id_of(v: &Value) -> &str {
    v.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// `data.attributes[name]`-style access on a resource object.
pub fn attr<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get("attributes")
        .and_then(|a| a.get(name))
        .filter(|x| !x.is_null())
}

pub fn attr_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    attr(v, name).and_then(Value::as_str)
}

/// `relationships[name].id`, treating a missing or null relationship alike.
pub fn rel_id<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get("relationships")
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
}

pub fn rel_type<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get("relationships")
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("type"))
        .and_then(Value::as_str)
}

impl Client {
    pub fn new(endpoint: &str, session: Session, hooks: Arc<dyn Hooks>) -> Client {
        Client {
            http: http_client(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            session: tokio::sync::Mutex::new(session),
            margin: std::sync::atomic::AtomicI64::new(REFRESH_MARGIN_SECS),
            hooks,
        }
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn hooks(&self) -> &Arc<dyn Hooks> {
        &self.hooks
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The current access token (refreshed first if it is about to expire).
    pub async fn token(&self) -> Result<String> {
        let mut s = self.session.lock().await;
        let margin = self.margin.load(std::sync::atomic::Ordering::Relaxed);
        if expires_soon(&s.expires_at, margin) {
            self.renew(&mut s).await?;
        }
        Ok(s.access_token.clone())
    }

    /// Takes `session` when its access token differs from the current one (a new login);
    /// true when it did.
    pub async fn replace_session(&self, session: Session) -> bool {
        let mut s = self.session.lock().await;
        if s.access_token == session.access_token {
            return false;
        }
        *s = session;
        true
    }

    /// Renews the access token now, unless another task already did since `stale` was
    /// read (for connections the client does not make itself, e.g. a log stream's answer 401).
    pub async fn renew_token(&self, stale: &str) -> Result<()> {
        let mut s = self.session.lock().await;
        if s.access_token == stale {
            self.renew(&mut s).await?;
        }
        Ok(())
    }

    async fn renew(&self, s: &mut Session) -> Result<()> {
        let tokens = match &s.renewal {
            Renewal::RefreshToken(t) => auth::refresh(self, t).await,
            Renewal::LoginKey(k) => auth::token_from_key(self, k).await,
            Renewal::None => return Err(ImptError::TokenExpired(s.kind.clone())),
        };
        let tokens = match tokens {
            Ok(t) => t,
            Err(ImptError::Api(e)) if e.status == 404 || e.status == 401 => {
                return Err(ImptError::RefreshFailed(s.kind.clone()))
            }
            Err(ImptError::NotFound { .. }) => {
                return Err(ImptError::RefreshFailed(s.kind.clone()))
            }
            Err(e) => return Err(e),
        };
        if let Some(lifetime) = seconds_left(&tokens.expires_at) {
            self.margin
                .store(margin_for(lifetime), std::sync::atomic::Ordering::Relaxed);
        }
        s.access_token = tokens.access_token.clone();
        s.expires_at = tokens.expires_at.clone();
        if let Some((path, file)) = &mut s.file {
            file.set_token(&tokens.access_token, &tokens.expires_at);
            crate::config::auth::save(path, file)?;
        }
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.endpoint, path)
        }
    }

    /// Sends one request without authorization handling (used by auth calls too).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        url: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        headers: &[(&str, String)],
        bearer: Option<&str>,
        content_type: &str,
    ) -> Result<(u16, reqwest::header::HeaderMap, String)> {
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Content-Type", content_type)
            .header("Accept", content_type);
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        if self.hooks.tracing() {
            self.hooks.debug(&format!(
                "Doing the request with options:\n{}",
                to_json(&json!({
                    "url": url,
                    "method": method.as_str(),
                    "qs": query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>(),
                    "headers": headers.iter().map(|(k, _)| (k.to_string(), json!("[hidden]"))).chain(bearer.map(|_| ("Authorization".to_string(), json!("[hidden]")))).collect::<Map<_, _>>(),
                    "json": body.map(redact),
                }))
            ));
        }
        self.hooks.busy(true);
        let resp = req.send().await;
        self.hooks.busy(false);
        let resp = resp.map_err(|e| network_error(&e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.map_err(|e| network_error(&e))?;
        if self.hooks.tracing() {
            let shown = serde_json::from_str::<Value>(&text)
                .map(|v| to_json(&redact(&v)))
                .unwrap_or_else(|_| text.clone());
            self.hooks.debug(&format!(
                "\nResponse code: {status}\nResponse body: {shown}\n"
            ));
        }
        Ok((status, headers, text))
    }

    /// An authorized JSON:API request. Refreshes the token when needed, replays once after a
    /// 401, waits and replays on 429. Returns the parsed body (None when empty).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Option<Value>> {
        let url = self.url(path);
        let mut replayed = false;
        let mut limited = 0;
        loop {
            let token = self.token().await?;
            let (status, resp_headers, text) = self
                .send_raw(
                    method.clone(),
                    &url,
                    query,
                    body,
                    headers,
                    Some(&token),
                    JSONAPI,
                )
                .await?;
            if status == 401 && !replayed {
                replayed = true;
                let mut s = self.session.lock().await;
                if s.access_token == token {
                    self.renew(&mut s).await?;
                }
                continue;
            }
            if status == 429 && limited < MAX_RATE_LIMIT_RETRIES {
                limited += 1;
                let secs = ["retry-after", "x-ratelimit-reset"]
                    .iter()
                    .find_map(|h| {
                        resp_headers
                            .get(*h)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<f64>().ok())
                    })
                    .unwrap_or(1.0)
                    .clamp(0.05, 30.0);
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                continue;
            }
            if (200..300).contains(&status) {
                if text.trim().is_empty() {
                    return Ok(None);
                }
                return json::parse(&text).map(Some).map_err(|_| {
                    ImptError::Internal("Unexpected format of impCentral response".into())
                });
            }
            return Err(ImptError::Api(api_error(status, &text)));
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        self.get_query(path, &[]).await
    }

    pub async fn get_query(&self, path: &str, query: &[(String, String)]) -> Result<Value> {
        Ok(self
            .request(Method::GET, path, query, None, &[])
            .await?
            .unwrap_or(Value::Null))
    }

    /// `GET <collection>/<id>`'s `data`, or `None` on a 404.
    pub async fn get_entity(&self, entity: Entity, id: &str) -> Result<Option<Value>> {
        match self.get(&entity_path(entity, id)).await {
            Ok(doc) => Ok(doc.get("data").cloned()),
            Err(ImptError::Api(e)) if e.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Option<Value>> {
        self.request(Method::POST, path, &[], Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Result<Option<Value>> {
        self.request(Method::PATCH, path, &[], Some(body), &[])
            .await
    }

    /// Page `page` (from 1, `size` entries) of a device's log history, newest first:
    /// `GET /devices/{id}/logs`, its `data` entries (`{ts, type, msg}`).
    pub async fn device_logs(&self, device_id: &str, page: u64, size: u64) -> Result<Vec<Value>> {
        let query = [
            ("page[number]".to_string(), page.to_string()),
            ("page[size]".to_string(), size.to_string()),
        ];
        let path = format!("{}/logs", entity_path(Entity::Device, device_id));
        Ok(data_items(&mut self.get_query(&path, &query).await?))
    }

    /// POST of a creation document (of `impt_wire::requests`) to `entity`'s collection: the
    /// created entity (the answer's `data`; `Null` when it has none).
    pub async fn create(&self, entity: Entity, body: &Value) -> Result<Value> {
        let doc = self.post(entity.collection(), body).await?;
        Ok(doc
            .and_then(|mut d| d.get_mut("data").map(Value::take))
            .unwrap_or(Value::Null))
    }

    /// PATCH of entity `id` with `body` (an update document of `impt_wire::requests`).
    pub async fn patch_entity(
        &self,
        entity: Entity,
        id: &str,
        body: &Value,
    ) -> Result<Option<Value>> {
        self.patch(&entity_path(entity, id), body).await
    }

    pub async fn delete(&self, path: &str) -> Result<Option<Value>> {
        self.request(Method::DELETE, path, &[], None, &[]).await
    }

    /// Every item of a paginated list (page size 100), following `links.next`, de-duplicated
    /// by id. `filters` are `(name, value)` pairs sent as `filter[name]=value`.
    pub async fn list(&self, path: &str, filters: &[(&str, String)]) -> Result<Vec<Value>> {
        let mut out: Vec<Value> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut page = 1usize;
        loop {
            let mut query: Vec<(String, String)> = filters
                .iter()
                .map(|(k, v)| (format!("filter[{k}]"), v.clone()))
                .collect();
            query.push(("page[number]".into(), page.to_string()));
            query.push(("page[size]".into(), LIST_PAGE_SIZE.to_string()));
            let mut doc = self.get_query(path, &query).await?;
            let items = data_items(&mut doc);
            let count = items.len();
            for item in items {
                let id = id_of(&item).to_string();
                if id.is_empty() || seen.insert(id) {
                    out.push(item);
                }
            }
            let next = doc
                .get("links")
                .and_then(|l| l.get("next"))
                .and_then(Value::as_str);
            let this = doc
                .get("links")
                .and_then(|l| l.get("self"))
                .and_then(Value::as_str);
            if next.is_none() || next == this || count == 0 {
                return Ok(out);
            }
            page += 1;
        }
    }
}

/// `JSON.stringify(value, null, 2)`: how JSON documents are shown, in traces and output.
pub fn to_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
}

/// `POST <collection>/<id>/restart`, or `/conditional_restart`: restarts one device
/// ([`Entity::Device`]) or every device of a Device Group ([`Entity::DeviceGroup`]).
pub async fn restart(client: &Client, entity: Entity, id: &str, conditional: bool) -> Result<()> {
    let action = if conditional {
        "conditional_restart"
    } else {
        "restart"
    };
    let path = format!("{}/{}/{action}", entity.collection(), encode_segment(id));
    client.request(Method::POST, &path, &[], None, &[]).await?;
    Ok(())
}

/// The items of a list document (its `data` array, taken; none when it has none).
fn data_items(doc: &mut Value) -> Vec<Value> {
    match doc.get_mut("data").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => vec![],
    }
}

/// The path of entity `id`: `/<collection>/<id>`.
pub fn entity_path(entity: Entity, id: &str) -> String {
    format!("{}/{}", entity.collection(), encode_segment(id))
}

/// Percent-encodes one path segment (names with spaces or slashes used as ids).
pub fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%5F", "_")
        .replace("%2E", ".")
        .replace("%3A", ":")
}

#[cfg(test)]
mod refresh_tests {
    use super::*;

    #[test]
    fn short_lived_tokens_are_not_refreshed_before_every_request() {
        assert_eq!(margin_for(3600), REFRESH_MARGIN_SECS);
        assert_eq!(margin_for(8), 2);
        assert_eq!(margin_for(1), 1);
        let in_8s = (chrono::Utc::now() + chrono::Duration::seconds(8)).to_rfc3339();
        assert!(!expires_soon(&in_8s, margin_for(8)));
        assert!(expires_soon(&in_8s, REFRESH_MARGIN_SECS));
        assert!(expires_soon("not a time", 1));
    }
}
