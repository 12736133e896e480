//! The state of a running `impt watch` and what it does with each message: the setup
//! stage ([`Session::start`]), a due debounce batch ([`Session::on_due`]), the message
//! handler ([`Session::handle`]) and what follows each event ([`Session::on_event`]:
//! dividers and error mapping of [`restarts`](super::restarts), the factory follower, test
//! passes). Iterations themselves are scheduled by [`iteration`](super::iteration).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::api::Api;
use super::debounce::Debounce;
use super::iteration::{Loop, Msg, FIRST_RETRY};
use super::keys::Key;
use super::pipeline::{self, Target};
use super::restarts::Restarts;
use super::settings::{self, Settings};
use super::setup::{self as setup_stage, Options, Setup};
use super::source::{self, display_path};
use super::{factory, ignore, keys, stream, testpass, watcher};
use crate::api::simctl::SimControl;
use crate::config::project::{ProjectFile, PROJECT_FILE};
use crate::error::{ImptError, Result};
use crate::output::watch::{DeviceInfo, Event, WatchRenderer};

/// The sha of a Device Group's current deployment (`None` when it cannot be read in 10 s).
async fn running_sha(api: Arc<Api>, dg_id: String) -> Option<String> {
    let ask = async {
        let c = api.client().await.ok()?;
        let dg = c
            .get_entity(crate::error::Entity::DeviceGroup, &dg_id)
            .await
            .ok()??;
        setup_stage::current_deployment(&api, &dg).await.ok()?.1
    };
    tokio::time::timeout(Duration::from_secs(10), ask)
        .await
        .ok()
        .flatten()
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
    lp.sources = setup_stage::project_sources(opts, Some(&project));
    let id = project.device_group_id().unwrap_or_default();
    if opts.dg.is_some() || id == lp.target.dg_id {
        return Ok(());
    }
    ctx.invalidate();
    let dg = crate::commands::core::ident::project_dg(ctx, id).await?;
    let setup = setup_stage::finish_setup(
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

/// The files being watched: the code's, `--path`/`[watch] paths`, the project file.
struct Watched {
    root: PathBuf,
    /// `.impt.project` (not with `--sim`).
    project: Option<PathBuf>,
    extra_files: Vec<PathBuf>,
    extra_dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
    broken: bool,
}

impl Watched {
    /// Watches `files` (and the extra paths). `broken`: the code does not build; the files
    /// known so far stay watched, and so does everything below the project's directory (an
    /// include created or fixed anywhere).
    fn set(
        &mut self,
        files: &[PathBuf],
        broken: bool,
        watcher: &mut watcher::Watcher,
        r: &mut dyn WatchRenderer,
    ) {
        let mut all: Vec<PathBuf> = files.to_vec();
        all.extend(self.extra_files.iter().cloned());
        all.extend(self.project.iter().cloned());
        if broken {
            all.extend(self.files.iter().cloned());
        }
        all.sort();
        all.dedup();
        if (&all, broken) == (&self.files, self.broken) {
            return;
        }
        let mut dirs = self.extra_dirs.clone();
        if broken {
            dirs.push(self.root.clone());
        }
        for e in watcher.set(&all, &dirs) {
            r.emit(&Event::Error {
                message: format!("watching: {e}"),
            });
        }
        let mut shown: Vec<String> = all.iter().map(|f| display_path(&self.root, f)).collect();
        shown.extend(dirs.iter().map(|d| match display_path(&self.root, d) {
            d if d.is_empty() => "./".to_string(),
            d => d + "/",
        }));
        r.emit(&Event::Watching { files: shown });
        self.files = all;
        self.broken = broken;
    }
}

/// What [`Session::handle`] tells the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Go,
    Quit,
}

/// Everything the loop keeps between messages.
pub struct Session {
    opts: Options,
    tx: mpsc::UnboundedSender<Msg>,
    /// Where the log stream and the factory follower send their events.
    etx: mpsc::UnboundedSender<Event>,
    root: PathBuf,
    project_path: PathBuf,
    lp: Loop,
    pub debounce: Debounce,
    restarts: Restarts,
    stream_task: tokio::task::JoinHandle<()>,
    factory: Option<factory::Factory>,
    watcher: watcher::Watcher,
    watched: Watched,
    stream_devices: Vec<String>,
    device_infos: Vec<DeviceInfo>,
    /// Log events of devices whose code is being asked for (see `Msg::Runs`).
    held_logs: Vec<Event>,
    test_stage: Option<testpass::Tests>,
    /// With --sim the first deployment waits for the log stream, so that no boot line is
    /// missed.
    deploy_when_streaming: bool,
    /// `--sim`: what the `d`, `p` and `b` keys ask of the simulator, done in order.
    sim_keys: Option<mpsc::UnboundedSender<SimAction>>,
    /// The `d` key cut the devices' connection.
    link_cut: bool,
    /// The level the `b` key last set.
    button_high: bool,
    _sim: Option<impt_sim::SimHandle>,
}

/// What a `--sim` key asks of the simulator, for every device of the loop.
enum SimAction {
    Cut(Vec<String>),
    Restore(Vec<String>),
    PowerCycle(Vec<String>),
    Pin(Vec<String>, String, bool),
}

impl SimAction {
    async fn run(self, sim: &SimControl) -> crate::error::Result<String> {
        match self {
            SimAction::Cut(devices) => {
                for d in &devices {
                    sim.disconnect(d, None, None).await?;
                }
                Ok("Connection cut: press d to restore it.".into())
            }
            SimAction::Restore(devices) => {
                for d in &devices {
                    sim.reconnect(d).await?;
                }
                Ok("Connection restored.".into())
            }
            SimAction::PowerCycle(devices) => {
                for d in &devices {
                    sim.power_cycle(d).await?;
                }
                Ok("Powered off and on.".into())
            }
            SimAction::Pin(devices, pin, high) => {
                let level = u8::from(high);
                for d in &devices {
                    sim.pin(d, &pin, serde_json::json!(level)).await?;
                }
                Ok(format!("{pin} → {level}"))
            }
        }
    }
}

/// The keys listed on the status line with `--sim`.
fn sim_key_hint(button: Option<&str>) -> String {
    let b = button.map(|p| format!(" · b {p}")).unwrap_or_default();
    format!("r redeploy · d cut/restore link · p power-cycle{b} · c clear · q quit")
}

/// Runs the `--sim` keys' requests one after the other; each answer becomes an event.
fn spawn_sim_keys(
    sim: SimControl,
    tx: mpsc::UnboundedSender<Msg>,
) -> mpsc::UnboundedSender<SimAction> {
    let (atx, mut arx) = mpsc::unbounded_channel::<SimAction>();
    tokio::spawn(async move {
        while let Some(a) = arx.recv().await {
            let ev = match a.run(&sim).await {
                Ok(message) => Event::Info { message },
                Err(e) => Event::Error {
                    message: format!("simulator: {e}"),
                },
            };
            if tx.send(Msg::Event(ev)).is_err() {
                return;
            }
        }
    });
    atx
}

impl Session {
    /// The setup stage: the log stream, the file watcher and the keys start; the first
    /// iteration deploys in --sim mode, otherwise only reads the files (and tells whether
    /// they differ from the deployment).
    pub async fn start(
        opts: Options,
        settings: Settings,
        setup: Setup,
        tx: mpsc::UnboundedSender<Msg>,
        r: &mut dyn WatchRenderer,
    ) -> Result<Session> {
        let root = setup.root.clone();
        let project_path = root.join(PROJECT_FILE);
        let (etx, mut erx) = mpsc::unbounded_channel::<Event>();
        let fwd = tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = erx.recv().await {
                if fwd.send(Msg::Event(ev)).is_err() {
                    break;
                }
            }
        });
        let stream_task = stream::spawn(
            setup.api.clone(),
            setup.target.dg_id.clone(),
            &setup.devices,
            etx.clone(),
        );
        let factory = factory_for(&setup.api, &setup.target, &setup.devices, &etx);
        let mut watcher = file_watcher(&root, &settings, &tx)?;
        let (extra_dirs, extra_files) = settings.paths.iter().cloned().partition(|p| p.is_dir());
        let mut watched = Watched {
            root: root.clone(),
            project: opts.sim.is_none().then(|| project_path.clone()),
            extra_files,
            extra_dirs,
            files: Vec::new(),
            broken: false,
        };
        r.emit(&Event::Started {
            dg_id: setup.target.dg_id.clone(),
            dg_name: setup.dg_name.clone(),
            dg_type: setup.target.dg_type.clone(),
            sha: setup.sha.clone(),
            devices: setup.devices.clone(),
        });
        let initial: Vec<PathBuf> = setup
            .sources
            .device
            .iter()
            .chain(&setup.sources.agent)
            .cloned()
            .collect();
        watched.set(&initial, false, &mut watcher, r);
        r.flush();
        if setup.sim.is_some() {
            r.keys(&sim_key_hint(opts.button.as_deref()));
        }
        let ktx = tx.clone();
        keys::spawn(move |k| ktx.send(Msg::Key(k)).is_ok());
        let test_stage = match (&opts.tests, settings.test) {
            (Some(t), true) => Some(testpass::Tests::new(
                t.0.clone(),
                setup.test_target.clone(),
                settings.virtual_time,
            )),
            _ => None,
        };
        let mut s = Session {
            lp: Loop {
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
            },
            debounce: Debounce::new(settings.debounce),
            restarts: Restarts {
                sha: setup.sha.clone(),
                waiting: BTreeSet::new(),
                restarting: settings.restart != settings::RestartMode::None,
                running: Default::default(),
                initial: setup.sha.clone(),
                divided: BTreeSet::new(),
                foreign: Vec::new(),
                asking: BTreeSet::new(),
            },
            stream_devices: setup.devices.iter().map(|d| d.id.clone()).collect(),
            device_infos: setup.devices.clone(),
            held_logs: Vec::new(),
            deploy_when_streaming: setup.deploy_on_start,
            sim_keys: setup
                .sim
                .as_ref()
                .map(|h| spawn_sim_keys(SimControl::new(&h.base_url()), tx.clone())),
            link_cut: false,
            button_high: false,
            opts,
            tx,
            etx,
            root,
            project_path,
            stream_task,
            factory,
            watcher,
            watched,
            test_stage,
            _sim: setup.sim,
        };
        if !setup.deploy_on_start {
            s.read_first(setup.sources, setup.sha, r).await;
        }
        Ok(s)
    }

    /// The first look at the files when nothing is deployed on start.
    async fn read_first(
        &mut self,
        sources: source::Sources,
        sha: Option<String>,
        r: &mut dyn WatchRenderer,
    ) {
        if let Ok(Ok(code)) = tokio::task::spawn_blocking(move || source::load(&sources)).await {
            self.watched.set(&code.files(), false, &mut self.watcher, r);
            let same = self.lp.deployed.as_deref() == Some(code.hash.as_str());
            if let (Some(sha), true) = (&sha, same) {
                crate::sync::lock(&self.lp.maps)
                    .insert(sha.clone(), Arc::new(pipeline::line_maps(&code)));
            }
            if !same {
                r.emit(&Event::Info {
                    message: "The local code differs from the deployed one: save a file or press r to deploy.".into(),
                });
            }
        }
        r.flush();
    }

    /// The debounce let a batch of changes through: deploy it.
    pub async fn on_due(&mut self, r: &mut dyn WatchRenderer) {
        let Some(batch) = self.debounce.take_due(Instant::now()) else {
            return;
        };
        if batch.paths.contains(&self.project_path) {
            if let Err(e) = reload(&self.opts, &mut self.lp, &mut self.stream_task, &self.etx).await
            {
                r.emit(&Event::Error {
                    message: e.to_string(),
                });
            }
        }
        let paths: Vec<String> = batch
            .paths
            .iter()
            .map(|p| display_path(&self.root, p))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        r.emit(&Event::Changed {
            paths: paths.clone(),
        });
        // Deploy times count from here: the debounce is the user's setting, not work.
        self.lp.request(false, Instant::now(), paths);
        r.flush();
    }

    /// The message handler; its events are shown in the order they came.
    pub fn handle(&mut self, msg: Msg, r: &mut dyn WatchRenderer) -> Flow {
        let mut events: Vec<Event> = Vec::new();
        match msg {
            Msg::Changed(paths, phase) => match phase {
                watcher::Phase::Writing => self.debounce.writing(paths, Instant::now()),
                watcher::Phase::Closed => self.debounce.closed(paths, Instant::now()),
                watcher::Phase::Other => self.debounce.push(paths, Instant::now()),
            },
            Msg::Key(Key::Redeploy) => self.lp.request(true, Instant::now(), vec![]),
            Msg::Key(Key::Clear) => r.clear(),
            Msg::Key(Key::Stream) => {
                self.stream_task.abort();
                self.stream_task = stream::spawn(
                    self.lp.api.clone(),
                    self.lp.target.dg_id.clone(),
                    &self.device_infos,
                    self.etx.clone(),
                );
            }
            Msg::Key(Key::Quit) => {
                self.stream_task.abort();
                if let Some(t) = self.test_stage.as_mut() {
                    t.stop();
                }
                r.emit(&Event::Quit);
                r.finish();
                return Flow::Quit;
            }
            Msg::Key(k @ (Key::Link | Key::Power | Key::Button)) => self.sim_key(k, r),
            Msg::Event(ev) => events.push(ev),
            Msg::Runs(device, sha) => {
                self.restarts.asking.remove(&device);
                self.restarts
                    .running
                    .insert(device.clone(), sha.unwrap_or_default());
                let (mine, rest): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.held_logs)
                    .into_iter()
                    .partition(|e| matches!(e, Event::Log(l) if l.device_id == device));
                self.held_logs = rest;
                events.extend(mine);
            }
            Msg::Done(out) => {
                self.lp.deployed = out.deployed.clone();
                self.watched
                    .set(&out.files, out.broken, &mut self.watcher, r);
                self.lp.finished(out.hold, r);
            }
            Msg::Retry(generation) => self.lp.retry(generation),
        }
        for ev in events {
            self.on_event(ev, r);
        }
        Flow::Go
    }

    /// `d`, `p`, `b` with `--sim`: the request goes to the simulator's control endpoints for
    /// every device of the loop; its answer comes back as an event.
    fn sim_key(&mut self, key: Key, r: &mut dyn WatchRenderer) {
        let Some(sim) = &self.sim_keys else {
            r.emit(&Event::Info {
                message: "The keys d, p and b drive virtual devices: impt watch --sim.".into(),
            });
            return;
        };
        let devices = self.stream_devices.clone();
        let action = match key {
            Key::Link => {
                self.link_cut = !self.link_cut;
                if self.link_cut {
                    SimAction::Cut(devices)
                } else {
                    SimAction::Restore(devices)
                }
            }
            Key::Power => SimAction::PowerCycle(devices),
            _ => {
                let Some(pin) = self.opts.button.clone() else {
                    r.emit(&Event::Info {
                        message: "The key b toggles the pin of --button PIN.".into(),
                    });
                    return;
                };
                self.button_high = !self.button_high;
                SimAction::Pin(devices, pin, self.button_high)
            }
        };
        let _ = sim.send(action);
    }

    /// One event: held while its device's code is asked for, its error mapped, a divider
    /// before it, shown; then the factory follower, the test stage and the first --sim
    /// deployment follow it.
    fn on_event(&mut self, mut ev: Event, r: &mut dyn WatchRenderer) {
        if let Event::Log(l) = &mut ev {
            if self.restarts.asking.contains(&l.device_id) {
                self.held_logs.push(ev);
                return;
            }
            self.restarts.map_error(l, &self.lp.maps);
        }
        if let Event::StreamOpened { devices, .. } = &ev {
            self.lp.devices = devices.len();
            self.stream_devices = devices.clone();
        }
        if let Some(d) = self.restarts.on_event(&ev, &self.stream_devices) {
            r.emit(&d);
        }
        for device in std::mem::take(&mut self.restarts.foreign) {
            let (api, dg, tx) = (
                self.lp.api.clone(),
                self.lp.target.dg_id.clone(),
                self.tx.clone(),
            );
            tokio::spawn(async move {
                let sha = running_sha(api, dg).await;
                let _ = tx.send(Msg::Runs(device, sha));
            });
        }
        if let (Some(f), Event::Log(l)) = (&self.factory, &ev) {
            f.fixture_log(l);
        }
        if let Event::Started { devices, .. } = &ev {
            // the project now names another Device Group
            self.factory = factory_for(&self.lp.api, &self.lp.target, devices, &self.etx);
            self.device_infos = devices.clone();
        }
        let streaming = matches!(ev, Event::StreamOpened { .. } | Event::StreamLost { .. });
        r.emit(&ev);
        self.test_stage_follows(&ev);
        if streaming && self.deploy_when_streaming {
            self.deploy_when_streaming = false;
            self.lp.request(false, Instant::now(), vec![]);
        }
    }

    /// A deployment starts a test pass (`--test`); a finished pass frees the stage.
    fn test_stage_follows(&mut self, ev: &Event) {
        let Some(t) = self.test_stage.as_mut() else {
            return;
        };
        match ev {
            Event::Deployed { .. } => {
                let changed = self
                    .lp
                    .inflight
                    .as_ref()
                    .map(|p| p.changed.iter().cloned().collect())
                    .unwrap_or_default();
                t.start(changed, testpass::sender(self.tx.clone(), Msg::Event));
            }
            Event::TestsDone { .. } => t.finished(),
            _ => {}
        }
    }
}

/// The file watcher: its changes and errors become messages.
fn file_watcher(
    root: &std::path::Path,
    settings: &Settings,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<watcher::Watcher> {
    let ignore = ignore::Ignore::new(&settings.ignore).map_err(ImptError::msg)?;
    let (wtx, wtx2) = (tx.clone(), tx.clone());
    watcher::Watcher::new(
        root,
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
    .map_err(|e| ImptError::msg(format!("cannot watch files: {e}")))
}
