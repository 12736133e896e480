//! `/webhooks`

use super::app::{no_content, ok, Ctx, World};
use super::error::{ApiError, ApiResult};
use super::jsonapi::{filter, filters, link, list_doc, page_of, parse_doc, resource};
use super::model::{is_production_type, Webhook};
use super::util::{new_id, now_iso};
use axum::response::Response;
use serde_json::{json, Value};

use impt_wire::types::{WEBHOOK_CONTENT_TYPES as CONTENT_TYPES, WEBHOOK_EVENTS as EVENTS};

pub fn doc(ctx: &Ctx, w: &World, h: &Webhook) -> Value {
    let gt =
        w.db.group_type(&h.group)
            .unwrap_or(impt_wire::types::DEVELOPMENT);
    resource(
        ctx,
        "webhook",
        &h.id,
        "webhooks",
        json!({"url": h.url, "event": h.event, "content_type": h.content_type, "created_at": h.created_at, "updated_at": h.updated_at}),
        &[
            ("devicegroup", link(gt, &h.group)),
            ("owner", link("account", &h.owner)),
            ("creator", link("account", &h.creator)),
        ],
    )
}

fn check_url(u: &str) -> ApiResult<()> {
    let good = url::Url::parse(u).ok().is_some_and(|p| {
        matches!(p.scheme(), "http" | "https") && p.host_str().is_some_and(|h| !h.is_empty())
    });
    if good {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "VX030",
            "Invalid URL",
            "The provided URL is invalid.",
        ))
    }
}

fn check_ct(c: &str) -> ApiResult<()> {
    if CONTENT_TYPES.contains(&c) {
        Ok(())
    } else {
        Err(ApiError::invalid_attr(
            "The attribute \"content_type\" must be application/json or application/x-www-form-urlencoded.",
        ))
    }
}

pub fn handle(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    match (ctx.method.as_str(), ctx.segs.get(1).cloned()) {
        ("GET", None) => {
            let f = filters(ctx, &["devicegroup.id"])?;
            let (data, links) = {
                let w = ctx.app.world();
                let mine: Vec<_> =
                    w.db.webhooks
                        .iter()
                        .filter(|h| h.owner == me)
                        .filter(|h| filter(&f, "devicegroup.id").is_none_or(|v| v == h.group))
                        .collect();
                let (page, links) = page_of(ctx, mine)?;
                let data: Vec<Value> = page.into_iter().map(|h| doc(ctx, &w, h)).collect();
                (data, links)
            };
            list_doc(data, links)
        }
        ("POST", None) => {
            let d = parse_doc(ctx)?;
            if d.typ.as_deref() != Some("webhook") {
                return Err(ApiError::type_mismatch());
            }
            d.only(&["url", "event", "content_type"])?;
            d.only_rels(&["devicegroup"])?;
            let req = |k: &str| -> ApiResult<String> {
                d.str(k)?.ok_or_else(|| {
                    ApiError::invalid_attr(&format!("The attribute \"{k}\" is required."))
                })
            };
            let url = req("url")?;
            let event = req("event")?;
            let ct = req("content_type")?;
            check_url(&url)?;
            if !EVENTS.contains(&event.as_str()) {
                return Err(ApiError::invalid_attr(
                    "The attribute \"event\" must be blessing, blinkup or deployment.",
                ));
            }
            check_ct(&ct)?;
            let (gt, gid) = d.rel("devicegroup")?.ok_or_else(|| {
                ApiError::invalid_attr("The relationship \"devicegroup\" is required.")
            })?;
            let mut w = ctx.app.world();
            let g =
                w.db.group(&me, &gid)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found("device group"))?;
            if gt.as_deref().is_some_and(|t| t != g.gtype) {
                return Err(ApiError::type_mismatch());
            }
            if event != "deployment" && !is_production_type(&g.gtype) {
                return Err(ApiError::invalid_attr(
                    "blessing and blinkup webhooks need a production or pre-production device group.",
                ));
            }
            let now = now_iso();
            let h = Webhook {
                id: new_id(),
                group: gid,
                owner: me.clone(),
                creator: me,
                url,
                event,
                content_type: ct,
                created_at: now.clone(),
                updated_at: now,
            };
            w.db.webhooks.push(h.clone());
            ok(201, json!({"data": doc(ctx, &w, &h)}))
        }
        ("GET", Some(id)) => {
            let w = ctx.app.world();
            let h =
                w.db.webhooks
                    .iter()
                    .find(|h| h.id == id && h.owner == me)
                    .ok_or_else(|| ApiError::not_found("webhook"))?;
            ok(200, json!({"data": doc(ctx, &w, h)}))
        }
        ("PATCH", Some(id)) => {
            let d = parse_doc(ctx)?;
            let mut w = ctx.app.world();
            if !w.db.webhooks.iter().any(|h| h.id == id && h.owner == me) {
                return Err(ApiError::not_found("webhook"));
            }
            d.check_type_id("webhook", |i| i == id)?;
            d.only(&["url", "content_type"])?;
            let url = d.str("url")?;
            if let Some(u) = &url {
                check_url(u)?;
            }
            let ct = d.str("content_type")?;
            if let Some(c) = &ct {
                check_ct(c)?;
            }
            let h =
                w.db.webhooks
                    .iter_mut()
                    .find(|h| h.id == id)
                    .ok_or_else(|| ApiError::not_found("webhook"))?;
            if let Some(u) = url {
                h.url = u;
            }
            if let Some(c) = ct {
                h.content_type = c;
            }
            h.updated_at = now_iso();
            let h = h.clone();
            ok(200, json!({"data": doc(ctx, &w, &h)}))
        }
        ("DELETE", Some(id)) => {
            let mut w = ctx.app.world();
            let before = w.db.webhooks.len();
            w.db.webhooks.retain(|h| !(h.id == id && h.owner == me));
            if w.db.webhooks.len() == before {
                return Err(ApiError::not_found("webhook"));
            }
            no_content()
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
