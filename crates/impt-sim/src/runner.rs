//! Runs the deployed Squirrel code of virtual devices.
//!
//! Each device that has booted gets a [`Runner`] holding two [`Vm`]s: its agent and the
//! device. Runners are jobs of the worker pool (see the pool module: a few threads shared
//! by every device, fair turns, CPU shares, interruption); a runner never blocks the async
//! runtime: the API side sends it commands ([`Cmd`]) and it emits log lines through
//! [`devlog::emit`], taking the world lock only for the moment of one line.
//!
//! Timers (`imp.wakeup`), `imp.sleep` and restart delays run on virtual time ([`Clock`],
//! optionally faster than real time, or jumping ahead when all code is idle). A runtime error is logged as an imp does (`ERROR: …` lines) and restarts that side
//! after a delay that doubles with every consecutive failure, so a program that keeps
//! failing (or never returns, or eats memory: each callback is bounded by the VM limits)
//! costs little. Offline devices run nothing until they are online again.

mod life;

use super::agent_http::{self, AgentHttp};
use super::app::App;
use super::devlog;
pub use super::exec::{Clock, Cmd, Code};
use super::limits::{MsgQueue, PlatformLimits};
use super::pool::{Job, Wake};
pub use super::pool::{PoolConfig, Runners};
use impt_vm::{
    HttpRequest, HttpResponse, Limits, LogKind, OutgoingRequest, RuntimeError, Side, Value, Vm,
};
use std::collections::HashMap;
use std::sync::atomic::AtomicI32;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Send `cmd` to the runner of `device_id`, starting it if needed.
/// Never called with the world locked (lock order: world, then runners).
pub fn send(app: &Arc<App>, device_id: &str, cmd: Cmd) {
    let online = {
        let w = app.world();
        match w.db.device(device_id) {
            Some(d) => d.online,
            None => return,
        }
    };
    app.runners.pool.send(device_id, cmd, || {
        let runner = Runner::new(
            Arc::downgrade(app),
            device_id.to_string(),
            app.clock.clone(),
            online,
        );
        Some(Box::new(runner) as Box<dyn Job>)
    });
}

/// Tell a running runner (if any) about `cmd`; never starts one.
pub fn notify(app: &App, device_id: &str, cmd: Cmd) {
    app.runners.pool.notify(device_id, cmd);
}

/// Forget a device's runner (deleted device): its running code stops, its VMs go.
pub fn forget(app: &App, device_id: &str) {
    app.runners.pool.forget(device_id);
}

/// Messages delivered between the two sides per loop turn.
const DELIVERIES_PER_TURN: usize = 100;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A side that ran this long (virtual time) without failing starts its backoff afresh.
const STABLE: Duration = Duration::from_secs(120);
/// How long (virtual time) a request from outside waits for the agent's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

fn side_index(side: Side) -> usize {
    match side {
        Side::Device => 0,
        Side::Agent => 1,
    }
}

/// State shared by the runner and the hosts of its VMs.
struct Shared {
    app: Weak<App>,
    device_id: String,
    clock: Clock,
    to_agent: MsgQueue,
    to_device: MsgQueue,
    http_done: Vec<(u64, HttpResponse)>,
    nv: Value,
    saved: Value,
    window: (u64, u32, u32),
    /// The agent's outgoing HTTP requests.
    out: AgentHttp,
    /// A side blocked in `imp.sleep` until that virtual time (`[device, agent]`): its timers
    /// wait, and messages between the two wait too; the other side runs on meanwhile.
    busy: [Option<f64>; 2],
    /// The device's VM is running (with `link.connected`: what the agent's
    /// `device.isconnected()` says).
    device_up: bool,
    /// The device's connection (see the link module and `life`).
    link: super::link::Link,
    /// The link's events for the runner.
    link_out: Vec<super::link::Event>,
    /// What waits for the connection.
    held: Vec<life::Held>,
    /// The platform's limits in force.
    limits: PlatformLimits,
}

impl Shared {
    fn emit(&mut self, typ: &str, msg: &str) {
        // Per second of the simulator's clock (virtual time's jumps start a new second).
        let sec = self.clock.now().max(0.0) as u64;
        if self.window.0 != sec {
            if self.window.2 > 0 {
                let note = format!(
                    "WARNING: {} log lines dropped (log rate limit)",
                    self.window.2
                );
                self.emit_raw("status", &note);
            }
            self.window = (sec, 0, 0);
        }
        self.window.1 += 1;
        if self.window.1 > self.limits.log_lines_per_sec {
            self.window.2 += 1;
            return;
        }
        self.emit_raw(typ, msg);
    }

    fn emit_raw(&self, typ: &str, msg: &str) {
        if let Some(app) = self.app.upgrade() {
            devlog::emit_app(&app, &self.device_id, typ, msg);
        }
    }
}

type SharedRef = Arc<Mutex<Shared>>;

fn sh(s: &SharedRef) -> std::sync::MutexGuard<'_, Shared> {
    super::app::lock(s)
}

struct SideHost {
    side: Side,
    shared: SharedRef,
    code: Code,
}

impl SideHost {
    /// Queue a message for the other side, within the queue's bytes (see the limits
    /// module): `SEND_ERROR_WOULDBLOCK` when it is full.
    fn enqueue(&mut self, name: &str, data: Value, size: usize) -> i64 {
        let mut s = sh(&self.shared);
        let max = s.limits.queue_bytes;
        let q = match self.side {
            Side::Device => &mut s.to_agent,
            Side::Agent => &mut s.to_device,
        };
        if q.len() >= 10_000 || (!q.is_empty() && q.bytes() + size > max) {
            return super::link::SEND_ERROR_WOULDBLOCK;
        }
        q.push_sized(name.to_string(), data, size);
        0
    }

    /// Hand a factory call to the simulator (see `App::factory`).
    fn factory_call(&self, c: super::exec::FactoryCall) {
        let app = sh(&self.shared).app.upgrade();
        if let Some(app) = app {
            if let Some(f) = app.factory {
                f(&app, c);
            }
        }
    }
}

impl impt_vm::Host for SideHost {
    fn side(&self) -> Side {
        self.side
    }

    fn hardware(&mut self, op: &str, args: &[Value]) -> Value {
        let (app, id, now) = {
            let s = sh(&self.shared);
            (s.app.upgrade(), s.device_id.clone(), s.clock.now())
        };
        let Some(app) = app else {
            return Value::Null;
        };
        let (answer, trace) = super::hardware::op(&app, &id, op, args, now);
        let mut s = sh(&self.shared);
        for line in trace {
            s.emit("server.log", &line);
        }
        answer
    }

    fn pin_written(&mut self, pin: &str, value: &Value) {
        let app = sh(&self.shared).app.upgrade();
        if let Some(app) = app {
            let id = sh(&self.shared).device_id.clone();
            super::hardware::pin_written(&app, &id, pin, value);
        }
    }

    fn imp_type(&self) -> String {
        let (app, id) = {
            let s = sh(&self.shared);
            (s.app.upgrade(), s.device_id.clone())
        };
        app.map(|a| super::hardware::device_imp_type(&a, &id))
            .unwrap_or_default()
    }

    fn log(&mut self, kind: LogKind, message: &str) {
        self.log_through(kind, message);
    }

    fn log_line(&mut self, kind: LogKind, message: &str) -> i64 {
        self.log_through(kind, message)
    }

    fn link(&mut self, op: &str, args: &[Value]) -> Result<Value, String> {
        self.link_op(op, args)
    }

    fn send_message(&mut self, name: &str, data: Value) -> Result<i64, String> {
        self.send_through(name, data)
    }

    fn now(&self) -> f64 {
        sh(&self.shared).clock.now()
    }

    fn send(&mut self, name: &str, data: Value) {
        let _ = self.send_through(name, data);
    }

    fn mac_address(&self) -> String {
        self.code.mac.replace([':', '-'], "")
    }

    fn config_params(&self) -> Value {
        let id = sh(&self.shared).device_id.clone();
        self.code.config_params(self.side == Side::Agent, &id)
    }

    fn factory_blinkup(&mut self) {
        if self.code.factory != Some(super::exec::FactoryRole::Fixture) {
            self.log(LogKind::Error, impt_wire::factory::NOT_A_FIXTURE);
            return;
        }
        let fixture = sh(&self.shared).device_id.clone();
        self.factory_call(super::exec::FactoryCall::Blinkup { fixture });
    }

    fn bless(&mut self, passed: bool) -> Result<(), String> {
        if !matches!(
            self.code.factory,
            Some(super::exec::FactoryRole::Dut { .. })
        ) {
            return Err(
                "server.bless is only available in factory firmware on a device under test".into(),
            );
        }
        let dut = sh(&self.shared).device_id.clone();
        self.factory_call(super::exec::FactoryCall::Bless { dut, passed });
        Ok(())
    }

    fn device_id(&self) -> String {
        sh(&self.shared).device_id.clone()
    }

    fn agent_url(&self) -> String {
        self.code.agent_url.clone()
    }

    fn save(&mut self, data: Value) -> Result<(), String> {
        let size = data.to_json().to_string().len();
        if size > 64 * 1024 {
            return Err(format!("server.save: {size} bytes exceed the 64 KiB limit"));
        }
        sh(&self.shared).saved = data;
        Ok(())
    }

    fn load(&mut self) -> Value {
        match &sh(&self.shared).saved {
            Value::Null => Value::Table(Vec::new()),
            v => v.clone(),
        }
    }

    fn load_nv(&mut self) -> Value {
        sh(&self.shared).nv.clone()
    }

    fn store_nv(&mut self, nv: &Value) {
        sh(&self.shared).nv = nv.clone();
    }

    fn http_response(&mut self, request_id: u64, response: HttpResponse) {
        sh(&self.shared).http_done.push((request_id, response));
    }

    fn http_request(&mut self, id: u64, req: OutgoingRequest) -> Result<(), String> {
        let mut s = sh(&self.shared);
        let now = s.clock.now();
        if let Some(refused) = s.out.admit(now) {
            s.out.answer(id, refused);
            return Ok(());
        }
        if let Some(own) = agent_http::own_request(&self.code.agent_url, &req) {
            s.out.own.push_back((id, own));
            return Ok(());
        }
        if s.app.upgrade().is_none_or(|a| a.cfg.no_outbound) {
            return Err(agent_http::refused(&req));
        }
        let limits = s.limits.clone();
        let rt = s.app.upgrade().and_then(|a| a.rt.clone());
        s.out.spawn(id, req, &limits, rt.as_ref())
    }

    fn partner_connected(&self) -> bool {
        match self.side {
            Side::Agent => {
                let s = sh(&self.shared);
                s.device_up && s.link.connected
            }
            Side::Device => true,
        }
    }

    fn sleep(&mut self, secs: f64) {
        // The call returns at once, but the device counts as blocked until the time is up
        // (see `Shared::busy`).
        let i = side_index(self.side);
        let mut s = sh(&self.shared);
        let now = s.clock.now();
        let base = s.busy[i].filter(|t| *t > now).unwrap_or(now);
        s.busy[i] = Some(base + secs);
    }

    fn http_request_sync(&mut self, req: OutgoingRequest) -> Result<HttpResponse, String> {
        if agent_http::own_request(&self.code.agent_url, &req).is_some() {
            return Err(
                "sendsync() cannot reach the agent's own URL: the agent is busy waiting \
                        for the answer (use sendasync())"
                    .into(),
            );
        }
        let (limits, refused) = {
            let mut s = sh(&self.shared);
            if s.app.upgrade().is_none_or(|a| a.cfg.no_outbound) {
                return Err(agent_http::refused(&req));
            }
            let now = s.clock.now();
            (s.limits.clone(), s.out.admit(now))
        };
        if let Some(r) = refused {
            return Ok(r);
        }
        let Some(_slot) = agent_http::Slot::take(&limits) else {
            return Ok(agent_http::refusal(&format!(
                "more than {} requests of all agents under way (impt sim --http-in-flight-total)",
                limits.http_in_flight_total
            )));
        };
        Ok(agent_http::fetch(&req, limits.http_max_body))
    }
}

/// One side's VM and its restart state.
#[derive(Default)]
struct Slot {
    vm: Option<Vm>,
    failures: u32,
    /// Virtual time of the next (re)start.
    restart_at: Option<f64>,
    /// Virtual time of the last start.
    started: Option<f64>,
}

impl Slot {
    /// The delay before the next restart: doubles with each failure, unless the side had
    /// been running fine for a while.
    fn backoff(&mut self, now: f64) -> Duration {
        if self
            .started
            .is_some_and(|t| now - t >= STABLE.as_secs_f64())
        {
            self.failures = 0;
        }
        self.failures += 1;
        let d = FIRST_BACKOFF * 2u32.saturating_pow(self.failures.saturating_sub(1).min(6));
        d.min(MAX_BACKOFF)
    }
}

type HttpReply = tokio::sync::oneshot::Sender<Result<HttpResponse, String>>;

struct Runner {
    shared: SharedRef,
    clock: Clock,
    online: bool,
    code: Option<Code>,
    /// Code to start once the device is online.
    pending: bool,
    agent: Slot,
    device: Slot,
    /// Requests from outside waiting for the agent's answer, with their deadline (virtual
    /// time).
    http: HashMap<u64, (HttpReply, f64)>,
    /// The device's first start after new code is pending (boot delay).
    booting: bool,
    /// `hardware.wakereason()` of the device's next start.
    next_wake: i64,
    /// Raised by the pool to stop the running VM call (new code, restart, deletion).
    interrupt: Arc<AtomicI32>,
    /// The device was told of new code (`server.onshutdown`) and still runs the old one.
    staged: bool,
}

impl Runner {
    fn new(app: Weak<App>, device_id: String, clock: Clock, online: bool) -> Runner {
        let limits = app
            .upgrade()
            .map(|a| a.cfg.limits.clone())
            .unwrap_or_default();
        Runner {
            shared: Arc::new(Mutex::new(Shared {
                app,
                device_id,
                clock: clock.clone(),
                to_agent: MsgQueue::default(),
                to_device: MsgQueue::default(),
                http_done: Vec::new(),
                nv: Value::Null,
                saved: Value::Null,
                window: (0, 0, 0),
                out: AgentHttp::default(),
                busy: [None, None],
                device_up: false,
                link: Default::default(),
                link_out: Vec::new(),
                held: Vec::new(),
                limits,
            })),
            clock,
            online,
            code: None,
            pending: false,
            agent: Slot::default(),
            device: Slot::default(),
            http: HashMap::new(),
            booting: false,
            next_wake: super::link::WAKEREASON_NEW_SQUIRREL,
            interrupt: Arc::default(),
            staged: false,
        }
    }

    fn slot(&mut self, side: Side) -> &mut Slot {
        match side {
            Side::Device => &mut self.device,
            Side::Agent => &mut self.agent,
        }
    }

    /// When to run next: now (messages or answers waiting), at the earliest timer, sleep's
    /// end or restart (virtual deadlines), or when an answer is due.
    fn next_wakeup(&self) -> Wake {
        let now = Instant::now();
        let mut w = Wake::default();
        let real = |w: &mut Wake, t: Instant| w.at = Some(w.at.map_or(t, |a| a.min(t)));
        let virt = |w: &mut Wake, t: f64| w.vdue = Some(w.vdue.map_or(t, |v| v.min(t)));
        if let Some(first) = self.http.values().map(|(_, t)| *t).min_by(f64::total_cmp) {
            virt(&mut w, first);
            real(&mut w, now + self.clock.real_until(first));
        }
        if !self.online {
            return w;
        }
        let (dev_asleep, agent_asleep) = (self.asleep(Side::Device), self.asleep(Side::Agent));
        let asleep = dev_asleep.or(agent_asleep);
        {
            let s = sh(&self.shared);
            let device_takes = (self.device.vm.is_some() || !self.booting) && asleep.is_none();
            if (asleep.is_none() && !s.to_agent.is_empty())
                || (device_takes && !s.to_device.is_empty())
            {
                real(&mut w, now);
                return w;
            }
        }
        for t in [dev_asleep, agent_asleep].into_iter().flatten() {
            virt(&mut w, t);
        }
        let (ready, waiting) = sh(&self.shared).out.busy();
        if ready {
            real(&mut w, now);
            return w;
        }
        if waiting {
            real(&mut w, now + Duration::from_millis(20));
            w.external = true;
        }
        for (slot, blocked) in [
            (&self.agent, agent_asleep.is_some()),
            (&self.device, dev_asleep.is_some()),
        ] {
            if let Some(t) = slot
                .vm
                .as_ref()
                .and_then(Vm::next_timer)
                .filter(|_| !blocked)
            {
                virt(&mut w, t.due);
            }
            if let Some(at) = slot.restart_at {
                virt(&mut w, at);
            }
        }
        if let Some(v) = w.vdue {
            real(&mut w, now + self.clock.real_until(v));
        }
        if let Some(v) = self.link_due() {
            virt(&mut w, v);
        }
        if self.idle_due() {
            real(&mut w, now);
        }
        if let Some(v) = w.vdue {
            real(&mut w, now + self.clock.real_until(v));
        }
        w
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Start(code) => {
                // (A device told of new code still runs the old one.)
                let same = !self.staged
                    && self.code.as_ref().is_some_and(|c| {
                        c.device_code == code.device_code && c.agent_code == code.agent_code
                    });
                self.next_wake = life::start_reason(same);
                self.stop_all();
                self.code = Some(*code);
                self.agent.failures = 0;
                self.device.failures = 0;
                if self.online {
                    self.start_all();
                } else {
                    self.pending = true;
                }
            }
            Cmd::Conditional(code, min_seq) => {
                if !self.notify_shutdown(&code, min_seq) {
                    self.command(Cmd::Start(code));
                }
            }
            Cmd::Stop => {
                self.stop_all();
                self.code = None;
                self.pending = false;
            }
            Cmd::Online(online) => {
                self.online = online;
                sh(&self.shared).device_up = online && self.device.vm.is_some();
                if online && self.pending {
                    self.pending = false;
                    self.start_all();
                }
            }
            Cmd::Http(req, reply) => self.http(req, reply),
            Cmd::Link(c) => self.link_cmd(c),
            Cmd::Pin(pin, value) => {
                if let Some(vm) = self.device.vm.as_mut() {
                    let r = vm.set_pin(&pin, value);
                    self.check(Side::Device, r, false);
                }
            }
            Cmd::Blessed(ok, then) => {
                if let Some(vm) = self.device.vm.as_mut() {
                    let r = vm.bless_done(ok).map(drop);
                    self.check(Side::Device, r, false);
                }
                if let Some(next) = then {
                    self.command(*next);
                }
            }
        }
    }

    /// When (virtual time) `side`'s `imp.sleep` ends (or its wait for the connection),
    /// if it is sleeping now.
    fn asleep(&self, side: Side) -> Option<f64> {
        if side == Side::Device {
            if let Some(t) = self.link_blocked() {
                return Some(t);
            }
        }
        let mut s = sh(&self.shared);
        let i = side_index(side);
        match s.busy[i] {
            Some(t) if t > s.clock.now() => Some(t),
            Some(_) => {
                s.busy[i] = None;
                None
            }
            None => None,
        }
    }

    /// The virtual time `d` of real time from now (at the clock's speed).
    fn virtual_after(&self, d: Duration) -> f64 {
        self.clock.now() + d.as_secs_f64() * self.clock.scale()
    }

    /// The VM limits of the simulator's configuration.
    fn limits(&self) -> Limits {
        let app = sh(&self.shared).app.upgrade();
        Limits {
            cpu_ms_per_run: app.map_or(impt_vm::DEFAULT_CPU_MS_PER_RUN, |a| a.cfg.cpu_ms_per_run),
            ..Limits::default()
        }
    }

    fn boot_delay(&self) -> Duration {
        let app = sh(&self.shared).app.upgrade();
        app.map_or(Duration::ZERO, |a| {
            Duration::from_secs_f64(a.cfg.device_boot_delay.clamp(0.0, 600.0))
        })
    }

    fn stop_all(&mut self) {
        self.booting = false;
        self.staged = false;
        for side in [Side::Agent, Side::Device] {
            let slot = self.slot(side);
            slot.vm = None;
            slot.restart_at = None;
        }
        let mut s = sh(&self.shared);
        s.device_up = false;
        s.busy = [None, None];
        s.to_agent.clear();
        s.to_device.clear();
        s.http_done.clear();
        s.out.cancel_all();
        drop(s);
        for (_, (reply, _)) in self.http.drain() {
            let _ = reply.send(Err("the agent restarted".into()));
        }
    }

    /// The agent alone restarts with the runner's code (the device keeps running).
    fn restart_agent(&mut self) {
        self.agent.vm = None;
        self.agent.restart_at = None;
        self.agent.failures = 0;
        {
            let mut s = sh(&self.shared);
            s.busy[side_index(Side::Agent)] = None;
            s.to_agent.clear();
            s.http_done.clear();
            s.out.cancel_all();
        }
        for (_, (reply, _)) in self.http.drain() {
            let _ = reply.send(Err("the agent restarted".into()));
        }
        self.start(Side::Agent);
        if self.device.vm.is_some() {
            if let Some(agent) = self.agent.vm.as_mut() {
                let r = agent.notify_connection(true);
                self.check(Side::Agent, r.map(drop), false);
            }
        }
    }

    /// Device first, then agent (the order the status lines and tests expect); messages
    /// the device sends in its main code wait for the agent's handlers. With a boot delay
    /// (`impt sim --device-boot-delay`) the device starts that long after the agent, as a
    /// real device that downloads its new code does.
    fn start_all(&mut self) {
        let delay = self.boot_delay();
        if !delay.is_zero() {
            // Connected, downloading its code: messages for it wait until it runs.
            sh(&self.shared).device_up = true;
            self.booting = true;
            self.start(Side::Agent);
            self.device.restart_at = Some(self.virtual_after(delay));
            return;
        }
        self.start(Side::Device);
        self.start(Side::Agent);
        if self.device.vm.is_some() {
            if let Some(agent) = self.agent.vm.as_mut() {
                let r = agent.notify_connection(true);
                self.check(Side::Agent, r.map(drop), false);
            }
        }
    }

    /// Start one side: a new VM running its code.
    fn start(&mut self, side: Side) {
        let Some(code) = self.code.clone() else {
            return;
        };
        let (src, name) = match side {
            Side::Device => (code.device_code.clone(), "device_code"),
            Side::Agent => (code.agent_code.clone(), "agent_code"),
        };
        let host = SideHost {
            side,
            shared: self.shared.clone(),
            code,
        };
        self.slot(side).restart_at = None;
        let now = self.clock.now();
        self.slot(side).started = Some(now);
        if side == Side::Device {
            self.boot_link();
        }
        let (limits, free) = self.vm_limits(side);
        let mut vm = match Vm::new(limits, Box::new(host)) {
            Ok(vm) => vm,
            Err(e) => return self.fail(side, &e),
        };
        vm.set_memory_free(free);
        vm.set_interrupt(self.interrupt.clone());
        // The `#require` libraries run first, each as its own script, as the impCloud loads
        // them ahead of the code (the code's own line numbers stay as written).
        let mut r = match self.libraries(side, &src) {
            Ok(libs) => libs
                .iter()
                .try_for_each(|lib| vm.run_main(&lib.code, &lib.file)),
            Err(message) => Err(RuntimeError {
                message,
                stack: Vec::new(),
                kind: impt_vm::ErrorKind::Compile,
            }),
        };
        if r.is_ok() {
            r = vm.run_main(&src, name);
        }
        self.slot(side).vm = Some(vm);
        if side == Side::Device {
            sh(&self.shared).device_up = true;
        }
        self.check(side, r, true);
    }

    /// The `#require` libraries of `src` (resolved when it was deployed, so from memory or
    /// the cache).
    fn libraries(
        &self,
        side: Side,
        src: &str,
    ) -> Result<Vec<impt_builder::require::Library>, String> {
        use impt_builder::require;
        let folder = sh(&self.shared)
            .app
            .upgrade()
            .and_then(|a| a.cfg.libraries.clone());
        let libs = super::compile::library_settings(folder.as_deref());
        let side = match side {
            Side::Device => require::Side::Device,
            Side::Agent => require::Side::Agent,
        };
        require::resolve(src, side, &libs).map_err(|e| e.text)
    }

    /// Handle the result of a run: errors are logged; a device restarts, and so does an
    /// agent whose main code or limit failed.
    fn check(&mut self, side: Side, r: Result<(), RuntimeError>, main: bool) {
        if side == Side::Device && self.power_request() {
            return;
        }
        let Err(e) = r else { return };
        if e.kind == impt_vm::ErrorKind::Interrupted {
            // Stopped for a command waiting in the mailbox (new code, stop): it replaces
            // this VM next.
            return;
        }
        if life::is_stop(&e) {
            return;
        }
        let limit = e.kind != impt_vm::ErrorKind::Script;
        if side == Side::Device || main || limit {
            self.fail(side, &e);
        } else {
            self.log_error(side, &e);
        }
    }

    fn log_error(&self, side: Side, e: &RuntimeError) {
        let typ = match side {
            Side::Device => "server.error",
            Side::Agent => "agent.error",
        };
        let text = e.to_string();
        let mut s = sh(&self.shared);
        for line in text.lines() {
            s.emit(typ, line);
        }
    }

    fn fail(&mut self, side: Side, e: &RuntimeError) {
        self.log_error(side, e);
        if side == Side::Device {
            sh(&self.shared).device_up = false;
            let oom =
                e.kind == impt_vm::ErrorKind::MemoryLimit || e.message.starts_with("out of memory");
            self.next_wake = if oom {
                super::link::WAKEREASON_SW_RESET
            } else {
                super::link::WAKEREASON_SQUIRREL_ERROR
            };
        }
        let now = self.clock.now();
        let slot = self.slot(side);
        slot.vm = None;
        let delay = slot.backoff(now);
        let at = self.virtual_after(delay);
        self.slot(side).restart_at = Some(at);
        if side == Side::Agent {
            for (_, (reply, _)) in self.http.drain() {
                let _ = reply.send(Err("the agent failed".into()));
            }
        }
    }

    /// Fire due timers, restarts and messages (online only), answer finished requests.
    fn turn(&mut self) {
        self.finish_http();
        if !self.online {
            return;
        }
        self.link_turn();
        let now = self.clock.now();
        for side in [Side::Agent, Side::Device] {
            if self.slot(side).restart_at.is_some_and(|t| t <= now) {
                let quiet = side == Side::Device && !self.boot_line();
                let msg = match side {
                    Side::Agent => "Agent restarted: runtime error.".to_string(),
                    Side::Device => {
                        let len = self.code.as_ref().map_or(0, |c| c.device_code.len());
                        let used = devlog::storage_used(len);
                        format!("Device booting; {used:.2}% program storage used")
                    }
                };
                if !quiet {
                    sh(&self.shared).emit("status", &msg);
                }
                self.start(side);
                if side == Side::Device && std::mem::take(&mut self.booting) {
                    if let Some(agent) = self.agent.vm.as_mut() {
                        let r = agent.notify_connection(true);
                        self.check(Side::Agent, r.map(drop), false);
                    }
                }
            }
        }
        let vnow = self.clock.now();
        for side in [Side::Agent, Side::Device] {
            let due: Vec<u64> = match self.slot(side).vm.as_ref() {
                Some(vm) => vm
                    .timers()
                    .into_iter()
                    .filter(|t| t.due <= vnow)
                    .map(|t| t.id)
                    .collect(),
                None => continue,
            };
            for id in due {
                if self.asleep(side).is_some() {
                    break;
                }
                let Some(vm) = self.slot(side).vm.as_mut() else {
                    break;
                };
                let r = vm.fire_timer(id).map(drop);
                self.check(side, r, false);
            }
        }
        for _ in 0..DELIVERIES_PER_TURN {
            let asleep = self.asleep(Side::Device).is_some() || self.asleep(Side::Agent).is_some();
            let (a, d) = {
                let mut s = sh(&self.shared);
                let device_takes = (self.device.vm.is_some() || !self.booting) && !asleep;
                let d = if device_takes {
                    s.to_device.pop_front()
                } else {
                    None
                };
                let a = if asleep { None } else { s.to_agent.pop_front() };
                (a, d)
            };
            if a.is_none() && d.is_none() {
                break;
            }
            if let Some((name, data)) = a {
                if let Some(vm) = self.agent.vm.as_mut() {
                    let r = vm.call_handler(&name, data).map(drop);
                    self.check(Side::Agent, r, false);
                }
            }
            if let Some((name, data)) = d {
                if let Some(vm) = self.device.vm.as_mut() {
                    let r = vm.call_handler(&name, data).map(drop);
                    self.check(Side::Device, r, false);
                }
            }
        }
        self.agent_requests();
        self.finish_http();
        self.life();
    }

    /// Serves the agent's requests to its own URL and delivers answers of real requests.
    fn agent_requests(&mut self) {
        let (own, done) = {
            let mut s = sh(&self.shared);
            (std::mem::take(&mut s.out.own), s.out.take_done())
        };
        for (out_id, req) in own {
            let Some(vm) = self.agent.vm.as_mut() else {
                break;
            };
            let r = vm.handle_http(&req);
            let handled = vm.last_request_handled();
            let in_id = vm.last_request_id();
            let answer = match r {
                Ok(Some(resp)) => Some(resp),
                Ok(None) if !handled => Some(HttpResponse {
                    status: 404,
                    headers: Vec::new(),
                    body: "the agent has no http.onrequest handler".into(),
                }),
                Ok(None) => {
                    sh(&self.shared).out.served.insert(in_id, out_id);
                    None
                }
                Err(e) => {
                    self.check(Side::Agent, Err(e), false);
                    Some(HttpResponse {
                        status: 500,
                        headers: Vec::new(),
                        body: "the agent's request handler failed".into(),
                    })
                }
            };
            if let (Some(resp), Some(vm)) = (answer, self.agent.vm.as_mut()) {
                let r = vm.http_done(out_id, resp).map(drop);
                self.check(Side::Agent, r, false);
            }
        }
        for (out_id, resp) in done {
            if let Some(vm) = self.agent.vm.as_mut() {
                let r = vm.http_done(out_id, resp).map(drop);
                self.check(Side::Agent, r, false);
            }
        }
    }

    fn finish_http(&mut self) {
        let done = std::mem::take(&mut sh(&self.shared).http_done);
        for (id, resp) in done {
            let own = sh(&self.shared).out.served.remove(&id);
            if let Some(out_id) = own {
                if let Some(vm) = self.agent.vm.as_mut() {
                    let r = vm.http_done(out_id, resp).map(drop);
                    self.check(Side::Agent, r, false);
                }
                continue;
            }
            if let Some((reply, _)) = self.http.remove(&id) {
                let _ = reply.send(Ok(resp));
            }
        }
        let now = self.clock.now();
        let late: Vec<u64> = self
            .http
            .iter()
            .filter(|(_, (_, t))| *t <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            if let Some((reply, _)) = self.http.remove(&id) {
                let _ = reply.send(Err("the agent did not answer in time".into()));
            }
        }
    }

    fn http(&mut self, req: HttpRequest, reply: HttpReply) {
        if !self.online {
            let _ = reply.send(Err("the device is offline".into()));
            return;
        }
        let Some(vm) = self.agent.vm.as_mut() else {
            let _ = reply.send(Err("the agent is not running".into()));
            return;
        };
        let r = vm.handle_http(&req);
        let handled = vm.last_request_handled();
        let id = vm.last_request_id();
        match r {
            Ok(Some(resp)) => {
                let _ = reply.send(Ok(resp));
            }
            Ok(None) if !handled => {
                let _ = reply.send(Err("the agent has no http.onrequest handler".into()));
            }
            Ok(None) => {
                let due = self.clock.now() + ANSWER_TIMEOUT.as_secs_f64();
                self.http.insert(id, (reply, due));
            }
            Err(e) => {
                let _ = reply.send(Err("the agent's request handler failed".into()));
                self.check(Side::Agent, Err(e), false);
            }
        }
    }
}

impl Job for Runner {
    fn step(&mut self, cmds: Vec<Cmd>) -> Wake {
        if sh(&self.shared).app.strong_count() == 0 {
            return Wake::default();
        }
        if cmds.is_empty() {
            self.turn();
        }
        // Code replaced again later in the same batch never runs (a Start or Stop makes
        // every earlier Start moot).
        let last_code = cmds
            .iter()
            .rposition(|c| matches!(c, Cmd::Start(_) | Cmd::Conditional(..) | Cmd::Stop));
        for (i, cmd) in cmds.into_iter().enumerate() {
            if matches!(cmd, Cmd::Start(_) | Cmd::Conditional(..))
                && last_code.is_some_and(|l| i < l)
            {
                continue;
            }
            self.command(cmd);
            self.turn();
        }
        self.next_wakeup()
    }

    fn interrupt_flag(&self) -> Arc<AtomicI32> {
        self.interrupt.clone()
    }
}
