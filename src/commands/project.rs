//! `project create|delete|info|link|update`: the `.impt.project` file of the current directory.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::display::dg_info;
use super::core::ident::{find, find_full, project_dg};
use super::core::options::{options, Opt};
use super::core::targets::{post_dg, resolve_target, target_rel, NewDg, TargetKind};
use super::core::CommandCtx;
use crate::api::{encode_segment, id_of, rel_id};
use crate::config::project::ProjectFile;
use crate::error::{ConfigKind, Entity, ImptError, Result};
use impt_wire::requests;
use impt_wire::types::{dg_type_name, DEVELOPMENT, PRE_FACTORY};

fn dg_type(dg: &Value) -> &str {
    dg.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The target options of fixture Device Groups, with their "create it" options.
/// Creates the missing source files (`Device source file "<f>" is created successfully.`).
fn create_missing_files(ctx: &CommandCtx, project: &ProjectFile) -> Result<()> {
    for (file, label) in [
        (project.device_file(), "Device source file"),
        (project.agent_file(), "Agent source file"),
    ] {
        let Some(f) = file.filter(|f| !f.is_empty()) else {
            continue;
        };
        if !Path::new(f).exists() {
            std::fs::write(f, "").map_err(|e| ImptError::File {
                file: f.to_string(),
                msg: e.to_string(),
            })?;
            ctx.ui
                .info(&format!("{label} \"{f}\" is created successfully."));
        }
    }
    Ok(())
}

/// `{"Project": {Device file, Agent file, Device Group}}` (+ `"Auth"` with `full`).
async fn info_data(ctx: &CommandCtx, full: bool) -> Result<Value> {
    let project = ProjectFile::load_required()?;
    let dg = project_dg(ctx, project.device_group_id().unwrap_or_default()).await?;
    let mut m = Map::new();
    if let Some(f) = project.device_file() {
        m.insert("Device file".into(), json!(f));
    }
    if let Some(f) = project.agent_file() {
        m.insert("Agent file".into(), json!(f));
    }
    m.insert(
        "Device Group".into(),
        Value::Object(dg_info(ctx, &dg, full).await?),
    );
    let mut out = Map::new();
    out.insert("Project".into(), Value::Object(m));
    if full {
        out.insert("Auth".into(), super::core::auth_info::info_data(ctx).await?);
    }
    Ok(Value::Object(out))
}

/// Asks before overwriting an existing Project File.
fn confirm_overwrite(ctx: &CommandCtx, confirmed: bool) -> Result<()> {
    if ProjectFile::exists() && !confirmed {
        ctx.ui.confirm(Some(
            "The current directory already contains Project File. It will be overwritten.",
        ))?;
    }
    Ok(())
}

/// A file option's value, else its default.
fn file_opt(value: &Option<String>, default: &str) -> String {
    value.clone().unwrap_or_else(|| default.to_string())
}

options! {
    /// Options of `project create`.
    pub struct CreateOpts {
        product: str = Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "The Product of the new Device Group.").req(),
        create_product: flag = Opt::f("create-product", 'c', "Creates the Product, named by --product, when it does not exist.").alias('i'),
        name: str = Opt::s("name", 'n', "device_group_name", "Name of the new Device Group. Must be unique within the Product.").req(),
        descr: str = Opt::s0("descr", 's', "device_group_description", "Description of the new Device Group."),
        device_file: str = Opt::s("device-file", 'x', "device_file", "The device source file. Created empty when it does not exist.").default("device.nut"),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "The agent source file. Created empty when it does not exist.").default("agent.nut"),
        pre_factory: flag = Opt::f("pre-factory", 'f', "Creates a pre-factory Device Group (for factory firmware) instead of a development one. Requires --target."),
        dut: str = Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "The device-under-test target (a pre-dut Device Group of the same Product). Only with --pre-factory."),
        create_dut: flag = Opt::f("create-dut", 'w', "Creates the device-under-test target, named by --dut, when it does not exist."),
        target: str = Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "The production target (a pre-production Device Group of the same Product). Only with --pre-factory."),
        create_target: flag = Opt::f("create-target", 'r', "Creates the production target, named by --target, when it does not exist.").alias('j'),
        confirmed: flag = Opt::f("confirmed", 'q', "Overwrites an existing Project File without asking for confirmation."),
        create_files: flag = Opt::f("create-files", 'c', "Accepted for compatibility: missing source files are always created.").long_only().hidden(),
    }
}

pub async fn create(ctx: &CommandCtx, o: &CreateOpts) -> Result<()> {
    confirm_overwrite(ctx, o.confirmed)?;
    let pident = o.product.clone().unwrap_or_default();
    let product = match find(ctx, Entity::Product, &pident).await {
        Ok(p) => p,
        Err(ImptError::NotFound { .. }) if o.create_product => {
            let body = requests::create_product(&pident, None, None);
            let product = ctx.client().await?.create(Entity::Product, &body).await?;
            ctx.invalidate();
            ctx.ui
                .info(&format!("Product \"{pident}\" is created successfully."));
            product
        }
        Err(e) => return Err(e),
    };
    let product_id = id_of(&product).to_string();
    let api_type = if o.pre_factory {
        PRE_FACTORY
    } else {
        DEVELOPMENT
    };
    let mut new = NewDg {
        name: o.name.clone().unwrap_or_default(),
        api_type: api_type.to_string(),
        description: o.descr.clone(),
        ..Default::default()
    };
    for (kind, given, create_it) in [
        (TargetKind::Production, &o.target, o.create_target),
        (TargetKind::Dut, &o.dut, o.create_dut),
    ] {
        if let Some(ident) = given.clone() {
            let target =
                resolve_target(ctx, kind, api_type, &product_id, &ident, create_it).await?;
            match kind {
                TargetKind::Production => new.production_target = Some(target),
                TargetKind::Dut => new.dut_target = Some(target),
            }
        }
    }
    let dg = post_dg(ctx, &product_id, &new).await?;
    ctx.ui.info(&format!(
        "Device Group \"{}\" is created successfully.",
        new.name
    ));
    write_project(ctx, (&o.device_file, &o.agent_file), &dg, "created").await
}

options! {
    /// Options of `project link`.
    pub struct LinkOpts {
        dg: str = Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group to link.").req(),
        device_file: str = Opt::s("device-file", 'x', "device_file", "The device source file. Created empty when it does not exist.").default("device.nut"),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "The agent source file. Created empty when it does not exist.").default("agent.nut"),
        confirmed: flag = Opt::f("confirmed", 'q', "Overwrites an existing Project File without asking for confirmation."),
        create_files: flag = Opt::f("create-files", 'c', "Accepted for compatibility: missing source files are always created.").hidden(),
    }
}

pub async fn link(ctx: &CommandCtx, o: &LinkOpts) -> Result<()> {
    confirm_overwrite(ctx, o.confirmed)?;
    let dg = find_full(ctx, Entity::DeviceGroup, &o.dg.clone().unwrap_or_default()).await?;
    let t = dg_type(&dg);
    if t != DEVELOPMENT && t != PRE_FACTORY {
        return Err(ImptError::msg(format!(
            "Project can not be linked to Device Group of the type \"{}\". Only \"development\" or \"pre-factory\" Device Groups are allowed.",
            dg_type_name(t)
        )));
    }
    write_project(ctx, (&o.device_file, &o.agent_file), &dg, "linked").await
}

/// Writes `.impt.project` for `dg` with the files of the options (creating missing ones),
/// then prints `Project is <done> successfully.` and the project info.
async fn write_project(
    ctx: &CommandCtx,
    (device_file, agent_file): (&Option<String>, &Option<String>),
    dg: &Value,
    done: &str,
) -> Result<()> {
    let project = ProjectFile::new(
        id_of(dg),
        &file_opt(device_file, "device.nut"),
        &file_opt(agent_file, "agent.nut"),
    );
    create_missing_files(ctx, &project)?;
    project.save()?;
    let info = info_data(ctx, false).await?;
    ctx.ui.info(&format!("Project is {done} successfully."));
    ctx.ui.result(&info);
    Ok(())
}

options! {
    /// Options of `project info`.
    pub struct InfoOpts {
        full: flag = Opt::f("full", 'u', "Also shows the Device Group's devices, webhooks and targets, and the login status."),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let info = info_data(ctx, o.full).await?;
    ctx.ui.result(&info);
    Ok(())
}

/// Renames the old source file to the new name (`--rename-files`), when there is one to move.
fn rename_file(ctx: &CommandCtx, old: Option<&str>, new: &str, label: &str) -> Result<()> {
    let Some(old) = old.filter(|o| !o.is_empty() && *o != new) else {
        return Ok(());
    };
    if !Path::new(old).is_file() || Path::new(new).exists() {
        return Ok(());
    }
    std::fs::rename(old, new).map_err(|e| ImptError::File {
        file: old.to_string(),
        msg: e.to_string(),
    })?;
    ctx.ui.info(&format!(
        "{label} \"{old}\" is renamed successfully to \"{new}\"."
    ));
    Ok(())
}

options! {
    /// Options of `project update`.
    pub struct UpdateOpts {
        name: str = Opt::s("name", 'n', "device_group_name", "New name of the Project's Device Group."),
        descr: str = Opt::s0("descr", 's', "device_group_description", "New description of the Project's Device Group."),
        device_file: str = Opt::s("device-file", 'x', "device_file", "New device source file. Created empty when it does not exist."),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "New agent source file. Created empty when it does not exist."),
        dut: str = Opt::s("dut", 'u', "DEVICE_GROUP_IDENTIFIER", "New device-under-test target of a pre-factory Device Group."),
        target: str = Opt::s("target", 't', "DEVICE_GROUP_IDENTIFIER", "New production target of a pre-factory Device Group."),
        rename_files: flag = Opt::f("rename-files", 'r', "Renames the old source files to the new names given by --device-file/--agent-file.").hidden(),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let mut project = ProjectFile::load_required()?;
    let dg_id = project.device_group_id().unwrap_or_default().to_string();
    let dg = project_dg(ctx, &dg_id).await?;
    let descr = o.descr.clone().filter(|d| !d.is_empty());
    if o.name.is_some() || descr.is_some() || o.target.is_some() || o.dut.is_some() {
        let product_id = rel_id(&dg, "product").unwrap_or_default().to_string();
        let mut attrs = Map::new();
        if let Some(n) = o.name.clone() {
            attrs.insert("name".into(), json!(n));
        }
        if let Some(d) = descr {
            attrs.insert("description".into(), json!(d));
        }
        let mut rels = Map::new();
        for (kind, given) in [
            (TargetKind::Production, &o.target),
            (TargetKind::Dut, &o.dut),
        ] {
            if let Some(ident) = given.clone() {
                let target =
                    resolve_target(ctx, kind, dg_type(&dg), &product_id, &ident, false).await?;
                rels.insert(kind.relation().into(), target_rel(&target));
            }
        }
        ctx.client()
            .await?
            .patch(
                &format!("/devicegroups/{}", encode_segment(&dg_id)),
                &requests::update_device_group(dg_type(&dg), &dg_id, attrs, rels),
            )
            .await?;
        ctx.invalidate();
        ctx.ui.info(&format!(
            "Device Group \"{dg_id}\" is updated successfully."
        ));
    }
    let rename = o.rename_files;
    for (given, key, label) in [
        (&o.device_file, "deviceFile", "Device source file"),
        (&o.agent_file, "agentFile", "Agent source file"),
    ] {
        if let Some(new) = given.clone() {
            if rename {
                let old = project
                    .map
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_string);
                rename_file(ctx, old.as_deref(), &new, label)?;
            }
            project.set(key, &new);
        }
    }
    create_missing_files(ctx, &project)?;
    project.save()?;
    let info = info_data(ctx, false).await?;
    ctx.ui.info("Project is updated successfully.");
    ctx.ui.result(&info);
    Ok(())
}

options! {
    /// Options of `project delete`.
    pub struct DeleteOpts {
        entities: flag = Opt::f("entities", 'e', "Also deletes the Project's Device Group with its builds, its targets used by no other group, and the Product when it has no other Device Groups. Devices are unassigned, flagged builds unflagged."),
        files: flag = Opt::f("files", 'f', "Also deletes the device and agent source files of the Project."),
        all: flag = Opt::f("all", 'a', "Same as --entities and --files together."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    if !ProjectFile::exists() {
        ctx.ui
            .info("There is no Project File in the current directory.");
        ctx.ui.json_empty();
        return Ok(());
    }
    let project = ProjectFile::load()?.ok_or(ImptError::ConfigNotFound(ConfigKind::Project))?;
    let all = o.all;
    let mut plan = DeletePlan::default();
    if o.files || all {
        for f in [project.device_file(), project.agent_file()]
            .into_iter()
            .flatten()
        {
            if Path::new(f).is_file() && !plan.files.iter().any(|x| x == f) {
                plan.files.push(f.to_string());
            }
        }
    }
    if o.entities || all {
        if let Some(dg_id) = project.device_group_id() {
            if let Some(dg) = ctx.get(Entity::DeviceGroup, dg_id).await? {
                let product_id = rel_id(&dg, "product").unwrap_or_default().to_string();
                let both_targets = rel_id(&dg, "production_target").is_some()
                    && rel_id(&dg, "dut_target").is_some();
                let groups = ctx
                    .list(Entity::DeviceGroup, &[("product.id", product_id.clone())])
                    .await?;
                if groups.len() == if both_targets { 3 } else { 1 } {
                    if let Some(p) = ctx.get(Entity::Product, &product_id).await? {
                        plan.entity(Entity::Product, p, product_id.clone());
                    }
                }
                for kind in [TargetKind::Production, TargetKind::Dut] {
                    let rel = kind.relation();
                    let Some(tid) = rel_id(&dg, rel) else {
                        continue;
                    };
                    let users = groups
                        .iter()
                        .filter(|g| rel_id(g, rel) == Some(tid))
                        .count();
                    if users == 1 {
                        if let Some(target) = ctx.get(Entity::DeviceGroup, tid).await? {
                            plan.add_dg_forced(ctx, &target, tid, true).await?;
                        }
                    }
                }
                plan.add_dg_forced(ctx, &dg, dg_id, true).await?;
            }
        }
    }
    plan.configs.push((
        "Project File in the current directory will be deleted.".into(),
        "Project is deleted successfully.".into(),
        ProjectFile::path(),
    ));
    plan.run(ctx, o.confirmed).await
}
