//! The virtual imp's connection to the server, its deep sleep and its restarts, as impOS
//! handles them (one [`Link`] per device, held by the device's runner).
//!
//! What the device's code sees (`server.isconnected/connect/disconnect/flush`,
//! `server.setsendtimeoutpolicy`, the result of `agent.send` and `server.log`,
//! `server.onunexpecteddisconnect`) follows the imp API reference:
//! - `SUSPEND_ON_ERROR` (the default): a send or log while disconnected reconnects at once
//!   when the network is there; without network the code stops (its timers and messages
//!   wait) and impOS tries for a minute; then it sleeps and retries every nine minutes,
//!   rebooting the code with `WAKEREASON_SNOOZE` once connected.
//! - `RETURN_ON_ERROR`: sends and logs while disconnected fail with
//!   `SEND_ERROR_NOT_CONNECTED` (the data is lost); `server.connect(cb, timeout)` is
//!   asynchronous; after a loss of the network impOS tries to reconnect for 60 s, and only
//!   then calls the `onunexpecteddisconnect` handler with the reason.
//!
//! The network itself can be cut from outside (`/_sim/devices/ID/disconnect`, see the
//! control module) for a number of seconds or until restored, with the reason a connection
//! attempt then reports (`NO_WIFI` by default).
//!
//! Times are virtual (the simulator's clock), so `--time-scale` shortens them all.

use impt_vm::Value;

/// `server.connect` / `onunexpecteddisconnect` reasons (imp API constants).
pub const NOT_CONNECTED: i64 = 0;
pub const NO_WIFI: i64 = 1;
pub const SERVER_CONNECTED: i64 = 5;
/// Send error codes (imp API: `server` object).
pub const SEND_ERROR_NOT_CONNECTED: i64 = 1;
pub const SEND_ERROR_WOULDBLOCK: i64 = 4;
/// `hardware.wakereason()` codes (imp API).
pub const WAKEREASON_POWER_ON: i64 = 0;
pub const WAKEREASON_TIMER: i64 = 1;
/// `server.onshutdown` reason: new Squirrel is available.
pub const SHUTDOWN_NEWSQUIRREL: i64 = 1;
pub const WAKEREASON_SW_RESET: i64 = 2;
pub const WAKEREASON_NEW_SQUIRREL: i64 = 4;
pub const WAKEREASON_SQUIRREL_ERROR: i64 = 5;
pub const WAKEREASON_SNOOZE: i64 = 7;
pub const WAKEREASON_SW_RESTART: i64 = 10;

/// Seconds impOS keeps trying after losing the network before it gives up (documented:
/// `server.onunexpecteddisconnect`, `server.setsendtimeoutpolicy`).
pub const RETRY_WINDOW: f64 = 60.0;
/// Seconds a snoozing imp sleeps between connection attempts (documented:
/// `server.setsendtimeoutpolicy`, SUSPEND_ON_ERROR).
pub const SNOOZE: f64 = 540.0;
/// Seconds a successful `server.connect` takes (assumed).
pub const CONNECT_TIME: f64 = 0.05;
/// The longest deep sleep (documented: `imp.deepsleepfor`, 28 days minus two seconds).
pub const MAX_SLEEP: f64 = 2_419_198.0;

/// The reasons `/_sim/…/disconnect` accepts by name.
pub const REASONS: &[(&str, i64)] = &[
    ("NOT_CONNECTED", 0),
    ("NO_WIFI", 1),
    ("NO_LINK", 1),
    ("NO_IP_ADDRESS", 2),
    ("NOT_RESOLVED", 3),
    ("NO_SERVER", 4),
    ("NO_PROXY", 6),
    ("NOT_AUTHORISED", 7),
    ("NO_MODEM", 8),
    ("SIM_ERROR", 9),
    ("NO_REGISTRATION", 10),
    ("REGISTRATION_DENIED", 11),
    ("NO_PPP_CONNECTION", 12),
    ("PPP_NO_CONNECTIVITY", 13),
];

/// A reason given by name or number.
pub fn reason(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().filter(|r| (0..=13).contains(r) && *r != 5),
        serde_json::Value::String(s) => REASONS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|(_, r)| *r),
        _ => None,
    }
}

/// What the control side asks of a device's network and power.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkCmd {
    /// Cut the network for `secs` seconds (virtual), or until restored.
    Cut { secs: Option<f64>, reason: i64 },
    /// The network is back.
    Restore,
    /// Power off and on: the device boots with `WAKEREASON_POWER_ON` and an empty `nv`.
    PowerCycle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Suspend,
    Return,
    ReturnNoDisconnect,
}

/// What the device's code asked of its power: carried out when its run ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PowerRequest {
    /// Deep sleep until virtual time `until`.
    Sleep { until: f64 },
    /// Restart the code (`server.restart()`: `WAKEREASON_SW_RESTART`, `imp.reset()`:
    /// `WAKEREASON_SW_RESET`).
    Restart { reason: i64 },
}

/// What happened, for the runner to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Connected to the server (status line, agent's `device.onconnect`, held data sent).
    Up,
    /// Disconnected (status line, agent's `device.ondisconnect`).
    Down,
    /// The pending `server.connect` callback gets this reason.
    ConnectResult(i64),
    /// `server.onunexpecteddisconnect` handler gets this reason.
    Unexpected(i64),
    /// The code stops until the connection is back (SUSPEND_ON_ERROR) or gives up.
    Suspend,
    /// The suspended code goes on.
    Resume,
    /// The code stops; the device sleeps and retries (SUSPEND_ON_ERROR gave up).
    Snooze,
    /// The device boots again after a snooze.
    Wake(i64),
}

/// A device's connection state.
#[derive(Debug, Clone)]
pub struct Link {
    pub policy: Policy,
    pub connected: bool,
    /// The network is cut until then (virtual time; `None` inside: until restored).
    cut: Option<(Option<f64>, i64)>,
    /// A `server.connect` under way: (deadline, whether it has a callback).
    connecting: Option<(f64, bool)>,
    /// When a connection under way completes (the network is there).
    connect_at: Option<f64>,
    /// Since when impOS retries after an unexpected loss (RETURN_ON_ERROR).
    lost_at: Option<f64>,
    /// The code waits for the connection until then (SUSPEND_ON_ERROR).
    suspended_until: Option<f64>,
    /// The device sleeps after giving up; next attempt then.
    snooze_until: Option<f64>,
    /// The device is in deep sleep until then (the code asked for it).
    asleep_until: Option<f64>,
    events: Vec<Event>,
    /// The code asked to sleep or restart.
    pub request: Option<PowerRequest>,
    /// `hardware.wakereason()` of the running code.
    pub wake_reason: i64,
    /// `imp.onidle` callback registered and not run yet.
    pub idle_pending: bool,
    /// `server.onshutdown` handler registered.
    pub shutdown_handler: bool,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            policy: Policy::Suspend,
            connected: true,
            cut: None,
            connecting: None,
            connect_at: None,
            lost_at: None,
            suspended_until: None,
            snooze_until: None,
            asleep_until: None,
            events: Vec::new(),
            request: None,
            wake_reason: WAKEREASON_NEW_SQUIRREL,
            idle_pending: false,
            shutdown_handler: false,
        }
    }
}

/// Whether a message or log line may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Pass,
    /// Kept until the connection is back (the code is suspended meanwhile).
    Hold,
    /// Lost; the call returns this send error code.
    Refuse(i64),
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Int(i)) => Some(*i as f64),
        Some(Value::Float(f)) => Some(*f),
        _ => None,
    }
}

fn int(v: Option<&Value>) -> Option<i64> {
    num(v).map(|f| f as i64)
}

impl Link {
    /// The state of newly started code: `connected` as the boot left it, the default
    /// policy, nothing pending.
    pub fn boot(&mut self, connected: bool, wake_reason: i64) {
        let cut = self.cut;
        let was = self.connected;
        *self = Link {
            connected,
            cut,
            wake_reason,
            ..Link::default()
        };
        if was && !connected {
            self.events.push(Event::Down);
        } else if !was && connected {
            self.events.push(Event::Up);
        }
    }

    pub fn network_up(&self) -> bool {
        self.cut.is_none()
    }

    /// Whether the code waits for the connection (SUSPEND_ON_ERROR).
    pub fn suspended(&self) -> bool {
        self.suspended_until.is_some()
    }

    /// Until when (virtual time) the code waits for the connection, if it does.
    pub fn suspended_until(&self) -> Option<f64> {
        self.suspended_until
    }

    /// Deep sleep until virtual time `until`: the connection goes down; the device wakes
    /// with `WAKEREASON_TIMER`, offline.
    pub fn fall_asleep(&mut self, until: f64) {
        self.request = None;
        self.connecting = None;
        self.connect_at = None;
        self.lost_at = None;
        self.suspended_until = None;
        self.idle_pending = false;
        self.down();
        self.asleep_until = Some(until);
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn up(&mut self) {
        self.lost_at = None;
        self.connect_at = None;
        if !self.connected {
            self.connected = true;
            self.events.push(Event::Up);
        }
        if let Some((_, cb)) = self.connecting.take() {
            if cb {
                self.events.push(Event::ConnectResult(SERVER_CONNECTED));
            }
        }
        if self.suspended_until.take().is_some() {
            self.events.push(Event::Resume);
        }
    }

    fn down(&mut self) {
        if self.connected {
            self.connected = false;
            self.events.push(Event::Down);
        }
    }

    fn suspend(&mut self, now: f64) {
        if self.suspended_until.is_none() {
            self.suspended_until = Some(now + RETRY_WINDOW);
            self.events.push(Event::Suspend);
        }
    }

    /// A send or log of the device's code.
    pub fn gate(&mut self, now: f64) -> Gate {
        if self.connected {
            return Gate::Pass;
        }
        match self.policy {
            Policy::Suspend if self.network_up() && !self.suspended() => {
                self.up();
                Gate::Pass
            }
            Policy::Suspend => {
                self.suspend(now);
                Gate::Hold
            }
            _ => Gate::Refuse(SEND_ERROR_NOT_CONNECTED),
        }
    }

    /// An imp API call of the device's code about its connection or power (the `op`s of
    /// the prelude's `server` and `imp` objects).
    pub fn op(&mut self, op: &str, args: &[Value], now: f64) -> Result<Value, String> {
        Ok(match op {
            "isconnected" => Value::Bool(self.connected),
            "wakereason" => Value::Int(self.wake_reason),
            "flush" => Value::Bool(self.connected),
            "disconnect" => {
                self.connecting = None;
                self.connect_at = None;
                self.lost_at = None;
                self.down();
                Value::Null
            }
            "connect" => {
                let cb = matches!(args.first(), Some(Value::Bool(true)));
                let timeout = num(args.get(1)).unwrap_or(60.0).clamp(0.0, 3600.0);
                if self.connected {
                    return Ok(Value::Null);
                }
                if self.policy == Policy::Suspend {
                    if self.network_up() {
                        self.up();
                    } else {
                        self.suspend(now);
                    }
                    return Ok(Value::Null);
                }
                self.connecting = Some((now + timeout, cb));
                if self.network_up() {
                    self.connect_at = Some(now + CONNECT_TIME);
                }
                Value::Null
            }
            "policy" => {
                self.policy = match int(args.first()) {
                    Some(0) => Policy::Suspend,
                    Some(1) => Policy::Return,
                    Some(2) => Policy::ReturnNoDisconnect,
                    _ => return Err("server.setsendtimeoutpolicy: invalid error policy".into()),
                };
                Value::Null
            }
            "sleep" => {
                let secs = num(args.first()).ok_or("the sleep time must be a number")?;
                self.request = Some(PowerRequest::Sleep {
                    until: now + secs.clamp(0.0, MAX_SLEEP),
                });
                Value::Null
            }
            "sleepuntil" => {
                let until = sleep_until(args, now)?;
                self.request = Some(PowerRequest::Sleep { until });
                Value::Null
            }
            "restart" => {
                self.request = Some(PowerRequest::Restart {
                    reason: WAKEREASON_SW_RESTART,
                });
                Value::Null
            }
            "reset" => {
                self.request = Some(PowerRequest::Restart {
                    reason: WAKEREASON_SW_RESET,
                });
                Value::Null
            }
            "onidle" => {
                self.idle_pending = matches!(args.first(), Some(Value::Bool(true)));
                Value::Null
            }
            "onshutdown" => {
                self.shutdown_handler = matches!(args.first(), Some(Value::Bool(true)));
                Value::Null
            }
            other => return Err(format!("unknown connection operation '{other}'")),
        })
    }

    /// The network is cut from outside.
    pub fn cut(&mut self, secs: Option<f64>, reason: i64, now: f64) {
        self.cut = Some((secs.map(|s| now + s.max(0.0)), reason));
        self.connect_at = None;
        if !self.connected {
            return;
        }
        self.down();
        match self.policy {
            Policy::Suspend => self.suspend(now),
            _ => self.lost_at = Some(now),
        }
    }

    /// The network is back.
    pub fn restore(&mut self, now: f64) {
        if self.cut.take().is_none() {
            return;
        }
        if self.lost_at.is_some() || self.suspended() {
            self.up();
        } else if self.connecting.is_some() {
            self.connect_at = Some(now + CONNECT_TIME);
        }
    }

    /// The soonest virtual time something is due.
    pub fn next_due(&self) -> Option<f64> {
        [
            self.cut.and_then(|(until, _)| until),
            self.connecting.map(|(d, _)| d),
            self.connect_at,
            self.lost_at.map(|t| t + RETRY_WINDOW),
            self.suspended_until,
            self.snooze_until,
            self.asleep_until,
        ]
        .into_iter()
        .flatten()
        .min_by(f64::total_cmp)
    }

    /// Carries out what is due at virtual time `now`.
    pub fn tick(&mut self, now: f64) {
        if let Some((Some(until), _)) = self.cut {
            if until <= now {
                self.restore(now);
            }
        }
        let reason = self.cut.map_or(NOT_CONNECTED, |(_, r)| r);
        if self.connect_at.is_some_and(|t| t <= now) {
            self.up();
        }
        if let Some((deadline, cb)) = self.connecting {
            if deadline <= now {
                self.connecting = None;
                self.connect_at = None;
                if cb {
                    self.events.push(Event::ConnectResult(reason));
                }
            }
        }
        if self.lost_at.is_some_and(|t| t + RETRY_WINDOW <= now) {
            self.lost_at = None;
            self.events.push(Event::Unexpected(reason));
        }
        if self.suspended_until.is_some_and(|t| t <= now) {
            self.suspended_until = None;
            self.snooze_until = Some(now + SNOOZE);
            self.events.push(Event::Snooze);
        }
        if self.asleep_until.is_some_and(|t| t <= now) {
            self.asleep_until = None;
            self.events.push(Event::Wake(WAKEREASON_TIMER));
        }
        if let Some(t) = self.snooze_until.filter(|t| *t <= now) {
            if self.network_up() {
                self.snooze_until = None;
                self.events.push(Event::Wake(WAKEREASON_SNOOZE));
            } else {
                // Another minute of trying, then nine more of sleep.
                self.snooze_until = Some(t + RETRY_WINDOW + SNOOZE);
            }
        }
    }
}

/// The device's connection changed: `device_online` in the API and the status line an
/// imp's log shows (`Device connected` / `Device disconnected`).
pub fn report(app: &super::app::App, device_id: &str, online: bool) {
    let mut w = app.world();
    let Some(d) = w.db.device_mut(device_id) else {
        return;
    };
    if d.online == online {
        return;
    }
    d.online = online;
    d.state_changed_at = super::util::now_iso();
    let msg = if online {
        "Device connected"
    } else {
        "Device disconnected"
    };
    super::devlog::emit(&mut w, device_id, "status", msg);
    drop(w);
    app.mark_dirty();
}

/// Virtual time of the next `hour:minute:second` UTC (on weekday `day`, 0 = Sunday, if
/// given) after `now`.
fn sleep_until(args: &[Value], now: f64) -> Result<f64, String> {
    let h = int(args.first()).ok_or("sleepuntil: the hour must be an integer")?;
    let m = int(args.get(1)).ok_or("sleepuntil: the minute must be an integer")?;
    let s = int(args.get(2)).unwrap_or(0);
    let day = int(args.get(3));
    if !(0..24).contains(&h) || !(0..=60).contains(&m) || !(0..=60).contains(&s) {
        return Err("sleepuntil: time out of range".into());
    }
    let secs_of_day = (h * 3600 + m * 60 + s) as f64;
    let day_start = (now / 86400.0).floor() * 86400.0;
    let mut t = day_start + secs_of_day;
    while t <= now {
        t += 86400.0;
    }
    if let Some(d) = day.filter(|d| (0..7).contains(d)) {
        // 1970-01-01 was a Thursday (4).
        while ((t / 86400.0).floor() as i64 + 4) % 7 != d {
            t += 86400.0;
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_on_error_reports_after_a_minute_and_connects_on_request() {
        let mut l = Link::default();
        l.op("policy", &[Value::Int(1)], 0.0).unwrap();
        l.cut(None, NO_WIFI, 10.0);
        assert_eq!(l.take_events(), vec![Event::Down]);
        assert_eq!(l.gate(11.0), Gate::Refuse(SEND_ERROR_NOT_CONNECTED));
        l.tick(69.0);
        assert!(l.take_events().is_empty());
        l.tick(70.0);
        assert_eq!(l.take_events(), vec![Event::Unexpected(NO_WIFI)]);
        l.op("connect", &[Value::Bool(true), Value::Int(5)], 71.0)
            .unwrap();
        l.tick(76.0);
        assert_eq!(l.take_events(), vec![Event::ConnectResult(NO_WIFI)]);
        l.restore(80.0);
        assert!(!l.connected, "RETURN_ON_ERROR does not reconnect by itself");
        l.op("connect", &[Value::Bool(true)], 81.0).unwrap();
        l.tick(81.0 + CONNECT_TIME);
        assert_eq!(
            l.take_events(),
            vec![Event::Up, Event::ConnectResult(SERVER_CONNECTED)]
        );
    }

    #[test]
    fn a_short_loss_reconnects_without_the_handler() {
        let mut l = Link::default();
        l.op("policy", &[Value::Int(1)], 0.0).unwrap();
        l.cut(Some(20.0), NO_WIFI, 0.0);
        l.tick(20.0);
        assert_eq!(l.take_events(), vec![Event::Down, Event::Up]);
        l.tick(100.0);
        assert!(l.take_events().is_empty());
    }

    #[test]
    fn suspend_on_error_holds_then_snoozes() {
        let mut l = Link::default();
        l.op("disconnect", &[], 0.0).unwrap();
        assert_eq!(l.take_events(), vec![Event::Down]);
        // Network there: a send reconnects.
        assert_eq!(l.gate(1.0), Gate::Pass);
        assert_eq!(l.take_events(), vec![Event::Up]);
        l.cut(None, NO_WIFI, 2.0);
        assert_eq!(l.take_events(), vec![Event::Down, Event::Suspend]);
        assert_eq!(l.gate(3.0), Gate::Hold);
        l.tick(62.0);
        assert_eq!(l.take_events(), vec![Event::Snooze]);
        l.tick(62.0 + SNOOZE);
        assert!(l.take_events().is_empty(), "no network: sleeps on");
        l.restore(700.0);
        l.tick(62.0 + SNOOZE + RETRY_WINDOW + SNOOZE);
        assert_eq!(l.take_events(), vec![Event::Wake(WAKEREASON_SNOOZE)]);
    }

    #[test]
    fn sleep_until_the_next_time_of_day() {
        // 1970-01-02 00:00:00 UTC is a Friday.
        let now = 86400.0 + 10.0;
        let t = sleep_until(&[Value::Int(0), Value::Int(0)], now).unwrap();
        assert_eq!(t, 2.0 * 86400.0);
        let t = sleep_until(
            &[Value::Int(1), Value::Int(0), Value::Int(0), Value::Int(0)],
            now,
        )
        .unwrap();
        // The next Sunday is 1970-01-04.
        assert_eq!(t, 3.0 * 86400.0 + 3600.0);
    }
}
