//! `project create|delete|info|link|update`: the `.impt.project` file of the current directory.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::display::dg_info;
use super::core::ident::{find, find_full, project_dg};
use super::core::targets::{post_dg, resolve_target, target_rel, NewDg, TargetKind};
use super::core::{Args, Ctx};
use crate::api::types::{dg_type_name, DEVELOPMENT, PRE_FACTORY};
use crate::api::{encode_segment, id_of, rel_id};
use crate::config::project::ProjectFile;
use crate::error::{ConfigKind, Entity, ImptError, Result};

fn dg_type(dg: &Value) -> &str {
    dg.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The target options of fixture Device Groups, with their "create it" options.
const TARGETS: [(TargetKind, &str); 2] = [
    (TargetKind::Production, "create-target"),
    (TargetKind::Dut, "create-dut"),
];

/// Creates the missing source files (`Device source file "<f>" is created successfully.`).
fn create_missing_files(ctx: &Ctx, project: &ProjectFile) -> Result<()> {
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
async fn info_data(ctx: &Ctx, full: bool) -> Result<Value> {
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
fn confirm_overwrite(ctx: &Ctx, args: &Args) -> Result<()> {
    if ProjectFile::exists() && !args.flag("confirmed") {
        ctx.ui.confirm(Some(
            "The current directory already contains Project File. It will be overwritten.",
        ))?;
    }
    Ok(())
}

fn file_opt(args: &Args, name: &str, default: &str) -> String {
    args.str(name).unwrap_or_else(|| default.to_string())
}

pub async fn create(ctx: &Ctx, args: &Args) -> Result<()> {
    confirm_overwrite(ctx, args)?;
    let pident = args.str("product").unwrap_or_default();
    let product = match find(ctx, Entity::Product, &pident).await {
        Ok(p) => p,
        Err(ImptError::NotFound { .. }) if args.flag("create-product") => {
            let doc = ctx
                .client()
                .await?
                .post(
                    "/products",
                    &json!({"data": {"type": "product", "attributes": {"name": pident}}}),
                )
                .await?
                .unwrap_or_default();
            ctx.invalidate();
            ctx.ui
                .info(&format!("Product \"{pident}\" is created successfully."));
            doc.get("data").cloned().unwrap_or(Value::Null)
        }
        Err(e) => return Err(e),
    };
    let product_id = id_of(&product).to_string();
    let api_type = if args.flag("pre-factory") {
        PRE_FACTORY
    } else {
        DEVELOPMENT
    };
    let mut new = NewDg {
        name: args.str("name").unwrap_or_default(),
        api_type: api_type.to_string(),
        description: args.str("descr"),
        ..Default::default()
    };
    for (kind, create_option) in TARGETS {
        if let Some(ident) = args.str(kind.option()) {
            let target = resolve_target(
                ctx,
                kind,
                api_type,
                &product_id,
                &ident,
                args.flag(create_option),
            )
            .await?;
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
    write_project(ctx, args, &dg, "created").await
}

pub async fn link(ctx: &Ctx, args: &Args) -> Result<()> {
    confirm_overwrite(ctx, args)?;
    let dg = find_full(
        ctx,
        Entity::DeviceGroup,
        &args.str("dg").unwrap_or_default(),
    )
    .await?;
    let t = dg_type(&dg);
    if t != DEVELOPMENT && t != PRE_FACTORY {
        return Err(ImptError::msg(format!(
            "Project can not be linked to Device Group of the type \"{}\". Only \"development\" or \"pre-factory\" Device Groups are allowed.",
            dg_type_name(t)
        )));
    }
    write_project(ctx, args, &dg, "linked").await
}

/// Writes `.impt.project` for `dg` with the files of the options (creating missing ones),
/// then prints `Project is <done> successfully.` and the project info.
async fn write_project(ctx: &Ctx, args: &Args, dg: &Value, done: &str) -> Result<()> {
    let project = ProjectFile::new(
        id_of(dg),
        &file_opt(args, "device-file", "device.nut"),
        &file_opt(args, "agent-file", "agent.nut"),
    );
    create_missing_files(ctx, &project)?;
    project.save()?;
    let info = info_data(ctx, false).await?;
    ctx.ui.info(&format!("Project is {done} successfully."));
    ctx.ui.result(&info);
    Ok(())
}

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let info = info_data(ctx, args.flag("full")).await?;
    ctx.ui.result(&info);
    Ok(())
}

/// Renames the old source file to the new name (`--rename-files`), when there is one to move.
fn rename_file(ctx: &Ctx, old: Option<&str>, new: &str, label: &str) -> Result<()> {
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

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut project = ProjectFile::load_required()?;
    let dg_id = project.device_group_id().unwrap_or_default().to_string();
    let dg = project_dg(ctx, &dg_id).await?;
    let descr = args.str("descr").filter(|d| !d.is_empty());
    if args.has("name") || descr.is_some() || args.has("target") || args.has("dut") {
        let product_id = rel_id(&dg, "product").unwrap_or_default().to_string();
        let mut attrs = Map::new();
        if let Some(n) = args.str("name") {
            attrs.insert("name".into(), json!(n));
        }
        if let Some(d) = descr {
            attrs.insert("description".into(), json!(d));
        }
        let mut data = json!({"type": dg_type(&dg), "id": dg_id, "attributes": attrs});
        let mut rels = Map::new();
        for (kind, _) in TARGETS {
            if let Some(ident) = args.str(kind.option()) {
                let target =
                    resolve_target(ctx, kind, dg_type(&dg), &product_id, &ident, false).await?;
                rels.insert(kind.relation().into(), target_rel(&target));
            }
        }
        if !rels.is_empty() {
            data["relationships"] = Value::Object(rels);
        }
        ctx.client()
            .await?
            .patch(
                &format!("/devicegroups/{}", encode_segment(&dg_id)),
                &json!({ "data": data }),
            )
            .await?;
        ctx.invalidate();
        ctx.ui.info(&format!(
            "Device Group \"{dg_id}\" is updated successfully."
        ));
    }
    let rename = args.flag("rename-files");
    for (opt, key, label) in [
        ("device-file", "deviceFile", "Device source file"),
        ("agent-file", "agentFile", "Agent source file"),
    ] {
        if let Some(new) = args.str(opt) {
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

pub async fn delete(ctx: &Ctx, args: &Args) -> Result<()> {
    if !ProjectFile::exists() {
        ctx.ui
            .info("There is no Project File in the current directory.");
        ctx.ui.json_empty();
        return Ok(());
    }
    let project = ProjectFile::load()?.ok_or(ImptError::ConfigNotFound(ConfigKind::Project))?;
    let all = args.flag("all");
    let mut plan = DeletePlan::default();
    if args.flag("files") || all {
        for f in [project.device_file(), project.agent_file()]
            .into_iter()
            .flatten()
        {
            if Path::new(f).is_file() && !plan.files.iter().any(|x| x == f) {
                plan.files.push(f.to_string());
            }
        }
    }
    if args.flag("entities") || all {
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
                for (kind, _) in TARGETS {
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
    plan.run(ctx, args.flag("confirmed")).await
}
