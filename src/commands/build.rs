//! `build cleanup|copy|delete|deploy|get|info|list|run|update`.

use std::path::Path;

use impt_wire::requests;
use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::display::short;
use super::core::ident::{dg_or_project, find, find_as, project_dg};
use super::core::listing::{dg_types, either, list, owner_product_dg, Filter};
use super::core::options::{options, Opt};
use super::core::restart::restart_dg;
use super::core::{print_info, print_list, update_entity, CommandCtx};
use crate::api::{attr, attr_str, encode_segment, id_of, rel_id, rel_type};
use crate::config::project::ProjectFile;
use crate::error::{Entity, ImptError, Result};
use impt_builder::SourcePos;
use impt_wire::types::DG_TYPE_NAMES;

fn dg_opt() -> Opt {
    Opt::s(
        "dg",
        'g',
        "DEVICE_GROUP_IDENTIFIER",
        "The Device Group the build is created for. Default: the Device Group of the Project.",
    )
}

fn build_opt(desc: &'static str) -> Opt {
    Opt::s("build", 'b', "BUILD_IDENTIFIER", desc)
}

/// The code to deploy from `path` (preprocessed when it has Builder directives such as
/// `@include`, `@set`, `@if`, unless `verbatim`: `--no-preprocess`, with impt.toml's
/// `[builder]` table and the command's Builder options) and, for each of its lines, the file
/// and line it came from. The one place deployments meet `impt_builder`.
fn read_mapped(
    path: &Path,
    verbatim: bool,
    flags: &BuilderOpts,
) -> Result<(String, Vec<SourcePos>)> {
    let text = read_verbatim(path)?;
    if verbatim || !impt_builder::has_directives(&text) {
        let name = path.display().to_string();
        let map = (1..=text.lines().count().max(1))
            .map(|line| SourcePos {
                file: name.clone(),
                line,
            })
            .collect();
        return Ok((text, map));
    }
    let opts = impt_builder::settings::for_command(&flags.flags()).map_err(ImptError::msg)?;
    impt_builder::preprocess_file(path, &opts)
        .map(|p| (p.code, p.line_map))
        .map_err(|e| ImptError::msg(e.to_string()))
}

/// Adds `<file>:<line>:<column>: <type>: <text>` notes to a compile error answer, naming the
/// user's own files through the line maps (device code first, agent code second).
fn map_compile_errors(err: ImptError, maps: &[Vec<SourcePos>; 2]) -> ImptError {
    let maps = super::core::errmap::LineMaps {
        device: maps[0].clone(),
        agent: maps[1].clone(),
    };
    super::core::errmap::map_compile_errors(err, &maps)
}

fn read_verbatim(path: &Path) -> Result<String> {
    impt_builder::fsread::read_text(path, impt_builder::fsread::MAX_SOURCE_BYTES).map_err(|e| {
        ImptError::File {
            file: path.display().to_string(),
            msg: e.to_string(),
        }
    })
}

/// The build of the option (`find`, or `find_full` for info-type commands), else the current
/// deployment of the Project's Device Group. Returns the entity and its identifier to show.
pub async fn build_or_project(
    ctx: &CommandCtx,
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
    Ok((ctx.get_existing(Entity::Deployment, &id).await?, id))
}

/// The device and agent file names of an option pair, the Project's names filling the gaps
/// (the Project File is only read when an option is missing).
fn file_names(
    ctx: &CommandCtx,
    device: Option<String>,
    agent: Option<String>,
) -> Result<(Option<String>, Option<String>)> {
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
fn sources(
    ctx: &CommandCtx,
    o: &DeployOpts,
    b: &BuilderOpts,
) -> Result<(String, String, [Vec<SourcePos>; 2])> {
    let verbatim = o.check.no_preprocess;
    let (device, agent) = file_names(ctx, o.build.device_file.clone(), o.build.agent_file.clone())?;
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
                let (code, map) = read_mapped(p, verbatim, b)?;
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
async fn create_deployment(
    ctx: &CommandCtx,
    dg: &Value,
    attrs: Map<String, Value>,
) -> Result<Value> {
    let dg_type = dg.get("type").and_then(Value::as_str).unwrap_or("");
    let doc =
        crate::api::deployments::create(ctx.client().await?, dg_type, id_of(dg), attrs).await?;
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
fn deploy_attrs(o: &NewBuildOpts, device: String, agent: String) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert("device_code".into(), json!(device));
    attrs.insert("agent_code".into(), json!(agent));
    if let Some(d) = o.descr.clone() {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(origin) = o.origin.clone() {
        attrs.insert("origin".into(), json!(origin));
    }
    if let Some(f) = o.flagged {
        attrs.insert("flagged".into(), json!(f));
    }
    if !o.tag.is_empty() {
        attrs.insert("tags".into(), json!(o.tag));
    }
    attrs
}

options! {
    /// The build `build deploy` and `build run` create: its Device Group, source files and
    /// attributes.
    pub struct NewBuildOpts {
        dg: str = dg_opt(),
        device_file: str = Opt::s("device-file", 'x', "device_file", "The file with the device source code. Default: the Project's device file; without one, empty device code is deployed."),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "The file with the agent source code. Default: the Project's agent file; without one, empty agent code is deployed."),
        descr: str = Opt::s0("descr", 's', "build_description", "Description of the build."),
        origin: str = Opt::s0("origin", 'o', "origin", "Free-form origin of the build."),
        tag: strs = Opt::a("tag", 't', "tag", "A tag of the build. Repeatable."),
        flagged: opt_bool = Opt::b("flagged", 'f', "Sets the \"flagged\" attribute of the build (flagged builds cannot be deleted). Sent only when given."),
    }
}

options! {
    /// How `build deploy` and `build run` treat the code before sending it.
    pub struct CodeCheckOpts {
        no_preprocess: flag = Opt::f("no-preprocess", 'P', "Deploys the source files as they are, without running the Builder preprocessor on files that contain Builder directives (impt-rs extension).").long_only(),
        no_local_check: flag = Opt::f("no-local-check", 'K', "Sends the code without compiling it locally first (the embedded Squirrel compiler catches compile errors before any request; impt-rs extension).").long_only(),
    }
}

options! {
    /// Options of `build deploy`.
    pub struct DeployOpts {
        build: flatten(NewBuildOpts),
        check: flatten(CodeCheckOpts),
    }
}

/// The local compile check (unless `--no-local-check`): compile errors mapped to the user's
/// files, before any request.
fn local_check(
    o: &DeployOpts,
    device: &str,
    agent: &str,
    maps: &[Vec<SourcePos>; 2],
) -> Result<()> {
    if o.check.no_local_check {
        return Ok(());
    }
    let meta = super::core::precheck::compile_errors(device, agent);
    if meta.is_empty() {
        return Ok(());
    }
    Err(map_compile_errors(
        super::core::precheck::compile_failure(meta),
        maps,
    ))
}

pub async fn deploy(ctx: &CommandCtx, o: &DeployOpts, b: &BuilderOpts) -> Result<()> {
    let (device, agent, maps) = sources(ctx, o, b)?;
    local_check(o, &device, &agent, &maps)?;
    let (dg, _) = dg_or_project(ctx, o.build.dg.clone()).await?;
    let data = create_deployment(ctx, &dg, deploy_attrs(&o.build, device, agent))
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

options! {
    /// Options of `build run`: those of `build deploy`, with the restart between.
    pub struct RunOpts {
        build: flatten(NewBuildOpts),
        conditional: flag = Opt::f("conditional", 'c', "Restarts the devices conditionally: devices already running a supported build only get a notification."),
        log: flag = Opt::f("log", 'l', "After the restart, streams the logs of the Device Group's devices until Ctrl-C."),
        check: flatten(CodeCheckOpts),
    }
}

impl RunOpts {
    /// The options `build run` shares with `build deploy`.
    fn deploy(&self) -> DeployOpts {
        DeployOpts {
            build: self.build.clone(),
            check: self.check.clone(),
        }
    }
}

pub async fn run(ctx: &CommandCtx, o: &RunOpts, b: &BuilderOpts) -> Result<()> {
    let d = o.deploy();
    let (device, agent, maps) = sources(ctx, &d, b)?;
    local_check(&d, &device, &agent, &maps)?;
    let (dg, _) = dg_or_project(ctx, o.build.dg.clone()).await?;
    let build = create_deployment(ctx, &dg, deploy_attrs(&o.build, device, agent))
        .await
        .map_err(|e| map_compile_errors(e, &maps))?;
    let build_id = id_of(&build).to_string();
    // The Device Group again, as `dg update --min-supported-deployment <new build>` does it.
    let (dg, ident) = dg_or_project(ctx, o.build.dg.clone()).await?;
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
            Some(&requests::min_supported_deployment(&build_id)),
            &[],
        )
        .await?;
    ctx.ui.info(&format!(
        "Min supported Deployment for Device Group \"{ident}\" is updated successfully."
    ));
    let mut attrs = Map::new();
    if let Some(d) = o.build.descr.clone() {
        attrs.insert("description".into(), json!(d));
    }
    let dg_type = dg.get("type").and_then(Value::as_str).unwrap_or("");
    client
        .patch(
            &format!("/devicegroups/{}", encode_segment(&dg_id)),
            &requests::update_device_group(dg_type, &dg_id, attrs, Map::new()),
        )
        .await?;
    ctx.invalidate();
    ctx.ui.info(&format!(
        "Device Group \"{ident}\" is updated successfully."
    ));
    let (devices, tail) = restart_dg(ctx, &dg, &ident, o.conditional, o.log).await?;
    if let Some(tail) = tail {
        ctx.ui
            .info(&format!("Deployment \"{build_id}\" is run successfully."));
        // Runtime errors of the new code at the user's files and lines.
        let [device_map, agent_map] = maps;
        let mut maps = super::core::errmap::LineMaps {
            device: device_map,
            agent: agent_map,
        };
        if let Ok(dir) = std::env::current_dir() {
            maps = maps.relative_to(&dir);
        }
        return tail.with_maps(maps, true).run(ctx).await;
    }
    super::core::Changed::new()
        .entity(Entity::Deployment, &build)
        .entity(Entity::DeviceGroup, &dg)
        .devices(&devices)
        .print(ctx);
    Ok(())
}

options! {
    /// Options of `build get`.
    pub struct GetOpts {
        build: str = build_opt("The build. Default: the current build of the Project's Device Group."),
        device_file: str = Opt::s("device-file", 'x', "device_file", "The file to write the device code to. Default: the Project's device file."),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "The file to write the agent code to. Default: the Project's agent file."),
        device_only: flag = Opt::f("device-only", 'i', "Downloads the device code only."),
        agent_only: flag = Opt::f("agent-only", 'j', "Downloads the agent code only."),
        confirmed: flag = Opt::f("confirmed", 'q', "Overwrites existing files without asking for confirmation."),
    }
}

pub async fn get(ctx: &CommandCtx, o: &GetOpts) -> Result<()> {
    let (build, ident) = build_or_project(ctx, o.build.clone(), true).await?;
    let project = ctx.project()?;
    let device_file = o.device_file.clone().or_else(|| {
        project
            .as_ref()
            .and_then(|p| p.device_file().map(str::to_string))
    });
    let agent_file = o.agent_file.clone().or_else(|| {
        project
            .as_ref()
            .and_then(|p| p.agent_file().map(str::to_string))
    });
    let device_only = o.device_only;
    let agent_only = o.agent_only;
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
    if !existing.is_empty() && !o.confirmed {
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
    print_info(ctx, Entity::Deployment, &build).await
}

options! {
    /// Options of `build info`.
    pub struct InfoOpts {
        build: str = build_opt("The build. Default: the current build of the Project's Device Group."),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let (build, _) = build_or_project(ctx, o.build.clone(), true).await?;
    print_info(ctx, Entity::Deployment, &build).await
}

/// The builds of `build list` (and `build cleanup`): server-side then client-side filters.
async fn list_builds(ctx: &CommandCtx, o: &ListOpts) -> Result<Vec<Value>> {
    let mut filters = owner_product_dg(ctx, &o.owner, &o.product, &o.dg).await?;
    if !o.sha.is_empty() {
        filters.push(Filter {
            name: "sha",
            values: o.sha.clone(),
        });
    }
    if !o.tag.is_empty() {
        filters.push(Filter {
            name: "tags",
            values: o.tag.clone(),
        });
    }
    if let Some(flagged) = either(o.flagged, o.unflagged) {
        filters.push(Filter {
            name: "flagged",
            values: vec![flagged.to_string()],
        });
    }
    let mut items = list(ctx, Entity::Deployment, &filters).await?;
    if !o.dg_type.is_empty() {
        let types = dg_types(&o.dg_type);
        items.retain(|b| rel_type(b, "devicegroup").is_some_and(|t| types.iter().any(|x| x == t)));
    }
    if let Some(non_zombie) = either(o.non_zombie, o.zombie) {
        items.retain(|b| rel_id(b, "devicegroup").is_some() == non_zombie);
    }
    Ok(items)
}

options! {
    /// Options of `build list`.
    pub struct ListOpts {
        owner: strs = Opt::a("owner", 'o', "ACCOUNT_IDENTIFIER", "Lists builds of this owner only. Repeatable."),
        product: strs = Opt::a("product", 'p', "PRODUCT_IDENTIFIER", "Lists builds of this Product only. Repeatable."),
        dg: strs = Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "Lists builds of this Device Group only. Repeatable."),
        dg_type: strs = Opt::a("dg-type", 'y', "DEVICE_GROUP_TYPE", "Lists builds of Device Groups of this type only. Repeatable.").choices(&DG_TYPE_NAMES),
        sha: strs = Opt::a("sha", 's', "deployment_sha", "Lists builds with this SHA only. Repeatable."),
        tag: strs = Opt::a("tag", 't', "tag", "Lists builds with this tag only. Repeatable."),
        flagged: flag = Opt::f("flagged", 'f', "Lists flagged builds only."),
        unflagged: flag = Opt::f("unflagged", 'u', "Lists unflagged builds only."),
        non_zombie: flag = Opt::f("non-zombie", 'n', "Lists builds that belong to a Device Group only."),
        zombie: flag = Opt::f("zombie", 'm', "Lists builds whose Device Group was deleted only."),
    }
}

pub async fn list_cmd(ctx: &CommandCtx, o: &ListOpts) -> Result<()> {
    let items = list_builds(ctx, o).await?;
    print_list(ctx, Entity::Deployment, items).await
}

options! {
    /// Options of `build update`.
    pub struct UpdateOpts {
        build: str = build_opt("The build. Default: the current build of the Project's Device Group."),
        descr: str = Opt::s0("descr", 's', "build_description", "New description of the build."),
        tag: strs = Opt::a("tag", 't', "tag", "A tag to add. Repeatable."),
        remove_tag: strs = Opt::a("remove-tag", 'r', "tag", "A tag to remove. Repeatable."),
        flagged: opt_bool = Opt::b("flagged", 'f', "Sets or clears the \"flagged\" attribute."),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let (build, ident) = build_or_project(ctx, o.build.clone(), false).await?;
    let id = id_of(&build).to_string();
    let mut attrs = Map::new();
    if let Some(d) = o.descr.clone() {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(f) = o.flagged {
        attrs.insert("flagged".into(), json!(f));
    }
    if !o.tag.is_empty() || !o.remove_tag.is_empty() {
        let current = ctx
            .get(Entity::Deployment, &id)
            .await?
            .unwrap_or_else(|| build.clone());
        let mut tags: Vec<String> = attr(&current, "tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for r in o.remove_tag.clone() {
            if let Some(i) = tags.iter().position(|t| *t == r) {
                tags.remove(i);
            }
        }
        for t in o.tag.clone() {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        attrs.insert("tags".into(), json!(tags));
    }
    let body = requests::update_deployment(&id, attrs);
    update_entity(ctx, Entity::Deployment, &build, &ident, &body).await
}

options! {
    /// Options of `build copy`.
    pub struct CopyOpts {
        build: str = build_opt("The build to copy. Default: the current build of the Project's Device Group."),
        dg: str = Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group the copy is created in.").req(),
        all: flag = Opt::f("all", 'a', "Also copies the description, origin, tags and \"flagged\" attribute."),
    }
}

pub async fn copy(ctx: &CommandCtx, o: &CopyOpts) -> Result<()> {
    let (src, ident) = build_or_project(ctx, o.build.clone(), true).await?;
    let (dg, _) = dg_or_project(ctx, o.dg.clone()).await?;
    let mut attrs = Map::new();
    for a in ["device_code", "agent_code"] {
        attrs.insert(a.into(), json!(attr_str(&src, a).unwrap_or("")));
    }
    if o.all {
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
    super::core::Changed::new()
        .entity(Entity::Deployment, &new)
        .print(ctx);
    Ok(())
}

options! {
    /// Options of `build delete`.
    pub struct DeleteOpts {
        build: str = build_opt("The build to delete.").req(),
        force: flag = Opt::f("force", 'f', "Deletes the build even when it is flagged (unflags it first)."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    let ident = o.build.clone().unwrap_or_default();
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
    if o.force && is_flagged(&build) {
        plan.unflag_named(build.clone(), &ident);
    }
    plan.entity(Entity::Deployment, build, ident);
    plan.run(ctx, o.confirmed).await
}

fn is_flagged(b: &Value) -> bool {
    attr(b, "flagged").and_then(Value::as_bool) == Some(true)
}

options! {
    /// Options of `build cleanup`.
    pub struct CleanupOpts {
        product: str = Opt::s("product", 'p', "PRODUCT_IDENTIFIER", "Only deletes the zombie builds of this Product."),
        unflag: flag = Opt::f("unflag", 'u', "Also deletes flagged zombie builds, unflagging them first."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn cleanup(ctx: &CommandCtx, o: &CleanupOpts) -> Result<()> {
    let unflag = o.unflag;
    let zombies = ListOpts {
        zombie: true,
        product: o.product.clone().into_iter().collect(),
        unflagged: !unflag,
        ..Default::default()
    };
    let builds = list_builds(ctx, &zombies).await?;
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
    plan.run(ctx, o.confirmed).await
}

options! {
    /// `pleasebuild`'s options (same names and meanings), taken by `build deploy`, `build run`
    /// and `build preprocess` on top of the `[builder]` table of impt.toml.
    pub struct BuilderOpts {
        var: strs = Opt::a("var", 'D', "NAME=VALUE", "A Builder variable (Builder's -D). Repeatable."),
        lines: flag = Opt::f("lines", 'l', "Adds #line directives naming the source file and line of each part (Builder's -l).").long_only(),
        github_user: str = Opt::s("github-user", ' ', "username", "A GitHub username.").long_only(),
        github_token: str = Opt::s("github-token", ' ', "token", "A GitHub personal access token.").long_only(),
        azure_user: str = Opt::s("azure-user", ' ', "username", "An Azure Repos username.").long_only(),
        azure_token: str = Opt::s("azure-token", ' ', "token", "An Azure Repos personal access token.").long_only(),
        bitbucket_server_addr: str = Opt::s("bitbucket-server-addr", ' ', "address", "A Bitbucket Server address.").long_only(),
        bitbucket_server_user: str = Opt::s("bitbucket-server-user", ' ', "username", "A Bitbucket Server username.").long_only(),
        bitbucket_server_token: str = Opt::s("bitbucket-server-token", ' ', "token", "A Bitbucket Server personal access token or password.").long_only(),
        lib: strs = Opt::a("lib", ' ', "path_to_file", "A JavaScript file, directory or glob of library functions. Repeatable.").long_only(),
        use_remote_relative_includes: flag = Opt::f("use-remote-relative-includes", ' ', "Resolves every local include relative to the file that mentions it, remote ones too.").long_only(),
        suppress_duplicate_includes_warning: flag = Opt::f("suppress-duplicate-includes-warning", ' ', "No warning when the same file content is included several times.").long_only(),
        cache: flag = Opt::f("cache", 'c', "Caches remotely included files (in .builder-cache).").long_only(),
        clear_cache: flag = Opt::f("clear-cache", ' ', "Empties the cache first.").long_only(),
        cache_exclude_list: str = Opt::s("cache-exclude-list", ' ', "path_to_file", "A file listing include paths never cached.").long_only(),
        save_dependencies: opt_str = Opt::so("save-dependencies", ' ', "path_to_file", "Saves the Git blob of every remote include (default file: dependencies.json).").long_only(),
        use_dependencies: opt_str = Opt::so("use-dependencies", ' ', "path_to_file", "Includes remote files at the blobs saved in this file (default: dependencies.json).").long_only(),
        save_directives: opt_str = Opt::so("save-directives", ' ', "path_to_file", "Saves the Builder variables in this file (default: directives.json).").long_only(),
        use_directives: opt_str = Opt::so("use-directives", ' ', "path_to_file", "Starts with the Builder variables of this file (default: directives.json).").long_only(),
    }
}

impl BuilderOpts {
    /// The table of `build preprocess`: Builder's one-letter -l and -c too.
    pub fn preprocess_table() -> Vec<Opt> {
        let mut t = Self::table();
        for o in &mut t {
            match o.long {
                "lines" => o.short = Some('l'),
                "cache" => o.short = Some('c'),
                _ => {}
            }
        }
        t
    }

    /// The values as the preprocessor's settings take them.
    fn flags(&self) -> impt_builder::settings::Flags {
        impt_builder::settings::Flags {
            var: self.var.clone(),
            lines: self.lines,
            github_user: self.github_user.clone(),
            github_token: self.github_token.clone(),
            azure_user: self.azure_user.clone(),
            azure_token: self.azure_token.clone(),
            bitbucket_server_addr: self.bitbucket_server_addr.clone(),
            bitbucket_server_user: self.bitbucket_server_user.clone(),
            bitbucket_server_token: self.bitbucket_server_token.clone(),
            lib: self.lib.clone(),
            use_remote_relative_includes: self.use_remote_relative_includes,
            suppress_duplicate_includes_warning: self.suppress_duplicate_includes_warning,
            cache: self.cache,
            clear_cache: self.clear_cache,
            cache_exclude_list: self.cache_exclude_list.clone(),
            save_dependencies: self.save_dependencies.clone(),
            use_dependencies: self.use_dependencies.clone(),
            save_directives: self.save_directives.clone(),
            use_directives: self.use_directives.clone(),
        }
    }
}

/// `build preprocess FILE [Builder options]`: the expanded code, printed raw (json mode:
/// `{"code", "files", "warnings"}`).
pub fn preprocess(ctx: &CommandCtx, file: &str, o: &BuilderOpts) -> Result<()> {
    let file = file.to_string();
    let opts = impt_builder::settings::for_command(&o.flags()).map_err(ImptError::msg)?;
    let path = Path::new(&file);
    if !path.is_file() {
        return Err(ImptError::File {
            file,
            msg: "no such file".into(),
        });
    }
    let p =
        impt_builder::preprocess_file(path, &opts).map_err(|e| ImptError::msg(e.to_string()))?;
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

options! {
    /// Options of `build libraries`.
    pub struct LibrariesOpts {
        require: strs = Opt::a("require", 'r', "NAME:VERSION", "A library as #require names it, e.g. Promise.lib.nut:4.0.0. Repeatable. Default: the #require lines of the device and agent files."),
        device_file: str = Opt::s("device-file", 'x', "device_file", "The device source file whose #require lines are read. Default: the Project's device file."),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "The agent source file whose #require lines are read. Default: the Project's agent file."),
    }
}

/// `build libraries`: fetches `#require` libraries into the user cache ahead of time (see
/// `builder::require`), so that builds, `impt watch` and `impt sim` need no network later.
pub fn libraries(ctx: &CommandCtx, o: &LibrariesOpts) -> Result<()> {
    use impt_builder::require;
    let mut wanted: Vec<(String, String)> = Vec::new();
    for r in &o.require {
        let Some((n, v)) = r
            .rsplit_once(':')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
        else {
            return Err(ImptError::msg(format!(
                "\"{r}\" is not a library as #require names it (NAME:VERSION, e.g. Promise.lib.nut:4.0.0)."
            )));
        };
        wanted.push((n.trim().to_string(), v.trim().to_string()));
    }
    if o.require.is_empty() {
        let (device, agent) = file_names(ctx, o.device_file.clone(), o.agent_file.clone())?;
        for f in [device, agent].into_iter().flatten() {
            let text = std::fs::read_to_string(&f).map_err(|e| ImptError::File {
                file: f.clone(),
                msg: e.to_string(),
            })?;
            let reqs = require::parse(&text)
                .map_err(|e| ImptError::msg(format!("{f}:{}: {}", e.row, e.text)))?;
            for r in reqs {
                if !wanted.contains(&(r.name.clone(), r.version.clone())) {
                    wanted.push((r.name, r.version));
                }
            }
        }
    }
    let settings = require::Settings::from_env();
    let cache = settings
        .cache
        .as_ref()
        .map(|c| c.display().to_string())
        .unwrap_or_default();
    let mut done = Vec::new();
    for (name, version) in &wanted {
        let lib = require::fetch(name, version, &settings).map_err(ImptError::msg)?;
        ctx.ui.info(&format!(
            "Library {name}:{version} is available ({}).",
            lib.file
        ));
        done.push(json!({"name": name, "version": version, "file": lib.file}));
    }
    if wanted.is_empty() {
        ctx.ui.info("No #require libraries to fetch.");
    }
    ctx.ui.result(&json!({"Libraries": done, "Cache": cache}));
    Ok(())
}
