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

use futures::StreamExt;
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
        // As `resp.text()` (lossy UTF-8), without copying a body that is valid UTF-8.
        let body = resp.bytes().await.map_err(|e| network_error(&e))?;
        let text = String::from_utf8(Vec::from(body))
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
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
        self.request_kept(method, path, query, body, headers, None)
            .await
    }

    /// [`Client::request`]; an answer that is a list page is parsed keeping only what a
    /// list shows when `attrs` is given (see [`json::parse_list`]).
    async fn request_kept(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        headers: &[(&str, String)],
        attrs: Option<&[&str]>,
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
                let doc = match attrs {
                    Some(attrs) => json::parse_list(&text, attrs),
                    None => json::parse(&text),
                };
                return doc.map(Some).map_err(|_| {
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
        let mut out = Vec::new();
        self.list_pages(path, filters, None, &mut |items| out.extend(items))
            .await?;
        Ok(out)
    }

    /// [`Client::list`] for showing the items, page by page: `each` is given the new items
    /// of each page, in order, as soon as the page is taken (while it is fresh in memory).
    /// Of each item only its members other than `links` are kept, and of its attributes
    /// those named in `attrs`.
    pub async fn list_shown(
        &self,
        path: &str,
        filters: &[(&str, String)],
        attrs: &[&str],
        each: &mut (dyn FnMut(Vec<Value>) + Send),
    ) -> Result<()> {
        self.list_pages(path, filters, Some(attrs), each).await
    }

    /// [`Client::list`], the items of each page given to `each`, keeping only `attrs` of the
    /// items' attributes when given.
    ///
    /// When a page's `links.last` says how many pages there are (the simulator's do), the
    /// pages after it up to that one are asked for [`LIST_PAGES_IN_FLIGHT`] at a time and
    /// taken in page order, each as if fetched alone: the items, their order, where the list
    /// stops and the error reported are those of fetching one page after the other (and
    /// with debug traces on, the pages are fetched one after the other).
    async fn list_pages(
        &self,
        path: &str,
        filters: &[(&str, String)],
        attrs: Option<&[&str]>,
        each: &mut (dyn FnMut(Vec<Value>) + Send),
    ) -> Result<()> {
        let page_of = |query: Vec<(String, String)>| async move {
            let doc = self
                .request_kept(Method::GET, path, &query, None, &[], attrs)
                .await?;
            Ok::<_, ImptError>(doc.unwrap_or(Value::Null))
        };
        let query = |page: usize| {
            let mut query: Vec<(String, String)> = filters
                .iter()
                .map(|(k, v)| (format!("filter[{k}]"), v.clone()))
                .collect();
            query.push(("page[number]".into(), page.to_string()));
            query.push(("page[size]".into(), LIST_PAGE_SIZE.to_string()));
            query
        };
        let mut seen = std::collections::HashSet::new();
        let mut page = 1usize;
        let mut doc = page_of(query(page)).await?;
        loop {
            let last = last_page(&doc);
            if !take_page(&mut doc, &mut seen, each) {
                return Ok(());
            }
            // With debug traces on, one page after the other: each request's trace is
            // followed by its answer's, as the original shows them.
            let ahead = !self.hooks.tracing();
            match last.filter(|&last| ahead && last > page + 1) {
                Some(last) => {
                    let mut pages = futures::stream::iter(page + 1..=last)
                        .map(|n| page_of(query(n)))
                        .buffered(LIST_PAGES_IN_FLIGHT);
                    // Every page but the last is taken here; the last is taken as any page
                    // is, so that a list grown meanwhile goes on past it.
                    while let Some(next) = pages.next().await {
                        page += 1;
                        let mut next = next?;
                        if page == last {
                            doc = next;
                            break;
                        }
                        if !take_page(&mut next, &mut seen, each) {
                            return Ok(());
                        }
                    }
                }
                None => {
                    page += 1;
                    doc = page_of(query(page)).await?;
                }
            }
        }
    }
}

/// Pages of one list asked for at once when the number of pages is known (the original
/// impt keeps at most 5 requests in flight).
const LIST_PAGES_IN_FLIGHT: usize = 4;

/// Gives the items of list page `doc` whose id is new (or empty) to `each`; true when
/// another page follows: `links.next` is there, is not the page itself, and the page was
/// not empty.
fn take_page(
    doc: &mut Value,
    seen: &mut std::collections::HashSet<String>,
    each: &mut (dyn FnMut(Vec<Value>) + Send),
) -> bool {
    let mut items = data_items(doc);
    let count = items.len();
    items.retain(|item| {
        let id = id_of(item);
        id.is_empty() || seen.insert(id.to_string())
    });
    if !items.is_empty() {
        each(items);
    }
    let link = |name: &str| {
        doc.get("links")
            .and_then(|l| l.get(name))
            .and_then(Value::as_str)
    };
    let next = link("next");
    next.is_some() && next != link("self") && count != 0
}

/// The page number `links.last` of list page `doc` names, when it has one and it counts
/// pages of the size lists are asked for.
fn last_page(doc: &Value) -> Option<usize> {
    let last = doc.get("links")?.get("last")?.as_str()?;
    let url = url::Url::parse(last).ok()?;
    let (mut number, mut size) = (None, None);
    for (k, v) in url.query_pairs() {
        match &*k {
            "page[number]" => number = v.parse::<usize>().ok(),
            "page[size]" => size = v.parse::<usize>().ok(),
            _ => {}
        }
    }
    if size != Some(LIST_PAGE_SIZE) {
        return None;
    }
    number
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

#[cfg(test)]
mod list_tests {
    //! `Client::list` against a small HTTP server of numbered pages (items `i0`, `i1`, …).
    use super::*;
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::Notify;

    /// What the server serves and what it saw.
    #[derive(Default)]
    struct Pages {
        /// Items in all; pages of 100.
        items: usize,
        /// Whether pages carry `links.last`.
        last: bool,
        /// A page answered with a 500 error document.
        fail: Option<usize>,
        /// Page 2 is answered only once pages 3 and 4 have been asked for (or after 10 s).
        hold_2: bool,
        /// Page numbers in the order they were asked for.
        asked: Mutex<Vec<usize>>,
        /// Requests being answered now, and the most at once.
        busy: Mutex<(usize, usize)>,
        more: Notify,
    }

    impl Pages {
        fn count(&self) -> usize {
            self.items.div_ceil(LIST_PAGE_SIZE).max(1)
        }

        fn body(&self, base: &str, n: usize) -> String {
            let link = |n: usize| format!("{base}/things?page[number]={n}&page[size]=100");
            let items: Vec<Value> = (LIST_PAGE_SIZE * (n - 1)..self.items.min(LIST_PAGE_SIZE * n))
                .map(|i| {
                    json!({"type": "thing", "id": format!("i{i}"),
                        "links": {"self": format!("{base}/things/i{i}")},
                        "attributes": {"name": format!("n{i}"), "size": i, "note": "unshown"},
                        "relationships": {"owner": {"type": "account", "id": "a"}}})
                })
                .collect();
            let mut links = json!({"self": link(n), "first": link(1)});
            if n < self.count() {
                links["next"] = json!(link(n + 1));
            }
            if self.last {
                links["last"] = json!(link(self.count()));
            }
            json!({"data": items, "links": links}).to_string()
        }

        async fn answer(&self, base: &str, n: usize) -> (u16, String) {
            self.asked.lock().unwrap().push(n);
            self.more.notify_waiters();
            if self.hold_2 && n == 2 {
                let seen = || {
                    let a = self.asked.lock().unwrap();
                    a.contains(&3) && a.contains(&4)
                };
                let wait = async {
                    loop {
                        let notified = self.more.notified();
                        if seen() {
                            return;
                        }
                        notified.await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
            }
            if self.fail == Some(n) {
                let doc = json!({"errors": [{"status": "500", "code": "X1", "title": "Broken",
                    "detail": format!("page {n} is broken")}]});
                return (500, doc.to_string());
            }
            (200, self.body(base, n))
        }
    }

    /// One keep-alive connection: GET requests without bodies, answered in turn.
    async fn serve(pages: Arc<Pages>, base: String, mut s: TcpStream) {
        let mut buf = Vec::new();
        loop {
            let head = loop {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end + 4);
                    break head;
                }
                let mut chunk = [0u8; 4096];
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
            };
            let target = head.split(' ').nth(1).unwrap_or("").to_string();
            let n = url::Url::parse(&format!("http://x{target}"))
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "page[number]")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            {
                let mut b = pages.busy.lock().unwrap();
                b.0 += 1;
                b.1 = b.1.max(b.0);
            }
            let (status, body) = pages.answer(&base, n).await;
            pages.busy.lock().unwrap().0 -= 1;
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/vnd.api+json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if s.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    /// Lists the server's items keeping the `name` attribute.
    async fn list(pages: Pages) -> (Result<Vec<Value>>, Arc<Pages>) {
        list_with(pages, Arc::new(Quiet)).await
    }

    /// Debug traces on: the texts are kept.
    #[derive(Default)]
    struct Traced(Mutex<Vec<String>>);

    impl Hooks for Traced {
        fn tracing(&self) -> bool {
            true
        }
        fn debug(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_string());
        }
    }

    async fn list_with(pages: Pages, hooks: Arc<dyn Hooks>) -> (Result<Vec<Value>>, Arc<Pages>) {
        let pages = Arc::new(pages);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/v5", listener.local_addr().unwrap());
        let served = pages.clone();
        let server_base = base.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(served.clone(), server_base.clone(), s));
            }
        });
        let client = Client::new(&base, Session::anonymous(), hooks);
        let mut items = Vec::new();
        let out = client
            .list_shown("/things", &[], &["name"], &mut |page| {
                assert!(!page.is_empty() && page.len() <= LIST_PAGE_SIZE);
                items.extend(page)
            })
            .await
            .map(|()| items);
        server.abort();
        (out, pages)
    }

    fn ids(items: &[Value]) -> Vec<String> {
        items.iter().map(|v| id_of(v).to_string()).collect()
    }

    fn expected(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("i{i}")).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pages_asked_for_at_once_are_taken_in_page_order() {
        let (out, pages) = list(Pages {
            items: 450,
            last: true,
            hold_2: true,
            ..Pages::default()
        })
        .await;
        let items = out.unwrap();
        assert_eq!(ids(&items), expected(450));
        let asked = pages.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 5, "{asked:?}");
        // Page 2 was answered after pages 3 and 4 were asked for: they were in flight at once.
        assert!(
            pages.busy.lock().unwrap().1 > 1,
            "pages were not asked for at once"
        );
        // What a list shows is kept, the rest is left out.
        assert_eq!(
            items[120],
            json!({"type": "thing", "id": "i120", "attributes": {"name": "n120"},
                "relationships": {"owner": {"type": "account", "id": "a"}}})
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_last_link_pages_are_asked_for_one_by_one() {
        let (out, pages) = list(Pages {
            items: 250,
            ..Pages::default()
        })
        .await;
        assert_eq!(ids(&out.unwrap()), expected(250));
        assert_eq!(*pages.asked.lock().unwrap(), [1, 2, 3]);
        assert_eq!(pages.busy.lock().unwrap().1, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_debug_traces_each_request_is_followed_by_its_answer() {
        let traced = Arc::new(Traced::default());
        let (out, pages) = list_with(
            Pages {
                items: 350,
                last: true,
                ..Pages::default()
            },
            traced.clone(),
        )
        .await;
        assert_eq!(ids(&out.unwrap()), expected(350));
        assert_eq!(*pages.asked.lock().unwrap(), [1, 2, 3, 4]);
        assert_eq!(pages.busy.lock().unwrap().1, 1);
        let traces = traced.0.lock().unwrap();
        assert_eq!(traces.len(), 8);
        for (i, t) in traces.iter().enumerate() {
            let request = t.starts_with("Doing the request");
            assert_eq!(request, i % 2 == 0, "{i}: {t}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_page_fails_the_list_with_its_error() {
        let (out, _) = list(Pages {
            items: 650,
            last: true,
            fail: Some(3),
            ..Pages::default()
        })
        .await;
        match out {
            Err(ImptError::Api(e)) => {
                assert_eq!(e.status, 500);
                assert_eq!(e.errors[0].detail, "page 3 is broken");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_last_page_is_read_from_links_last_of_the_page_size_asked_for() {
        let doc = |last: &str| json!({"links": {"last": last}});
        let base = "http://h/v5/devices?filter%5Bx%5D=1&";
        assert_eq!(
            last_page(&doc(&format!(
                "{base}page%5Bnumber%5D=7&page%5Bsize%5D=100"
            ))),
            Some(7)
        );
        assert_eq!(
            last_page(&doc(&format!("{base}page[size]=100&page[number]=3"))),
            Some(3)
        );
        assert_eq!(
            last_page(&doc(&format!("{base}page[number]=3&page[size]=20"))),
            None
        );
        assert_eq!(
            last_page(&doc(&format!("{base}page[number]=x&page[size]=100"))),
            None
        );
        assert_eq!(
            last_page(&doc("/relative?page[number]=3&page[size]=100")),
            None
        );
        assert_eq!(last_page(&json!({"links": {}})), None);
    }
}
