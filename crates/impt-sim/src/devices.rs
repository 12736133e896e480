//! `/devices`: the account's (virtual) devices, their restarts and historical logs.

use super::app::{no_content, ok, Ctx, World};
use super::error::{ApiError, ApiResult};
use super::jsonapi::{filter, filters, link, list, list_doc, page_of, parse_doc, resource};
use super::model::Device;
use super::util::now_iso;
use super::vdev;
use axum::response::Response;
use serde_json::{json, Value};

pub fn doc(ctx: &Ctx, w: &World, d: &Device) -> Value {
    let group = d
        .group
        .as_ref()
        .and_then(|g| w.db.groups.iter().find(|x| &x.id == g));
    let agent_id = group.map(|_| d.agent_id.clone());
    let attrs = json!({
        "name": d.name,
        "mac_address": d.mac,
        "agent_id": agent_id,
        "device_online": d.online,
        "agent_running": group.is_some(),
        "agent_url": agent_id.as_ref().map(|a| ctx.app.agent_url(a)),
        "imp_type": d.imp_type,
        "swversion": d.swversion,
        "plan_id": Value::Null,
        "free_memory": if d.online { json!(d.free_memory) } else { Value::Null },
        "rssi": if d.online { json!(d.rssi) } else { Value::Null },
        "ip_address": if d.online { json!(d.ip_address) } else { Value::Null },
        "last_enrolled_at": d.created_at,
        "device_state_changed_at": d.state_changed_at,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    });
    resource(
        ctx,
        "device",
        &d.id,
        "devices",
        attrs,
        &[
            ("owner", link("account", &d.owner)),
            (
                "devicegroup",
                group.map(|g| (g.gtype.clone(), g.id.clone())),
            ),
            (
                "product",
                group.map(|g| ("product".to_string(), g.product.clone())),
            ),
        ],
    )
}

pub fn handle(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    if ctx.segs.len() == 1 {
        return match ctx.method.as_str() {
            "GET" => list_devices(ctx, &me),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    let ident = ctx.seg(1).to_string();
    let idx = {
        let w = ctx.app.world();
        w.db.device_index(&me, &ident)
    };
    let Some(_) = idx else {
        return Err(ApiError::not_found("device"));
    };
    match (ctx.method.as_str(), ctx.segs.get(2).map(String::as_str)) {
        ("GET", None) => {
            let w = ctx.app.world();
            let i =
                w.db.device_index(&me, &ident)
                    .ok_or_else(|| ApiError::not_found("device"))?;
            ok(200, json!({"data": doc(ctx, &w, &w.db.devices[i])}))
        }
        ("PATCH", None) => {
            let d = parse_doc(ctx)?;
            let mut w = ctx.app.world();
            let i =
                w.db.device_index(&me, &ident)
                    .ok_or_else(|| ApiError::not_found("device"))?;
            let real = w.db.devices[i].id.clone();
            let same = |x: &str| {
                w.db.device_index(&me, x)
                    .is_some_and(|j| w.db.devices[j].id == real)
            };
            d.check_type_id("device", same)?;
            d.only(&["name"])?;
            let name = d.str("name")?;
            let dev = &mut w.db.devices[i];
            if d.attrs.contains_key("name") {
                dev.name = name;
            }
            dev.updated_at = now_iso();
            let w = &*w;
            ok(200, json!({"data": doc(ctx, w, &w.db.devices[i])}))
        }
        ("DELETE", None) => {
            let mut w = ctx.app.world();
            let i =
                w.db.device_index(&me, &ident)
                    .ok_or_else(|| ApiError::not_found("device"))?;
            if w.db.devices[i].group.is_some() {
                return Err(ApiError::conflict(
                    "CX006",
                    "Device Assigned",
                    "Cannot remove a device that is assigned to a devicegroup; unassign it first.",
                ));
            }
            let id = w.db.devices.remove(i).id;
            w.logs.forget(&id);
            super::runner::forget(&ctx.app, &id);
            for s in w.streams.iter_mut() {
                s.devices.retain(|d| d != &id);
            }
            no_content()
        }
        ("POST", Some(what @ ("restart" | "conditional_restart"))) => {
            let id = {
                let w = ctx.app.world();
                let i =
                    w.db.device_index(&me, &ident)
                        .ok_or_else(|| ApiError::not_found("device"))?;
                if w.db.devices[i].group.is_none() {
                    return Err(ApiError::new(
                        400,
                        "CX007",
                        "Device Not Assigned",
                        "Unassigned devices cannot be restarted.",
                    ));
                }
                w.db.devices[i].id.clone()
            };
            if what == "conditional_restart" {
                vdev::boot_conditional(&ctx.app, id);
            } else {
                vdev::boot(&ctx.app, id);
            }
            no_content()
        }
        ("GET", Some("logs")) => {
            filters(ctx, &[])?;
            let (page, links) = {
                let w = ctx.app.world();
                let i =
                    w.db.device_index(&me, &ident)
                        .ok_or_else(|| ApiError::not_found("device"))?;
                page_of(ctx, w.logs.newest_first(&w.db.devices[i].id))?
            };
            let data = page
                .iter()
                .map(|l| json!({"ts": l.ts, "type": l.typ, "msg": l.msg}))
                .collect();
            list_doc(data, links)
        }
        ("GET", Some("history")) => {
            let items: Vec<Value> = {
                let w = ctx.app.world();
                let i =
                    w.db.device_index(&me, &ident)
                        .ok_or_else(|| ApiError::not_found("device"))?;
                let d = &w.db.devices[i];
                vec![
                    json!({"timestamp": d.created_at, "event": "blinkup", "owner_id": d.owner, "actor_id": d.owner}),
                ]
            };
            list(ctx, items)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn list_devices(ctx: &Ctx, me: &str) -> ApiResult<Response> {
    let f = filters(
        ctx,
        &[
            "owner.id",
            "account.id",
            "product.id",
            "devicegroup.id",
            "devicegroup.owner.id",
            "devicegroup.type",
        ],
    )?;
    let (data, links) = {
        let w = ctx.app.world();
        let groups: std::collections::HashMap<&str, &super::model::Group> =
            w.db.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let mine: Vec<&Device> = w
            .db
            .devices
            .iter()
            .filter(|d| d.owner == me)
            .filter(|d| {
                let g = d.group.as_deref().and_then(|g| groups.get(g));
                filter(&f, "owner.id").is_none_or(|v| v == d.owner)
                    && filter(&f, "account.id").is_none_or(|v| v == d.owner)
                    && filter(&f, "product.id").is_none_or(|v| g.is_some_and(|g| g.product == v))
                    && filter(&f, "devicegroup.id").is_none_or(|v| g.is_some_and(|g| g.id == v))
                    && filter(&f, "devicegroup.type")
                        .is_none_or(|v| g.is_some_and(|g| g.gtype == v))
                    && filter(&f, "devicegroup.owner.id").is_none_or(|v| {
                        if v == "null" {
                            g.is_none()
                        } else {
                            g.is_some_and(|g| g.owner == v)
                        }
                    })
            })
            .collect();
        let (page, links) = page_of(ctx, mine)?;
        let data: Vec<Value> = page.into_iter().map(|d| doc(ctx, &w, d)).collect();
        (data, links)
    };
    list_doc(data, links)
}
