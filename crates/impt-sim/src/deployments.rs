//! `/deployments`
//!
//! Code bodies are shared (`Arc<str>`): the world lock is held only to find entities and
//! take references; compiling, hashing and making documents happen after it is released.

use super::app::{no_content, ok_json, Ctx, World};
use super::error::{ApiError, ApiResult};
use super::jsonapi::{filter, filters, page_of, parse_doc, Data, Doc, ListDoc, Rel};
use super::model::Deployment;
use super::util::{new_id, now_iso, sha256_hex};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

/// `(type, id)` of the Device Group of `d`, if it still exists.
fn group_link(w: &World, d: &Deployment) -> Option<(String, String)> {
    let g = d.group.as_ref()?;
    w.db.groups
        .iter()
        .find(|x| &x.id == g)
        .map(|g| (g.gtype.clone(), g.id.clone()))
}

/// A deployment's resource object (as [`super::jsonapi::resource`] lays one out), written
/// field by field when serialised: its code is written from the shared text, never
/// copied into a JSON tree.
pub fn doc<'a>(
    ctx: &Ctx,
    group: &'a Option<(String, String)>,
    d: &'a Deployment,
) -> DeploymentDoc<'a> {
    let rel = |typ, id| Rel { typ, id };
    Doc::new(
        ctx,
        "deployment",
        "deployments",
        &d.id,
        DeploymentAttrs {
            device_code: &d.device_code,
            agent_code: &d.agent_code,
            description: &d.description,
            origin: &d.origin,
            flagged: d.flagged,
            tags: &d.tags,
            sha: &d.sha,
            created_at: &d.created_at,
            updated_at: &d.updated_at,
        },
        DeploymentRels {
            devicegroup: group.as_ref().map(|(t, i)| rel(t, i)),
            product: rel("product", &d.product),
            owner: rel("account", &d.owner),
            creator: rel("account", &d.creator),
            flagger: d.flagger.as_deref().map(|f| rel("account", f)),
        },
    )
}

/// A deployment's resource object.
pub(crate) type DeploymentDoc<'a> = Doc<'a, DeploymentAttrs<'a>, DeploymentRels<'a>>;

#[derive(Serialize)]
pub(crate) struct DeploymentAttrs<'a> {
    device_code: &'a str,
    agent_code: &'a str,
    description: &'a str,
    origin: &'a str,
    flagged: bool,
    tags: &'a [String],
    sha: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
}

#[derive(Serialize)]
pub(crate) struct DeploymentRels<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    devicegroup: Option<Rel<'a>>,
    product: Rel<'a>,
    owner: Rel<'a>,
    creator: Rel<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flagger: Option<Rel<'a>>,
}

/// A deployment (its code shared, not copied) and its group link, taken under the lock.
fn snapshot(w: &World, d: &Deployment) -> (Option<(String, String)>, Deployment) {
    (group_link(w, d), d.clone())
}

fn tags(v: Option<&Value>) -> ApiResult<Option<Vec<String>>> {
    let Some(v) = v else { return Ok(None) };
    if v.is_null() {
        return Ok(None);
    }
    let bad = || {
        ApiError::invalid_attr("The attribute \"tags\" must be an array of tags made of letters, digits, '_', '-', '*' and '.'.")
    };
    let arr = v.as_array().ok_or_else(bad)?;
    let mut out = Vec::new();
    for t in arr {
        let s = t.as_str().ok_or_else(bad)?;
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-*.".contains(c))
        {
            return Err(bad());
        }
        out.push(s.to_string());
    }
    if out.iter().map(String::len).sum::<usize>() > 500 {
        return Err(ApiError::invalid_attr(
            "Tags must total at most 500 characters.",
        ));
    }
    Ok(Some(out))
}

pub fn handle(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    match (ctx.method.as_str(), ctx.segs.get(1).cloned()) {
        ("GET", None) => list_deployments(ctx, &me),
        ("POST", None) => create(ctx, &me),
        ("GET", Some(id)) => {
            let (g, d) = {
                let w = ctx.app.world();
                let d =
                    w.db.deployment(&me, &id)
                        .ok_or_else(|| ApiError::not_found("deployment"))?;
                snapshot(&w, d)
            };
            ok_json(
                200,
                &Data {
                    data: doc(ctx, &g, &d),
                },
            )
        }
        ("PATCH", Some(id)) => update(ctx, &me, &id),
        ("DELETE", Some(id)) => delete(ctx, &me, &id),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn list_deployments(ctx: &Ctx, me: &str) -> ApiResult<Response> {
    let f = filters(
        ctx,
        &[
            "owner.id",
            "creator.id",
            "product.id",
            "devicegroup.id",
            "sha",
            "flagged",
            "flagger.id",
            "tags",
        ],
    )?;
    let flagged = match filter(&f, "flagged") {
        None | Some("any") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(ApiError::new(
                400,
                "VX003",
                "Invalid Filter",
                &format!("filter[flagged] must be true, false or any, not \"{v}\"."),
            ))
        }
    };
    let want_tags: Vec<&str> = filter(&f, "tags")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let (page, links) = {
        let w = ctx.app.world();
        let mine: Vec<&Deployment> = w
            .db
            .deployments
            .iter()
            .filter(|d| d.owner == me)
            .filter(|d| {
                filter(&f, "owner.id").is_none_or(|v| v == d.owner)
                    && filter(&f, "creator.id").is_none_or(|v| v == d.creator)
                    && filter(&f, "product.id").is_none_or(|v| v == d.product)
                    && filter(&f, "devicegroup.id").is_none_or(|v| d.group.as_deref() == Some(v))
                    && filter(&f, "sha").is_none_or(|v| v == d.sha)
                    && filter(&f, "flagger.id").is_none_or(|v| d.flagger.as_deref() == Some(v))
                    && flagged.is_none_or(|fl| fl == d.flagged)
                    && want_tags.iter().all(|t| d.tags.iter().any(|x| x == t))
            })
            .collect();
        let (page, links) = page_of(ctx, mine)?;
        let page: Vec<_> = page.into_iter().map(|d| snapshot(&w, d)).collect();
        (page, links)
    };
    let data: Vec<DeploymentDoc> = page.iter().map(|(g, d)| doc(ctx, g, d)).collect();
    ok_json(200, &ListDoc { data, links })
}

fn create(ctx: &Ctx, me: &str) -> ApiResult<Response> {
    let mut d = parse_doc(ctx)?;
    if d.typ.as_deref() != Some("deployment") {
        return Err(ApiError::type_mismatch());
    }
    d.only(&[
        "device_code",
        "agent_code",
        "description",
        "origin",
        "flagged",
        "tags",
    ])?;
    d.only_rels(&["devicegroup"])?;
    let device_code = d
        .take_str("device_code")?
        .ok_or_else(|| ApiError::invalid_attr("The attribute \"device_code\" is required."))?;
    let agent_code = d
        .take_str("agent_code")?
        .ok_or_else(|| ApiError::invalid_attr("The attribute \"agent_code\" is required."))?;
    let description = d.str("description")?.unwrap_or_default();
    let origin = d.str("origin")?.unwrap_or_default();
    let flagged = d.bool("flagged")?.unwrap_or(false);
    let tags = tags(d.attrs.get("tags"))?.unwrap_or_default();
    let (gt, gid) = d
        .rel("devicegroup")?
        .ok_or_else(|| ApiError::invalid_attr("The relationship \"devicegroup\" is required."))?;
    let g = {
        let w = ctx.app.world();
        w.db.group(me, &gid)
            .cloned()
            .ok_or_else(|| ApiError::not_found("device group"))?
    };
    if gt.as_deref().is_some_and(|t| t != g.gtype) {
        return Err(ApiError::type_mismatch());
    }
    // The expensive part (compiling, fetching libraries), without the lock: other requests
    // and devices go on meanwhile.
    let libs = super::compile::library_settings(ctx.app.cfg.libraries.as_deref());
    let diags = super::compile::compile_with(&device_code, &agent_code, &libs);
    if !diags.is_empty() {
        let detail = if diags.iter().any(|e| e["file"] == "device_code") {
            "Device code compile failed"
        } else {
            "Agent code compile failed"
        };
        return Err(
            ApiError::new(400, "CX005", "Compilation Error", detail).with_meta(Value::Array(diags))
        );
    }
    let sha = sha256_hex(&[&device_code, &agent_code]);
    let now = now_iso();
    let mut dep = Deployment {
        id: new_id(),
        seq: 0,
        group: Some(gid.clone()),
        group_type: g.gtype.clone(),
        product: g.product.clone(),
        owner: me.to_string(),
        creator: me.to_string(),
        flagger: flagged.then(|| me.to_string()),
        sha,
        device_code: device_code.into(),
        agent_code: agent_code.into(),
        description,
        origin,
        flagged,
        tags,
        created_at: now.clone(),
        updated_at: now,
    };
    let link = {
        let mut w = ctx.app.world();
        // The group may have gone (or changed product) while the code compiled.
        let Some(g) = w.db.group(me, &gid).cloned() else {
            return Err(ApiError::not_found("device group"));
        };
        dep.group_type = g.gtype.clone();
        dep.product = g.product.clone();
        dep.seq = w.db.next_seq();
        w.db.deployments.push(dep.clone());
        if let Some(g) = w.db.groups.iter_mut().find(|g| g.id == gid) {
            g.current_deployment = Some(dep.id.clone());
            if g.min_supported_deployment.is_none() {
                g.min_supported_deployment = Some(dep.id.clone());
            }
        }
        super::delivery::fire(
            &ctx.app,
            &mut w,
            &gid,
            "deployment",
            super::delivery::deployment_payload(&dep),
        );
        Some((g.gtype, g.id))
    };
    ok_json(
        201,
        &Data {
            data: doc(ctx, &link, &dep),
        },
    )
}

fn update(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let d = parse_doc(ctx)?;
    let mut w = ctx.app.world();
    if w.db.deployment(me, id).is_none() {
        return Err(ApiError::not_found("deployment"));
    }
    d.check_type_id("deployment", |i| i == id)?;
    d.only(&["description", "flagged", "tags"])?;
    let description = d.str("description")?;
    let flagged = d.bool("flagged")?;
    let tags = tags(d.attrs.get("tags"))?;
    let dep =
        w.db.deployments
            .iter_mut()
            .find(|x| x.id == id)
            .ok_or_else(|| ApiError::not_found("deployment"))?;
    if let Some(ds) = description {
        dep.description = ds;
    }
    if let Some(f) = flagged {
        dep.flagged = f;
        dep.flagger = Some(me.to_string());
    }
    if let Some(t) = tags {
        dep.tags = t;
    }
    dep.updated_at = now_iso();
    let dep = dep.clone();
    let g = group_link(&w, &dep);
    drop(w);
    ok_json(
        200,
        &Data {
            data: doc(ctx, &g, &dep),
        },
    )
}

fn delete(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let mut w = ctx.app.world();
    let dep =
        w.db.deployment(me, id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("deployment"))?;
    if dep.flagged {
        return Err(ApiError::conflict(
            "CX008",
            "Resource Flagged",
            "You cannot delete flagged deployments; set the flagged attribute to false and try again.",
        ));
    }
    if let Some(g) = dep.group.as_deref().and_then(|g| w.db.group(me, g)) {
        let min_seq = g
            .min_supported_deployment
            .as_deref()
            .and_then(|m| w.db.deployment(me, m))
            .map(|m| m.seq);
        let in_use =
            g.current_deployment.as_deref() == Some(id) || min_seq.is_some_and(|s| dep.seq >= s);
        if in_use {
            return Err(ApiError::conflict(
                "CX009",
                "Deployment In Use",
                "You cannot delete the min_supported_deployment of a devicegroup or any newer deployment.",
            ));
        }
    }
    w.db.deployments.retain(|d| d.id != id);
    no_content()
}
