//! The device's life inside its runner: the connection's events (see the link module), the
//! code's deep sleeps and restarts, `imp.onidle`, and the outside's cuts and power cycles.
//! Kept apart from the runner's scheduling; the runner calls in at a few points (after
//! runs, on each turn, for its wait).

use super::{sh, Runner, Shared, SideHost};
use crate::limits::{self, PlatformLimits};
use crate::link::{self, Event, Gate, LinkCmd, PowerRequest};
use impt_vm::{Limits, LogKind, Side, Value};

/// What waits for the connection to come back (SUSPEND_ON_ERROR).
pub(super) enum Held {
    Msg(String, Value),
    Log(&'static str, String),
}

impl Shared {
    /// Hands the link's events to the runner, reporting connection changes to the world at
    /// once (so a status line lands where it happened among the code's own lines).
    pub(super) fn link_sync(&mut self) {
        for e in self.link.take_events() {
            match e {
                Event::Up => self.report(true),
                Event::Down => self.report(false),
                _ => {}
            }
            self.link_out.push(e);
        }
    }

    /// The device's imp type (`imp005`, `imp004m`, …).
    pub(super) fn imp_type(&self) -> Option<String> {
        let app = self.app.upgrade()?;
        let w = app.world();
        let d = w.db.device(&self.device_id)?;
        Some(d.imp_type.clone())
    }

    fn report(&self, online: bool) {
        if let Some(app) = self.app.upgrade() {
            link::report(&app, &self.device_id, online);
        }
    }
}

fn log_type(side: Side, kind: LogKind) -> &'static str {
    match (side, kind) {
        (Side::Device, LogKind::Log) => "server.log",
        (Side::Device, LogKind::Error) => "server.error",
        (Side::Agent, LogKind::Log) => "agent.log",
        (Side::Agent, LogKind::Error) => "agent.error",
    }
}

impl SideHost {
    /// `agent.send` (device: through the connection) and `device.send` (agent: lost while
    /// the device is not connected).
    pub(super) fn send_through(&mut self, name: &str, data: Value) -> Result<i64, String> {
        let size = name.len() + limits::value_bytes(&data);
        let gate = {
            let mut s = sh(&self.shared);
            if size > s.limits.message_bytes {
                let call = match self.side {
                    Side::Device => "agent.send",
                    Side::Agent => "device.send",
                };
                return Err(format!(
                    "{call}: the message is {size} bytes; at most {} can be sent",
                    s.limits.message_bytes
                ));
            }
            match self.side {
                Side::Agent if !(s.device_up && s.link.connected) => return Ok(0),
                Side::Agent => Gate::Pass,
                Side::Device => {
                    let now = s.clock.now();
                    let g = s.link.gate(now);
                    s.link_sync();
                    if g == Gate::Hold {
                        s.held.push(Held::Msg(name.to_string(), data.clone()));
                    }
                    g
                }
            }
        };
        Ok(match gate {
            Gate::Pass => self.enqueue(name, data, size),
            Gate::Hold => 0,
            Gate::Refuse(code) => code,
        })
    }

    /// `server.log`/`server.error`: the device's lines go through the connection.
    pub(super) fn log_through(&mut self, kind: LogKind, message: &str) -> i64 {
        let typ = log_type(self.side, kind);
        let mut s = sh(&self.shared);
        if self.side == Side::Device {
            let now = s.clock.now();
            let g = s.link.gate(now);
            s.link_sync();
            match g {
                Gate::Pass => {}
                Gate::Hold => {
                    s.held.push(Held::Log(typ, message.to_string()));
                    return 0;
                }
                Gate::Refuse(code) => return code,
            }
        }
        s.emit(typ, message);
        0
    }

    /// The connection and power calls of the code (agents: always connected).
    pub(super) fn link_op(&mut self, op: &str, args: &[Value]) -> Result<Value, String> {
        let mut s = sh(&self.shared);
        if self.side == Side::Agent {
            return Ok(match op {
                "isconnected" | "flush" => Value::Bool(true),
                _ => Value::Null,
            });
        }
        if op == "deepsleep" {
            // The imp005 has no deep sleep (imp API knowledge base): the calls are missing.
            return Ok(Value::Bool(s.imp_type().as_deref() != Some("imp005")));
        }
        let now = s.clock.now();
        let r = s.link.op(op, args, now);
        s.link_sync();
        // Handled here (the prelude falls back to a state of its own on `null`).
        r.map(|v| {
            if v == Value::Null {
                Value::Bool(true)
            } else {
                v
            }
        })
    }
}

impl Runner {
    /// Carries out the link's events (connection callbacks, agent notifications, held
    /// data, snoozes and wakes) until none are left.
    pub(super) fn life(&mut self) {
        for _ in 0..16 {
            let events = {
                let mut s = sh(&self.shared);
                s.link_sync();
                std::mem::take(&mut s.link_out)
            };
            if events.is_empty() {
                return;
            }
            for e in events {
                self.on_event(e);
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Up | Event::Down => {
                let up = e == Event::Up;
                if up {
                    let held = std::mem::take(&mut sh(&self.shared).held);
                    for h in held {
                        let mut s = sh(&self.shared);
                        match h {
                            Held::Msg(name, data) => s.to_agent.push_back((name, data)),
                            Held::Log(typ, msg) => s.emit(typ, &msg),
                        }
                    }
                }
                if let Some(agent) = self.agent.vm.as_mut() {
                    let r = agent.notify_connection(up).map(drop);
                    self.check(Side::Agent, r, false);
                }
            }
            Event::ConnectResult(reason) => self.device_event("connect", reason),
            Event::Unexpected(reason) => self.device_event("unexpected", reason),
            Event::Suspend | Event::Resume => {}
            Event::Snooze => {
                self.device.vm = None;
                let mut s = sh(&self.shared);
                s.device_up = false;
                s.held.clear();
            }
            Event::Wake(reason) => self.reboot(reason),
        }
    }

    fn device_event(&mut self, kind: &str, reason: i64) {
        if let Some(vm) = self.device.vm.as_mut() {
            let r = vm.link_event(kind, reason).map(drop);
            self.check(Side::Device, r, false);
        }
    }

    /// Starts the device's code afresh now, woken for `reason`.
    fn reboot(&mut self, reason: i64) {
        self.device.vm = None;
        sh(&self.shared).device_up = false;
        self.next_wake = reason;
        self.device.restart_at = Some(self.clock.now());
    }

    /// Carries out the device code's sleep or restart request, if it made one (the run
    /// ended there). Returns whether it did.
    pub(super) fn power_request(&mut self) -> bool {
        let req = sh(&self.shared).link.request.take();
        let Some(req) = req else { return false };
        self.device.vm = None;
        {
            let mut s = sh(&self.shared);
            s.device_up = false;
            s.held.clear();
            s.to_device.clear();
            if let PowerRequest::Sleep { until } = req {
                s.link.fall_asleep(until);
            }
        }
        if let PowerRequest::Restart { reason } = req {
            // After a `server.onshutdown` notice the restart brings the new code.
            let reason = if std::mem::take(&mut self.staged) {
                link::WAKEREASON_NEW_SQUIRREL
            } else {
                reason
            };
            self.reboot(reason);
        }
        self.life();
        true
    }

    /// A conditional restart's notice of new `code` (see [`crate::exec::Cmd::Conditional`]):
    /// when the device runs a deployment at least as new as `min_seq` and has a
    /// `server.onshutdown` handler, the agent restarts with the new code at once and the
    /// device's handler is called with `SHUTDOWN_NEWSQUIRREL`; the device keeps its code
    /// until it restarts (`server.restart()`, an error, a sleep) and then runs the new one.
    /// Returns false (nothing done) when the device must simply restart.
    pub(super) fn notify_shutdown(&mut self, code: &crate::exec::Code, min_seq: u64) -> bool {
        let supported = self
            .code
            .as_ref()
            .is_some_and(|c| c.deployment_seq >= min_seq);
        if !supported || !self.online || self.device.vm.is_none() {
            return false;
        }
        {
            let s = sh(&self.shared);
            if !s.link.shutdown_handler || !s.link.connected {
                return false;
            }
        }
        self.code = Some(code.clone());
        self.staged = true;
        self.restart_agent();
        self.device_event("shutdown", link::SHUTDOWN_NEWSQUIRREL);
        true
    }

    /// What the outside does to the device's network and power.
    pub(super) fn link_cmd(&mut self, cmd: LinkCmd) {
        let now = self.clock.now();
        match cmd {
            LinkCmd::Cut { secs, reason } => sh(&self.shared).link.cut(secs, reason, now),
            LinkCmd::Restore => sh(&self.shared).link.restore(now),
            LinkCmd::PowerCycle => {
                {
                    let mut s = sh(&self.shared);
                    s.nv = Value::Null;
                    s.link.op("disconnect", &[], now).ok();
                }
                if self.code.is_some() {
                    self.reboot(link::WAKEREASON_POWER_ON);
                }
            }
        }
        self.life();
    }

    /// Before the device's code starts: the link as it boots (woken by a timer it is
    /// offline; otherwise connected if the network is there).
    pub(super) fn boot_link(&mut self) {
        let reason = std::mem::replace(&mut self.next_wake, link::WAKEREASON_SQUIRREL_ERROR);
        {
            let mut s = sh(&self.shared);
            let connected = s.link.network_up() && reason != link::WAKEREASON_TIMER;
            s.link.boot(connected, reason);
            s.held.clear();
            // The device is starting (what the agent sees if told of its connection now).
            s.device_up = true;
        }
        self.life();
    }

    /// Whether a device restart that is due should log `Device booting` (not after a deep
    /// sleep or a snooze: the imp only reconnects then).
    pub(super) fn boot_line(&self) -> bool {
        !matches!(
            self.next_wake,
            link::WAKEREASON_TIMER | link::WAKEREASON_SNOOZE
        )
    }

    /// The link's due events and the code's `imp.onidle`, on each turn.
    pub(super) fn link_turn(&mut self) {
        let now = self.clock.now();
        sh(&self.shared).link.tick(now);
        self.life();
        if self.idle_due() {
            sh(&self.shared).link.idle_pending = false;
            self.device_event("idle", 0);
        }
    }

    pub(super) fn idle_due(&self) -> bool {
        let Some(vm) = self.device.vm.as_ref() else {
            return false;
        };
        let s = sh(&self.shared);
        if !s.link.idle_pending || s.link.suspended() || !s.to_device.is_empty() {
            return false;
        }
        if s.busy[0].is_some_and(|t| t > s.clock.now()) {
            return false;
        }
        let now = self.clock.now();
        !vm.next_timer().is_some_and(|t| t.due <= now)
    }

    /// The virtual time of the link's next due event.
    pub(super) fn link_due(&self) -> Option<f64> {
        sh(&self.shared).link.next_due()
    }

    /// The VM limits of `side` while the imp API loads, and the memory its code then has:
    /// the device's as its imp type gives it, the agent's as configured.
    pub(super) fn vm_limits(&self, side: Side) -> (Limits, u64) {
        let base = self.limits();
        let s = sh(&self.shared);
        let free = match side {
            Side::Agent => s.limits.agent_memory,
            Side::Device => {
                let t = s.imp_type().unwrap_or_default();
                s.limits.device_memory(&t)
            }
        };
        let limits = Limits {
            memory_bytes: PlatformLimits::heap_cap(free),
            ..base
        };
        (limits, free)
    }

    /// Until when (virtual time) the device's code is held up by its connection
    /// (SUSPEND_ON_ERROR), if it is.
    pub(super) fn link_blocked(&self) -> Option<f64> {
        sh(&self.shared).link.suspended_until()
    }
}

/// Whether a run's error is the end of a sleep or restart call (not a failure).
pub(super) fn is_stop(e: &impt_vm::RuntimeError) -> bool {
    e.message.contains("__impt_stop__")
}

/// The wake reason of new code (`same`: the code that runs already, restarted).
pub(super) fn start_reason(same: bool) -> i64 {
    if same {
        link::WAKEREASON_SW_RESET
    } else {
        link::WAKEREASON_NEW_SQUIRREL
    }
}
