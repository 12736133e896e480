//! `test run`: builds every test file's session code, deploys it to the test Device Group,
//! loads it on each device in turn (by re-assigning the device), follows the device's log
//! stream and turns the framework's `__IMPUNIT__` messages into results, with the original's
//! watchdogs, stop-on-failure, debug output and summary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::files::{self, Bootstrap, Selection, TestFileEntry};
use super::session::{classify, LogEvent};
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
use crate::output::Mode;
use impt_builder::SourcePos;

use super::report;

/// Seconds the session may take to start.
const STARTUP_TIMEOUT: u64 = 60;
/// Seconds on top of the test timeout before the tool gives up on a silent session.
const EXTRA_MESSAGE_TIMEOUT: f64 = 5.0;

const RED: u8 = 31;
const GREEN: u8 = 32;
const YELLOW: u8 = 33;
const CYAN: u8 = 36;
const GREY: u8 = 90;

pub async fn run(ctx: &CommandCtx, o: &RunOpts) -> Result<()> {
    ctx.ui.disable_spinner();
    let cfg = TestFile::load_required()?;
    let dg = saved_dg(ctx, &cfg).await?;
    if o.clear_cache {
        clean_builder_cache(ctx)?;
    }
    let targets = report::targets(&o.report)?;
    let mut runner = Runner::new(ctx, cfg, dg, o.tests.as_deref());
    runner.run_tests().await?;
    runner.report.write(&targets)?;
    if runner.success {
        ctx.ui.json_empty();
        Ok(())
    } else {
        Err(ImptError::msg("Testing failed"))
    }
}

/// Why a session (or the run) went wrong; decides what is printed and what stops.
#[derive(Debug)]
enum TestError {
    Method(String),
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
            TestError::Method(_) => "TestMethodError",
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
    file: String,
    message: String,
}

struct Runner<'a> {
    ctx: &'a CommandCtx,
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
    log_start: Option<std::time::Instant>,
    log_last: Option<std::time::Instant>,
    /// The line maps of the session's deployment: errors name the user's files.
    maps: LineMaps,
    /// Per-test results for `--report`.
    report: report::Report,
    /// Test methods of the file being run (for the report).
    expected: Vec<String>,
    /// Runtime errors logged before the session started (why it did not start).
    load_error: Vec<String>,
    /// Why the running session ended early, if it did.
    end_reason: Option<String>,
}

fn message_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl<'a> Runner<'a> {
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
        Runner {
            debug: ctx.ui.mode() == Mode::Debug,
            ctx,
            cfg,
            dg,
            sel: Selection::parse(selected),
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
            log_start: None,
            log_last: None,
            maps: LineMaps::default(),
            report: report::Report::default(),
            expected: Vec::new(),
            load_error: Vec::new(),
            end_reason: None,
        }
    }

    // ----- output -----

    fn log(&mut self, tag: &str, color: u8, text: &str) {
        if self.ctx.ui.is_json() {
            return;
        }
        let now = std::time::Instant::now();
        let mut timing = String::new();
        match (self.log_start, self.log_last) {
            (Some(start), Some(last)) => {
                timing = format!(
                    "+{:.2}/{:.2}s ",
                    (now - start).as_secs_f64(),
                    (now - last).as_secs_f64()
                );
            }
            _ => self.log_start = Some(now),
        }
        self.log_last = Some(now);
        let head = self.ctx.ui.paint(color, &format!("[{timing}{tag}]"));
        self.ctx.ui.text(&format!("{head} {text}"));
    }

    fn info_enabled(&self) -> bool {
        matches!(self.ctx.ui.mode(), Mode::Default | Mode::Debug)
    }

    fn info(&mut self, text: &str) {
        if self.info_enabled() {
            self.log("info", GREY, text);
        }
    }

    fn warning(&mut self, text: &str) {
        if self.info_enabled() {
            let t = self.ctx.ui.paint(YELLOW, text);
            self.log("warning", YELLOW, &t);
        }
    }

    fn error_line(&mut self, text: &str) {
        let t = self.ctx.ui.paint(RED, text);
        self.log("error", RED, &t);
    }

    fn test_line(&mut self, text: &str) {
        self.log("test", GREY, text);
    }

    fn print(&self, text: &str) {
        self.ctx.ui.text(text);
    }

    fn blank(&self) {
        self.ctx.ui.text("");
    }

    fn debug(&self, class: &str, text: &str) {
        if self.debug {
            self.ctx.ui.text(&format!("[debug:{class}] {text}"));
        }
    }

    fn paint(&self, color: u8, text: &str) -> String {
        self.ctx.ui.paint(color, text)
    }

    // ----- the run -----

    async fn run_tests(&mut self) -> Result<()> {
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
        for file in &files {
            if self.stop_command {
                break;
            }
            self.run_on_device_group(file).await?;
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
            let t = self.paint(GREEN, "Testing succeeded");
            self.info(&t);
        } else {
            let t = self.paint(RED, "Testing failed");
            self.info(&t);
        }
        Ok(())
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
                self.on_error(TestError::Central(e));
                return Ok(());
            }
        };
        self.ctx.ui.info(&format!(
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
            let w = self.paint(YELLOW, &format!("Warning: please ensure imp device {device_id} is online. Current test will fail if the device under test is physically offline"));
            self.ctx.ui.info(&w);
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
        let opened = async {
            let client = ctx.client().await?;
            let stream = LogStream::open(client).await?;
            // As the original: give the new stream a second before subscribing the device.
            tokio::time::sleep(Duration::from_secs(1)).await;
            stream.add_device(client, device_id).await?;
            Ok::<_, ImptError>(stream)
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
        let mut is_open = false;
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
        drop(stream);
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
            Ok(_) => self.ctx.ui.info(&format!(
                "Device \"{device_id}\" is assigned successfully to Device Group \"{dg_id}\"."
            )),
            Err(e) => self.after_error(TestError::Central(e)),
        }
    }

    fn finish_session(&mut self) {
        self.start_deadline = None;
        self.message_deadline = None;
        let reason = self.end_reason.take();
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
            let m = self.paint(RED, &format!("Session \"{name}\" failed"));
            self.test_line(&m);
        } else {
            let m = self.paint(GREEN, &format!("Session \"{name}\" succeeded"));
            self.test_line(&m);
        }
        self.tests += t;
        self.assertions += a;
        self.failure_count += f;
    }

    /// A runtime error before the session started: remembered as the likely reason, and the
    /// start is given only a few more seconds (the framework starts 2 s after loading).
    fn note_load_error(&mut self, text: &str) {
        if matches!(self.state(), State::Started | State::Finished) || self.load_error.len() >= 12 {
            return;
        }
        self.load_error.push(text.to_string());
        let soon = Instant::now() + Duration::from_secs(4);
        if self.start_deadline.is_some_and(|d| d > soon) {
            self.start_deadline = Some(soon);
        }
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
                }
            }
            LogEvent::CodeSpaceUsage(v) => {
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
                let v = self.maps.map("server.error", &v).map_or(v, |m| m.text);
                self.note_load_error(&v);
                let m = format!("Device Runtime Error: {v}");
                return self.error_or_warning(TestError::DeviceRuntime(m.clone()), &m);
            }
            LogEvent::AgentError(v) => {
                let v = self.maps.map("agent.error", &v).map_or(v, |m| m.text);
                self.note_load_error(&v);
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
                self.report.fail(&message_text(&message));
                return Err(TestError::Method(message_text(&message)));
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
                    let m = self.paint(RED, &line);
                    self.test_line(&m);
                    self.after_error(TestError::SessionFailed);
                } else {
                    let m = self.paint(GREEN, &line);
                    self.test_line(&m);
                }
                self.session_mut().stop = true;
            }
            "TEST_OK" => {
                self.report.ok();
                let m = if message.is_null() {
                    self.paint(GREEN, "Success")
                } else {
                    format!(
                        "{}{}",
                        self.paint(GREEN, "Success: "),
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
                let m = self.paint(CYAN, &inner.to_string());
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
        let text = self.paint(CYAN, &shown.join("\n"));
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
            TestError::Method(m) => {
                let t = self.paint(RED, &format!("Failure: {m}"));
                self.test_line(&t);
                self.failures.push(Failure {
                    test: self.test_method.clone(),
                    file: self.test_file.clone(),
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
                let t = self.paint(RED, &m);
                self.test_line(&t);
                self.stop_session = !self.cfg.bool("allowDisconnect");
            }
            TestError::DeviceRuntime(m) | TestError::AgentRuntime(m) => {
                ignore = true;
                let t = self.paint(RED, &m);
                self.test_line(&t);
                self.stop_session = false;
            }
            TestError::Device(m) => {
                let t = self.paint(RED, &m);
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
                if matches!(e, ImptError::Api(_)) && !self.ctx.ui.is_json() {
                    self.ctx.ui.error(&e);
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
