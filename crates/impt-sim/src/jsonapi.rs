//! JSON:API documents in impCentral's flavour: flattened relationships, absolute links,
//! page-number pagination, `filter[...]` parameters.

use super::app::{ok, Ctx};
use super::error::{ApiError, ApiResult};
use axum::response::Response;
use serde_json::{json, Map, Value};

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

/// A resource object. `rels` entries with `None` are omitted.
pub fn resource(
    ctx: &Ctx,
    typ: &str,
    id: &str,
    coll: &str,
    attrs: Value,
    rels: &[(&str, Option<(String, String)>)],
) -> Value {
    let mut r = Map::new();
    for (name, link) in rels {
        if let Some((t, i)) = link {
            r.insert((*name).to_string(), json!({"type": t, "id": i}));
        }
    }
    json!({
        "type": typ,
        "id": id,
        "links": {"self": ctx.url(&format!("/{coll}/{id}"))},
        "attributes": attrs,
        "relationships": Value::Object(r),
    })
}

/// A resource object written field by field when serialised (no JSON tree is built), its
/// members in the order [`resource`] lays them out.
#[derive(serde::Serialize)]
pub struct Doc<'a, A, R> {
    #[serde(rename = "type")]
    typ: &'static str,
    id: &'a str,
    links: SelfLink,
    attributes: A,
    relationships: R,
}

impl<'a, A, R> Doc<'a, A, R> {
    /// The object of `/<coll>/<id>` with its type, attributes and relationships.
    pub fn new(
        ctx: &Ctx,
        typ: &'static str,
        coll: &str,
        id: &'a str,
        attributes: A,
        relationships: R,
    ) -> Self {
        Doc {
            typ,
            id,
            links: SelfLink::of(ctx, coll, id),
            attributes,
            relationships,
        }
    }
}

/// `links` of a resource object written field by field: `{"self": <url>}`.
#[derive(serde::Serialize)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub link: String,
}

impl SelfLink {
    /// The link of `/<coll>/<id>`, as [`resource`] makes it.
    pub fn of(ctx: &Ctx, coll: &str, id: &str) -> SelfLink {
        SelfLink {
            link: ctx.url(&format!("/{coll}/{id}")),
        }
    }
}

/// A relationship linkage written field by field: `{"type": …, "id": …}`.
#[derive(serde::Serialize)]
pub struct Rel<'a> {
    #[serde(rename = "type")]
    pub typ: &'a str,
    pub id: &'a str,
}

pub fn link(t: &str, id: &str) -> Option<(String, String)> {
    Some((t.to_string(), id.to_string()))
}

pub fn opt_link(t: &str, id: &Option<String>) -> Option<(String, String)> {
    id.as_ref().map(|i| (t.to_string(), i.clone()))
}

/// Validated `filter[...]` parameters of the request.
pub fn filters(ctx: &Ctx, allowed: &[&str]) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (k, v) in &ctx.query {
        if let Some(name) = k.strip_prefix("filter[").and_then(|s| s.strip_suffix(']')) {
            if !allowed.contains(&name) {
                return Err(ApiError::new(
                    400,
                    "VX003",
                    "Invalid Filter",
                    &format!("The filter \"{name}\" is not supported here."),
                ));
            }
            out.push((name.to_string(), v.clone()));
        } else if k.starts_with("filter") {
            return Err(ApiError::new(
                400,
                "VX003",
                "Invalid Filter",
                &format!("The query parameter \"{k}\" is not a valid filter."),
            ));
        }
    }
    Ok(out)
}

pub fn filter<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn page_param(ctx: &Ctx, name: &str, default: usize, max: usize) -> ApiResult<usize> {
    match ctx.query_value(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(ApiError::new(
                400,
                "VX004",
                "Invalid Pagination",
                &format!("{name} must be an integer between 1 and {max}."),
            )),
        },
    }
}

/// Page number and size of the request (validated).
pub fn page(ctx: &Ctx) -> ApiResult<(usize, usize)> {
    Ok((
        page_param(ctx, "page[number]", 1, usize::MAX / 1024)?,
        page_param(ctx, "page[size]", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?,
    ))
}

fn page_link(ctx: &Ctx, number: usize, size: usize) -> String {
    let mut q = String::new();
    for (k, v) in &ctx.query {
        if k.starts_with("filter[") {
            q.push_str(k);
            q.push('=');
            q.push_str(&percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string());
            q.push('&');
        }
    }
    format!(
        "{}?{}page[number]={}&page[size]={}",
        ctx.url(&ctx.path),
        q,
        number,
        size
    )
}

const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'&')
    .add(b'#')
    .add(b'+')
    .add(b'=')
    .add(b'%');

/// A list document holding one page of `items` (small lists; large ones use [`page_of`]).
pub fn list(ctx: &Ctx, items: Vec<Value>) -> ApiResult<Response> {
    let (data, links) = page_of(ctx, items)?;
    list_doc(data, links)
}

/// The requested page of `items` (filtered references or ids: nothing is serialised yet)
/// and the document's `links`. Callers make documents of the page only, so a list costs
/// what its page holds, not what the collection holds.
pub fn page_of<T>(ctx: &Ctx, items: Vec<T>) -> ApiResult<(Vec<T>, Value)> {
    let (number, size) = page(ctx)?;
    let total = items.len();
    let start = (number - 1).saturating_mul(size);
    let data: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let mut links = Map::new();
    links.insert("self".into(), page_link(ctx, number, size).into());
    links.insert("first".into(), page_link(ctx, 1, size).into());
    if number > 1 {
        links.insert("prev".into(), page_link(ctx, number - 1, size).into());
    }
    if start.saturating_add(size) < total {
        links.insert("next".into(), page_link(ctx, number + 1, size).into());
    }
    let last = total.div_ceil(size).max(1);
    links.insert("last".into(), page_link(ctx, last, size).into());
    Ok((data, Value::Object(links)))
}

/// `{"data": <one resource object>}`, the object written as it is (no tree is built).
#[derive(serde::Serialize)]
pub struct Data<T> {
    pub data: T,
}

/// A list document of one page made by [`page_of`] whose items are serialised as they are
/// (typed documents written field by field; no tree is built for them).
#[derive(serde::Serialize)]
pub struct ListDoc<T> {
    pub data: Vec<T>,
    pub links: Value,
}

/// The list document of one page made by [`page_of`].
pub fn list_doc(data: Vec<Value>, links: Value) -> ApiResult<Response> {
    ok(200, json!({"data": data, "links": links}))
}

/// The `data` member of a request document.
pub struct InDoc {
    pub typ: Option<String>,
    pub id: Option<String>,
    pub attrs: Map<String, Value>,
    pub rels: Map<String, Value>,
}

pub fn parse_doc(ctx: &Ctx) -> ApiResult<InDoc> {
    let mut body = ctx
        .json()?
        .ok_or_else(|| ApiError::bad_request("A request body is required."))?;
    let data = body
        .get_mut("data")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ApiError::bad_request("The request body must have a \"data\" object."))?;
    let typ = match data.get("type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("\"data.type\" must be a string.")),
    };
    let id = match data.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("\"data.id\" must be a string.")),
    };
    // Taken, not copied: the attributes may hold megabytes of code.
    let mut obj = |k: &str| -> ApiResult<Map<String, Value>> {
        match data.get_mut(k) {
            None | Some(Value::Null) => Ok(Map::new()),
            Some(Value::Object(o)) => Ok(std::mem::take(o)),
            Some(_) => Err(ApiError::bad_request(&format!(
                "\"data.{k}\" must be an object."
            ))),
        }
    };
    let attrs = obj("attributes")?;
    let rels = obj("relationships")?;
    Ok(InDoc {
        typ,
        id,
        attrs,
        rels,
    })
}

impl InDoc {
    /// Refuse attributes not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> ApiResult<()> {
        for k in self.attrs.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::invalid_attr(&format!(
                    "The attribute \"{k}\" is unknown or cannot be set."
                )));
            }
        }
        Ok(())
    }

    pub fn only_rels(&self, allowed: &[&str]) -> ApiResult<()> {
        for k in self.rels.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::invalid_attr(&format!(
                    "The relationship \"{k}\" is unknown or cannot be set."
                )));
            }
        }
        Ok(())
    }

    /// A string attribute; `null` counts as absent.
    pub fn str(&self, k: &str) -> ApiResult<Option<String>> {
        match self.attrs.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_attr(&format!(
                "The attribute \"{k}\" must be a string."
            ))),
        }
    }

    /// [`InDoc::str`], the string moved out of the document (no copy of a long text).
    pub fn take_str(&mut self, k: &str) -> ApiResult<Option<String>> {
        match self.attrs.get_mut(k) {
            Some(Value::String(s)) => Ok(Some(std::mem::take(s))),
            _ => self.str(k),
        }
    }

    pub fn bool(&self, k: &str) -> ApiResult<Option<bool>> {
        match self.attrs.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid_attr(&format!(
                "The attribute \"{k}\" must be a boolean."
            ))),
        }
    }

    /// A relationship linkage `(type, id)`, flattened or wrapped in `data`.
    pub fn rel(&self, k: &str) -> ApiResult<Option<(Option<String>, String)>> {
        let v = match self.rels.get(k) {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let v = v.get("data").unwrap_or(v);
        if v.is_null() {
            return Ok(None);
        }
        let id = v.get("id").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid_attr(&format!("The relationship \"{k}\" must have an id."))
        })?;
        let t = v.get("type").and_then(Value::as_str).map(str::to_string);
        Ok(Some((t, id.to_string())))
    }

    /// `data.type` must be `want` and, when given, `data.id` must satisfy `id_ok`.
    pub fn check_type_id(&self, want: &str, id_ok: impl Fn(&str) -> bool) -> ApiResult<()> {
        match &self.typ {
            Some(t) if t == want => {}
            _ => return Err(ApiError::type_mismatch()),
        }
        if let Some(id) = &self.id {
            if !id_ok(id) {
                return Err(ApiError::type_mismatch());
            }
        }
        Ok(())
    }
}
