//! `dg builds|create|delete|info|list|reassign|restart|unassign|update`, and the Device
//! Group helpers shared with `project` (targets, creation, environment variables).

use impt_wire::requests;
use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::devices::change_devices;
use super::core::display;
use super::core::ident::product_or_project;
use super::core::ident::{dg_or_project, find, find_full};
use super::core::js_json;
use super::core::listing::{dg_type_filter, id_filters, list_each};
use super::core::options::{options, Opt};
use super::core::restart::{print_devices_info, restart_dg};
use super::core::targets::{
    dg_type, post_dg, resolve_target, target_rel, wrong_type_for_option, NewDg, TargetKind,
};
use super::core::{print_created, print_list, print_rows, update_entity, CommandCtx};
use crate::api::{attr, attr_str, encode_segment, id_of, rel_id};
use crate::error::{Entity, ImptError, Result};
use impt_wire::types::DG_TYPE_NAMES;
use impt_wire::types::{self, dg_api_type, dg_type_name};

fn dg_opt(desc: &'static str) -> Opt {
    Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", desc)
}

const DG_DEFAULT: &str = "The Device Group. Default: the Device Group of the Project.";

const ENV_DESC: &str = "Environment variables of the Device Group, as the text of a JSON object.";

/// Parses `--env-variable`; invalid JSON writes `Invalid JSON string: …` to stderr and fails
/// with the message Node's `JSON.parse` gives.
pub fn parse_env(ctx: &CommandCtx, text: &str) -> Result<Value> {
    js_json::parse(text).map_err(|err| {
        ctx.ui.stderr_line(&format!("Invalid JSON string: {text}"));
        ImptError::msg(err)
    })
}

options! {
    /// Options of `dg create`.
    pub struct CreateOpts {
        name: str = Opt::s("name", 'n', "device_group_name", "Name of the new Device Group, unique within the Product.").req(),
        dg_type: str = Opt::s("dg-type", 'y', "device_group_type", "Type of the new Device Group.").choices(&DG_TYPE_NAMES).default("development"),
        product: str = Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product. Default: the Product of the Project."),
        descr: str = Opt::s0("descr", 's', "device_group_description", "Description of the Device Group."),
        dut: str = Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "The device-under-test target of a factory (dut) or pre-factory (pre-dut) Device Group, from the same Product."),
        target: str = Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "The production target of a factory (production) or pre-factory (pre-production) Device Group, from the same Product."),
        region: str = Opt::s0("region", 'r', "region_name", "Region of a production or pre-production Device Group."),
        env_variable: str = Opt::s("env-variable", 'e', "", ENV_DESC),
    }
}

pub async fn create(ctx: &CommandCtx, o: &CreateOpts) -> Result<()> {
    let name = o.name.clone().unwrap_or_default();
    let type_name = o.dg_type.clone().unwrap_or_else(|| "development".into());
    let api_type = dg_api_type(&type_name)
        .unwrap_or(types::DEVELOPMENT)
        .to_string();
    let (product, _) = product_or_project(ctx, o.product.clone(), false).await?;
    let product_id = id_of(&product).to_string();
    let mut new = NewDg {
        name: name.clone(),
        api_type,
        description: o.descr.clone(),
        region: o.region.clone(),
        ..Default::default()
    };
    if let Some(t) = o.target.clone() {
        new.production_target = Some(
            resolve_target(
                ctx,
                TargetKind::Production,
                &new.api_type,
                &product_id,
                &t,
                false,
            )
            .await?,
        );
    }
    if let Some(t) = o.dut.clone() {
        new.dut_target = Some(
            resolve_target(ctx, TargetKind::Dut, &new.api_type, &product_id, &t, false).await?,
        );
    }
    if let Some(e) = o.env_variable.clone() {
        new.env_vars = Some(parse_env(ctx, &e)?);
    }
    let created = post_dg(ctx, &product_id, &new).await?;
    print_created(ctx, Entity::DeviceGroup, &name, &created);
    Ok(())
}

/// True when build `a` was created strictly before build `b`.
pub fn is_older(a: &Value, b: &Value) -> bool {
    let t = |v: &Value| attr_str(v, "created_at").unwrap_or("").to_string();
    let (ta, tb) = (t(a), t(b));
    match (
        chrono::DateTime::parse_from_rfc3339(&ta),
        chrono::DateTime::parse_from_rfc3339(&tb),
    ) {
        (Ok(x), Ok(y)) => x < y,
        _ => ta < tb,
    }
}

options! {
    /// Options of `dg update`.
    pub struct UpdateOpts {
        dg: str = dg_opt(DG_DEFAULT),
        name: str = Opt::s("name", 'n', "device_group_name", "New name of the Device Group."),
        descr: str = Opt::s0("descr", 's', "device_group_description", "New description of the Device Group."),
        dut: str = Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "New device-under-test target (factory and pre-factory Device Groups only)."),
        target: str = Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "New production target (factory and pre-factory Device Groups only)."),
        load_code_after_blessing: opt_bool = Opt::b("load-code-after-blessing", 'l', "Whether production code is loaded right after blessing (production and pre-production Device Groups only)."),
        min_supported_deployment: str = Opt::s("min-supported-deployment", 'm', "BUILD_IDENTIFIER", "A build of this Device Group to become its Min supported Deployment; it cannot be older than the current one."),
        env_variable: str = Opt::s("env-variable", 'e', "", ENV_DESC),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let (dg, ident) = dg_or_project(ctx, o.dg.clone()).await?;
    let id = id_of(&dg).to_string();
    let api_type = dg_type(&dg).to_string();
    let product_id = rel_id(&dg, "product").unwrap_or_default().to_string();
    let mut rels = Map::new();
    for kind in [TargetKind::Production, TargetKind::Dut] {
        let given = match kind {
            TargetKind::Production => o.target.clone(),
            TargetKind::Dut => o.dut.clone(),
        };
        if let Some(t) = given {
            let target = resolve_target(ctx, kind, &api_type, &product_id, &t, false).await?;
            rels.insert(kind.relation().into(), target_rel(&target));
        }
    }
    let load_code = o.load_code_after_blessing;
    if load_code.is_some() && !types::is_production_type(&api_type) {
        return Err(ImptError::msg(wrong_type_for_option(
            "load-code-after-blessing",
            dg_type_name(&api_type),
            "pre-production",
            "production",
        )));
    }
    if let Some(b) = o.min_supported_deployment.clone() {
        let build = find_full(ctx, Entity::Deployment, &b).await?;
        if rel_id(&build, "devicegroup") != Some(id.as_str()) {
            return Err(ImptError::msg(format!(
                "Deployment \"{b}\" does not belong to Device Group \"{ident}\". Impossible to set it as Min supported Deployment."
            )));
        }
        if let Some(cur_id) = rel_id(&dg, "min_supported_deployment") {
            if let Some(cur) = ctx.get(Entity::Deployment, cur_id).await? {
                if is_older(&build, &cur) {
                    return Err(ImptError::msg(
                        "Min supported Deployment cannot be set to an earlier Deployment than the current Min supported Deployment.",
                    ));
                }
            }
        }
        ctx.client()
            .await?
            .request(
                reqwest::Method::PUT,
                &format!(
                    "/devicegroups/{}/relationships/min_supported_deployment",
                    encode_segment(&id)
                ),
                &[],
                Some(&requests::min_supported_deployment(id_of(&build))),
                &[],
            )
            .await?;
        ctx.ui.info(&format!(
            "Min supported Deployment for Device Group \"{ident}\" is updated successfully."
        ));
    }
    let mut attrs = Map::new();
    if let Some(n) = o.name.clone() {
        attrs.insert("name".into(), json!(n));
    }
    if let Some(d) = o.descr.clone() {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(l) = load_code {
        attrs.insert("load_code_after_blessing".into(), json!(l));
    }
    if let Some(e) = o.env_variable.clone() {
        attrs.insert("env_vars".into(), parse_env(ctx, &e)?);
    }
    let body = requests::update_device_group(&api_type, &id, attrs, rels);
    update_entity(ctx, Entity::DeviceGroup, &dg, &ident, &body).await
}

options! {
    /// Options of `dg info`.
    pub struct InfoOpts {
        dg: str = dg_opt(DG_DEFAULT),
        full: flag = Opt::f("full", 'u', "Also shows the groups targeting it, its Webhooks and its Devices."),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let (dg, _) = dg_or_project(ctx, o.dg.clone()).await?;
    let m = display::dg_info(ctx, &dg, o.full).await?;
    ctx.ui.result(&json!({ "Device Group": m }));
    Ok(())
}

options! {
    /// Options of `dg list`.
    pub struct ListOpts {
        owner: strs = Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Only Device Groups owned by this account. Repeatable."),
        product: strs = Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Only Device Groups of this Product. Repeatable."),
        dg_type: strs = Opt::a("dg-type", 'y', "device_group_type", "Only Device Groups of this type. Repeatable.").choices(&DG_TYPE_NAMES),
    }
}

pub async fn list(ctx: &CommandCtx, o: &ListOpts) -> Result<()> {
    let mut filters = id_filters(
        ctx,
        &[
            (&o.owner, "owner.id", Entity::Account),
            (&o.product, "product.id", Entity::Product),
        ],
    )
    .await?;
    filters.extend(dg_type_filter(&o.dg_type, "type"));
    let mut rows = display::Rows::new(Entity::DeviceGroup);
    list_each(ctx, Entity::DeviceGroup, &filters, &mut |items| {
        rows.take(items)
    })
    .await?;
    print_rows(ctx, rows).await
}

options! {
    /// Options of `dg delete`.
    pub struct DeleteOpts {
        dg: str = dg_opt("The Device Group to delete. Default: the Device Group of the Project."),
        force: flag = Opt::f("force", 'f', "Unassigns the Device Group's Devices and unflags its builds before deleting it."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    let (dg, ident) = dg_or_project(ctx, o.dg.clone()).await?;
    let mut plan = DeletePlan::default();
    if o.force {
        plan.add_dg_forced(ctx, &dg, &ident, false).await?;
    } else {
        plan.entity(Entity::DeviceGroup, dg, ident);
    }
    plan.run(ctx, o.confirmed).await
}

options! {
    /// Options of `dg restart`.
    pub struct RestartOpts {
        dg: str = dg_opt(DG_DEFAULT),
        conditional: flag = Opt::f("conditional", 'c', "Sends a conditional restart request (Devices restart only if new code is pending)."),
        log: flag = Opt::f("log", 'l', "Streams the logs of the restarted Devices afterwards; Ctrl-C ends it."),
    }
}

pub async fn restart(ctx: &CommandCtx, o: &RestartOpts) -> Result<()> {
    let (dg, ident) = dg_or_project(ctx, o.dg.clone()).await?;
    let (devices, tail) = restart_dg(ctx, &dg, &ident, o.conditional, o.log).await?;
    if let Some(tail) = tail {
        return tail.run(ctx).await;
    }
    super::core::Changed::new()
        .entity(Entity::DeviceGroup, &dg)
        .devices(&devices)
        .print(ctx);
    Ok(())
}

fn no_devices(ctx: &CommandCtx, ident: &str) {
    ctx.ui.info(&format!(
        "Device Group \"{ident}\" does not have assigned Devices."
    ));
}

async fn devices_of(ctx: &CommandCtx, dg: &Value) -> Result<Vec<Value>> {
    ctx.list(Entity::Device, &[("devicegroup.id", id_of(dg).to_string())])
        .await
}

options! {
    /// Options of `dg unassign`.
    pub struct UnassignOpts {
        dg: str = dg_opt(DG_DEFAULT),
        unbond: str = Opt::s0("unbond", 'u', "unbond_key", "The unbond key needed to unassign Devices from a production Device Group."),
    }
}

pub async fn unassign(ctx: &CommandCtx, o: &UnassignOpts) -> Result<()> {
    let (dg, ident) = dg_or_project(ctx, o.dg.clone()).await?;
    let headers: Vec<(&str, String)> = o
        .unbond
        .clone()
        .filter(|k| !k.is_empty())
        .map(|k| vec![("X-Electricimp-Key", k)])
        .unwrap_or_default();
    let done =
        format!("The following Devices are unassigned successfully from Device Group \"{ident}\":");
    let delete = reqwest::Method::DELETE;
    move_devices(ctx, &dg, &ident, delete, &dg, &headers, &done).await
}

/// Moves every device of group `from` with `method` on `group`'s devices relationship
/// (`POST`: assign there, `DELETE`: unassign from there), then prints `done` with the
/// devices, and the changed group (json).
async fn move_devices(
    ctx: &CommandCtx,
    from: &Value,
    from_ident: &str,
    method: reqwest::Method,
    group: &Value,
    headers: &[(&str, String)],
    done: &str,
) -> Result<()> {
    let devices = devices_of(ctx, from).await?;
    if devices.is_empty() {
        no_devices(ctx, from_ident);
    } else {
        let ids: Vec<&str> = devices.iter().map(id_of).collect();
        change_devices(ctx, method, id_of(group), &ids, headers).await?;
        ctx.ui.info(done);
        print_devices_info(ctx, &devices);
    }
    super::core::Changed::new()
        .entity(Entity::DeviceGroup, group)
        .devices(&devices)
        .print(ctx);
    Ok(())
}

options! {
    /// Options of `dg reassign`.
    pub struct ReassignOpts {
        from: str = Opt::s("from", 'f', "DEVICE_GROUP_IDENTIFIER", "The Device Group whose Devices are moved.").req(),
        to: str = Opt::s("to", 't', "DEVICE_GROUP_IDENTIFIER", "The Device Group receiving the Devices. Default: the Device Group of the Project."),
    }
}

pub async fn reassign(ctx: &CommandCtx, o: &ReassignOpts) -> Result<()> {
    let (to, to_ident) = dg_or_project(ctx, o.to.clone()).await?;
    let from_ident = o.from.clone().unwrap_or_default();
    let from = find(ctx, Entity::DeviceGroup, &from_ident).await?;
    let done = format!(
        "The following Devices assigned to Device Group \"{from_ident}\" are reassigned successfully to Device Group \"{to_ident}\":"
    );
    let post = reqwest::Method::POST;
    move_devices(ctx, &from, &from_ident, post, &to, &[], &done).await
}

fn is_flagged(b: &Value) -> bool {
    attr(b, "flagged").and_then(Value::as_bool) == Some(true)
}

options! {
    /// Options of `dg builds`.
    pub struct BuildsOpts {
        dg: str = dg_opt(DG_DEFAULT),
        unflag: flag = Opt::f("unflag", 'u', "Unflags every flagged build of the Device Group."),
        unflag_old: flag = Opt::f("unflag-old", 'o', "Unflags the flagged builds older than the Min supported Deployment."),
        remove: flag = Opt::f("remove", 'r', "Deletes the unflagged builds older than the Min supported Deployment."),
        confirmed: flag = Opt::f("confirmed", 'q', "Deletes without asking for confirmation."),
    }
}

pub async fn builds(ctx: &CommandCtx, o: &BuildsOpts) -> Result<()> {
    let (dg, ident) = dg_or_project(ctx, o.dg.clone()).await?;
    let id = id_of(&dg).to_string();
    let (unflag, unflag_old, remove) = (o.unflag, o.unflag_old, o.remove);
    let mut min_supported = None;
    if let Some(ms) = rel_id(&dg, "min_supported_deployment") {
        if (unflag_old && !unflag) || remove {
            min_supported = Some(ctx.get(Entity::Deployment, ms).await?.ok_or_else(|| {
                ImptError::NotFound {
                    entity: Entity::Deployment,
                    ident: ms.to_string(),
                }
            })?);
        }
    }
    let client = ctx.client().await?;
    if unflag || unflag_old {
        let mut flagged = ctx
            .list(
                Entity::Deployment,
                &[("devicegroup.id", id.clone()), ("flagged", "true".into())],
            )
            .await?;
        flagged.retain(is_flagged);
        if let (Some(ms), true) = (&min_supported, unflag_old && !unflag) {
            flagged.retain(|b| is_older(b, ms));
        }
        if flagged.is_empty() {
            ctx.ui.info(&format!(
                "No \"flagged\" Deployments are found for Device Group \"{ident}\"."
            ));
        }
        for b in &flagged {
            let bid = id_of(b);
            client
                .patch(
                    &format!("/deployments/{}", encode_segment(bid)),
                    &requests::unflag_deployment(bid),
                )
                .await?;
            ctx.ui
                .info(&format!("Deployment \"{bid}\" is updated successfully."));
        }
        ctx.invalidate();
    }
    if remove {
        let mut doomed = ctx
            .list(
                Entity::Deployment,
                &[("devicegroup.id", id.clone()), ("flagged", "false".into())],
            )
            .await?;
        doomed.retain(|b| !is_flagged(b));
        if let Some(ms) = &min_supported {
            doomed.retain(|b| is_older(b, ms));
        }
        if doomed.is_empty() {
            ctx.ui.info(&format!(
                "No Deployments that can be deleted are found for Device Group \"{ident}\"."
            ));
        } else {
            let mut plan = DeletePlan::default();
            for b in doomed {
                let bid = id_of(&b).to_string();
                plan.entity(Entity::Deployment, b, bid);
            }
            plan.confirm(ctx, o.confirmed)?;
            plan.execute(ctx).await?;
        }
    }
    let all = ctx
        .list(Entity::Deployment, &[("devicegroup.id", id)])
        .await?;
    print_list(ctx, Entity::Deployment, all).await
}
