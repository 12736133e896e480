//! `build cleanup|copy|delete|deploy|get|info|list|run|update`.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::delete::DeletePlan;
use super::display::{self, short};
use super::ident::{dg_or_project, find, find_as, project_dg};
use super::listing::{dg_types, id_filters, list, Filter};
use super::restart::restart_dg;
use super::{print_list, print_updated, Args, Ctx};
use crate::api::{attr, attr_str, encode_segment, id_of, rel_id, rel_type};
use crate::builder::SourcePos;
use crate::config::project::ProjectFile;
use crate::error::{Entity, ImptError, Result};

/// Reads a source file for a deployment, running the Builder preprocessor when the file
/// contains Builder directives (`@include`, `@set`, `@if`, …).
///
/// BUILDER SWITCH-OVER POINT: the one place deployments meet `crate::builder`.
/// Callers bypass it with `--no-preprocess` (they read the file verbatim).
pub fn read_source(path: &Path) -> Result<String> {
    Ok(read_mapped(path, false, &Default::default())?.0)
}

/// The code to deploy from `path` (preprocessed when it has Builder directives, unless
/// `verbatim`) and, for each of its lines, the file and line it came from.
fn read_mapped(
    path: &Path,
    verbatim: bool,
    flags: &std::collections::HashMap<String, Vec<Option<String>>>,
) -> Result<(String, Vec<SourcePos>)> {
    let text = read_verbatim(path)?;
    if verbatim || !crate::builder::has_directives(&text) {
        let name = path.display().to_string();
        let map = (1..=text.lines().count().max(1))
            .map(|line| SourcePos {
                file: name.clone(),
                line,
            })
            .collect();
        return Ok((text, map));
    }
    let opts = crate::builder::settings::for_command(flags).map_err(ImptError::msg)?;
    crate::builder::preprocess_file(path, &opts)
        .map(|p| (p.code, p.line_map))
        .map_err(|e| ImptError::msg(e.to_string()))
}

/// Adds `<file>:<line>:<column>: <type>: <text>` notes to a compile error answer, naming the
/// user's own files through the line maps (device code first, agent code second).
fn map_compile_errors(err: ImptError, maps: &[Vec<SourcePos>; 2]) -> ImptError {
    let ImptError::Api(mut api) = err else {
        return err;
    };
    let mut notes = Vec::new();
    for item in &api.errors {
        let Some(entries) = item.meta.as_array() else {
            continue;
        };
        for m in entries {
            let side = match m.get("file").and_then(Value::as_str) {
                Some("device_code") => &maps[0],
                Some("agent_code") => &maps[1],
                _ => continue,
            };
            let row = m.get("row").and_then(Value::as_u64).unwrap_or(0) as usize;
            let Some(pos) = row.checked_sub(1).and_then(|i| side.get(i)) else {
                continue;
            };
            let column = m.get("column").and_then(Value::as_u64).unwrap_or(0);
            let typ = m.get("type").and_then(Value::as_str).unwrap_or("error");
            let text = m.get("text").and_then(Value::as_str).unwrap_or("");
            notes.push(format!("{}:{}:{column}: {typ}: {text}", pos.file, pos.line));
        }
    }
    api.notes = notes;
    ImptError::Api(api)
}

fn read_verbatim(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| ImptError::File {
        file: path.display().to_string(),
        msg: e.to_string(),
    })
}

/// The build of the option (`find`, or `find_full` for info-type commands), else the current
/// deployment of the Project's Device Group. Returns the entity and its identifier to show.
pub async fn build_or_project(
    ctx: &Ctx,
    option: Option<String>,
    full: bool,
) -> Result<(Value, String)> {
    if let Some(ident) = option.filter(|s| !s.is_empty()) {
        let v = find_as(ctx, Entity::Deployment, &ident, full).await?;
        return Ok((v, ident));
    }
    let project = ctx
        .project()?
        .ok_or(ImptError::NoIdentifier(Entity::Deployment))?;
    let dg = project_dg(ctx, project.device_group_id().unwrap_or_default()).await?;
    let id = rel_id(&dg, "current_deployment")
        .ok_or(ImptError::NoIdentifier(Entity::Deployment))?
        .to_string();
    let b = ctx
        .get(Entity::Deployment, &id)
        .await?
        .ok_or_else(|| ImptError::NotFound {
            entity: Entity::Deployment,
            ident: id.clone(),
        })?;
    Ok((b, id))
}

/// The device and agent file names of an option pair, the Project's names filling the gaps
/// (the Project File is only read when an option is missing).
fn file_names(ctx: &Ctx, args: &Args) -> Result<(Option<String>, Option<String>)> {
    let (device, agent) = (args.str("device-file"), args.str("agent-file"));
    if device.is_some() && agent.is_some() {
        return Ok((device, agent));
    }
    let project = ctx.project()?;
    let from = |f: fn(&ProjectFile) -> Option<&str>| {
        project.as_ref().and_then(|p| f(p).map(str::to_string))
    };
    Ok((
        device.or_else(|| from(ProjectFile::device_file)),
        agent.or_else(|| from(ProjectFile::agent_file)),
    ))
}

/// Device and agent code of `build deploy|run` (file notes and existence checks first), and
/// their line maps.
fn sources(ctx: &Ctx, args: &Args) -> Result<(String, String, [Vec<SourcePos>; 2])> {
    let verbatim = args.flag("no-preprocess");
    let (device, agent) = file_names(ctx, args)?;
    let mut out = Vec::new();
    let mut maps = Vec::new();
    for (opt, name, kind) in [
        ("device-file", device, "device"),
        ("agent-file", agent, "agent"),
    ] {
        match name.filter(|n| !n.is_empty()) {
            None => {
                ctx.ui.info(&format!(
                    "--{opt} option is not specified, empty {kind} code will be deployed."
                ));
                out.push(String::new());
                maps.push(Vec::new());
            }
            Some(n) => {
                let p = Path::new(&n);
                if !p.is_file() {
                    return Err(ImptError::msg(format!(
                        "File with IMP {kind} source code \"{n}\" is not found."
                    )));
                }
                let (code, map) = read_mapped(p, verbatim, &args.values)?;
                out.push(code);
                maps.push(map);
            }
        }
    }
    let agent = out.pop().unwrap_or_default();
    let device = out.pop().unwrap_or_default();
    let agent_map = maps.pop().unwrap_or_default();
    let device_map = maps.pop().unwrap_or_default();
    Ok((device, agent, [device_map, agent_map]))
}

/// `POST /deployments` for a Device Group; prints `Deployment "<id>" is created successfully.`
async fn create_deployment(ctx: &Ctx, dg: &Value, attrs: Map<String, Value>) -> Result<Value> {
    let dg_type = dg.get("type").and_then(Value::as_str).unwrap_or("");
    let body = json!({"data": {
        "type": "deployment",
        "attributes": attrs,
        "relationships": {"devicegroup": {"type": dg_type, "id": id_of(dg)}}
    }});
    let doc = ctx
        .client()
        .await?
        .post("/deployments", &body)
        .await?
        .unwrap_or_default();
    ctx.invalidate();
    crate::output::errors::print_warnings(&ctx.ui, &doc);
    let data = doc.get("data").cloned().unwrap_or(Value::Null);
    ctx.ui.info(&format!(
        "Deployment \"{}\" is created successfully.",
        id_of(&data)
    ));
    Ok(data)
}

/// The attributes of a new deployment from the options of deploy/run.
fn deploy_attrs(args: &Args, device: String, agent: String) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert("device_code".into(), json!(device));
    attrs.insert("agent_code".into(), json!(agent));
    if let Some(d) = args.str("descr") {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(o) = args.str("origin") {
        attrs.insert("origin".into(), json!(o));
    }
    if let Some(f) = args.opt_bool("flagged") {
        attrs.insert("flagged".into(), json!(f));
    }
    if args.has("tag") {
        attrs.insert("tags".into(), json!(args.strs("tag")));
    }
    attrs
}

pub async fn deploy(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, agent, maps) = sources(ctx, args)?;
    let (dg, _) = dg_or_project(ctx, args.str("dg")).await?;
    let data = create_deployment(ctx, &dg, deploy_attrs(args, device, agent))
        .await
        .map_err(|e| map_compile_errors(e, &maps))?;
    ctx.ui.result(&short(Entity::Deployment, &data));
    Ok(())
}

fn created_at(v: &Value) -> i64 {
    attr_str(v, "created_at")
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

pub async fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let (device, agent, maps) = sources(ctx, args)?;
    let (dg, _) = dg_or_project(ctx, args.str("dg")).await?;
    let build = create_deployment(ctx, &dg, deploy_attrs(args, device, agent))
        .await
        .map_err(|e| map_compile_errors(e, &maps))?;
    let build_id = id_of(&build).to_string();
    // The Device Group again, as `dg update --min-supported-deployment <new build>` does it.
    let (dg, ident) = dg_or_project(ctx, args.str("dg")).await?;
    let dg_id = id_of(&dg).to_string();
    if rel_id(&build, "devicegroup") != Some(dg_id.as_str()) {
        return Err(ImptError::msg(format!(
            "Deployment \"{build_id}\" does not belong to Device Group \"{ident}\". Impossible to set it as Min supported Deployment."
        )));
    }
    if let Some(min_id) = rel_id(&dg, "min_supported_deployment") {
        if let Some(min) = ctx.get(Entity::Deployment, min_id).await? {
            if created_at(&build) < created_at(&min) {
                return Err(ImptError::msg("Min supported Deployment cannot be set to an earlier Deployment than the current Min supported Deployment."));
            }
        }
    }
    let client = ctx.client().await?;
    client
        .request(
            reqwest::Method::PUT,
            &format!(
                "/devicegroups/{}/relationships/min_supported_deployment",
                encode_segment(&dg_id)
            ),
            &[],
            Some(&json!({"data": {"type": "deployment", "id": build_id}})),
            &[],
        )
        .await?;
    ctx.ui.info(&format!(
        "Min supported Deployment for Device Group \"{ident}\" is updated successfully."
    ));
    let mut attrs = Map::new();
    if let Some(d) = args.str("descr") {
        attrs.insert("description".into(), json!(d));
    }
    let dg_type = dg.get("type").and_then(Value::as_str).unwrap_or("");
    client
        .patch(
            &format!("/devicegroups/{}", encode_segment(&dg_id)),
            &json!({"data": {"type": dg_type, "id": dg_id, "attributes": attrs}}),
        )
        .await?;
    ctx.invalidate();
    ctx.ui.info(&format!(
        "Device Group \"{ident}\" is updated successfully."
    ));
    let devices = restart_dg(ctx, &dg, &ident, args.flag("conditional")).await?;
    if args.flag("log") && !devices.is_empty() {
        ctx.ui
            .info(&format!("Deployment \"{build_id}\" is run successfully."));
        let ids: Vec<String> = devices.iter().map(|d| id_of(d).to_string()).collect();
        return super::log::stream_devices(ctx, &ids).await;
    }
    ctx.ui.json_empty();
    Ok(())
}

pub async fn get(ctx: &Ctx, args: &Args) -> Result<()> {
    let (build, ident) = build_or_project(ctx, args.str("build"), true).await?;
    let project = ctx.project()?;
    let device_file = args.str("device-file").or_else(|| {
        project
            .as_ref()
            .and_then(|p| p.device_file().map(str::to_string))
    });
    let agent_file = args.str("agent-file").or_else(|| {
        project
            .as_ref()
            .and_then(|p| p.agent_file().map(str::to_string))
    });
    let device_only = args.flag("device-only");
    let agent_only = args.flag("agent-only");
    if device_file.is_none() && !agent_only {
        return Err(ImptError::msg(
            "Option \"--device-file\" must be specified.",
        ));
    }
    if agent_file.is_none() && !device_only {
        return Err(ImptError::msg("Option \"--agent-file\" must be specified."));
    }
    let mut writes = Vec::new();
    if !agent_only {
        if let Some(f) = &device_file {
            writes.push((f.clone(), "device_code"));
        }
    }
    if !device_only {
        if let Some(f) = &agent_file {
            writes.push((f.clone(), "agent_code"));
        }
    }
    let existing: Vec<&str> = writes
        .iter()
        .filter(|(f, _)| Path::new(f).exists())
        .map(|(f, _)| f.as_str())
        .collect();
    if !existing.is_empty() && !args.flag("confirmed") {
        ctx.ui.confirm(Some(&format!(
            "Source file(s) {} already exist. They will be overwritten.",
            existing.join(", ")
        )))?;
    }
    for (f, a) in &writes {
        let code = attr_str(&build, a).unwrap_or("");
        // Replaces the user's source file atomically: never a half-written file.
        crate::config::write_atomic(std::path::Path::new(f), code.as_bytes(), false)?;
    }
    ctx.ui.info(&format!(
        "Deployment \"{ident}\" source file(s) are downloaded successfully."
    ));
    ctx.ui
        .result(&display::info(ctx, Entity::Deployment, &build).await?);
    Ok(())
}

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let (build, _) = build_or_project(ctx, args.str("build"), true).await?;
    ctx.ui
        .result(&display::info(ctx, Entity::Deployment, &build).await?);
    Ok(())
}

/// The builds of `build list` (and `build cleanup`): server-side then client-side filters.
async fn list_builds(ctx: &Ctx, args: &Args) -> Result<Vec<Value>> {
    let mut filters = id_filters(
        ctx,
        args,
        &[
            ("owner", "owner.id", Entity::Account),
            ("product", "product.id", Entity::Product),
            ("dg", "devicegroup.id", Entity::DeviceGroup),
        ],
    )
    .await?;
    if args.has("sha") {
        filters.push(Filter {
            name: "sha",
            values: args.strs("sha"),
        });
    }
    if args.has("tag") {
        filters.push(Filter {
            name: "tags",
            values: args.strs("tag"),
        });
    }
    let (flagged, unflagged) = (args.flag("flagged"), args.flag("unflagged"));
    if flagged != unflagged {
        filters.push(Filter {
            name: "flagged",
            values: vec![flagged.to_string()],
        });
    }
    let mut items = list(ctx, Entity::Deployment, &filters).await?;
    if args.has("dg-type") {
        let types = dg_types(args);
        items.retain(|b| rel_type(b, "devicegroup").is_some_and(|t| types.iter().any(|x| x == t)));
    }
    let (non_zombie, zombie) = (args.flag("non-zombie"), args.flag("zombie"));
    if non_zombie != zombie {
        items.retain(|b| rel_id(b, "devicegroup").is_some() == non_zombie);
    }
    Ok(items)
}

pub async fn list_cmd(ctx: &Ctx, args: &Args) -> Result<()> {
    let items = list_builds(ctx, args).await?;
    print_list(ctx, Entity::Deployment, &items).await
}

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let (build, ident) = build_or_project(ctx, args.str("build"), false).await?;
    let id = id_of(&build).to_string();
    let mut attrs = Map::new();
    if let Some(d) = args.str("descr") {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(f) = args.opt_bool("flagged") {
        attrs.insert("flagged".into(), json!(f));
    }
    if args.has("tag") || args.has("remove-tag") {
        let current = ctx.get(Entity::Deployment, &id).await?.unwrap_or(build);
        let mut tags: Vec<String> = attr(&current, "tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for r in args.strs("remove-tag") {
            if let Some(i) = tags.iter().position(|t| *t == r) {
                tags.remove(i);
            }
        }
        for t in args.strs("tag") {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        attrs.insert("tags".into(), json!(tags));
    }
    ctx.client()
        .await?
        .patch(
            &format!("/deployments/{}", encode_segment(&id)),
            &json!({"data": {"type": "deployment", "id": id, "attributes": attrs}}),
        )
        .await?;
    print_updated(ctx, Entity::Deployment, &ident);
    Ok(())
}

pub async fn copy(ctx: &Ctx, args: &Args) -> Result<()> {
    let (src, ident) = build_or_project(ctx, args.str("build"), true).await?;
    let (dg, _) = dg_or_project(ctx, args.str("dg")).await?;
    let mut attrs = Map::new();
    for a in ["device_code", "agent_code"] {
        attrs.insert(a.into(), json!(attr_str(&src, a).unwrap_or("")));
    }
    if args.flag("all") {
        for a in ["description", "origin", "tags", "flagged"] {
            if let Some(v) = attr(&src, a).filter(|v| !v.is_null()) {
                attrs.insert(a.into(), v.clone());
            }
        }
    }
    let new = create_deployment(ctx, &dg, attrs).await?;
    ctx.ui.info(&format!(
        "Deployment \"{ident}\" is copied successfully to Deployment \"{}\".",
        id_of(&new)
    ));
    ctx.ui.json_empty();
    Ok(())
}

pub async fn delete(ctx: &Ctx, args: &Args) -> Result<()> {
    let ident = args.str("build").unwrap_or_default();
    let build = find(ctx, Entity::Deployment, &ident).await?;
    let build = ctx
        .get(Entity::Deployment, id_of(&build))
        .await?
        .unwrap_or(build);
    if let Some(dg_id) = rel_id(&build, "devicegroup") {
        if let Some(dg) = ctx.get(Entity::DeviceGroup, dg_id).await? {
            if let Some(min_id) = rel_id(&dg, "min_supported_deployment") {
                if let Some(min) = ctx.get(Entity::Deployment, min_id).await? {
                    if created_at(&build) >= created_at(&min) {
                        return Err(ImptError::msg(format!(
                            "Impossible to delete Deployment \"{ident}\". It is the Min supported Deployment or newer for Device Group \"{dg_id}\"."
                        )));
                    }
                }
            }
        }
    }
    let mut plan = DeletePlan::default();
    if args.flag("force") && is_flagged(&build) {
        plan.unflag_named(build.clone(), &ident);
    }
    plan.entity(Entity::Deployment, build, ident);
    plan.run(ctx, args.flag("confirmed")).await
}

fn is_flagged(b: &Value) -> bool {
    attr(b, "flagged").and_then(Value::as_bool) == Some(true)
}

pub async fn cleanup(ctx: &Ctx, args: &Args) -> Result<()> {
    let mut pairs: Vec<(&str, Option<&str>)> = vec![("zombie", None)];
    let product = args.str("product");
    if let Some(p) = product.as_deref() {
        pairs.push(("product", Some(p)));
    }
    let unflag = args.flag("unflag");
    if !unflag {
        pairs.push(("unflagged", None));
    }
    let builds = list_builds(ctx, &Args::from_pairs(&pairs)).await?;
    if builds.is_empty() {
        ctx.ui.info("No Deployments are found.");
        ctx.ui.json_empty();
        return Ok(());
    }
    let mut plan = DeletePlan::default();
    for b in builds {
        if unflag && is_flagged(&b) {
            plan.unflag(b.clone());
        }
        let id = id_of(&b).to_string();
        plan.entity(Entity::Deployment, b, id);
    }
    plan.run(ctx, args.flag("confirmed")).await
}

/// `build preprocess FILE [--var NAME=VALUE]... [--lines]`: the expanded code, printed raw
/// (json mode: `{"code", "files", "warnings"}`).
pub fn preprocess(ctx: &Ctx, args: &Args) -> Result<()> {
    let file = args.positional.clone().unwrap_or_default();
    let opts = crate::builder::settings::for_command(&args.values).map_err(ImptError::msg)?;
    let path = Path::new(&file);
    if !path.is_file() {
        return Err(ImptError::File {
            file,
            msg: "no such file".into(),
        });
    }
    let p =
        crate::builder::preprocess_file(path, &opts).map_err(|e| ImptError::msg(e.to_string()))?;
    for w in &p.warnings {
        ctx.ui.stderr_line(w);
    }
    if ctx.ui.is_json() {
        let files: Vec<String> = p.files.iter().map(|f| f.display().to_string()).collect();
        ctx.ui
            .result(&json!({"code": p.code, "files": files, "warnings": p.warnings}));
    } else {
        ctx.ui.raw(&p.code);
    }
    Ok(())
}
