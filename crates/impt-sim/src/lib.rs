//! `impt sim`: a local impCentral API v5 with virtual devices.
//!
//! Layout: [`app`] (shared state, request context), [`router`] (entry point, prefix,
//! stats, faults, rate limits), [`jsonapi`] (documents, pagination, filters), one module per
//! resource ([`auth`], [`products`], [`devicegroups`], [`devices`], [`deployments`],
//! [`webhooks`], [`logstream`]), [`vdev`] (virtual devices), [`runner`] (the devices'
//! and agents' Squirrel VMs, agent URLs), [`pool`] (the worker threads that run them,
//! fairness, interruption, virtual time), [`compile`] (compile checks), [`control`]
//! (`/_sim/` endpoints), [`persist`] (`--state`), [`factory`] (fixtures, devices under
//! test, blessing), [`delivery`] (webhook calls).

#![forbid(unsafe_code)]

mod agent_http;
mod app;
mod auth;
mod compile;
mod control;
mod delivery;
mod deployments;
mod devicegroups;
mod devices;
mod devlog;
mod error;
mod exec;
mod factory;
mod guard;
/// Devices' imp types and the parts attached to them (used by `impt sim --imp-type/--parts`).
pub mod hardware;
mod identity;
mod jsonapi;
pub mod limits;
mod link;
mod logstream;
mod model;
mod newdev;
mod persist;
mod pool;
mod products;
mod queue;
mod router;
mod runner;
mod secrets;
mod serve;
mod util;
mod vdev;
mod webhook_calls;
mod webhooks;

pub use app::App;
pub use compile::compile;
pub use util::sha256_hex;

use app::{SseMsg, World};
use model::{Account, Db};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// An account the simulator knows.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub username: String,
    pub password: String,
    pub email: String,
    /// Set for multi-factor accounts: the one-time password the login needs.
    pub otp: Option<String>,
}

impl AccountSpec {
    pub fn new(username: &str, password: &str) -> Self {
        AccountSpec {
            username: username.into(),
            password: password.into(),
            email: format!("{username}@example.com"),
            otp: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Path prefix of the API.
    pub prefix: String,
    /// Virtual devices seeded per account.
    pub devices: usize,
    pub accounts: Vec<AccountSpec>,
    /// Access token lifetime in seconds.
    pub token_ttl: u64,
    /// Requests per second per token; `None` never answers 429.
    pub rate_limit: Option<u32>,
    /// Persist entities to this file.
    pub state: Option<PathBuf>,
    pub streams_per_account: usize,
    pub devices_per_stream: usize,
    /// Interval of `: keep-alive` comments on log streams.
    pub keepalive_ms: u64,
    /// Largest accepted request body in bytes.
    pub max_body: usize,
    /// Log streams without a connected client for this long are closed.
    pub stream_idle_secs: u64,
    /// Speed of virtual time (`imp.wakeup`, `time()`) relative to real time.
    pub time_scale: f64,
    /// Milliseconds between the status lines of a simulated boot (real devices take about
    /// a second; short by default so that the watch loop shows new code at once).
    pub boot_step_ms: u64,
    /// Time a client has to send a request's headers, and then its body.
    pub read_timeout: std::time::Duration,
    /// Agents' HTTP requests to anything but their own agent URL fail with a runtime error.
    pub no_outbound: bool,
    /// Seconds a device takes to boot new code after its agent started (0: at once).
    pub device_boot_delay: f64,
    /// Devices under test the fixtures' factory BlinkUps can configure, in all.
    pub dut_pool: usize,
    /// Seconds a factory BlinkUp takes before its device under test appears.
    pub blinkup_time: f64,
    /// The platform's limits on device and agent code (see the limits module).
    pub limits: limits::PlatformLimits,
    /// The imp type of seeded devices and of devices added without one (`impt sim
    /// --imp-type`): `imp.info().type` and the `hardware` object their code sees.
    pub imp_type: String,
    /// A part file (its text) attached to every device without its own (`impt sim --parts`).
    pub parts: Option<String>,
    /// A folder of `#require` libraries searched before the cache and the network.
    pub libraries: Option<PathBuf>,
    /// Threads running the devices' code (0: one per core, at least 2).
    pub workers: usize,
    /// Fraction of one core one device's code may use in the long run.
    pub cpu_share: f64,
    /// OS priority offset (Linux `nice`) of the threads running the devices' code.
    pub worker_nice: i32,
    /// Milliseconds of CPU time one run of device or agent code may use (0: unlimited).
    pub cpu_ms_per_run: u64,
    /// Virtual time from the start: when all code is idle, the clock jumps to the next
    /// timer (see the pool module; `POST /_sim/time` switches it).
    pub virtual_time: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            port: 0,
            prefix: "/v5".into(),
            devices: 3,
            accounts: vec![AccountSpec::new("user", "password")],
            token_ttl: 3600,
            rate_limit: None,
            state: None,
            streams_per_account: 1,
            devices_per_stream: 5,
            keepalive_ms: 15_000,
            max_body: 4 * 1024 * 1024,
            stream_idle_secs: 3600,
            time_scale: 1.0,
            boot_step_ms: 5,
            read_timeout: std::time::Duration::from_secs(30),
            no_outbound: false,
            device_boot_delay: 0.0,
            dut_pool: 20,
            blinkup_time: 2.0,
            limits: Default::default(),
            imp_type: impt_vm::DEFAULT_IMP_TYPE.to_string(),
            parts: None,
            libraries: None,
            workers: 0,
            cpu_share: 0.5,
            worker_nice: 0,
            cpu_ms_per_run: impt_vm::DEFAULT_CPU_MS_PER_RUN,
            virtual_time: false,
        }
    }
}

/// A running simulator; stops on [`SimHandle::shutdown`] or drop.
pub struct SimHandle {
    base_url: String,
    port: u16,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The API base URL, e.g. `http://127.0.0.1:4321/v5`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stop serving, close log streams and save the state.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), t).await;
        }
        persist::flush(&self.app);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Make sure every configured account exists, each with its seeded devices.
fn seed(db: &mut Db, cfg: &SimConfig) {
    for spec in &cfg.accounts {
        if let Some(a) = db.accounts.iter_mut().find(|a| a.username == spec.username) {
            if !secrets::password_ok(&a.password_hash, &spec.password) {
                a.password_hash = secrets::hash_password(&spec.password);
            }
            a.email = spec.email.clone();
            let same_otp = match (&a.otp, &spec.otp) {
                (Some(h), Some(o)) => secrets::password_ok(h, o),
                (None, None) => true,
                _ => false,
            };
            if !same_otp {
                a.otp = spec.otp.as_deref().map(secrets::hash_password);
            }
            continue;
        }
        let now = util::now_iso();
        let id = util::new_id();
        db.accounts.push(Account {
            id: id.clone(),
            username: spec.username.clone(),
            email: spec.email.clone(),
            password_hash: secrets::hash_password(&spec.password),
            password: String::new(),
            otp: spec.otp.as_deref().map(secrets::hash_password),
            created_at: now.clone(),
            updated_at: now,
        });
        for i in 1..=cfg.devices {
            let mut d = vdev::new_device(db, &id, Some(format!("device-{i}")), true);
            d.imp_type = cfg.imp_type.clone();
            db.push_device(d);
        }
    }
}

/// The simulator's state (loaded from `--state`, seeded) and its request router, without a
/// listening socket; `base_url` is the public API URL. [`start`] serves it; the fuzz
/// target drives the router in-process.
pub fn build(cfg: SimConfig, base_url: String) -> anyhow::Result<(Arc<App>, axum::Router)> {
    let mut db = match &cfg.state {
        Some(p) => persist::load(p)?.unwrap_or_default(),
        None => Db::default(),
    };
    secrets::migrate(&mut db);
    db.reindex_devices();
    seed(&mut db, &cfg);
    let mut logs = match &cfg.state {
        Some(p) => persist::load_logs(p),
        None => Default::default(),
    };
    // An older state file's history, the seeded devices' first entries.
    logs.adopt_all(&mut db);
    let clock = runner::Clock::new(cfg.time_scale);
    clock.set_virtual(cfg.virtual_time);
    let pool = runner::PoolConfig {
        workers: match cfg.workers {
            0 => pool::default_workers(),
            n => n,
        },
        cpu_share: cfg.cpu_share,
        nice: cfg.worker_nice,
        ..runner::PoolConfig::default()
    };
    let runners = runner::Runners::new(clock.clone(), pool);
    let app = Arc::new(App {
        cfg,
        clock,
        runners,
        base: base_url,
        world: Mutex::new(World {
            db,
            streams: Vec::new(),
            deliveries: Default::default(),
            logs,
        }),
        changes: AtomicU64::new(1),
        saved: Mutex::new(0),
        stats: Default::default(),
        faults: Default::default(),
        guard: Default::default(),
        emitters: Default::default(),
        factory: Some(factory::call),
        boards: Default::default(),
        rt: tokio::runtime::Handle::try_current().ok(),
    });
    persist::commit(&app)?;
    if let Err(e) = persist::save_logs(&app) {
        eprintln!("impt sim: cannot save the device log history: {e:#}");
    }
    let router = axum::Router::new()
        .fallback(router::handle)
        .with_state(app.clone());
    Ok((app, router))
}

/// Start serving on 127.0.0.1.
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let port = listener.local_addr()?.port();
    let prefix = cfg.prefix.trim_end_matches('/').to_string();
    let base_url = format!("http://127.0.0.1:{port}{prefix}");
    let (app, router) = build(cfg, base_url.clone())?;
    let (stop, stopped) = oneshot::channel::<()>();
    let saver = persist::spawn_saver(app.clone());
    let janitor = {
        let app = app.clone();
        let idle_ms = (app.cfg.stream_idle_secs.max(1) * 1000) as i64;
        let every = std::time::Duration::from_millis((idle_ms as u64 / 4).clamp(100, 60_000));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                logstream::expire_idle(&app, idle_ms);
            }
        })
    };
    let app2 = app.clone();
    let app2_timeout = app.cfg.read_timeout;
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
            let w = app2.world();
            for s in &w.streams {
                s.control(SseMsg::Drop);
            }
        };
        serve::serve(listener, router, app2_timeout, shutdown).await;
        saver.abort();
        janitor.abort();
    });
    Ok(SimHandle {
        base_url,
        port,
        app,
        stop: Some(stop),
        task: Some(task),
    })
}
