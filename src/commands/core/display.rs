//! Display data of entities: the `{ "<Type>": { id, … } }` objects every command prints.
//! "short" (list) data keeps the identifying attributes that are not empty; "info" data has
//! every attribute, then the related entities.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::CommandCtx;
use crate::api::{id_of, rel_id};
use crate::error::{Entity, Result};
use impt_wire::types::{self, dg_type_name, webhook_mime_name};

/// Attributes of list data.
pub fn list_attrs(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Account => &["email", "username"],
        Entity::Product => &["name"],
        Entity::DeviceGroup => &["name"],
        Entity::Device => &["name", "mac_address", "agent_id", "device_online"],
        Entity::Deployment => &["sha", "tags", "origin", "flagged"],
        Entity::LoginKey => &["description", "usages"],
        Entity::Webhook => &["event", "url"],
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// An attribute value as shown: null and empty arrays become `""`.
pub fn shown(v: &Value) -> Value {
    match v {
        Value::Null => json!(""),
        Value::Array(a) if a.is_empty() => json!(""),
        other => other.clone(),
    }
}

fn shown_attr(entity: Entity, name: &str, v: &Value) -> Value {
    if entity == Entity::Webhook && name == "content_type" {
        return json!(v.as_str().map(webhook_mime_name).unwrap_or("unknown"));
    }
    shown(v)
}

/// `id`, and for Device Groups their impt `type` name: how every entity block starts.
fn head(entity: Entity, v: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id_of(v)));
    if entity == Entity::DeviceGroup {
        let t = v.get("type").and_then(Value::as_str).unwrap_or("");
        m.insert("type".into(), json!(dg_type_name(t)));
    }
    m
}

/// `id` (and `type` for Device Groups) then the non-empty list attributes.
pub fn short_body(entity: Entity, v: &Value) -> Map<String, Value> {
    let mut m = head(entity, v);
    // The attributes object is looked up once, not once per list attribute.
    if let Some(Value::Object(attrs)) = v.get("attributes") {
        for a in list_attrs(entity) {
            if let Some(x) = attrs.get(*a) {
                if !x.is_null() && !is_empty(x) {
                    m.insert((*a).into(), shown_attr(entity, a, x));
                }
            }
        }
    }
    m
}

/// [`short_body`] of an entity the caller gives up: the attributes shown are moved out of
/// it, not copied (what is left of `v` is only good for its id and relationships).
fn short_body_taken(entity: Entity, v: &mut Value) -> Map<String, Value> {
    let mut m = head(entity, v);
    if let Some(Value::Object(attrs)) = v.get_mut("attributes") {
        for a in list_attrs(entity) {
            if let Some(x) = attrs.get_mut(*a) {
                if !x.is_null() && !is_empty(x) {
                    let shown = if entity == Entity::Webhook && *a == "content_type" {
                        shown_attr(entity, a, x)
                    } else {
                        match x.take() {
                            Value::Array(items) if items.is_empty() => json!(""),
                            other => other,
                        }
                    };
                    m.insert((*a).into(), shown);
                }
            }
        }
    }
    m
}

/// `{ "<Type>": short body }`.
pub fn short(entity: Entity, v: &Value) -> Value {
    json!({ entity.label(): short_body(entity, v) })
}

/// `id` (+ `type`) then every attribute in API order.
pub fn info_body(entity: Entity, v: &Value) -> Map<String, Value> {
    let mut m = head(entity, v);
    if let Some(Value::Object(attrs)) = v.get("attributes") {
        for (k, x) in attrs {
            m.insert(k.clone(), shown_attr(entity, k, x));
        }
    }
    m
}

/// Relations shown in list data.
fn list_relations(entity: Entity) -> &'static [(&'static str, &'static str, Entity)] {
    match entity {
        Entity::Product => &[("owner", "Owner", Entity::Account)],
        Entity::DeviceGroup => &[
            ("product", "Product", Entity::Product),
            ("owner", "Owner", Entity::Account),
        ],
        Entity::Device | Entity::Deployment | Entity::Webhook => &[
            ("devicegroup", "Device Group", Entity::DeviceGroup),
            ("owner", "Owner", Entity::Account),
        ],
        _ => &[],
    }
}

/// Relations shown in info data.
pub fn info_relations(entity: Entity) -> &'static [(&'static str, &'static str, Entity)] {
    match entity {
        Entity::Account | Entity::LoginKey | Entity::Product => &[
            ("owner", "Owner", Entity::Account),
            ("creator", "Creator", Entity::Account),
        ],
        Entity::DeviceGroup => &[
            ("product", "Product", Entity::Product),
            (
                "current_deployment",
                "Current Deployment",
                Entity::Deployment,
            ),
            (
                "min_supported_deployment",
                "Min supported Deployment",
                Entity::Deployment,
            ),
            (
                "production_target",
                "Production Target",
                Entity::DeviceGroup,
            ),
            ("dut_target", "DUT Target", Entity::DeviceGroup),
            ("owner", "Owner", Entity::Account),
            ("creator", "Creator", Entity::Account),
        ],
        Entity::Device | Entity::Deployment | Entity::Webhook => &[
            ("devicegroup", "Device Group", Entity::DeviceGroup),
            ("product", "Product", Entity::Product),
            ("owner", "Owner", Entity::Account),
            ("creator", "Creator", Entity::Account),
        ],
    }
}

/// Adds related entities (their short body) under their labels. Owner/Creator that are the
/// current account are left out; relations that no longer exist are reported and skipped.
async fn add_relations(
    ctx: &CommandCtx,
    entity: Entity,
    v: &Value,
    rels: &[(&str, &str, Entity)],
    m: &mut Map<String, Value>,
) -> Result<()> {
    add_relations_memo(ctx, entity, v, rels, m, &mut Related::default()).await
}

/// What the rows of one list share: the current account's id (asked for when a first row
/// needs it) and the short bodies of the related entities found so far, so that a long list
/// neither copies a related entity out of the run's cache nor rebuilds its body per row.
#[derive(Default)]
struct Related {
    me: Option<String>,
    shorts: HashMap<(Entity, String), Map<String, Value>>,
}

async fn add_relations_memo(
    ctx: &CommandCtx,
    entity: Entity,
    v: &Value,
    rels: &[(&str, &str, Entity)],
    m: &mut Map<String, Value>,
    memo: &mut Related,
) -> Result<()> {
    let Some(Value::Object(relationships)) = v.get("relationships") else {
        return Ok(());
    };
    for (rel, label, kind) in rels {
        let Some(id) = relationships
            .get(*rel)
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        add_relation(ctx, (entity, id_of(v)), (label, *kind, id), m, memo).await?;
    }
    Ok(())
}

/// Adds the related entity `id` of kind `kind` under `label` to `m`, the data of `item` (its
/// kind and id): left out when it is the current account, reported when it does not exist.
async fn add_relation(
    ctx: &CommandCtx,
    item: (Entity, &str),
    (label, kind, id): (&str, Entity, &str),
    m: &mut Map<String, Value>,
    memo: &mut Related,
) -> Result<()> {
    if kind == Entity::Account {
        if memo.me.is_none() {
            memo.me = Some(ctx.me_id().await?);
        }
        if memo.me.as_deref() == Some(id) {
            return Ok(());
        }
    }
    // Only found entities are kept: a missing one is asked for (and reported) again on
    // each row, as before.
    if let Some(body) = memo.shorts.get(&(kind, id.to_string())) {
        m.insert(label.into(), Value::Object(body.clone()));
        return Ok(());
    }
    match ctx.get(kind, id).await? {
        Some(related) => {
            let body = short_body(kind, &related);
            memo.shorts.insert((kind, id.to_string()), body.clone());
            m.insert(label.into(), Value::Object(body));
        }
        None => {
            ctx.ui.dialog(&format!(
                "Error: Unexpected state. {} \"{}\" is related to corrupted {} \"{id}\" which does not exist.",
                item.0.label(),
                item.1,
                kind.label()
            ));
            m.insert(format!("Corrupted {}", kind.label()), json!({ "id": id }));
        }
    }
    Ok(())
}

/// List data: short body plus the list relations.
pub async fn list_item(ctx: &CommandCtx, entity: Entity, v: &Value) -> Result<Value> {
    list_item_memo(ctx, entity, v, &mut Related::default()).await
}

async fn list_item_memo(
    ctx: &CommandCtx,
    entity: Entity,
    v: &Value,
    memo: &mut Related,
) -> Result<Value> {
    let m = short_body(entity, v);
    list_item_with(ctx, entity, v, m, memo).await
}

/// A list item from its short body `m`: the relations of `v` added, under the entity's label.
async fn list_item_with(
    ctx: &CommandCtx,
    entity: Entity,
    v: &Value,
    mut m: Map<String, Value>,
    memo: &mut Related,
) -> Result<Value> {
    add_relations_memo(ctx, entity, v, list_relations(entity), &mut m, memo).await?;
    let mut item = Map::new();
    item.insert(entity.label().into(), Value::Object(m));
    Ok(Value::Object(item))
}

/// The rows of a list command's result, made page by page as the list arrives: each item's
/// short body is made while its page is fresh in memory (its shown attributes moved, not
/// copied), and of the rest only what its relations need is kept; [`Rows::data`] adds the
/// related entities.
pub struct Rows {
    entity: Entity,
    rows: Vec<Row>,
}

struct Row {
    body: Map<String, Value>,
    /// The item's id, for the text of a corrupted relation.
    id: String,
    /// The related ids, one for each of the entity's [`list_relations`].
    related: Vec<Option<String>>,
}

impl Rows {
    pub fn new(entity: Entity) -> Rows {
        Rows {
            entity,
            rows: Vec::new(),
        }
    }

    pub fn entity(&self) -> Entity {
        self.entity
    }

    /// How many rows there are.
    pub fn count(&self) -> usize {
        self.rows.len()
    }

    /// Makes the rows of `items` (given up).
    pub fn take(&mut self, items: Vec<Value>) {
        let rels = list_relations(self.entity);
        self.rows.reserve(items.len());
        for mut v in items {
            let body = short_body_taken(self.entity, &mut v);
            let related = rels
                .iter()
                .map(|(rel, _, _)| rel_id(&v, rel).map(str::to_string))
                .collect();
            let id = id_of(&v).to_string();
            self.rows.push(Row { body, id, related });
        }
    }

    /// The list data: each row's short body and its list relations, under the entity's
    /// label (the related entities' data made once for all rows).
    pub async fn data(self, ctx: &CommandCtx) -> Result<Value> {
        let entity = self.entity;
        let rels = list_relations(entity);
        let mut memo = Related::default();
        let mut out = Vec::with_capacity(self.rows.len());
        for Row {
            mut body,
            id,
            related,
        } in self.rows
        {
            for ((_, label, kind), rid) in rels.iter().zip(related) {
                if let Some(rid) = rid {
                    add_relation(
                        ctx,
                        (entity, &id),
                        (label, *kind, &rid),
                        &mut body,
                        &mut memo,
                    )
                    .await?;
                }
            }
            let mut item = Map::new();
            item.insert(entity.label().into(), Value::Object(body));
            out.push(Value::Object(item));
        }
        Ok(Value::Array(out))
    }
}

/// Many list items as an array (the related entities' data built once for all rows).
pub async fn list_items(ctx: &CommandCtx, entity: Entity, items: &[Value]) -> Result<Value> {
    let mut memo = Related::default();
    let mut out = Vec::with_capacity(items.len());
    for v in items {
        out.push(list_item_memo(ctx, entity, v, &mut memo).await?);
    }
    Ok(Value::Array(out))
}

/// Info data: all attributes plus the info relations. Devices always get their group's
/// list data with its current deployment.
pub async fn info(ctx: &CommandCtx, entity: Entity, v: &Value) -> Result<Value> {
    Ok(json!({ entity.label(): info_map(ctx, entity, v).await? }))
}

pub async fn info_map(ctx: &CommandCtx, entity: Entity, v: &Value) -> Result<Map<String, Value>> {
    let mut m = info_body(entity, v);
    add_relations(ctx, entity, v, info_relations(entity), &mut m).await?;
    if entity == Entity::Device {
        if let Some(dg_id) = rel_id(v, "devicegroup") {
            if let Some(dg) = ctx.get(Entity::DeviceGroup, dg_id).await? {
                let mut dgm = short_body(Entity::DeviceGroup, &dg);
                add_relations(
                    ctx,
                    Entity::DeviceGroup,
                    &dg,
                    &[(
                        "current_deployment",
                        "Current Deployment",
                        Entity::Deployment,
                    )],
                    &mut dgm,
                )
                .await?;
                m.insert("Device Group".into(), Value::Object(dgm));
            }
        }
    }
    Ok(m)
}

/// The "full" additions of a Device Group: groups it is a target for, its webhooks and
/// devices (at most 5 shown in text mode).
pub async fn dg_full_additions(
    ctx: &CommandCtx,
    dg: &Value,
    m: &mut Map<String, Value>,
) -> Result<()> {
    let id = id_of(dg);
    let dg_type = dg.get("type").and_then(Value::as_str).unwrap_or("");
    let target_rel = if types::is_production_type(dg_type) {
        Some(("production_target", "Production Target for"))
    } else if types::is_dut_type(dg_type) {
        Some(("dut_target", "DUT Target for"))
    } else {
        None
    };
    if let (Some((rel, label)), Some(product)) = (target_rel, rel_id(dg, "product")) {
        let groups = ctx
            .list(Entity::DeviceGroup, &[("product.id", product.to_string())])
            .await?;
        let targeting: Vec<Value> = groups
            .iter()
            .filter(|g| rel_id(g, rel) == Some(id))
            .map(|g| short(Entity::DeviceGroup, g))
            .collect();
        if !targeting.is_empty() {
            m.insert(label.into(), Value::Array(targeting));
        }
    }
    let hooks = ctx
        .list(Entity::Webhook, &[("devicegroup.id", id.to_string())])
        .await?;
    if !hooks.is_empty() {
        m.insert(
            "Webhooks".into(),
            Value::Array(hooks.iter().map(|h| short(Entity::Webhook, h)).collect()),
        );
    }
    let devices = ctx
        .list(Entity::Device, &[("devicegroup.id", id.to_string())])
        .await?;
    if !devices.is_empty() {
        let mut shown: Vec<Value> = devices.iter().map(|d| short(Entity::Device, d)).collect();
        if !ctx.ui.is_json() && shown.len() > 5 {
            let more = shown.len() - 5;
            shown.truncate(5);
            shown.push(json!(format!("... {more} more Device(s)")));
        }
        m.insert("Devices".into(), Value::Array(shown));
    }
    Ok(())
}

/// `dg info --full` / `project info --full` data of a Device Group.
pub async fn dg_info(ctx: &CommandCtx, dg: &Value, full: bool) -> Result<Map<String, Value>> {
    let mut m = info_map(ctx, Entity::DeviceGroup, dg).await?;
    if full {
        dg_full_additions(ctx, dg, &mut m).await?;
    }
    Ok(m)
}

/// Top-level arrays printed by some info lines are cut to 5 items plus `And <n> more …`.
pub fn truncated(items: &[Value], label: &str) -> (Value, Option<String>) {
    if items.len() <= 5 {
        return (Value::Array(items.to_vec()), None);
    }
    (
        Value::Array(items[..5].to_vec()),
        Some(format!("And {} more {label}(s).", items.len() - 5)),
    )
}
