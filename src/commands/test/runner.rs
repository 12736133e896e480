//! `test run`: builds every test file's session code, deploys it to the test Device Group,
//! loads it on each device in turn (by re-assigning the device), follows the device's log
//! stream and turns the framework's `__IMPUNIT__` messages into results, with the original's
//! watchdogs, stop-on-failure, debug output and summary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::files::{self, Bootstrap, Selection, TestFileEntry};
use super::session::{classify, LogEvent};
use super::simlane::{self, Lane, Sim};
use super::{clean_builder_cache, saved_dg, RunOpts};
use crate::api::logstream::{LogStream, StreamEvent};
use crate::api::{attr_str, encode_segment, id_of};
use crate::commands::core::errmap::{map_compile_errors, LineMaps};
use crate::commands::core::CommandCtx;
use crate::config::test::{
    load_builder_vars, GithubFile, TestFile, BUILDER_CACHE_DIR, BUILDER_TYPE, DEBUG_DIR,
    GITHUB_TYPE,
};
use crate::error::{Entity, ImptError, Result};
use crate::output::testrun::{LineClock, Tag, Tone};
use crate::output::Mode;
use impt_builder::SourcePos;

use super::report::{self, Location};
use crate::output::Ui;
use std::sync::Arc;

/// Seconds the session may take to start.
const STARTUP_TIMEOUT: u64 = 60;
/// Seconds on top of the test timeout before the tool gives up on a silent session.
const EXTRA_MESSAGE_TIMEOUT: f64 = 5.0;

pub async fn run(ctx: &CommandCtx, o: &RunOpts) -> Result<()> {
    ctx.ui.disable_spinner();
    let cfg = TestFile::load_required()?;
    let dg = saved_dg(ctx, &cfg).await?;
    if o.clear_cache {
        clean_builder_cache(ctx)?;
    }
    let targets = report::targets(&o.report)?;
    let jobs = match o.jobs.as_deref() {
        Some(n) => n.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ImptError::msg(format!(
                "--jobs wants a number of parallel jobs, not \"{n}\"."
            ))
        })?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let client = ctx.client().await?;
    let sim = simlane::detect(client).await;
    // Virtual time for the run: switched on, then back to what the simulator had, also on
    // Ctrl-C (listened for from before the switch).
    let ctrl_c = o
        .virtual_time
        .then(crate::commands::core::interrupt::listener)
        .transpose()?;
    let restore_real_time = match (o.virtual_time, sim.as_ref()) {
        (false, _) => None,
        (true, None) => {
            return Err(ImptError::msg(
                "--virtual-time needs impt sim: the endpoint is not a simulator (a real device runs in real time).",
            ))
        }
        (true, Some(sim)) => {
            let was = sim.virtual_time(client).await?;
            if !was {
                sim.set_virtual_time(client, true).await?;
            }
            (!was).then_some(sim)
        }
    };
    let mut runner = Runner::new(ctx, cfg, dg, o.tests.as_deref());
    runner.sim = sim.is_some();
    // Ctrl-C ends the run, but only after the simulator is back on real time (it serves
    // others: watch loops, other runs) and a parallel run's temporary lanes are removed.
    let ran = match ctrl_c {
        Some(ctrl_c) => tokio::select! {
            r = runner.run_tests(sim.as_ref(), jobs) => r,
            _ = ctrl_c => Err(ImptError::msg(match restore_real_time {
                Some(_) => "Testing interrupted (Ctrl-C); the simulator is back on real time.",
                None => "Testing interrupted (Ctrl-C).",
            })),
        },
        None => runner.run_tests(sim.as_ref(), jobs).await,
    };
    if let (Some(sim), Some(prefix)) = (sim.as_ref(), runner.lanes.take()) {
        // (only an interrupted parallel run leaves lanes)
        remove_lanes(ctx, client, sim, &prefix).await;
    }
    if let Some(sim) = restore_real_time {
        sim.set_virtual_time(client, false).await?;
    }
    ran?;
    runner.report.write(&targets)?;
    // A run that tested nothing proves nothing: with a report (a CI run) it fails.
    if runner.report.tests() == 0 && runner.report.errors() == 0 {
        let why = match o.tests.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => format!("No test matches --tests \"{t}\""),
            None => "The test files have no test methods".to_string(),
        };
        if !targets.is_empty() {
            return Err(ImptError::msg(format!(
                "{why}: nothing was tested (a run with --report must test something)."
            )));
        }
        runner.warning(&format!("{why}: nothing was tested."));
    }
    if runner.success {
        ctx.ui.json_empty();
        Ok(())
    } else {
        Err(ImptError::msg("Testing failed"))
    }
}

/// Removes the lanes of an interrupted parallel run, found by their names (`prefix`): the
/// virtual devices with their Device Groups, then Device Groups left without one (a lane
/// half made).
async fn remove_lanes(ctx: &CommandCtx, client: &crate::api::Client, sim: &Sim, prefix: &str) {
    let named = |v: &Value| attr_str(v, "name").is_some_and(|n| n.starts_with(prefix));
    let devices = ctx.list(Entity::Device, &[]).await.unwrap_or_default();
    for device in devices.into_iter().filter(named) {
        let dg = json!({ "id": crate::api::rel_id(&device, "devicegroup").unwrap_or_default() });
        sim.remove(client, &Lane { dg, device }).await;
    }
    let groups = ctx.list(Entity::DeviceGroup, &[]).await.unwrap_or_default();
    for dg in groups.into_iter().filter(named) {
        let _ = client
            .delete(&format!("/devicegroups/{}", encode_segment(id_of(&dg))))
            .await;
    }
}

/// Where a session's log events come from: its own log stream, its share of the one
/// stream of a parallel run (an account has one log stream at a time), or the device's log
/// history read again and again (`impt watch --test`, whose stream is the watch loop's).
enum Feed<'a> {
    Own(LogStream),
    Shared(mpsc::UnboundedReceiver<StreamEvent>),
    Poll(Poller<'a>),
}

impl Feed<'_> {
    async fn next(&mut self) -> Option<StreamEvent> {
        match self {
            Feed::Own(s) => s.next().await,
            Feed::Shared(rx) => rx.recv().await,
            Feed::Poll(p) => p.next().await,
        }
    }
}

/// A device's new log entries, from its log history (newest first, 100 a page).
struct Poller<'a> {
    ctx: &'a CommandCtx,
    device_id: String,
    every: Duration,
    /// The entries of the last read, oldest first (as `ts|type|msg`).
    last: Vec<String>,
    queue: std::collections::VecDeque<Value>,
}

/// How many entries at the end of `now` are new after `before` (both oldest first, the same
/// window of a log moved on): the fewest that leave the rest of `now` at the end of
/// `before`. Entries alike (same time, type and text) are told apart by their position.
fn new_entries(before: &[String], now: &[String]) -> usize {
    (0..=now.len())
        .find(|&fresh| {
            let old = now.len() - fresh;
            old <= before.len() && now[..old] == before[before.len() - old..]
        })
        .unwrap_or(now.len())
}

impl<'a> Poller<'a> {
    /// Starts after the entries logged so far.
    async fn new(ctx: &'a CommandCtx, device_id: &str, every: Duration) -> Result<Poller<'a>> {
        let mut p = Poller {
            ctx,
            device_id: device_id.to_string(),
            every,
            last: Vec::new(),
            queue: Default::default(),
        };
        p.fetch().await?;
        p.queue.clear();
        Ok(p)
    }

    async fn fetch(&mut self) -> Result<()> {
        let q = vec![
            ("page[number]".to_string(), "1".to_string()),
            ("page[size]".to_string(), "100".to_string()),
        ];
        let doc = self
            .ctx
            .client()
            .await?
            .get_query(
                &format!("/devices/{}/logs", encode_segment(&self.device_id)),
                &q,
            )
            .await?;
        let entries = doc
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entries: Vec<Value> = entries.into_iter().rev().collect();
        let keys: Vec<String> = entries
            .iter()
            .map(|e| format!("{}|{}|{}", e["ts"], e["type"], e["msg"]))
            .collect();
        let fresh = new_entries(&self.last, &keys);
        for mut e in entries.into_iter().skip(keys.len() - fresh) {
            e["device_id"] = json!(self.device_id);
            self.queue.push_back(e);
        }
        self.last = keys;
        Ok(())
    }

    async fn next(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(StreamEvent::Log(e));
            }
            tokio::time::sleep(self.every).await;
            if let Err(e) = self.fetch().await {
                return Some(StreamEvent::Lost {
                    status: None,
                    reason: e.to_string(),
                });
            }
        }
    }
}

/// A test case of a watch pass.
#[derive(Clone, Debug)]
pub struct PassCase {
    pub file: String,
    pub name: String,
    /// `passed`, `failed`, `not run` or `error`.
    pub status: String,
    pub message: Option<String>,
    /// `file:line` of the failure, and its line.
    pub location: Option<String>,
    pub line: Option<usize>,
}

/// What a watch pass found.
#[derive(Clone, Debug, Default)]
pub struct PassOutcome {
    /// The test files in the order they ran (affected ones first).
    pub files: Vec<String>,
    /// How many of them the change touched.
    pub affected: usize,
    pub cases: Vec<PassCase>,
}

/// One test pass of `impt watch --test`: the project's tests (its `.impt.test`) on the
/// first device of the test configuration's Device Group, the files whose session code
/// includes a `changed` file first (paths relative to the current directory). The device
/// is followed through its log history every `poll` (the watch loop has the account's log
/// stream); the lines go to `ctx`'s output.
pub async fn pass(ctx: &CommandCtx, changed: &[String], poll: Duration) -> Result<PassOutcome> {
    pass_with(ctx, TestFile::load_required()?, changed, poll).await
}

/// [`pass`] with a test configuration of the caller's.
pub async fn pass_with(
    ctx: &CommandCtx,
    cfg: TestFile,
    changed: &[String],
    poll: Duration,
) -> Result<PassOutcome> {
    let dg = saved_dg(ctx, &cfg).await?;
    let sim = simlane::detect(ctx.client().await?).await;
    let mut runner = Runner::new(ctx, cfg, dg, None);
    runner.sim = sim.is_some();
    // the sim answers at once; the real service is asked at most once a second
    runner.poll = Some(if runner.sim {
        poll
    } else {
        poll.max(Duration::from_secs(1))
    });
    let files = runner.find_test_files()?;
    runner.init_source_code()?;
    let dg_id = id_of(&runner.dg).to_string();
    let devices = ctx
        .list(Entity::Device, &[("devicegroup.id", dg_id.clone())])
        .await?;
    let Some(device) = devices.first() else {
        return Err(ImptError::msg(format!(
            "Device Group \"{dg_id}\" does not have assigned Devices."
        )));
    };
    runner.devices = vec![device.clone()];
    let norm = |p: &str| p.trim_start_matches("./").replace('\\', "/");
    let changed: Vec<String> = changed.iter().map(|c| norm(c)).collect();
    let (mut first, mut rest) = (Vec::new(), Vec::new());
    for f in files {
        let touched = changed.contains(&norm(&f.name))
            || (runner.session_code(&f).is_ok() && {
                let maps = &runner.maps;
                maps.device
                    .iter()
                    .chain(maps.agent.iter())
                    .any(|p| changed.contains(&norm(&p.file)))
            });
        if touched {
            first.push(f);
        } else {
            rest.push(f);
        }
    }
    let affected = first.len();
    let order: Vec<TestFileEntry> = first.into_iter().chain(rest).collect();
    for f in &order {
        runner.run_on_device_group(f).await?;
    }
    let cases = runner
        .report
        .entries()
        .iter()
        .map(|e| {
            let (status, message) = match &e.outcome {
                report::Outcome::Passed => ("passed", None),
                report::Outcome::Failed(m) => ("failed", Some(m.clone())),
                report::Outcome::NotRun(m) => ("not run", Some(m.clone())),
                report::Outcome::Error(m) => ("error", Some(m.clone())),
            };
            PassCase {
                file: e.file.clone(),
                name: e.name.clone(),
                status: status.into(),
                message,
                location: e.at.as_ref().map(|a| format!("{}:{}", a.file, a.line)),
                line: e.at.as_ref().map(|a| a.line),
            }
        })
        .collect();
    Ok(PassOutcome {
        files: order.into_iter().map(|f| f.name).collect(),
        affected,
        cases,
    })
}

/// Why a session (or the run) went wrong; decides what is printed and what stops.
#[derive(Debug)]
enum TestError {
    /// A failed test: the message, and where the failing assertion is when known.
    Method(String, Option<Location>),
    State,
    SessionFailed,
    Disconnected(String),
    DeviceRuntime(String),
    AgentRuntime(String),
    Device(String),
    StartTimeout,
    MessagesTimeout,
    CommandTimeout,
    CommandExit(String),
    Other(String),
    /// A failed impCentral request: its details follow the `[error]` line in text modes.
    Central(ImptError),
}

impl TestError {
    fn type_name(&self) -> &'static str {
        match self {
            TestError::Method(..) => "TestMethodError",
            TestError::State => "TestStateError",
            TestError::SessionFailed => "SessionFailedError",
            TestError::Disconnected(_) => "DeviceDisconnectedError",
            TestError::DeviceRuntime(_) => "DeviceRuntimeError",
            TestError::AgentRuntime(_) => "AgentRuntimeError",
            TestError::Device(_) => "DeviceError",
            TestError::StartTimeout => "SessionStartTimeoutError",
            TestError::MessagesTimeout => "SesstionTestMessagesTimeoutError",
            TestError::CommandTimeout => "ExternalCommandTimeoutError",
            TestError::CommandExit(_) => "ExternalCommandExitCodeError",
            TestError::Other(_) => "Error",
            TestError::Central(_) => "ImpCentralApiError",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Initialized,
    Ready,
    Started,
    Finished,
}

struct Session {
    id: String,
    name: String,
    state: State,
    error: bool,
    stop: bool,
    tests: u64,
    assertions: u64,
    failures: u64,
    code_space: Option<f64>,
}

struct Failure {
    test: String,
    /// The test file, or `file:line` of the failing assertion.
    file: String,
    message: String,
}

struct Runner<'a> {
    ctx: &'a CommandCtx,
    /// Where the run's lines go (the command's output, or a buffer of one parallel job).
    ui: Arc<Ui>,
    /// Talking to `impt sim`: no fixed waits where the sim signals readiness.
    sim: bool,
    cfg: TestFile,
    dg: Value,
    sel: Selection,
    debug: bool,
    builder: impt_builder::Options,
    agent_source: Option<String>,
    device_source: Option<String>,
    devices: Vec<Value>,
    success: bool,
    stop_command: bool,
    stop_session: bool,
    failures: Vec<Failure>,
    tests: u64,
    assertions: u64,
    failure_count: u64,
    test_method: String,
    test_file: String,
    session_id: String,
    session: Option<Session>,
    start_deadline: Option<Instant>,
    message_deadline: Option<Instant>,
    /// The times the run's lines show.
    clock: LineClock,
    /// The line maps of the session's deployment: errors name the user's files.
    maps: LineMaps,
    /// Per-test results for `--report`.
    report: report::Report,
    /// Test methods of the file being run (for the report).
    expected: Vec<String>,
    /// Runtime errors logged before the session started (why it did not start), each
    /// error once.
    load_error: Vec<String>,
    /// Error headlines (`ERROR: …`) seen before the session started: a device that fails
    /// to load restarts and logs the same error again; it is shown once.
    load_seen: std::collections::HashSet<String>,
    /// The error being logged repeats one shown before: its frames are not shown either.
    load_repeat: bool,
    /// Where the load error happened in the user's files.
    load_at: Option<Location>,
    /// The session's code is loading (its code space line, or the agent's restart for an
    /// agent test): errors before that are the previous code's.
    code_loaded: bool,
    /// Why the running session ended early, if it did.
    end_reason: Option<String>,
    /// `agent` or `device`: the side the running session tests.
    tested_kind: &'static str,
    /// The device's events from the run's shared log stream (parallel jobs).
    feed: Option<mpsc::UnboundedReceiver<StreamEvent>>,
    /// Follow the device through its log history, read this often (watch passes).
    poll: Option<Duration>,
    /// The name prefix of the temporary lanes of a parallel run under way (an interrupted
    /// run removes them, half-made ones too).
    lanes: Option<String>,
}

/// A file of the user's (not the framework or the code impt generates around the tests).
fn user_file(file: &str) -> bool {
    !matches!(file, "impUnit" | "main" | "__tests_bootstrap__")
}

/// The message of a failed deployment and the first place it names (`file:line:col: …`
/// notes of a compile error).
fn compile_failure(e: &ImptError) -> (String, Option<Location>) {
    let notes = match e {
        ImptError::Api(a) => a.notes.clone(),
        _ => Vec::new(),
    };
    let at = notes.first().and_then(|n| {
        let mut parts = n.splitn(3, ':');
        let file = parts.next()?.to_string();
        let line = parts.next()?.parse().ok()?;
        Some(Location {
            file,
            line,
            frames: Vec::new(),
        })
    });
    let message = if notes.is_empty() {
        e.to_string()
    } else {
        notes.join("\n")
    };
    (message, at)
}

fn message_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Runner<'a> {
    fn new_with(
        ctx: &'a CommandCtx,
        cfg: TestFile,
        dg: Value,
        sel: Selection,
        builder: impt_builder::Options,
    ) -> Runner<'a> {
        Runner {
            debug: ctx.ui.mode() == Mode::Debug,
            ctx,
            cfg,
            dg,
            sel,
            builder,
            agent_source: None,
            device_source: None,
            devices: vec![],
            success: true,
            stop_command: false,
            stop_session: false,
            failures: vec![],
            tests: 0,
            assertions: 0,
            failure_count: 0,
            test_method: String::new(),
            test_file: String::new(),
            session_id: String::new(),
            session: None,
            start_deadline: None,
            message_deadline: None,
            clock: LineClock::default(),
            maps: LineMaps::default(),
            report: report::Report::default(),
            expected: Vec::new(),
            load_error: Vec::new(),
            load_seen: Default::default(),
            load_repeat: false,
            load_at: None,
            code_loaded: false,
            end_reason: None,
            ui: ctx.ui.clone(),
            sim: false,
            lanes: None,
            tested_kind: "device",
            feed: None,
            poll: None,
        }
    }

    fn new(ctx: &'a CommandCtx, cfg: TestFile, dg: Value, selected: Option<&str>) -> Runner<'a> {
        // impt.toml's [builder] table first; .impt.test's own settings on top
        let mut builder =
            impt_builder::settings::from_project(Path::new(".")).unwrap_or_else(|e| {
                ctx.ui.info(&e);
                Default::default()
            });
        builder.line_control = true;
        if let Some(f) = cfg.github_config() {
            if Path::new(f).exists() {
                if let Some(g) = GithubFile::load(Path::new(f)).filter(GithubFile::valid) {
                    builder.github_user = g.user;
                    builder.github_token = g.token;
                }
            } else {
                ctx.ui
                    .info(&format!("{GITHUB_TYPE} File {f} is not found."));
            }
        }
        if builder.github_user.is_none() || builder.github_token.is_none() {
            builder.github_user = std::env::var("GITHUB_USER").ok().or(builder.github_user);
            builder.github_token = std::env::var("GITHUB_TOKEN").ok().or(builder.github_token);
        }
        if let Some(f) = cfg.builder_config() {
            if Path::new(f).exists() {
                builder
                    .vars
                    .extend(load_builder_vars(Path::new(f)).unwrap_or_default());
            } else {
                ctx.ui
                    .info(&format!("{BUILDER_TYPE} File {f} is not found."));
            }
        }
        if cfg.bool("builderCache") {
            builder.cache_dir = Some(PathBuf::from(BUILDER_CACHE_DIR));
        }
        Runner::new_with(ctx, cfg, dg, Selection::parse(selected), builder)
    }

    // ----- output -----

    fn log(&mut self, tag: Tag, text: &str) {
        self.ui.test_progress(&mut self.clock, tag, text);
    }

    fn info_enabled(&self) -> bool {
        matches!(self.ui.mode(), Mode::Default | Mode::Debug)
    }

    fn info(&mut self, text: &str) {
        if self.info_enabled() {
            self.log(Tag::Info, text);
        }
    }

    fn warning(&mut self, text: &str) {
        if self.info_enabled() {
            self.log(Tag::Warning, text);
        }
    }

    fn error_line(&mut self, text: &str) {
        self.log(Tag::Error, text);
    }

    fn test_line(&mut self, text: &str) {
        self.log(Tag::Test, text);
    }

    fn print(&self, text: &str) {
        self.ui.text(text);
    }

    fn blank(&self) {
        self.ui.text("");
    }

    fn debug(&self, class: &str, text: &str) {
        if self.debug {
            self.ui.text(&format!("[debug:{class}] {text}"));
        }
    }

    fn tint(&self, tone: Tone, text: &str) -> String {
        self.ui.tint(tone, text)
    }

    // ----- the run -----

    async fn run_tests(&mut self, sim: Option<&Sim>, jobs: usize) -> Result<()> {
        let started = chrono::Local::now().format("%d %b %Y %H:%M:%S GMT%z");
        self.info(&format!("Started at {started}"));
        let files = self.find_test_files()?;
        self.init_source_code()?;
        let dg_id = id_of(&self.dg).to_string();
        self.devices = self
            .ctx
            .list(Entity::Device, &[("devicegroup.id", dg_id.clone())])
            .await?;
        if self.devices.is_empty() {
            return Err(ImptError::msg(format!(
                "Device Group \"{dg_id}\" does not have assigned Devices."
            )));
        }
        // Files in parallel on the sim; stop-on-failure keeps the original's order (no file
        // starts after a failure), a group of several devices runs each file on each.
        let parallel = sim.filter(|_| {
            jobs > 1 && files.len() > 1 && self.devices.len() == 1 && !self.cfg.bool("stopOnFail")
        });
        match parallel {
            Some(sim) => self.run_parallel(&files, sim, jobs).await?,
            None => {
                for file in &files {
                    if self.stop_command {
                        break;
                    }
                    self.run_on_device_group(file).await?;
                }
            }
        }
        if self.stop_command {
            self.debug("TestHelper", "Command was forced to stop");
        }
        self.blank();
        self.info("-------------TEST SUMMARY-------------");
        self.blank();
        let failures = std::mem::take(&mut self.failures);
        for (i, f) in failures.iter().enumerate() {
            self.info(&format!("{}) {}", i + 1, f.test));
            self.info(&format!("at {}", f.file));
            self.info(&format!("Error: {}", f.message));
            self.blank();
        }
        let result = format!(
            "Tests: {}, Assertions: {}, Failures: {}",
            self.tests, self.assertions, self.failure_count
        );
        self.info(&result);
        self.info("--------------------------------------");
        self.blank();
        if self.success {
            let t = self.tint(Tone::Success, "Testing succeeded");
            self.info(&t);
        } else {
            let t = self.tint(Tone::Failure, "Testing failed");
            self.info(&t);
        }
        Ok(())
    }

    /// A runner for one test file of a parallel run: the same settings, its own Device
    /// Group and device, its lines into `ui`.
    fn job(&self, ui: Arc<Ui>, dg: Value, device: Value) -> Runner<'a> {
        let mut r = Runner::new_with(
            self.ctx,
            self.cfg.clone(),
            dg,
            self.sel.clone(),
            self.builder.clone(),
        );
        r.ui = ui;
        r.sim = self.sim;
        r.debug = self.debug;
        r.agent_source = self.agent_source.clone();
        r.device_source = self.device_source.clone();
        r.devices = vec![device];
        r.clock = self.clock;
        r
    }

    /// Runs the files on `jobs` devices at once (on the sim): the test Device Group's own
    /// device and new virtual devices in temporary Device Groups, removed afterwards. Each
    /// file's lines are shown together, in the files' order; results are the same as one
    /// device's.
    async fn run_parallel(
        &mut self,
        files: &[TestFileEntry],
        sim: &Sim,
        jobs: usize,
    ) -> Result<()> {
        let client = self.ctx.client().await?;
        let account = self.ctx.me_id().await.unwrap_or_default();
        let mut lanes = vec![Lane {
            dg: self.dg.clone(),
            device: self.devices[0].clone(),
        }];
        let tag = files::random_trigger()[..6].to_lowercase();
        self.lanes = Some(format!("impt-test-{tag}-"));
        for i in 1..jobs.min(files.len()) {
            let name = format!("impt-test-{tag}-{i}");
            match sim.lane(client, &self.dg, &account, &name).await {
                Ok(l) => lanes.push(l),
                Err(e) => {
                    self.debug("TestHelper", &format!("No parallel job {i}: {e}"));
                    break;
                }
            }
        }
        self.debug(
            "TestHelper",
            &format!("{} parallel job(s) on the simulator", lanes.len()),
        );
        // One log stream for all jobs (an account has one at a time), its entries passed
        // to the job of their device.
        let mut feeds = Vec::new();
        let pump = match self.shared_stream(client, &lanes, &mut feeds).await {
            Ok(p) => p,
            Err(e) => {
                for lane in &lanes[1..] {
                    sim.remove(client, lane).await;
                }
                self.lanes = None;
                return Err(e);
            }
        };
        let feeds: Vec<std::cell::RefCell<Option<mpsc::UnboundedReceiver<StreamEvent>>>> = feeds
            .into_iter()
            .map(|f| std::cell::RefCell::new(Some(f)))
            .collect();
        let next = std::cell::Cell::new(0usize);
        let stop = std::cell::Cell::new(false);
        let done: std::cell::RefCell<Vec<Option<(String, Runner<'a>)>>> =
            std::cell::RefCell::new((0..files.len()).map(|_| None).collect());
        let shown = std::cell::Cell::new(0usize);
        let this = &*self;
        let lane_runs = lanes.iter().zip(feeds.iter()).map(|(lane, feed)| {
            let (next, stop, done, shown) = (&next, &stop, &done, &shown);
            async move {
                loop {
                    let i = next.get();
                    if i >= files.len() || stop.get() {
                        break;
                    }
                    next.set(i + 1);
                    let (ui, captured) = this.ui.capture();
                    let mut job = this.job(Arc::new(ui), lane.dg.clone(), lane.device.clone());
                    job.feed = feed.borrow_mut().take();
                    if let Err(e) = job.run_on_device_group(&files[i]).await {
                        job.on_error(TestError::Other(e.to_string()));
                    }
                    *feed.borrow_mut() = job.feed.take();
                    if job.stop_command {
                        stop.set(true);
                    }
                    let mut d = done.borrow_mut();
                    d[i] = Some((captured.stdout(), job));
                    // show every finished file whose predecessors are shown
                    while let Some(Some((text, _))) = d.get_mut(shown.get()) {
                        this.ui.raw(&std::mem::take(text));
                        shown.set(shown.get() + 1);
                    }
                }
            }
        });
        futures::future::join_all(lane_runs).await;
        pump.abort();
        for lane in &lanes[1..] {
            sim.remove(client, lane).await;
        }
        self.lanes = None;
        for (_, job) in done.into_inner().into_iter().flatten() {
            self.absorb(job);
        }
        Ok(())
    }

    /// Opens the log stream of a parallel run with every lane's device subscribed; a task
    /// passes each entry to its device's receiver (pushed to `feeds` in lane order).
    async fn shared_stream(
        &self,
        client: &crate::api::Client,
        lanes: &[Lane],
        feeds: &mut Vec<mpsc::UnboundedReceiver<StreamEvent>>,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let mut stream = LogStream::open(client).await?;
        let mut routes = std::collections::HashMap::new();
        for lane in lanes {
            let id = id_of(&lane.device).to_string();
            stream.add_device(client, &id).await?;
            let (tx, rx) = mpsc::unbounded_channel();
            routes.insert(id, tx);
            feeds.push(rx);
        }
        Ok(tokio::spawn(async move {
            while let Some(ev) = stream.next().await {
                let device = match &ev {
                    StreamEvent::Log(v) => v.get("device_id").and_then(Value::as_str),
                    _ => None,
                };
                match device {
                    Some(d) => {
                        if let Some(tx) = routes.get(d) {
                            let _ = tx.send(ev);
                        }
                    }
                    // the stream's own state: every job's
                    None => {
                        for tx in routes.values() {
                            let _ = tx.send(ev.clone());
                        }
                    }
                }
            }
        }))
    }

    /// Adds a parallel job's results to the run's.
    fn absorb(&mut self, job: Runner<'a>) {
        self.tests += job.tests;
        self.assertions += job.assertions;
        self.failure_count += job.failure_count;
        self.failures.extend(job.failures);
        self.success &= job.success;
        self.stop_command |= job.stop_command;
        self.report.append(job.report);
        self.clock.follow(&job.clock);
    }

    fn find_test_files(&mut self) -> Result<Vec<TestFileEntry>> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let (files, skipped) = files::find(&self.cfg.test_files(), &self.sel, &cwd);
        for s in skipped {
            self.debug("TestHelper", &format!("Skipping found test \"{s}\""));
        }
        if files.is_empty() {
            return Err(ImptError::msg("No test files found"));
        }
        let names: Vec<String> = files
            .iter()
            .map(|f| match &f.partner {
                Some(p) => format!("{} ({p})", f.name),
                None => f.name.clone(),
            })
            .collect();
        self.info(&format!(
            "Found {} test file(s):\n\t{}",
            files.len(),
            names.join("\n\t")
        ));
        Ok(files)
    }

    fn init_source_code(&mut self) -> Result<()> {
        for agent in [true, false] {
            let (file, side) = if agent {
                (self.cfg.agent_file().map(str::to_string), "agent")
            } else {
                (self.cfg.device_file().map(str::to_string), "device")
            };
            let value = match file {
                Some(f) => {
                    self.info(&format!("Using {side} source file: {f}"));
                    if !Path::new(&f).exists() {
                        let label = if agent { "Agent" } else { "Device" };
                        return Err(ImptError::msg(format!(
                            "{label} source file \"{f}\" not found"
                        )));
                    }
                    Some(f.replace('\\', "/"))
                }
                None => {
                    self.info(&format!("Have no {side} source file, using blank"));
                    None
                }
            };
            if agent {
                self.agent_source = value;
            } else {
                self.device_source = value;
            }
        }
        Ok(())
    }

    fn preprocess(&mut self, source: &str) -> Result<(String, Vec<SourcePos>)> {
        let opts = self.builder.clone();
        let out = tokio::task::block_in_place(|| {
            impt_builder::preprocess_str(source, "main", Path::new("."), &opts)
        })
        .map_err(|e| ImptError::msg(e.builder_message()))?;
        for w in &out.warnings {
            self.warning(w);
        }
        Ok((out.code, out.line_map))
    }

    /// The agent and device code of a session; `None` when the selection is not in the file.
    fn session_code(&mut self, file: &TestFileEntry) -> Result<Option<(String, String)>> {
        self.test_file = file.name.clone();
        self.info(&format!("Using {} test file \"{}\"", file.kind, file.name));
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let sources = files::session_sources(
            file,
            self.agent_source.as_deref(),
            self.device_source.as_deref(),
            &cwd,
            &Bootstrap {
                session: &self.session_id.clone(),
                timeout: self.cfg.timeout(),
                stop_on_failure: self.cfg.bool("stopOnFail"),
                class: &self.sel.class.clone(),
                method: &self.sel.method.clone(),
                // the original waits 2 s for the service messages; the sim's come first
                delay: if self.sim { 0.0 } else { 2.0 },
                wait_device: self.sim,
            },
        );
        let (mut agent, mut agent_map) = self.preprocess(&sources.agent)?;
        let (mut device, mut device_map) = self.preprocess(&sources.device)?;
        // The framework comes first: its lines shift the tested side's.
        let framework = |code: &str, map: &mut Vec<SourcePos>| {
            let framed = files::with_framework(code);
            let shift = framed.lines().count().saturating_sub(code.lines().count());
            let head = (1..=shift).map(|line| SourcePos {
                file: "impUnit".into(),
                line,
            });
            *map = head.chain(map.drain(..)).collect();
            framed
        };
        if file.kind == "agent" {
            agent = framework(&agent, &mut agent_map);
        } else {
            device = framework(&device, &mut device_map);
        }
        self.maps = LineMaps {
            device: device_map,
            agent: agent_map,
        }
        .relative_to(&cwd);
        let tested = if file.kind == "agent" {
            &agent
        } else {
            &device
        };
        self.expected = report::test_methods(tested);
        if !files::has_selection(tested, &self.sel.class, &self.sel.method) {
            return Ok(None);
        }
        if self.debug {
            let target = Path::new(DEBUG_DIR).join(&file.name);
            let dir = target
                .parent()
                .unwrap_or(Path::new(DEBUG_DIR))
                .to_path_buf();
            let base = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let written = std::fs::create_dir_all(&dir).and_then(|_| {
                std::fs::write(dir.join(format!("preprocessed.agent.{base}")), &agent)?;
                std::fs::write(dir.join(format!("preprocessed.device.{base}")), &device)
            });
            if let Err(e) = written {
                self.error_line(&e.to_string());
            }
        }
        self.debug(
            "TestHelper",
            &format!("Agent code size: {} bytes", agent.len()),
        );
        self.debug(
            "TestHelper",
            &format!("Device code size: {} bytes", device.len()),
        );
        Ok(Some((agent, device)))
    }

    async fn run_on_device_group(&mut self, file: &TestFileEntry) -> Result<()> {
        self.session_id = files::session_id();
        let Some((agent, device)) = self.session_code(file)? else {
            self.info(&format!("Skip \"{}\" testing", file.name));
            return Ok(());
        };
        let name = attr_str(&self.dg, "name").unwrap_or_default().to_string();
        let dg_id = id_of(&self.dg).to_string();
        self.info(&format!("Using Device Group \"{name}\" [{dg_id}]"));
        let deployment = match self.create_deployment(&agent, &device).await {
            Ok(d) => d,
            Err(e) => {
                let e = map_compile_errors(e, &self.maps);
                // the file's code failed: one error entry for it, its tests not run
                let (message, at) = compile_failure(&e);
                self.report
                    .begin_session(&file.name, std::mem::take(&mut self.expected));
                self.report.file_error("(compile)", &message, at);
                self.report.end_session(Some(&message));
                self.on_error(TestError::Central(e));
                return Ok(());
            }
        };
        self.ui.info(&format!(
            "Deployment \"{deployment}\" is created successfully."
        ));
        self.info(&format!("Created Deployment: {deployment}"));
        let devices = self.devices.clone();
        for (i, d) in devices.iter().enumerate() {
            if self.stop_command {
                break;
            }
            self.run_on_device(d, i + 1, file).await;
        }
        Ok(())
    }

    async fn create_deployment(&self, agent: &str, device: &str) -> Result<String> {
        let dg_type = self.dg.get("type").and_then(Value::as_str).unwrap_or("");
        let mut attrs = serde_json::Map::new();
        attrs.insert("device_code".into(), json!(device));
        attrs.insert("agent_code".into(), json!(agent));
        let client = self.ctx.client().await?;
        let doc = crate::api::deployments::create(client, dg_type, id_of(&self.dg), attrs).await?;
        Ok(doc
            .pointer("/data/id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    async fn run_on_device(&mut self, device: &Value, index: usize, file: &TestFileEntry) {
        self.blank();
        let id = self.session_id.clone();
        let name = if self.devices.len() > 1 {
            format!("{id}-{index}")
        } else {
            id.clone()
        };
        self.session = Some(Session {
            id,
            name: name.clone(),
            state: State::Initialized,
            error: false,
            stop: false,
            tests: 0,
            assertions: 0,
            failures: 0,
            code_space: None,
        });
        self.test_line(&format!("Starting test session \"{name}\""));
        self.report
            .begin_session(&file.name, std::mem::take(&mut self.expected));
        self.load_error.clear();
        self.load_seen.clear();
        self.load_repeat = false;
        self.load_at = None;
        self.code_loaded = false;
        self.tested_kind = file.kind;
        self.end_reason = None;
        let agent_only = self.device_source.is_none() && file.kind == "agent";
        if agent_only {
            self.info("Test session is agent-only");
        }
        let device_id = id_of(device).to_string();
        let device_name = attr_str(device, "name").unwrap_or_default().to_string();
        let total = self.devices.len();
        self.info(&format!(
            "Using Device {device_name} [{device_id}] ({index}/{total})"
        ));
        if !agent_only {
            let w = self.tint(Tone::Warning, &format!("Warning: please ensure imp device {device_id} is online. Current test will fail if the device under test is physically offline"));
            self.ui.info(&w);
        }
        self.info(&format!("Using {} test file \"{}\"", file.kind, file.name));
        self.run_session(&device_id, file.kind).await;
    }

    fn session_mut(&mut self) -> &mut Session {
        self.session.get_or_insert_with(|| Session {
            id: String::new(),
            name: String::new(),
            state: State::Initialized,
            error: false,
            stop: false,
            tests: 0,
            assertions: 0,
            failures: 0,
            code_space: None,
        })
    }

    fn watchdog(&self, name: &str, what: &str) {
        self.debug("TestWatchdog", &format!("Watchdog \"{name}\" {what}"));
    }

    /// After an error: stop the session when the error says so.
    fn after_error(&mut self, err: TestError) {
        self.on_error(err);
        let stop = self.stop_session;
        if stop {
            self.session_mut().stop = true;
        }
    }

    async fn run_session(&mut self, device_id: &str, kind: &str) {
        self.stop_session = false;
        self.start_deadline = Some(Instant::now() + Duration::from_secs(STARTUP_TIMEOUT));
        self.message_deadline = None;
        self.watchdog("session-start", "started");
        let ctx = self.ctx;
        let sim = self.sim;
        let shared = self.feed.take();
        let poll = self.poll;
        let mut is_open = shared.is_some() || poll.is_some();
        let opened = async {
            if let Some(rx) = shared {
                return Ok(Feed::Shared(rx));
            }
            if let Some(every) = poll {
                return Ok(Feed::Poll(Poller::new(ctx, device_id, every).await?));
            }
            let client = ctx.client().await?;
            let stream = LogStream::open(client).await?;
            // As the original: give the new stream a second before subscribing the device
            // (the sim's stream is ready when it answers).
            if !sim {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            stream.add_device(client, device_id).await?;
            Ok::<_, ImptError>(Feed::Own(stream))
        }
        .await;
        let mut stream = match opened {
            Ok(s) => s,
            Err(e) => {
                self.on_error(TestError::Central(e));
                self.finish_session();
                return;
            }
        };
        let mut assigned = false;
        loop {
            if is_open && !assigned {
                assigned = true;
                self.assign(device_id).await;
            }
            if self.session.as_ref().is_some_and(|s| s.stop) {
                break;
            }
            let start = self.start_deadline;
            let messages = self.message_deadline;
            tokio::select! {
                ev = stream.next() => match ev {
                    Some(StreamEvent::State(v)) => {
                        match v.get("state").and_then(Value::as_str) {
                            Some("opened") => is_open = true,
                            Some("closed") => self.after_error(TestError::Other("The log stream is closed.".into())),
                            _ => {}
                        }
                    }
                    Some(StreamEvent::Log(v)) => {
                        self.debug("TestLogsParser", &format!("Log line received: {v}"));
                        for event in classify(&v, kind) {
                            if let Err(e) = self.handle_log(event).await {
                                self.after_error(e);
                            }
                        }
                    }
                    Some(StreamEvent::Garbled(raw)) => self.after_error(TestError::Other(format!(
                        "Unexpected format of log stream message: {raw}"
                    ))),
                    Some(StreamEvent::Lost { reason, .. }) => self.after_error(TestError::Other(reason)),
                    None => self.after_error(TestError::Other("The log stream is closed.".into())),
                },
                _ = tokio::time::sleep_until(start.unwrap_or_else(Instant::now)), if start.is_some() => {
                    self.start_deadline = None;
                    self.watchdog("session-start", "timed out");
                    self.after_error(TestError::StartTimeout);
                }
                _ = tokio::time::sleep_until(messages.unwrap_or_else(Instant::now)), if messages.is_some() => {
                    self.message_deadline = None;
                    self.watchdog("test-messages", "timed out");
                    self.after_error(TestError::MessagesTimeout);
                }
            }
        }
        if let Feed::Shared(rx) = stream {
            self.feed = Some(rx);
        }
        self.finish_session();
    }

    /// Re-assigns the device to the group: that loads the new deployment on it.
    async fn assign(&mut self, device_id: &str) {
        let dg_id = id_of(&self.dg).to_string();
        let body = impt_wire::requests::devices(&[device_id]);
        let res = async {
            self.ctx
                .client()
                .await?
                .post(
                    &format!(
                        "/devicegroups/{}/relationships/devices",
                        encode_segment(&dg_id)
                    ),
                    &body,
                )
                .await
        }
        .await;
        match res {
            Ok(_) => self.ui.info(&format!(
                "Device \"{device_id}\" is assigned successfully to Device Group \"{dg_id}\"."
            )),
            Err(e) => self.after_error(TestError::Central(e)),
        }
    }

    fn finish_session(&mut self) {
        self.start_deadline = None;
        self.message_deadline = None;
        let reason = self.end_reason.take();
        if matches!(self.state(), State::Initialized | State::Ready) {
            let name = if self.load_error.is_empty() {
                "(session)"
            } else {
                "(load)"
            };
            let message = reason
                .clone()
                .unwrap_or_else(|| "Session did not start".into());
            self.report.file_error(name, &message, self.load_at.take());
        }
        self.report.end_session(reason.as_deref());
        if matches!(self.state(), State::Initialized | State::Ready) {
            // A session that never started is listed with its reason and counted.
            let message = reason.unwrap_or_else(|| "Session did not start".into());
            self.failures.push(Failure {
                test: "(session did not start)".into(),
                file: self.test_file.clone(),
                message,
            });
            self.failure_count += 1;
            self.success = false;
        }
        let s = self.session_mut();
        let (name, error) = (s.name.clone(), s.error);
        let (t, a, f) = (s.tests, s.assertions, s.failures);
        if error {
            let m = self.tint(Tone::Failure, &format!("Session \"{name}\" failed"));
            self.test_line(&m);
        } else {
            let m = self.tint(Tone::Success, &format!("Session \"{name}\" succeeded"));
            self.test_line(&m);
        }
        self.tests += t;
        self.assertions += a;
        self.failure_count += f;
    }

    /// A runtime error line (`ERROR: …` or one of its frames), mapped to the user's files;
    /// `None` when it repeats an error shown before the session started (a device whose
    /// code fails to load restarts and fails again: the error is shown once).
    fn runtime_error(&mut self, log_type: &str, raw: String) -> Option<String> {
        let mapped = self.maps.map(log_type, &raw);
        let text = mapped.as_ref().map_or(raw.clone(), |m| m.text.clone());
        if matches!(self.state(), State::Started | State::Finished) {
            return Some(text);
        }
        if !self.code_loaded {
            // the device's previous code (e.g. an earlier run's that failed to load)
            return Some(text);
        }
        let frame = raw
            .strip_prefix("ERROR:")
            .map(str::trim_start)
            .is_some_and(|r| r.starts_with("at ") || r.starts_with("from "));
        if !frame {
            self.load_repeat = !self.load_seen.insert(text.clone());
        }
        if self.load_repeat {
            return None;
        }
        if self.load_error.len() < 12 {
            self.load_error.push(text.clone());
        }
        if let Some(m) = mapped.filter(|m| user_file(&m.file)) {
            let at = self.load_at.get_or_insert_with(|| Location {
                file: m.file.clone(),
                line: m.line,
                frames: Vec::new(),
            });
            at.frames
                .push(format!("{}:{} ({})", m.file, m.line, m.function));
        }
        // An error in the code's top level (its `main`) stops the code from loading: the
        // session cannot start. The sim has logged the whole error by now; the real
        // service is given a few more seconds (the framework starts 2 s after loading).
        let top_level = frame
            && raw
                .trim_end()
                .rsplit_once(' ')
                .is_some_and(|(_, f)| f.starts_with("main:"));
        let soon = if self.sim && top_level {
            Instant::now() + Duration::from_millis(100)
        } else {
            Instant::now() + Duration::from_secs(4)
        };
        if self.start_deadline.is_some_and(|d| d > soon) {
            self.start_deadline = Some(soon);
        }
        Some(text)
    }

    /// Where a failed assertion is, from the frames the framework sent (`[{line, func}]`,
    /// innermost first, lines of the deployed code): the frames in the user's files, and
    /// the innermost one in the test file as the place.
    fn locate(&self, frames: Option<&Value>) -> Option<Location> {
        let side = if self.tested_kind == "agent" {
            &self.maps.agent
        } else {
            &self.maps.device
        };
        let mut places = Vec::new();
        for f in frames.and_then(Value::as_array).into_iter().flatten() {
            let line = f.get("line").and_then(Value::as_u64).unwrap_or(0) as usize;
            let func = f.get("func").and_then(Value::as_str).unwrap_or("unknown");
            if let Some(pos) = line.checked_sub(1).and_then(|i| side.get(i)) {
                if user_file(&pos.file) {
                    places.push((pos.file.clone(), pos.line, func.to_string()));
                }
            }
        }
        let (file, line, _) = places
            .iter()
            .find(|p| p.0 == self.test_file)
            .or(places.first())?
            .clone();
        Some(Location {
            file,
            line,
            frames: places
                .iter()
                .map(|(f, l, func)| format!("{f}:{l} ({func})"))
                .collect(),
        })
    }

    /// What to report when the session did not start in time.
    fn startup_failure(&self) -> String {
        if self.load_error.is_empty() {
            "Session startup timeout".into()
        } else {
            format!(
                "Session startup timeout: the code failed to load: {}",
                self.load_error.join("\n")
            )
        }
    }

    fn state(&mut self) -> State {
        self.session_mut().state
    }

    fn check_state(&mut self, expected: State) -> std::result::Result<(), TestError> {
        if self.state() == expected {
            Ok(())
        } else {
            Err(TestError::State)
        }
    }

    /// An error while the session runs, or a warning before it started.
    fn error_or_warning(
        &mut self,
        err: TestError,
        text: &str,
    ) -> std::result::Result<(), TestError> {
        if self.state() == State::Started {
            Err(err)
        } else {
            self.warning(text);
            Ok(())
        }
    }

    async fn handle_log(&mut self, event: LogEvent) -> std::result::Result<(), TestError> {
        match event {
            LogEvent::AgentRestarted => {
                if self.state() == State::Initialized {
                    self.session_mut().state = State::Ready;
                    self.code_loaded |= self.tested_kind == "agent";
                }
            }
            LogEvent::CodeSpaceUsage(v) => {
                self.code_loaded |= self.state() == State::Ready;
                if self.session_mut().code_space != Some(v) {
                    self.info(&format!("Device code space usage: {v:.1}%"));
                    self.session_mut().code_space = Some(v);
                }
            }
            LogEvent::OutOfCodeSpace => {
                return Err(TestError::Device("Device is out of code space".into()))
            }
            LogEvent::OutOfMemory => {
                let m = "Device is out of memory";
                return self.error_or_warning(TestError::Device(m.into()), m);
            }
            LogEvent::LastExitCode(v) => {
                let m = format!("Device Error: {v}");
                return self.error_or_warning(TestError::Device(m.clone()), &m);
            }
            LogEvent::DeviceError(v) => {
                let Some(v) = self.runtime_error("server.error", v) else {
                    return Ok(());
                };
                let m = format!("Device Runtime Error: {v}");
                return self.error_or_warning(TestError::DeviceRuntime(m.clone()), &m);
            }
            LogEvent::AgentError(v) => {
                let Some(v) = self.runtime_error("agent.error", v) else {
                    return Ok(());
                };
                let m = format!("Agent Runtime Error: {v}");
                return self.error_or_warning(TestError::AgentRuntime(m.clone()), &m);
            }
            LogEvent::Connected | LogEvent::Ignored => {}
            LogEvent::Disconnected => {
                if self.cfg.bool("allowDisconnect") {
                    self.info("Disconnected. Allowed by config.");
                } else {
                    let m = "Device disconnected";
                    return self.error_or_warning(TestError::Disconnected(m.into()), m);
                }
            }
            LogEvent::Powerstate(v) => self.info(&format!("Powerstate: {v}")),
            LogEvent::Firmware(v) => self.info(&format!("Firmware: {v}")),
            LogEvent::Unknown(v) => self.info(&format!("Message of type UNKNOWN: {v}")),
            LogEvent::BadImpUnit(m) => {
                return Err(TestError::Other(format!(
                    "Unexpected format of impUnit message: {m}"
                )))
            }
            LogEvent::ImpUnit(v) => return self.handle_impunit(&v).await,
        }
        Ok(())
    }

    async fn handle_impunit(&mut self, v: &Value) -> std::result::Result<(), TestError> {
        let session = v.get("session").and_then(Value::as_str).unwrap_or("");
        if session != self.session_mut().id {
            return Ok(());
        }
        // Any framework message resets the test messages watchdog.
        self.message_deadline = Some(
            Instant::now()
                + Duration::from_secs_f64(self.cfg.timeout().max(0.0) + EXTRA_MESSAGE_TIMEOUT),
        );
        self.watchdog("test-messages", "stopped");
        self.watchdog("test-messages", "started");
        let message = v.get("message").cloned().unwrap_or(Value::Null);
        match v.get("type").and_then(Value::as_str).unwrap_or("") {
            "SESSION_START" => {
                self.start_deadline = None;
                self.watchdog("session-start", "stopped");
                self.check_state(State::Ready)?;
                self.session_mut().state = State::Started;
                self.report.session_started();
            }
            "TEST_START" => {
                self.check_state(State::Started)?;
                let m = message_text(&message);
                self.test_method = m.clone();
                self.report.start(&m);
                self.test_line(&m);
            }
            "TEST_FAIL" => {
                self.check_state(State::Started)?;
                let text = message_text(&message);
                let at = self.locate(v.get("frames"));
                self.report.fail(&text, at.clone());
                return Err(TestError::Method(text, at));
            }
            "SESSION_RESULT" => {
                self.message_deadline = None;
                self.watchdog("test-messages", "stopped");
                self.check_state(State::Started)?;
                let num = |k: &str| message.get(k).and_then(Value::as_u64).unwrap_or(0);
                let (t, a, f) = (num("tests"), num("assertions"), num("failures"));
                {
                    let s = self.session_mut();
                    s.tests = t;
                    s.assertions = a;
                    s.failures = f;
                    s.state = State::Finished;
                }
                let line = format!("Tests: {t}, Assertions: {a}, Failures: {f}");
                if f > 0 {
                    let m = self.tint(Tone::Failure, &line);
                    self.test_line(&m);
                    self.after_error(TestError::SessionFailed);
                } else {
                    let m = self.tint(Tone::Success, &line);
                    self.test_line(&m);
                }
                self.session_mut().stop = true;
            }
            "TEST_OK" => {
                self.report.ok();
                let m = if message.is_null() {
                    self.tint(Tone::Success, "Success")
                } else {
                    format!(
                        "{}{}",
                        self.tint(Tone::Success, "Success: "),
                        message_text(&message)
                    )
                };
                self.test_line(&m);
            }
            "EXTERNAL_COMMAND" => {
                let command = message.get("command").map(message_text).unwrap_or_default();
                self.info(&format!("Running external command: {command}"));
                self.external_command(&command).await?;
            }
            "INFO" => {
                let inner = message.get("message").cloned().unwrap_or(Value::Null);
                let m = self.tint(Tone::Note, &inner.to_string());
                self.test_line(&m);
            }
            _ => {}
        }
        Ok(())
    }

    async fn external_command(&mut self, command: &str) -> std::result::Result<(), TestError> {
        let secs = self.cfg.timeout().max(0.0);
        let child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(Duration::from_secs_f64(secs), child).await {
            Err(_) => return Err(TestError::CommandTimeout),
            Ok(Err(e)) => return Err(TestError::Other(e.to_string())),
            Ok(Ok(o)) => o,
        };
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().unwrap_or(-1);
        self.debug("TestSession", &format!("External command STDOUT: {stdout}"));
        self.debug("TestSession", &format!("External command STDERR: {stderr}"));
        self.debug(
            "TestSession",
            &format!("External command exit code: {code}"),
        );
        let shown: Vec<String> = stdout
            .trim()
            .split('\n')
            .map(|l| format!("> {}", l.trim_end_matches('\r')))
            .collect();
        let text = self.tint(Tone::Note, &shown.join("\n"));
        self.print(&text);
        if code != 0 {
            return Err(TestError::CommandExit(format!(
                "External command failed with exit code {code}"
            )));
        }
        Ok(())
    }

    fn on_error(&mut self, err: TestError) {
        self.debug("TestHelper", &format!("Error type: {}", err.type_name()));
        let mut ignore = false;
        let stop_on_fail = self.cfg.bool("stopOnFail");
        match err {
            TestError::Method(m, at) => {
                let t = self.tint(Tone::Failure, &format!("Failure: {m}"));
                self.test_line(&t);
                // the failing assertion's place, and the frames that lead there
                if let Some(at) = &at {
                    for (i, f) in at.frames.iter().enumerate() {
                        let word = if i == 0 { "at" } else { "from" };
                        let t = self.tint(Tone::Failure, &format!("  {word} {f}"));
                        self.test_line(&t);
                    }
                }
                self.failures.push(Failure {
                    test: self.test_method.clone(),
                    file: at
                        .map(|a| format!("{}:{}", a.file, a.line))
                        .unwrap_or_else(|| self.test_file.clone()),
                    message: m,
                });
                self.stop_session = stop_on_fail;
            }
            TestError::State => {
                self.error_line("Invalid test session state");
                self.stop_session = true;
            }
            TestError::SessionFailed => {}
            TestError::Disconnected(m) => {
                let t = self.tint(Tone::Failure, &m);
                self.test_line(&t);
                self.stop_session = !self.cfg.bool("allowDisconnect");
            }
            TestError::DeviceRuntime(m) | TestError::AgentRuntime(m) => {
                ignore = true;
                let t = self.tint(Tone::Failure, &m);
                self.test_line(&t);
                self.stop_session = false;
            }
            TestError::Device(m) => {
                let t = self.tint(Tone::Failure, &m);
                self.test_line(&t);
                self.stop_session = true;
            }
            TestError::StartTimeout => {
                let reason = self.startup_failure();
                self.error_line(&reason);
                self.end_reason = Some(reason);
                self.stop_session = true;
            }
            TestError::MessagesTimeout => {
                self.error_line("Testing timeout");
                self.end_reason = Some("Testing timeout".into());
                self.stop_session = true;
            }
            TestError::CommandTimeout => {
                self.error_line("External command timed out");
                self.stop_session = true;
            }
            TestError::CommandExit(m) | TestError::Other(m) => {
                self.error_line(&m);
                self.stop_session = true;
            }
            TestError::Central(e) => {
                self.error_line(&e.to_string());
                if matches!(e, ImptError::Api(_)) && !self.ui.is_json() {
                    self.ui.error(&e);
                }
                self.stop_session = true;
            }
        }
        if !ignore {
            if let Some(s) = self.session.as_mut() {
                s.error = true;
            }
            self.success = false;
        }
        if self.stop_session && stop_on_fail {
            self.stop_command = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::new_entries;

    fn v(s: &str) -> Vec<String> {
        s.chars().map(String::from).collect()
    }

    #[test]
    fn new_log_entries_are_told_by_position() {
        assert_eq!(new_entries(&[], &v("ab")), 2);
        assert_eq!(new_entries(&v("ab"), &v("ab")), 0);
        // alike entries (same time, type and text) are not lost
        assert_eq!(new_entries(&v("ab"), &v("abb")), 1);
        assert_eq!(new_entries(&v("abb"), &v("abbbb")), 2);
        // the page moved on: the oldest fell off
        assert_eq!(new_entries(&v("abcd"), &v("cdef")), 2);
        // nothing in common: all new
        assert_eq!(new_entries(&v("ab"), &v("xy")), 2);
    }
}
