//! `test create|update|info|github|delete|run`: the `.impt.test` configuration of the
//! current directory and impUnit test runs (see [`run`]).

mod files;
mod report;
mod runner;
mod session;

use std::path::Path;

use serde_json::{json, Map, Value};

use super::delete::DeletePlan;
use super::display::{dg_full_additions, list_item};
use super::ident::find_full;
use super::{Args, Ctx};
use crate::api::{id_of, rel_id};
use crate::config::test::{
    GithubFile, TestFile, BUILDER_CACHE_DIR, BUILDER_TYPE, DEBUG_DIR, DEFAULT_TEST_FILES,
    DEFAULT_TIMEOUT, GITHUB_TYPE, TEST_TYPE,
};
use crate::error::{ConfigKind, Entity, ImptError, Result};

pub use runner::run;

/// The Device Group saved in `.impt.test` (gone → "does not exist anymore").
async fn saved_dg(ctx: &Ctx, t: &TestFile) -> Result<Value> {
    let id = t.device_group_id().unwrap_or_default().to_string();
    ctx.get(Entity::DeviceGroup, &id)
        .await?
        .ok_or(ImptError::Outdated {
            entity: Entity::DeviceGroup,
            id,
            config: ConfigKind::Test,
        })
}

/// Deletes `.builder-cache` when present.
fn clean_builder_cache(ctx: &Ctx) -> Result<()> {
    let dir = Path::new(BUILDER_CACHE_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| ImptError::File {
            file: BUILDER_CACHE_DIR.into(),
            msg: e.to_string(),
        })?;
        ctx.ui.info(&format!(
            "Builder cache {BUILDER_CACHE_DIR} directory is deleted successfully."
        ));
    }
    Ok(())
}

/// A source file option: must exist.
fn source_file(value: &str, label: &str) -> Result<Value> {
    if Path::new(value).is_file() {
        Ok(json!(value))
    } else {
        Err(ImptError::msg(format!("{label} \"{value}\" is not found.")))
    }
}

/// Applies the options to the configuration, in the original's order. `create` applies the
/// defaults of `test create`.
fn set_options(ctx: &Ctx, t: &mut TestFile, args: &Args, create: bool) -> Result<()> {
    if let Some(n) = args.str("timeout") {
        let v: f64 = n.parse().unwrap_or(DEFAULT_TIMEOUT as f64);
        t.set("timeout", json_number(v));
    } else if create {
        t.set("timeout", json!(DEFAULT_TIMEOUT));
    }
    for (opt, key) in [
        ("stop-on-fail", "stopOnFail"),
        ("allow-disconnect", "allowDisconnect"),
        ("builder-cache", "builderCache"),
    ] {
        match args.opt_bool(opt) {
            Some(b) => t.set(key, json!(b)),
            None if create => t.set(key, json!(false)),
            None => {}
        }
    }
    if args.has("test-file") {
        t.set("testFiles", json!(args.strs("test-file")));
    } else if create {
        t.set("testFiles", json!(DEFAULT_TEST_FILES));
    }
    for (opt, key, label) in [
        ("device-file", "deviceFile", "Device file"),
        ("agent-file", "agentFile", "Agent file"),
    ] {
        if args.has(opt) {
            match args.str(opt).filter(|v| !v.is_empty()) {
                Some(v) => t.set(key, source_file(&v, label)?),
                None => t.unset(key),
            }
        }
    }
    for (opt, key, label) in [
        ("github-config", "githubConfig", GITHUB_TYPE),
        ("builder-config", "builderConfig", BUILDER_TYPE),
    ] {
        if args.has(opt) {
            match args.str(opt).filter(|v| !v.is_empty()) {
                Some(v) => {
                    if !Path::new(&v).exists() {
                        ctx.ui.info(&format!("{label} File {v} is not found."));
                    }
                    t.set(key, json!(v));
                }
                None => t.unset(key),
            }
        }
    }
    Ok(())
}

/// A number as JavaScript prints it: integral values without a fraction.
fn json_number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// `{"Test Configuration": {...}}` of `test info` and after create/update.
async fn info_data(ctx: &Ctx, t: &TestFile) -> Result<Value> {
    let dg = saved_dg(ctx, t).await?;
    let mut m = Map::new();
    for (key, label) in [
        ("testFiles", "Test files"),
        ("deviceFile", "Device file"),
        ("agentFile", "Agent file"),
        ("stopOnFail", "Stop on failure"),
        ("timeout", "Timeout"),
        ("allowDisconnect", "Allow disconnect"),
        ("builderCache", "Builder cache"),
        ("githubConfig", "Github config"),
        ("builderConfig", "Builder config"),
    ] {
        if let Some(v) = t.map.get(key).filter(|v| !v.is_null()) {
            m.insert(label.into(), v.clone());
        }
    }
    let item = list_item(ctx, Entity::DeviceGroup, &dg).await?;
    let mut dgm = item
        .get(Entity::DeviceGroup.label())
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    dg_full_additions(ctx, &dg, &mut dgm).await?;
    m.insert("Device Group".into(), Value::Object(dgm));
    Ok(json!({ TEST_TYPE: m }))
}

pub async fn create(ctx: &Ctx, args: &Args) -> Result<()> {
    if TestFile::exists() && !args.flag("confirmed") {
        ctx.ui.confirm(Some(&format!(
            "The current directory already contains {TEST_TYPE} File. It will be overwritten."
        )))?;
    }
    let mut t = TestFile::default();
    let dg = find_full(
        ctx,
        Entity::DeviceGroup,
        &args.str("dg").unwrap_or_default(),
    )
    .await?;
    t.set("deviceGroupId", json!(id_of(&dg)));
    clean_builder_cache(ctx)?;
    set_options(ctx, &mut t, args, true)?;
    t.save()?;
    let info = info_data(ctx, &t).await?;
    ctx.ui
        .info(&format!("{TEST_TYPE} is created successfully."));
    ctx.ui.result(&info);
    Ok(())
}

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut t = TestFile::load_required()?;
    match args.str("dg").filter(|s| !s.is_empty()) {
        Some(ident) => {
            let dg = find_full(ctx, Entity::DeviceGroup, &ident).await?;
            t.set("deviceGroupId", json!(id_of(&dg)));
        }
        None => {
            saved_dg(ctx, &t).await?;
        }
    }
    if args.opt_bool("builder-cache") == Some(false) {
        clean_builder_cache(ctx)?;
    }
    set_options(ctx, &mut t, args, false)?;
    t.save()?;
    let info = info_data(ctx, &t).await?;
    ctx.ui
        .info(&format!("{TEST_TYPE} is updated successfully."));
    ctx.ui.result(&info);
    Ok(())
}

pub async fn info(ctx: &Ctx, _args: &Args) -> Result<()> {
    let t = TestFile::load_required()?;
    let info = info_data(ctx, &t).await?;
    ctx.ui.result(&info);
    Ok(())
}

pub async fn github(ctx: &Ctx, args: &Args) -> Result<()> {
    if args.has("pwd") && !args.has("user") {
        return Err(ImptError::msg(
            "Options \"--pwd\" and \"--user\" must be specified together.",
        ));
    }
    let file = args.str("github-config").unwrap_or_default();
    let path = Path::new(&file);
    let exists = path.exists();
    if exists && !args.flag("confirmed") {
        ctx.ui.confirm(Some(&format!(
            "{GITHUB_TYPE} File {file} already exists. It will be overwritten."
        )))?;
    }
    let user = match args.str("user") {
        Some(u) => u,
        None => ctx.ui.prompt("GitHub username", false)?,
    };
    let token = match args
        .values
        .get("pwd")
        .and_then(|v| v.last().cloned().flatten())
    {
        Some(p) => p,
        None => ctx
            .ui
            .prompt("GitHub password or personal access token", true)?,
    };
    GithubFile {
        user: Some(user),
        token: Some(token),
    }
    .save(path)?;
    ctx.ui.info(&format!(
        "{GITHUB_TYPE} is {} successfully.",
        if exists { "updated" } else { "created" }
    ));
    ctx.ui.json_empty();
    Ok(())
}

/// A referenced config file to delete: its summary line (or "not found" line).
fn config_entry(plan: &mut DeletePlan, label: &str, file: &str) {
    let line = if Path::new(file).exists() {
        format!("{label} File {file} will be deleted.")
    } else {
        format!("{label} File {file} is not found.")
    };
    plan.configs.push((
        line,
        format!("{label} is deleted successfully."),
        file.into(),
    ));
}

pub async fn delete(ctx: &Ctx, args: &Args) -> Result<()> {
    if !TestFile::exists() {
        ctx.ui.info(&format!(
            "There is no {TEST_TYPE} File in the current directory."
        ));
        ctx.ui.json_empty();
        return Ok(());
    }
    let t = TestFile::load_required()?;
    let all = args.flag("all");
    let mut plan = DeletePlan::default();
    if Path::new(BUILDER_CACHE_DIR).exists() {
        plan.dirs
            .push(("Builder cache".into(), BUILDER_CACHE_DIR.into()));
    }
    if Path::new(DEBUG_DIR).exists() {
        plan.dirs
            .push(("Debug mode temporary".into(), DEBUG_DIR.into()));
    }
    if args.flag("github-config") || all {
        if let Some(f) = t.github_config() {
            config_entry(&mut plan, GITHUB_TYPE, f);
        }
    }
    if args.flag("builder-config") || all {
        if let Some(f) = t.builder_config() {
            config_entry(&mut plan, BUILDER_TYPE, f);
        }
    }
    plan.configs.push((
        format!("{TEST_TYPE} File in the current directory will be deleted."),
        format!("{TEST_TYPE} is deleted successfully."),
        TestFile::path(),
    ));
    if args.flag("entities") || all {
        let dg_id = t.device_group_id().unwrap_or_default().to_string();
        if let Some(dg) = ctx.get(Entity::DeviceGroup, &dg_id).await? {
            let product_id = rel_id(&dg, "product").unwrap_or_default().to_string();
            let groups = ctx
                .list(Entity::DeviceGroup, &[("product.id", product_id.clone())])
                .await?;
            if groups.len() == 1 {
                if let Some(p) = ctx.get(Entity::Product, &product_id).await? {
                    plan.entity(Entity::Product, p, product_id.clone());
                }
            }
            plan.add_dg_forced(ctx, &dg, &dg_id, true).await?;
        }
    }
    plan.run(ctx, args.flag("confirmed")).await
}
