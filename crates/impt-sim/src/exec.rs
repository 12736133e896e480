//! What the API side and the devices' runners share (see the runner module): the
//! virtual clock, the commands a runner takes and the registry of runners (the pool). Kept
//! apart so that the shared state ([`super::app`]) needs nothing from the runner.

use impt_vm::{HttpRequest, HttpResponse, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Virtual time: seconds since the Unix epoch, running `scale` times as fast as real time,
/// plus the jumps made under virtual time (see [`Clock::advance_to`]).
#[derive(Debug, Clone)]
pub struct Clock {
    base_unix: f64,
    pub(super) base: Instant,
    scale: f64,
    shift: Arc<Shift>,
}

/// The part of a clock its copies share.
#[derive(Debug, Default)]
struct Shift {
    /// Seconds skipped by jumps (f64 bits).
    skipped: AtomicU64,
    /// Jumps made.
    jumps: AtomicU64,
    /// Virtual time on: the clock jumps to the next deadline when all code is idle.
    on: AtomicBool,
}

impl Clock {
    pub fn new(scale: f64) -> Clock {
        let base_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Clock {
            base_unix,
            base: Instant::now(),
            scale,
            shift: Arc::default(),
        }
    }

    pub fn now(&self) -> f64 {
        self.base_unix + self.base.elapsed().as_secs_f64() * self.scale + self.skipped()
    }

    /// Real time until virtual time `due`.
    pub(super) fn real_until(&self, due: f64) -> Duration {
        let d = (due - self.now()) / self.scale;
        if d.is_finite() && d > 0.0 {
            Duration::from_secs_f64(d.min(3600.0))
        } else {
            Duration::ZERO
        }
    }

    /// Whether virtual time is on (see the pool module).
    pub fn is_virtual(&self) -> bool {
        self.shift.on.load(Ordering::Acquire)
    }

    /// Switch virtual time on or off (jumps made stay).
    pub fn set_virtual(&self, on: bool) {
        self.shift.on.store(on, Ordering::Release);
    }

    /// Seconds skipped by jumps so far.
    pub fn skipped(&self) -> f64 {
        f64::from_bits(self.shift.skipped.load(Ordering::Acquire))
    }

    /// Jumps made so far.
    pub fn jumps(&self) -> u64 {
        self.shift.jumps.load(Ordering::Acquire)
    }

    /// Jump ahead to virtual time `t` (never back).
    pub fn advance_to(&self, t: f64) {
        let by = t - self.now();
        if by.is_finite() && by > 0.0 {
            let _ = self
                .shift
                .skipped
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| {
                    Some((f64::from_bits(bits) + by).to_bits())
                });
            self.shift.jumps.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Speed relative to real time.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

/// What the code of a device needs to know to run.
#[derive(Debug, Clone)]
pub struct Code {
    pub device_code: std::sync::Arc<str>,
    pub agent_code: std::sync::Arc<str>,
    pub agent_url: String,
    pub mac: String,
    /// The device's part in a factory (see the factory module), if any.
    pub factory: Option<FactoryRole>,
    /// Creation sequence number of the deployment this code comes from.
    pub deployment_seq: u64,
}

/// What factory firmware sees of its device's place in a factory.
#[derive(Debug, Clone, PartialEq)]
pub enum FactoryRole {
    /// A BlinkUp fixture of a (pre-)factory Device Group.
    Fixture,
    /// A device under test, configured by this fixture (device id, MAC, agent URL).
    Dut {
        fixture_id: String,
        fixture_mac: String,
        fixture_agent_url: String,
    },
}

impl Code {
    /// `imp.configparams` of this code on the device (`agent` false) or its agent, for
    /// device `device_id`. While factory firmware runs (on a fixture, or on a DUT not yet
    /// blessed), device and agent have `factoryfirmware` (true), `factory_imp` (the
    /// fixture's MAC, 12 hex digits: what Electric Imp's FactoryTools compares with the
    /// device's own MAC) and the documented `factory_imp_device_id` (the fixture's id); a
    /// DUT's agent also has `factory_fixture_url` (the fixture's agent URL). Every agent has
    /// `deviceid`.
    pub fn config_params(&self, agent: bool, device_id: &str) -> Value {
        let mut pairs: Vec<(&str, Value)> = Vec::new();
        let mut factory = |id: &str, mac: &str| {
            pairs.push(("factoryfirmware", Value::Bool(true)));
            pairs.push(("factory_imp", Value::Str(crate::identity::plain(mac))));
            pairs.push(("factory_imp_device_id", Value::Str(id.into())));
        };
        match &self.factory {
            Some(FactoryRole::Fixture) => factory(device_id, &self.mac),
            Some(FactoryRole::Dut {
                fixture_id,
                fixture_mac,
                fixture_agent_url,
            }) => {
                factory(fixture_id, fixture_mac);
                if agent {
                    pairs.push(("factory_fixture_url", Value::Str(fixture_agent_url.clone())));
                }
            }
            None => {}
        }
        if agent {
            pairs.push(("deviceid", Value::Str(device_id.into())));
        }
        Value::table(pairs)
    }
}

/// A factory call of a device's code, carried out by the factory module.
#[derive(Debug, Clone)]
pub enum FactoryCall {
    /// `server.factoryblinkup()` on this fixture.
    Blinkup { fixture: String },
    /// `server.bless(passed, …)` on this device under test.
    Bless { dut: String, passed: bool },
}

/// A request to a device's runner thread.
pub enum Cmd {
    /// (Re)start agent and device with this code.
    Start(Box<Code>),
    /// A conditional restart with this code: a device running a deployment at least as new
    /// as the group's `min_supported_deployment` (this sequence number) and with a
    /// `server.onshutdown` handler is told that new code is there (`SHUTDOWN_NEWSQUIRREL`)
    /// and picks it up when it calls `server.restart()`; any other restarts at once.
    Conditional(Box<Code>, u64),
    /// Stop both sides (device unassigned).
    Stop,
    Online(bool),
    /// An input pin of the device driven from outside (`/_sim/devices/ID/pins`).
    Pin(String, impt_vm::Value),
    /// The server's answer to the device's `server.bless`, then what runs next (`None`:
    /// the code keeps running).
    Blessed(bool, Option<Box<Cmd>>),
    Http(
        HttpRequest,
        tokio::sync::oneshot::Sender<Result<HttpResponse, String>>,
    ),
    /// The device's network or power, from outside (see the link module).
    Link(super::link::LinkCmd),
}
