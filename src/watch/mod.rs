//! `impt watch`: save a file, see your device's logs.
//!
//! Stages, each testable alone: events ([`watcher`], notify, filtered by [`ignore`]) →
//! [`debounce`] (the only one) → [`pipeline`]'s build (the [`builder`](impt_builder), hash
//! in [`source`]), deploy and restart, while [`stream`] keeps the log stream alive → render
//! ([`crate::output::watch`]: text with a status line, or JSON lines). The loop below only
//! moves messages between them. [`settings`] reads `impt.toml`; [`sim`] sets up `--sim`;
//! [`keys`] reads `r`/`c`/`q`.
//!
//! Iterations never overlap: a change that arrives while one runs marks the loop dirty and
//! the newest state is built once the running iteration ends.

pub mod api;
pub mod debounce;
pub mod factory;
pub mod ignore;
pub mod keys;
pub mod pipeline;
pub mod settings;
pub mod sim;
pub mod source;
pub mod stream;
pub mod testpass;
pub mod watcher;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::{attr_str, id_of, rel_id};
use crate::config::project::{ProjectFile, PROJECT_FILE};
use crate::error::{ImptError, Result};
use crate::output::watch::{DeviceInfo, Event, WatchRenderer};
use crate::output::Mode;
use api::Api;
use debounce::Debounce;
use keys::Key;
use pipeline::{Outcome, Target};
use settings::{Overrides, Settings};
use source::{display_path, Sources};

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
}

/// Runs the loop; the exit code.
pub fn run(opts: Options) -> i32 {
    let rt = match crate::sync::runtime(Some(2)) {
        Ok(rt) => rt,
        Err(e) => {
            crate::output::stderr_line(&format!("Error: {e}"));
            return 1;
        }
    };
    let mut r = crate::output::logfilter::filtered(crate::output::watch::renderer(opts.mode));
    let code = match rt.block_on(main(opts, r.as_mut())) {
        Ok(()) => 0,
        Err(e) => {
            r.emit(&Event::Error {
                message: e.to_string(),
            });
            r.finish();
            1
        }
    };
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    code
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
        Some(source::code_hash(&code("device_code"), &code("agent_code"))),
        attr_str(&dep, "sha").map(str::to_string),
    ))
}

/// Sources from the options and the project file.
fn project_sources(opts: &Options, project: Option<&ProjectFile>) -> Sources {
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

async fn setup_project(opts: &Options) -> Result<Setup> {
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
    })
}

/// Everything the loop reacts to.
enum Msg {
    Changed(Vec<PathBuf>, watcher::Phase),
    Key(Key),
    Event(Event),
    Done(Outcome),
    /// Retry the held save (if the loop's generation is still this one).
    Retry(u64),
    /// A device loaded code that this loop did not deploy: the sha of the group's current
    /// deployment then (`None`: unknown).
    Runs(String, Option<String>),
}

/// The sha of a Device Group's current deployment (`None` when it cannot be read in 10 s).
async fn running_sha(api: Arc<Api>, dg_id: String) -> Option<String> {
    let ask = async {
        let c = api.client().await.ok()?;
        let dg = c
            .get_entity(crate::error::Entity::DeviceGroup, &dg_id)
            .await
            .ok()??;
        current_deployment(&api, &dg).await.ok()?.1
    };
    tokio::time::timeout(Duration::from_secs(10), ask)
        .await
        .ok()
        .flatten()
}

/// First wait before a held save is retried; doubles up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(15);
/// How often the auth file is read again while a save waits for a login.
const LOGIN_POLL: Duration = Duration::from_secs(1);

async fn main(opts: Options, r: &mut dyn WatchRenderer) -> Result<()> {
    let base = opts.sim.clone().unwrap_or(opts.dir.clone());
    let file = settings::load_file(&base)?;
    let settings = settings::merge(&base, file, opts.flags.clone())?;
    let setup = match &opts.sim {
        Some(dir) => sim::setup(dir, opts.sim_config.clone(), |ev| r.emit(&ev)).await?,
        None => setup_project(&opts).await?,
    };
    r.flush();
    watch_loop(opts, settings, setup, r).await
}

struct Loop {
    tx: mpsc::UnboundedSender<Msg>,
    api: Arc<Api>,
    target: Target,
    sources: Sources,
    settings: Settings,
    deployed: Option<String>,
    devices: usize,
    local_check: bool,
    maps: pipeline::LineMapsBySha,
    running: bool,
    pending: Option<Pending>,
    /// What the running iteration deploys (kept when it fails in a way that passes).
    inflight: Option<Pending>,
    /// A save that was not deployed and waits for its retry.
    held: Option<Pending>,
    /// Counts finished iterations; a retry for an older one is dropped.
    generation: u64,
    retry_delay: Duration,
    /// The task that triggers the held save's retry.
    waiter: Option<tokio::task::JoinHandle<()>>,
}

/// A requested iteration.
#[derive(Clone, Default)]
struct Pending {
    force: bool,
    since: Option<Instant>,
    changed: BTreeSet<String>,
}

impl Pending {
    /// Adds an older request's changes.
    fn merge(&mut self, older: Pending) {
        self.force |= older.force;
        self.since = match (self.since, older.since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.changed.extend(older.changed);
    }
}

impl Loop {
    fn request(&mut self, force: bool, since: Instant, changed: Vec<String>) {
        let held = self.held.take();
        let p = self.pending.get_or_insert_with(Pending::default);
        if let Some(h) = held {
            // A newer save replaces the held one (and keeps its changes in the description).
            p.merge(h);
        }
        p.force |= force;
        p.since.get_or_insert(since);
        p.changed.extend(changed);
        self.start_if_idle();
    }

    fn start_if_idle(&mut self) {
        if self.running {
            return;
        }
        let Some(p) = self.pending.take() else { return };
        self.running = true;
        self.inflight = Some(p.clone());
        let job = pipeline::Job {
            api: self.api.clone(),
            target: self.target.clone(),
            sources: self.sources.clone(),
            tags: self.settings.tags.clone(),
            restart: self.settings.restart,
            deployed: self.deployed.clone(),
            force: p.force,
            since: p.since.unwrap_or_else(Instant::now),
            changed: p.changed.into_iter().collect(),
            devices: self.devices,
            local_check: self.local_check,
            maps: self.maps.clone(),
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let (etx, mut erx) = mpsc::unbounded_channel();
            let fwd_tx = tx.clone();
            let fwd = tokio::spawn(async move {
                while let Some(ev) = erx.recv().await {
                    let _ = fwd_tx.send(Msg::Event(ev));
                }
            });
            let out = pipeline::run(job, etx).await;
            let _ = fwd.await;
            let _ = tx.send(Msg::Done(out));
        });
    }

    /// An iteration ended: a save that was not deployed for a passing reason stays pending
    /// and is retried with backoff, or once a login works; a newer save replaces it.
    fn finished(&mut self, hold: Option<pipeline::Hold>, r: &mut dyn WatchRenderer) {
        self.running = false;
        self.generation += 1;
        if let Some(w) = self.waiter.take() {
            w.abort();
        }
        let inflight = self.inflight.take();
        let Some(hold) = hold else {
            self.retry_delay = FIRST_RETRY;
            self.start_if_idle();
            return;
        };
        let mut held = inflight.unwrap_or_default();
        if let Some(p) = self.pending.as_mut() {
            p.merge(held);
            self.start_if_idle();
            return;
        }
        if let Some(older) = self.held.take() {
            held.merge(older);
        }
        self.held = Some(held);
        let (tx, generation) = (self.tx.clone(), self.generation);
        match hold {
            pipeline::Hold::Transient(reason) => {
                let delay = self.retry_delay;
                self.retry_delay = (delay * 2).min(MAX_RETRY);
                r.emit(&Event::Pending {
                    reason,
                    retry_ms: Some(delay.as_millis() as u64),
                    login: false,
                });
                self.waiter = Some(tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Msg::Retry(generation));
                }));
            }
            pipeline::Hold::Login(reason) => {
                r.emit(&Event::Pending {
                    reason,
                    retry_ms: None,
                    login: true,
                });
                let api = self.api.clone();
                self.waiter = Some(tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(LOGIN_POLL).await;
                        if let Ok(true) = api.reload_auth().await {
                            let _ = tx.send(Msg::Retry(generation));
                            return;
                        }
                    }
                }));
            }
        }
    }

    fn retry(&mut self, generation: u64) {
        if generation != self.generation || self.running {
            return;
        }
        if let Some(h) = self.held.take() {
            self.pending.get_or_insert_with(Pending::default).merge(h);
            self.start_if_idle();
        }
    }
}

async fn watch_loop(
    opts: Options,
    settings: Settings,
    setup: Setup,
    r: &mut dyn WatchRenderer,
) -> Result<()> {
    // One Ctrl-C listener for the whole loop, registered before anything is shown, so that a
    // signal arriving at any time after the first event (or while messages are handled) ends
    // the loop cleanly.
    let ctrl_c = crate::commands::core::interrupt::listener()?;
    tokio::pin!(ctrl_c);
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let root = setup.root.clone();
    let project_path = root.join(PROJECT_FILE);

    // Log stream.
    let (etx, mut erx) = mpsc::unbounded_channel::<Event>();
    let fwd = tx.clone();
    tokio::spawn(async move {
        while let Some(ev) = erx.recv().await {
            if fwd.send(Msg::Event(ev)).is_err() {
                break;
            }
        }
    });
    let mut stream_task = stream::spawn(
        setup.api.clone(),
        setup.target.dg_id.clone(),
        &setup.devices,
        etx.clone(),
    );
    let mut factory = factory_for(&setup.api, &setup.target, &setup.devices, &etx);

    // Files.
    let ignore = ignore::Ignore::new(&settings.ignore).map_err(ImptError::msg)?;
    let wtx = tx.clone();
    let wtx2 = tx.clone();
    let mut watcher = watcher::Watcher::new(
        &root,
        ignore,
        move |paths, phase| {
            let _ = wtx.send(Msg::Changed(paths, phase));
        },
        move |e| {
            let _ = wtx2.send(Msg::Event(Event::Error {
                message: format!("watching: {e}"),
            }));
        },
    )
    .map_err(|e| ImptError::msg(format!("cannot watch files: {e}")))?;
    let extra_dirs: Vec<PathBuf> = settings
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .cloned()
        .collect();
    let extra_files: Vec<PathBuf> = settings
        .paths
        .iter()
        .filter(|p| !p.is_dir())
        .cloned()
        .collect();
    let mut watched: (Vec<PathBuf>, bool) = (Vec::new(), false);
    // `broken`: the code does not build; the files known so far stay watched, and so does
    // everything below the project's directory (an include created or fixed anywhere).
    let mut set_watched = |files: &[PathBuf],
                           broken: bool,
                           watcher: &mut watcher::Watcher,
                           r: &mut dyn WatchRenderer| {
        let mut all: Vec<PathBuf> = files.to_vec();
        all.extend(extra_files.iter().cloned());
        if opts.sim.is_none() {
            all.push(project_path.clone());
        }
        if broken {
            all.extend(watched.0.iter().cloned());
        }
        all.sort();
        all.dedup();
        if (&all, broken) != (&watched.0, watched.1) {
            let mut dirs = extra_dirs.clone();
            if broken {
                dirs.push(root.clone());
            }
            for e in watcher.set(&all, &dirs) {
                r.emit(&Event::Error {
                    message: format!("watching: {e}"),
                });
            }
            let mut shown: Vec<String> = all.iter().map(|f| display_path(&root, f)).collect();
            shown.extend(dirs.iter().map(|d| match display_path(&root, d) {
                d if d.is_empty() => "./".to_string(),
                d => d + "/",
            }));
            r.emit(&Event::Watching { files: shown });
            watched = (all, broken);
        }
    };
    let initial: Vec<PathBuf> = setup
        .sources
        .device
        .iter()
        .chain(&setup.sources.agent)
        .cloned()
        .collect();
    r.emit(&Event::Started {
        dg_id: setup.target.dg_id.clone(),
        dg_name: setup.dg_name.clone(),
        dg_type: setup.target.dg_type.clone(),
        sha: setup.sha.clone(),
        devices: setup.devices.clone(),
    });
    set_watched(&initial, false, &mut watcher, r);
    r.flush();

    let ktx = tx.clone();
    keys::spawn(move |k| ktx.send(Msg::Key(k)).is_ok());

    let mut lp = Loop {
        tx: tx.clone(),
        api: setup.api.clone(),
        target: setup.target.clone(),
        sources: setup.sources.clone(),
        settings: settings.clone(),
        deployed: setup.deployed.clone(),
        devices: setup.devices.len(),
        local_check: !opts.no_local_check,
        maps: Default::default(),
        running: false,
        pending: None,
        inflight: None,
        held: None,
        generation: 0,
        retry_delay: FIRST_RETRY,
        waiter: None,
    };
    // The first iteration: deploys in --sim mode, otherwise only reads the files (and tells
    // whether they differ from the deployment).
    // With --sim the first deployment waits for the log stream, so that no boot line is missed.
    let mut deploy_when_streaming = setup.deploy_on_start;
    if !setup.deploy_on_start {
        let sources = setup.sources.clone();
        if let Ok(Ok(code)) = tokio::task::spawn_blocking(move || source::load(&sources)).await {
            set_watched(&code.files(), false, &mut watcher, r);
            if let (Some(sha), true) = (
                &setup.sha,
                lp.deployed.as_deref() == Some(code.hash.as_str()),
            ) {
                lp.maps
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(sha.clone(), Arc::new(pipeline::line_maps(&code)));
            }
            if lp.deployed.as_deref() != Some(code.hash.as_str()) {
                r.emit(&Event::Info {
                    message: "The local code differs from the deployed one: save a file or press r to deploy.".into(),
                });
            }
        }
        r.flush();
    }

    let mut debounce = Debounce::new(settings.debounce);
    let mut restarts = Restarts {
        sha: setup.sha.clone(),
        waiting: BTreeSet::new(),
        restarting: settings.restart != settings::RestartMode::None,
        running: Default::default(),
        initial: setup.sha.clone(),
        divided: BTreeSet::new(),
        foreign: Vec::new(),
        asking: BTreeSet::new(),
    };
    let mut stream_devices: Vec<String> = setup.devices.iter().map(|d| d.id.clone()).collect();
    let mut device_infos = setup.devices.clone();
    // Log events of devices whose code is being asked for (see `Msg::Runs`).
    let mut held_logs: Vec<Event> = Vec::new();
    let mut test_stage = match (&opts.tests, settings.test) {
        (Some(t), true) => Some(testpass::Tests::new(t.0.clone())),
        _ => None,
    };
    let _sim = setup.sim;
    loop {
        let due = debounce.due();
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = async { tokio::time::sleep_until(due.unwrap().into()).await }, if due.is_some() => {
                let Some(batch) = debounce.take_due(Instant::now()) else { continue };
                if batch.paths.contains(&project_path) {
                    if let Err(e) = reload(&opts, &mut lp, &mut stream_task, &etx).await {
                        r.emit(&Event::Error { message: e.to_string() });
                    }
                }
                let paths: Vec<String> = batch
                    .paths
                    .iter()
                    .map(|p| display_path(&root, p))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                r.emit(&Event::Changed { paths: paths.clone() });
                // Deploy times count from here: the debounce is the user's setting, not work.
                lp.request(false, Instant::now(), paths);
                r.flush();
                continue;
            }
            _ = &mut ctrl_c => Some(Msg::Key(Key::Quit)),
        };
        let Some(msg) = msg else { break };
        let mut pending_msgs = vec![msg];
        // Drain what is queued, then render once.
        while let Ok(m) = rx.try_recv() {
            pending_msgs.push(m);
            if pending_msgs.len() > 4096 {
                break;
            }
        }
        for msg in pending_msgs {
            // Events are handled in the order they came, each message's before the next.
            let mut events: Vec<Event> = Vec::new();
            match msg {
                Msg::Changed(paths, phase) => match phase {
                    watcher::Phase::Writing => debounce.writing(paths, Instant::now()),
                    watcher::Phase::Closed => debounce.closed(paths, Instant::now()),
                    watcher::Phase::Other => debounce.push(paths, Instant::now()),
                },
                Msg::Key(Key::Redeploy) => lp.request(true, Instant::now(), vec![]),
                Msg::Key(Key::Clear) => r.clear(),
                Msg::Key(Key::Stream) => {
                    stream_task.abort();
                    stream_task = stream::spawn(
                        lp.api.clone(),
                        lp.target.dg_id.clone(),
                        &device_infos,
                        etx.clone(),
                    );
                }
                Msg::Key(Key::Quit) => {
                    stream_task.abort();
                    r.emit(&Event::Quit);
                    r.finish();
                    return Ok(());
                }
                Msg::Event(ev) => events.push(ev),
                Msg::Runs(device, sha) => {
                    restarts.asking.remove(&device);
                    restarts
                        .running
                        .insert(device.clone(), sha.unwrap_or_default());
                    let (mine, rest): (Vec<Event>, Vec<Event>) = std::mem::take(&mut held_logs)
                        .into_iter()
                        .partition(|e| matches!(e, Event::Log(l) if l.device_id == device));
                    held_logs = rest;
                    events.extend(mine);
                }
                Msg::Done(out) => {
                    lp.deployed = out.deployed.clone();
                    set_watched(&out.files, out.broken, &mut watcher, r);
                    lp.finished(out.hold, r);
                }
                Msg::Retry(generation) => lp.retry(generation),
            }
            for mut ev in events {
                if let Event::Log(l) = &ev {
                    if restarts.asking.contains(&l.device_id) {
                        held_logs.push(ev);
                        continue;
                    }
                }
                if let Event::Log(l) = &mut ev {
                    restarts.map_error(l, &lp.maps);
                }
                if let Event::StreamOpened { devices, .. } = &ev {
                    lp.devices = devices.len();
                    stream_devices = devices.clone();
                }
                if let Some(d) = restarts.on_event(&ev, &stream_devices) {
                    r.emit(&d);
                }
                for device in std::mem::take(&mut restarts.foreign) {
                    let (api, dg, tx) = (lp.api.clone(), lp.target.dg_id.clone(), tx.clone());
                    tokio::spawn(async move {
                        let sha = running_sha(api, dg).await;
                        let _ = tx.send(Msg::Runs(device, sha));
                    });
                }
                if let (Some(f), Event::Log(l)) = (&factory, &ev) {
                    f.fixture_log(l);
                }
                if let Event::Started { devices, .. } = &ev {
                    // the project now names another Device Group
                    factory = factory_for(&lp.api, &lp.target, devices, &etx);
                    device_infos = devices.clone();
                }
                let streaming = matches!(ev, Event::StreamOpened { .. } | Event::StreamLost { .. });
                r.emit(&ev);
                if let Some(t) = test_stage.as_mut() {
                    match &ev {
                        Event::Deployed { .. } => {
                            let changed = lp
                                .inflight
                                .as_ref()
                                .map(|p| p.changed.iter().cloned().collect())
                                .unwrap_or_default();
                            t.start(changed, testpass::sender(tx.clone(), Msg::Event));
                        }
                        Event::TestsDone { .. } => t.finished(),
                        _ => {}
                    }
                }
                if streaming && deploy_when_streaming {
                    deploy_when_streaming = false;
                    lp.request(false, Instant::now(), vec![]);
                }
            }
        }
        r.flush();
    }
    r.finish();
    Ok(())
}

/// Where each device restarts into new code: after a restart request, a device's first
/// status line (the agent restarting, the code downloading, the device connecting) gets a
/// divider before it, so that lines of the old and new code are never confused.
struct Restarts {
    /// The sha of the last deployment.
    sha: Option<String>,
    /// Devices restarting into it whose first status line has not come yet.
    waiting: BTreeSet<String>,
    /// Deployments are followed by a restart (not `--no-restart`).
    restarting: bool,
    /// The sha each device runs, from its divider on (else the one at the start).
    running: std::collections::HashMap<String, String>,
    /// The sha running when the loop started.
    initial: Option<String>,
    /// Devices past their divider whose code load line has not come yet.
    divided: BTreeSet<String>,
    /// Devices that just loaded code this loop did not deploy: which code is asked for.
    foreign: Vec<String>,
    /// Devices whose code is being asked for: their lines wait for the answer.
    asking: BTreeSet<String>,
}

impl Restarts {
    /// An error frame of `l` mapped to the user's file through the line map of the code the
    /// device runs.
    fn map_error(&self, l: &mut crate::output::watch::LogLine, maps: &pipeline::LineMapsBySha) {
        if !l.typ.ends_with("error") {
            return;
        }
        let Some(sha) = self.running.get(&l.device_id).or(self.initial.as_ref()) else {
            return;
        };
        let Some(map) = maps
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sha)
            .cloned()
        else {
            return;
        };
        if let Some(m) = map.map(&l.typ, &l.msg) {
            l.mapped = Some(crate::output::watch::MappedAt {
                file: m.file,
                line: m.line,
                raw_msg: std::mem::replace(&mut l.msg, m.text),
            });
        }
    }

    /// The divider to show before `ev`, if any.
    fn on_event(&mut self, ev: &Event, devices: &[String]) -> Option<Event> {
        match ev {
            // The devices' boot lines may come before the answer to the restart request.
            Event::Deployed { sha, .. } => {
                self.sha = Some(sha.clone());
                self.waiting = if self.restarting {
                    devices.iter().cloned().collect()
                } else {
                    BTreeSet::new()
                };
                None
            }
            Event::Log(l) if l.typ == "status" && !l.replayed => {
                if !self.waiting.remove(&l.device_id) {
                    // A code load that is not ours (a restart or a deployment from
                    // elsewhere): which code runs is asked for (the group's current
                    // deployment); until the answer its errors are not mapped.
                    if l.msg.starts_with("Downloading new code")
                        && !self.divided.remove(&l.device_id)
                    {
                        self.running.insert(l.device_id.clone(), String::new());
                        self.asking.insert(l.device_id.clone());
                        self.foreign.push(l.device_id.clone());
                    }
                    return None;
                }
                if !l.msg.starts_with("Downloading new code") {
                    self.divided.insert(l.device_id.clone());
                }
                if let Some(sha) = &self.sha {
                    self.running.insert(l.device_id.clone(), sha.clone());
                }
                Some(Event::Divider {
                    device_id: l.device_id.clone(),
                    sha: self.sha.clone(),
                })
            }
            _ => None,
        }
    }
}

/// The factory follower of a fixture group (see [`factory`]), `None` for other groups.
fn factory_for(
    api: &Arc<Api>,
    target: &Target,
    devices: &[DeviceInfo],
    etx: &mpsc::UnboundedSender<Event>,
) -> Option<factory::Factory> {
    factory::applies(&target.dg_type).then(|| {
        factory::Factory::spawn(
            api.clone(),
            target.dg_id.clone(),
            devices.iter().map(|d| d.id.clone()).collect(),
            etx.clone(),
        )
    })
}

/// `.impt.project` changed: new source files, and maybe a new Device Group.
async fn reload(
    opts: &Options,
    lp: &mut Loop,
    stream_task: &mut tokio::task::JoinHandle<()>,
    etx: &mpsc::UnboundedSender<Event>,
) -> Result<()> {
    let Api::Command(ctx) = lp.api.as_ref() else {
        return Ok(());
    };
    let Some(project) = ProjectFile::load()? else {
        return Ok(());
    };
    lp.sources = project_sources(opts, Some(&project));
    let id = project.device_group_id().unwrap_or_default();
    if opts.dg.is_some() || id == lp.target.dg_id {
        return Ok(());
    }
    ctx.invalidate();
    let dg = crate::commands::core::ident::project_dg(ctx, id).await?;
    let setup = finish_setup(
        lp.api.clone(),
        dg,
        opts.dir.clone(),
        lp.sources.clone(),
        false,
        None,
    )
    .await?;
    stream_task.abort();
    *stream_task = stream::spawn(
        setup.api.clone(),
        setup.target.dg_id.clone(),
        &setup.devices,
        etx.clone(),
    );
    let _ = etx.send(Event::Started {
        dg_id: setup.target.dg_id.clone(),
        dg_name: setup.dg_name.clone(),
        dg_type: setup.target.dg_type.clone(),
        sha: setup.sha.clone(),
        devices: setup.devices.clone(),
    });
    lp.target = setup.target;
    lp.deployed = setup.deployed;
    lp.devices = setup.devices.len();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::watch::LogLine;

    fn status(msg: &str) -> Event {
        Event::Log(LogLine {
            device_id: "d".into(),
            ts: "t".into(),
            typ: "status".into(),
            msg: msg.into(),
            replayed: false,
            mapped: None,
        })
    }

    #[test]
    fn dividers_and_the_code_each_device_runs() {
        let mut r = Restarts {
            sha: Some("s0".into()),
            waiting: BTreeSet::new(),
            restarting: true,
            running: Default::default(),
            initial: Some("s0".into()),
            divided: BTreeSet::new(),
            foreign: Vec::new(),
            asking: BTreeSet::new(),
        };
        let devices = vec!["d".to_string()];
        let deployed = Event::Deployed {
            id: "dep".into(),
            sha: "s1".into(),
            ms: 1,
        };
        assert!(r.on_event(&deployed, &devices).is_none());
        let div = r.on_event(&status("Agent restarted: reload."), &devices);
        assert!(
            matches!(div, Some(Event::Divider { ref sha, .. }) if sha.as_deref() == Some("s1"))
        );
        assert!(r
            .on_event(
                &status("Downloading new code; 3.00% program storage used"),
                &devices
            )
            .is_none());
        assert_eq!(r.running["d"], "s1");
        // A code load from elsewhere: which code runs is unknown.
        r.on_event(&status("Agent restarted: reload."), &devices);
        r.on_event(
            &status("Downloading new code; 3.00% program storage used"),
            &devices,
        );
        assert_eq!(r.running["d"], "");
        assert_eq!(
            r.foreign,
            vec!["d".to_string()],
            "which code it runs is asked for"
        );
        assert!(r.asking.contains("d"));
    }
}
