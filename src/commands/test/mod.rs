//! `test create|update|info|github|delete|run`: the `.impt.test` configuration of the
//! current directory and impUnit test runs (see [`run`]).

mod files;
mod report;
mod runner;
mod session;
mod simlane;

use std::path::Path;

use serde_json::{json, Map, Value};

use super::core::delete::DeletePlan;
use super::core::display::{dg_full_additions, list_item};
use super::core::ident::find_full;
use super::core::options::{options, Opt};
use super::core::CommandCtx;
use crate::api::{id_of, rel_id};
use crate::config::test::{
    GithubFile, TestFile, BUILDER_CACHE_DIR, BUILDER_TYPE, DEBUG_DIR, DEFAULT_TEST_FILES,
    DEFAULT_TIMEOUT, GITHUB_TYPE, TEST_TYPE,
};
use crate::error::{ConfigKind, Entity, ImptError, Result};

pub use runner::{pass, pass_with, run, PassCase, PassOutcome};

/// `impt watch --sim --test`: the simulator's login and the tests' Device Group there.
#[derive(Clone, Debug)]
pub struct SimTests {
    pub endpoint: String,
    pub session: crate::api::Session,
    pub dg_id: String,
}

/// The test configuration of a pass on `impt watch --sim`'s simulator: the directory's
/// `.impt.test` if any (its Device Group replaced by the simulator's), else the defaults of
/// `impt test create` with the project's device.nut and agent.nut as the code under test.
fn sim_config(dg_id: &str) -> Result<TestFile> {
    let cfg = match TestFile::load()? {
        Some(c) => c,
        None => {
            let mut c = TestFile::default();
            for (key, file) in [("deviceFile", "device.nut"), ("agentFile", "agent.nut")] {
                if Path::new(file).is_file() {
                    c.set(key, json!(file));
                }
            }
            c
        }
    };
    let mut cfg = cfg;
    cfg.set("deviceGroupId", json!(dg_id));
    if cfg.test_files().is_empty() {
        cfg.set("testFiles", json!(crate::config::test::DEFAULT_TEST_FILES));
    }
    Ok(cfg)
}

/// A test pass of `impt watch --test` on the calling thread, with a runtime and command
/// context of its own (the loop's output is not touched: the pass's lines are dropped);
/// `None` when `cancel` is notified first. With `sim`, on `impt watch --sim`'s simulator.
/// With `virtual_time` (`--virtual-time`), on the simulator's virtual time, switched back
/// when the pass ends or is cancelled (unless the simulator had it on).
pub fn watch_pass(
    changed: Vec<String>,
    sim: Option<SimTests>,
    virtual_time: bool,
    cancel: std::sync::Arc<tokio::sync::Notify>,
) -> Option<std::result::Result<PassOutcome, String>> {
    let rt = match crate::sync::runtime(Some(1)) {
        Ok(rt) => rt,
        Err(e) => return Some(Err(e.to_string())),
    };
    let (ui, _lines) = crate::output::Ui::buffered(crate::output::Mode::Default, "");
    let ui = std::sync::Arc::new(ui);
    let (ctx, cfg) = match sim {
        Some(s) => {
            let hooks: std::sync::Arc<dyn crate::api::Hooks> =
                std::sync::Arc::new(crate::api::Quiet);
            let client = crate::api::Client::new(&s.endpoint, s.session, hooks);
            (CommandCtx::with_client(ui, client), Some(s.dg_id))
        }
        None => (CommandCtx::new(ui), None),
    };
    // poll the device's logs often on the sim, gently online
    let poll = std::time::Duration::from_millis(40);
    rt.block_on(async {
        let held = match virtual_time {
            true => match hold_virtual_time(&ctx).await {
                Ok(sim) => Some(sim),
                Err(e) => return Some(Err(e.to_string())),
            },
            false => None,
        };
        let run = async {
            match cfg {
                Some(dg) => pass_with(&ctx, sim_config(&dg)?, &changed, poll).await,
                None => pass(&ctx, &changed, poll).await,
            }
        };
        let r = tokio::select! {
            r = run => Some(r.map_err(|e| e.to_string())),
            _ = cancel.notified() => None,
        };
        if let Some(sim) = held {
            let released = match ctx.client().await {
                Ok(client) => sim.release_virtual_time(client).await,
                Err(e) => Err(e),
            };
            if let (Err(e), Some(_)) = (released, &r) {
                return Some(Err(e.to_string()));
            }
        }
        r
    })
}

/// Virtual time held for a watch pass on the simulator behind `ctx`; an error when the
/// endpoint is not a simulator.
async fn hold_virtual_time(ctx: &CommandCtx) -> Result<simlane::Sim> {
    let client = ctx.client().await?;
    let sim = simlane::detect(client).await.ok_or_else(|| {
        ImptError::msg(
            "--virtual-time needs impt sim: the endpoint is not a simulator (a real device runs in real time).",
        )
    })?;
    sim.hold_virtual_time(client).await?;
    Ok(sim)
}

/// The Device Group saved in `.impt.test` (gone → "does not exist anymore").
async fn saved_dg(ctx: &CommandCtx, t: &TestFile) -> Result<Value> {
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
fn clean_builder_cache(ctx: &CommandCtx) -> Result<()> {
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

/// The settings `test create` and `test update` share. A file option is `None` when not
/// given and `Some(None)` when given without a value (update: remove the file).
struct Settings<'a> {
    timeout: Option<String>,
    stop_on_fail: Option<bool>,
    allow_disconnect: Option<bool>,
    builder_cache: Option<bool>,
    test_file: &'a [String],
    device_file: Option<Option<String>>,
    agent_file: Option<Option<String>>,
    github_config: Option<Option<String>>,
    builder_config: Option<Option<String>>,
}

impl CreateOpts {
    fn settings(&self) -> Settings<'_> {
        Settings {
            timeout: self.timeout.clone(),
            stop_on_fail: self.stop_on_fail,
            allow_disconnect: self.allow_disconnect,
            builder_cache: self.builder_cache,
            test_file: &self.test_file,
            device_file: self.device_file.clone().map(Some),
            agent_file: self.agent_file.clone().map(Some),
            github_config: self.github_config.clone().map(Some),
            builder_config: self.builder_config.clone().map(Some),
        }
    }
}

impl UpdateOpts {
    fn settings(&self) -> Settings<'_> {
        Settings {
            timeout: self.timeout.clone(),
            stop_on_fail: self.stop_on_fail,
            allow_disconnect: self.allow_disconnect,
            builder_cache: self.builder_cache,
            test_file: &self.test_file,
            device_file: self.device_file.clone(),
            agent_file: self.agent_file.clone(),
            github_config: self.github_config.clone(),
            builder_config: self.builder_config.clone(),
        }
    }
}

/// Applies the options to the configuration, in the original's order. `create` applies the
/// defaults of `test create`.
fn set_options(ctx: &CommandCtx, t: &mut TestFile, o: &Settings, create: bool) -> Result<()> {
    if let Some(n) = o.timeout.clone() {
        let v: f64 = n.parse().unwrap_or(DEFAULT_TIMEOUT as f64);
        t.set("timeout", json_number(v));
    } else if create {
        t.set("timeout", json!(DEFAULT_TIMEOUT));
    }
    for (given, key) in [
        (o.stop_on_fail, "stopOnFail"),
        (o.allow_disconnect, "allowDisconnect"),
        (o.builder_cache, "builderCache"),
    ] {
        match given {
            Some(b) => t.set(key, json!(b)),
            None if create => t.set(key, json!(false)),
            None => {}
        }
    }
    if !o.test_file.is_empty() {
        t.set("testFiles", json!(o.test_file));
    } else if create {
        t.set("testFiles", json!(DEFAULT_TEST_FILES));
    }
    for (given, key, label) in [
        (&o.device_file, "deviceFile", "Device file"),
        (&o.agent_file, "agentFile", "Agent file"),
    ] {
        if let Some(value) = given {
            match value.clone().filter(|v| !v.is_empty()) {
                Some(v) => t.set(key, source_file(&v, label)?),
                None => t.unset(key),
            }
        }
    }
    for (given, key, label) in [
        (&o.github_config, "githubConfig", GITHUB_TYPE),
        (&o.builder_config, "builderConfig", BUILDER_TYPE),
    ] {
        if let Some(value) = given {
            match value.clone().filter(|v| !v.is_empty()) {
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
async fn info_data(ctx: &CommandCtx, t: &TestFile) -> Result<Value> {
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

options! {
    /// Options of `test create`.
    pub struct CreateOpts {
        dg: str = Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group whose devices run the tests.").req(),
        device_file: str = Opt::s("device-file", 'x', "device_file", "A device source file deployed together with the tests. Must exist."),
        agent_file: str = Opt::s("agent-file", 'y', "agent_file", "An agent source file deployed together with the tests. Must exist."),
        timeout: num_text = Opt::n("timeout", 't', "timeout", "Seconds a test may take before it is reported as failed.").default("30"),
        stop_on_fail: opt_bool = Opt::b("stop-on-fail", 's', "Stops the whole run at the first failing test."),
        allow_disconnect: opt_bool = Opt::b("allow-disconnect", 'a', "Keeps testing when the device disconnects."),
        builder_cache: opt_bool = Opt::b("builder-cache", 'e', "Caches remote includes of the preprocessor in .builder-cache."),
        test_file: strs = Opt::a("test-file", 'f', "test_file", "A glob pattern of test files. Repeatable. Default: *.test.nut and tests/**/*.test.nut."),
        github_config: str = Opt::s("github-config", 'i', "github_config", "The GitHub credentials file used for GitHub includes. May not exist yet."),
        builder_config: str = Opt::s("builder-config", 'j', "builder_config", "A JSON file of Builder variables. May not exist yet."),
        confirmed: flag = Opt::f("confirmed", 'q', "Overwrites an existing Test Configuration File without asking for confirmation."),
    }
}

options! {
    /// Options of `test info`.
    pub struct InfoOpts {
    }
}

options! {
    /// Options of `test run`.
    pub struct RunOpts {
        tests: str = Opt::s0("tests", 't', "test_pattern", "Selects the tests to run: [test_file_name][:test_class_name][::test_method_name]."),
        clear_cache: flag = Opt::f("clear-cache", 'e', "Deletes the .builder-cache directory before running."),
        jobs: num_text = Opt::n("jobs", 'J', "N", "Test files run at once, each on its own device (impt sim only: extra virtual devices in temporary Device Groups). Default: the number of CPU cores.").long_only(),
        virtual_time: flag = Opt::f("virtual-time", 'V', "Runs the tests on the simulator's virtual time (impt sim only): while all device and agent code is idle, its clock jumps to the next timer, so tests that wait (imp.wakeup, timeouts) take no real time. The simulator's setting is restored afterwards.").long_only(),
        report: strs = Opt::a("report", 'r', "junit|json FILE", "Also writes the result of every test to a file: --report junit FILE (JUnit XML) or --report json FILE (file, name, time, failure message; tests of sessions that never started as not run). Repeatable.").nargs(2).long_only(),
    }
}

pub async fn create(ctx: &CommandCtx, o: &CreateOpts) -> Result<()> {
    if TestFile::exists() && !o.confirmed {
        ctx.ui.confirm(Some(&format!(
            "The current directory already contains {TEST_TYPE} File. It will be overwritten."
        )))?;
    }
    let mut t = TestFile::default();
    let dg = find_full(ctx, Entity::DeviceGroup, &o.dg.clone().unwrap_or_default()).await?;
    t.set("deviceGroupId", json!(id_of(&dg)));
    clean_builder_cache(ctx)?;
    set_options(ctx, &mut t, &o.settings(), true)?;
    t.save()?;
    let info = info_data(ctx, &t).await?;
    ctx.ui
        .info(&format!("{TEST_TYPE} is created successfully."));
    ctx.ui.result(&info);
    Ok(())
}

options! {
    /// Options of `test update`.
    pub struct UpdateOpts {
        dg: str = Opt::s("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "The Device Group whose devices run the tests."),
        device_file: opt_str = Opt::so("device-file", 'x', "device_file", "A device source file deployed together with the tests. Must exist. No value: none."),
        agent_file: opt_str = Opt::so("agent-file", 'y', "agent_file", "An agent source file deployed together with the tests. Must exist. No value: none."),
        timeout: num_text = Opt::n("timeout", 't', "timeout", "Seconds a test may take before it is reported as failed."),
        stop_on_fail: opt_bool = Opt::b("stop-on-fail", 's', "Stops the whole run at the first failing test."),
        allow_disconnect: opt_bool = Opt::b("allow-disconnect", 'a', "Keeps testing when the device disconnects."),
        builder_cache: opt_bool = Opt::b("builder-cache", 'e', "Caches remote includes of the preprocessor; false also clears .builder-cache."),
        test_file: strs = Opt::a("test-file", 'f', "test_file", "A glob pattern of test files; replaces the list. Repeatable."),
        github_config: opt_str = Opt::so("github-config", 'i', "github_config", "The GitHub credentials file. No value: none."),
        builder_config: opt_str = Opt::so("builder-config", 'j', "builder_config", "A JSON file of Builder variables. No value: none."),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let mut t = TestFile::load_required()?;
    match o.dg.clone().filter(|s| !s.is_empty()) {
        Some(ident) => {
            let dg = find_full(ctx, Entity::DeviceGroup, &ident).await?;
            t.set("deviceGroupId", json!(id_of(&dg)));
        }
        None => {
            saved_dg(ctx, &t).await?;
        }
    }
    if o.builder_cache == Some(false) {
        clean_builder_cache(ctx)?;
    }
    set_options(ctx, &mut t, &o.settings(), false)?;
    t.save()?;
    let info = info_data(ctx, &t).await?;
    ctx.ui
        .info(&format!("{TEST_TYPE} is updated successfully."));
    ctx.ui.result(&info);
    Ok(())
}

pub async fn info(ctx: &CommandCtx, _o: &InfoOpts) -> Result<()> {
    let t = TestFile::load_required()?;
    let info = info_data(ctx, &t).await?;
    ctx.ui.result(&info);
    Ok(())
}

options! {
    /// Options of `test github`.
    pub struct GithubOpts {
        github_config: str = Opt::s("github-config", 'i', "github_config", "The path of the GitHub credentials file.").req(),
        user: str = Opt::s("user", 'u', "github_user", "The GitHub user name. Asked for when not given."),
        pwd: str = Opt::s0("pwd", 'w', "github_password", "The GitHub password or personal access token. Asked for when not given."),
        confirmed: flag = Opt::f("confirmed", 'q', "Overwrites an existing file without asking for confirmation."),
    }
}

pub async fn github(ctx: &CommandCtx, o: &GithubOpts) -> Result<()> {
    if o.pwd.is_some() && o.user.is_none() {
        return Err(ImptError::msg(
            "Options \"--pwd\" and \"--user\" must be specified together.",
        ));
    }
    let file = o.github_config.clone().unwrap_or_default();
    let path = Path::new(&file);
    let exists = path.exists();
    if exists && !o.confirmed {
        ctx.ui.confirm(Some(&format!(
            "{GITHUB_TYPE} File {file} already exists. It will be overwritten."
        )))?;
    }
    let user = match o.user.clone() {
        Some(u) => u,
        None => ctx.ui.prompt("GitHub username", false)?,
    };
    let token = match o.pwd.clone() {
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

options! {
    /// Options of `test delete`.
    pub struct DeleteOpts {
        github_config: flag = Opt::f("github-config", 'i', "Also deletes the GitHub credentials file referenced by the Test Configuration."),
        builder_config: flag = Opt::f("builder-config", 'j', "Also deletes the Builder variables file referenced by the Test Configuration."),
        entities: flag = Opt::f("entities", 'e', "Also deletes the Device Group with its builds (devices are unassigned), and its Product when it has no other Device Group."),
        all: flag = Opt::f("all", 'a', "Same as --github-config, --builder-config and --entities together."),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    if !TestFile::exists() {
        ctx.ui.info(&format!(
            "There is no {TEST_TYPE} File in the current directory."
        ));
        ctx.ui.json_empty();
        return Ok(());
    }
    let t = TestFile::load_required()?;
    let all = o.all;
    let mut plan = DeletePlan::default();
    if Path::new(BUILDER_CACHE_DIR).exists() {
        plan.dirs
            .push(("Builder cache".into(), BUILDER_CACHE_DIR.into()));
    }
    if Path::new(DEBUG_DIR).exists() {
        plan.dirs
            .push(("Debug mode temporary".into(), DEBUG_DIR.into()));
    }
    if o.github_config || all {
        if let Some(f) = t.github_config() {
            config_entry(&mut plan, GITHUB_TYPE, f);
        }
    }
    if o.builder_config || all {
        if let Some(f) = t.builder_config() {
            config_entry(&mut plan, BUILDER_TYPE, f);
        }
    }
    plan.configs.push((
        format!("{TEST_TYPE} File in the current directory will be deleted."),
        format!("{TEST_TYPE} is deleted successfully."),
        TestFile::path(),
    ));
    if o.entities || all {
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
    plan.run(ctx, o.confirmed).await
}
