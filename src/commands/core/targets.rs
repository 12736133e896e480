//! Device Group creation and the targets of fixture groups, shared by `dg create|update` and
//! `project create|update`.

use serde_json::{json, Map, Value};

use super::ident::find;
use super::CommandCtx;
use crate::api::id_of;
use crate::api::rel_id;
use crate::error::{Entity, ImptError, Result};
use impt_wire::types::{self, dg_type_name};

/// `Invalid option "--<opt>" for Device Group of the type "<t>". It may be specified for …`.
pub fn wrong_type_for_option(option: &str, type_name: &str, a: &str, b: &str) -> String {
    format!(
        "Invalid option \"--{option}\" for Device Group of the type \"{type_name}\". It may be specified for \"{a}\" or \"{b}\" Device Groups only."
    )
}

/// The API `type` of a Device Group.
pub fn dg_type(dg: &Value) -> &str {
    dg.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The two kinds of targets of factory Device Groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    Production,
    Dut,
}

impl TargetKind {
    pub fn option(self) -> &'static str {
        match self {
            TargetKind::Production => "target",
            TargetKind::Dut => "dut",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::Production => "Production Target",
            TargetKind::Dut => "DUT Target",
        }
    }
    /// The relationship name in the API.
    pub fn relation(self) -> &'static str {
        match self {
            TargetKind::Production => "production_target",
            TargetKind::Dut => "dut_target",
        }
    }
    /// The API type the target of a parent of `parent_type` must have.
    pub fn required_type(self, parent_type: &str) -> &'static str {
        let (production, dut) =
            types::target_types(parent_type).unwrap_or((types::PRODUCTION, types::DUT));
        match self {
            TargetKind::Production => production,
            TargetKind::Dut => dut,
        }
    }
}

/// Finds (or, with `create`, creates) the target Device Group `ident` of a parent of API type
/// `parent_type` in Product `product_id`, checking its type and Product.
pub async fn resolve_target(
    ctx: &CommandCtx,
    kind: TargetKind,
    parent_type: &str,
    product_id: &str,
    ident: &str,
    create: bool,
) -> Result<Value> {
    if !types::is_fixture_type(parent_type) {
        return Err(ImptError::msg(wrong_type_for_option(
            kind.option(),
            dg_type_name(parent_type),
            "pre-factory",
            "factory",
        )));
    }
    let required = kind.required_type(parent_type);
    let found = match find(ctx, Entity::DeviceGroup, ident).await {
        Ok(v) => Some(v),
        Err(ImptError::NotFound {
            entity: Entity::DeviceGroup,
            ident: i,
        }) if i == ident => None,
        Err(e) => return Err(e),
    };
    match found {
        Some(t) => {
            if dg_type(&t) != required {
                return Err(ImptError::msg(format!(
                    "{} Device Group \"{ident}\" is of the type \"{}\" but must be of the type \"{}\".",
                    kind.label(),
                    dg_type_name(dg_type(&t)),
                    dg_type_name(required)
                )));
            }
            if rel_id(&t, "product") != Some(product_id) {
                return Err(ImptError::msg(format!(
                    "{} Device Group must be from the same Product.",
                    kind.label()
                )));
            }
            Ok(t)
        }
        None if create => {
            let new = NewDg {
                name: ident.to_string(),
                api_type: required.to_string(),
                ..Default::default()
            };
            let created = post_dg(ctx, product_id, &new).await?;
            ctx.ui.info(&format!(
                "Device Group \"{ident}\" is created successfully."
            ));
            Ok(created)
        }
        None => Err(ImptError::msg(format!(
            "{} Device Group \"{ident}\" is not found.",
            kind.label()
        ))),
    }
}

/// Attributes and relations of a Device Group to create.
#[derive(Default, Debug, Clone)]
pub struct NewDg {
    pub name: String,
    pub api_type: String,
    pub description: Option<String>,
    pub region: Option<String>,
    pub env_vars: Option<Value>,
    pub production_target: Option<Value>,
    pub dut_target: Option<Value>,
}

/// The relationship value `{type, id}` of a target Device Group.
pub fn target_rel(t: &Value) -> Value {
    impt_wire::requests::linkage(dg_type(t), id_of(t))
}

/// `POST /devicegroups`; returns the created group.
pub async fn post_dg(ctx: &CommandCtx, product_id: &str, new: &NewDg) -> Result<Value> {
    let mut attrs = Map::new();
    attrs.insert("name".into(), json!(new.name));
    if let Some(d) = &new.description {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(r) = new.region.as_ref().filter(|r| !r.is_empty()) {
        attrs.insert("region".into(), json!(r));
    }
    if let Some(e) = &new.env_vars {
        attrs.insert("env_vars".into(), e.clone());
    }
    let mut rels = Map::new();
    if let Some(t) = &new.production_target {
        rels.insert("production_target".into(), target_rel(t));
    }
    if let Some(t) = &new.dut_target {
        rels.insert("dut_target".into(), target_rel(t));
    }
    let body = impt_wire::requests::create_device_group(&new.api_type, product_id, attrs, rels);
    let dg = ctx
        .client()
        .await?
        .create(Entity::DeviceGroup, &body)
        .await?;
    ctx.invalidate();
    Ok(dg)
}
