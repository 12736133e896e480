//! `/devices`: the account's (virtual) devices, their restarts and historical logs.

use super::app::{no_content, ok_json, Ctx, World};
use super::error::{ApiError, ApiResult};
use super::jsonapi::{
    filter, filters, list, list_doc, page_of, parse_doc, Data, Doc, ListDoc, Rel,
};
use super::model::{Device, Group};
use super::util::now_iso;
use super::vdev;
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

/// What a device's document shows, copied out of the world (a few short strings) so that
/// the document is made and serialised after the world lock is released.
pub struct DeviceView {
    id: String,
    owner: String,
    mac: String,
    name: Option<String>,
    online: bool,
    imp_type: String,
    swversion: String,
    free_memory: i64,
    rssi: i64,
    ip_address: String,
    created_at: String,
    updated_at: String,
    state_changed_at: String,
    /// While assigned to a Device Group that exists: its agent id and the group's type, id
    /// and product.
    assigned: Option<Assigned>,
}

struct Assigned {
    agent_id: String,
    gtype: String,
    group: String,
    product: String,
}

impl DeviceView {
    /// The view of `d`, its group looked up in `w`.
    pub fn of(w: &World, d: &Device) -> DeviceView {
        let group = d
            .group
            .as_ref()
            .and_then(|g| w.db.groups.iter().find(|x| &x.id == g));
        DeviceView::with_group(d, group)
    }

    fn with_group(d: &Device, group: Option<&Group>) -> DeviceView {
        DeviceView {
            id: d.id.clone(),
            owner: d.owner.clone(),
            mac: d.mac.clone(),
            name: d.name.clone(),
            online: d.online,
            imp_type: d.imp_type.clone(),
            swversion: d.swversion.clone(),
            free_memory: d.free_memory,
            rssi: d.rssi,
            ip_address: d.ip_address.clone(),
            created_at: d.created_at.clone(),
            updated_at: d.updated_at.clone(),
            state_changed_at: d.state_changed_at.clone(),
            assigned: group.map(|g| Assigned {
                agent_id: d.agent_id.clone(),
                gtype: g.gtype.clone(),
                group: g.id.clone(),
                product: g.product.clone(),
            }),
        }
    }

    /// The device's resource object (as [`resource`] lays one out), written field by field
    /// when serialised: no JSON tree is built for it.
    pub fn doc<'a>(&'a self, ctx: &Ctx) -> DeviceDoc<'a> {
        let a = self.assigned.as_ref();
        let rel = |typ, id| Rel { typ, id };
        Doc::new(
            ctx,
            "device",
            "devices",
            &self.id,
            DeviceAttrs {
                name: self.name.as_deref(),
                mac_address: &self.mac,
                agent_id: a.map(|a| a.agent_id.as_str()),
                device_online: self.online,
                agent_running: a.is_some(),
                agent_url: a.map(|a| ctx.app.agent_url(&a.agent_id)),
                imp_type: &self.imp_type,
                swversion: &self.swversion,
                plan_id: None,
                free_memory: self.online.then_some(self.free_memory),
                rssi: self.online.then_some(self.rssi),
                ip_address: self.online.then_some(self.ip_address.as_str()),
                last_enrolled_at: &self.created_at,
                device_state_changed_at: &self.state_changed_at,
                created_at: &self.created_at,
                updated_at: &self.updated_at,
            },
            DeviceRels {
                owner: rel("account", &self.owner),
                devicegroup: a.map(|a| rel(&a.gtype, &a.group)),
                product: a.map(|a| rel("product", &a.product)),
            },
        )
    }
}

/// A device's resource object.
pub(crate) type DeviceDoc<'a> = Doc<'a, DeviceAttrs<'a>, DeviceRels<'a>>;

#[derive(Serialize)]
pub(crate) struct DeviceAttrs<'a> {
    name: Option<&'a str>,
    mac_address: &'a str,
    agent_id: Option<&'a str>,
    device_online: bool,
    agent_running: bool,
    agent_url: Option<String>,
    imp_type: &'a str,
    swversion: &'a str,
    plan_id: Option<()>,
    free_memory: Option<i64>,
    rssi: Option<i64>,
    ip_address: Option<&'a str>,
    last_enrolled_at: &'a str,
    device_state_changed_at: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
}

#[derive(Serialize)]
pub(crate) struct DeviceRels<'a> {
    owner: Rel<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    devicegroup: Option<Rel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<Rel<'a>>,
}

/// `{"data": <the device's resource object>}`.
fn one(ctx: &Ctx, view: &DeviceView) -> ApiResult<Response> {
    ok_json(
        200,
        &Data {
            data: view.doc(ctx),
        },
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
            let view = {
                let w = ctx.app.world();
                let i =
                    w.db.device_index(&me, &ident)
                        .ok_or_else(|| ApiError::not_found("device"))?;
                DeviceView::of(&w, &w.db.devices[i])
            };
            one(ctx, &view)
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
            let view = DeviceView::of(&w, &w.db.devices[i]);
            drop(w);
            one(ctx, &view)
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
            let id = w.db.remove_device(i).id;
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
    let (page, links) = {
        let w = ctx.app.world();
        let groups: std::collections::HashMap<&str, &Group> =
            w.db.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let mine: Vec<(&Device, Option<&Group>)> = w
            .db
            .devices
            .iter()
            .filter(|d| d.owner == me)
            .map(|d| (d, d.group.as_deref().and_then(|g| groups.get(g).copied())))
            .filter(|(d, g)| {
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
        let page: Vec<DeviceView> = page
            .into_iter()
            .map(|(d, g)| DeviceView::with_group(d, g))
            .collect();
        (page, links)
    };
    let data: Vec<DeviceDoc> = page.iter().map(|v| v.doc(ctx)).collect();
    ok_json(200, &ListDoc { data, links })
}
