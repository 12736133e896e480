//! What the loop starts from: the options of `impt watch`, and the setup stage against the
//! account's project (`--sim`: see [`sim`](super::sim)).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::api::Api;
use super::pipeline::Target;
use super::settings::Overrides;
use super::source::Sources;
use super::{stream, testpass};
use crate::api::{attr_str, id_of, rel_id};
use crate::config::project::ProjectFile;
use crate::error::{ImptError, Result};
use crate::output::watch::DeviceInfo;
use crate::output::Mode;

/// Options of `impt watch` after parsing.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The project directory (the current one).
    pub dir: PathBuf,
    pub dg: Option<String>,
    pub device_file: Option<String>,
    pub agent_file: Option<String>,
    pub flags: Overrides,
    /// `-z text|json|debug`: [`Mode::Default`], [`Mode::Json`] or [`Mode::Debug`].
    pub mode: Mode,
    /// `--sim [DIR]`: the directory of device.nut/agent.nut.
    pub sim: Option<PathBuf>,
    /// The simulator of `--sim` (`--devices`, options after `--`); `None`: one device.
    pub sim_config: Option<impt_sim::SimConfig>,
    /// `--button PIN` (with `--sim`): the pin the `b` key toggles.
    pub button: Option<String>,
    /// `--no-local-check`: send code without compiling it locally first.
    pub no_local_check: bool,
    /// How a test pass runs (`--test`, `[watch] test`).
    pub tests: Option<testpass::TestRunner>,
}

/// What the loop starts from.
pub struct Setup {
    pub api: Arc<Api>,
    pub target: Target,
    pub dg_name: String,
    pub root: PathBuf,
    pub sources: Sources,
    pub devices: Vec<DeviceInfo>,
    /// Hash of the deployed code and the server's sha.
    pub deployed: Option<String>,
    pub sha: Option<String>,
    /// Deploy the current code right away (`--sim`).
    pub deploy_on_start: bool,
    pub sim: Option<impt_sim::SimHandle>,
    /// `--sim --test`: where the tests run.
    pub test_target: Option<testpass::SimTarget>,
}

fn abs(dir: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Hash and sha of a Device Group's current deployment.
pub async fn current_deployment(api: &Api, dg: &Value) -> Result<(Option<String>, Option<String>)> {
    let Some(id) = rel_id(dg, "current_deployment") else {
        return Ok((None, None));
    };
    let Some(dep) = api.deployment(id).await? else {
        return Ok((None, None));
    };
    let code = |k: &str| attr_str(&dep, k).unwrap_or_default().to_string();
    Ok((
        Some(super::source::code_hash(
            &code("device_code"),
            &code("agent_code"),
        )),
        attr_str(&dep, "sha").map(str::to_string),
    ))
}

/// Sources from the options and the project file.
pub fn project_sources(opts: &Options, project: Option<&ProjectFile>) -> Sources {
    let pick = |flag: &Option<String>, saved: Option<&str>| {
        flag.clone()
            .or(saved.map(str::to_string))
            .filter(|s| !s.is_empty())
            .map(|f| abs(&opts.dir, &f))
    };
    Sources {
        root: opts.dir.clone(),
        device: pick(
            &opts.device_file,
            project.and_then(ProjectFile::device_file),
        ),
        agent: pick(&opts.agent_file, project.and_then(ProjectFile::agent_file)),
    }
}

pub async fn setup_project(opts: &Options) -> Result<Setup> {
    let mode = if opts.mode == Mode::Debug {
        Mode::Debug
    } else {
        Mode::Minimal
    };
    let ctx = Arc::new(crate::commands::core::CommandCtx::new(Arc::new(
        crate::output::Ui::new(mode),
    )));
    let project = ProjectFile::load()?;
    let sources = project_sources(opts, project.as_ref());
    if sources.device.is_none() && sources.agent.is_none() {
        return Err(ImptError::msg(
            "Nothing to watch: run impt watch in a project directory or give --device-file/--agent-file.",
        ));
    }
    let (dg, _) = crate::commands::core::ident::dg_or_project(&ctx, opts.dg.clone()).await?;
    let api = Arc::new(Api::Command(ctx));
    finish_setup(api, dg, opts.dir.clone(), sources, false, None).await
}

/// The parts of a setup that depend on the Device Group.
pub async fn finish_setup(
    api: Arc<Api>,
    dg: Value,
    root: PathBuf,
    sources: Sources,
    deploy_on_start: bool,
    sim: Option<impt_sim::SimHandle>,
) -> Result<Setup> {
    let dg_id = id_of(&dg).to_string();
    let devices = api
        .group_devices(&dg_id)
        .await?
        .iter()
        .map(stream::device_info)
        .collect();
    let (deployed, sha) = current_deployment(&api, &dg).await?;
    Ok(Setup {
        api,
        target: Target {
            dg_id,
            dg_type: dg
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or(impt_wire::types::DEVELOPMENT)
                .to_string(),
        },
        dg_name: attr_str(&dg, "name").unwrap_or_default().to_string(),
        root,
        sources,
        devices,
        deployed,
        sha,
        deploy_on_start,
        sim,
        test_target: None,
    })
}
