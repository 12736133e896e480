//! What the API side and the devices' runner threads share (see the runner module): the
//! virtual clock, the commands a runner takes and the registry of runner channels. Kept
//! apart so that the shared state ([`super::app`]) needs nothing from the runner.

use crate::vm::{HttpRequest, HttpResponse, Value};
use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Virtual time: seconds since the Unix epoch, running `scale` times as fast as real time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_unix: f64,
    pub(super) base: Instant,
    scale: f64,
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
        }
    }

    pub fn now(&self) -> f64 {
        self.base_unix + self.base.elapsed().as_secs_f64() * self.scale
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
}

/// What the code of a device needs to know to run.
#[derive(Debug, Clone)]
pub struct Code {
    pub device_code: String,
    pub agent_code: String,
    pub agent_id: String,
    pub agent_url: String,
    pub mac: String,
    /// The device's part in a factory (see the factory module), if any.
    pub factory: Option<FactoryRole>,
}

/// What factory firmware sees of its device's place in a factory.
#[derive(Debug, Clone, PartialEq)]
pub enum FactoryRole {
    /// A BlinkUp fixture of a (pre-)factory Device Group.
    Fixture,
    /// A device under test, configured by this fixture (device id, agent URL).
    Dut {
        fixture_id: String,
        fixture_agent_url: String,
    },
}

impl Code {
    /// `imp.configparams` of this code on the device (`agent` false) or its agent, for
    /// device `device_id`: as on an imp, `factory_imp_device_id` is the fixture's id on a
    /// fixture and on its devices under test; a DUT's agent also has `factory_fixture_url`;
    /// every agent has `deviceid`.
    pub fn config_params(&self, agent: bool, device_id: &str) -> Value {
        let mut pairs: Vec<(&str, Value)> = Vec::new();
        match &self.factory {
            Some(FactoryRole::Fixture) => {
                pairs.push(("factory_imp_device_id", Value::Str(device_id.into())));
            }
            Some(FactoryRole::Dut {
                fixture_id,
                fixture_agent_url,
            }) => {
                pairs.push(("factory_imp_device_id", Value::Str(fixture_id.clone())));
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
    /// Stop both sides (device unassigned).
    Stop,
    Online(bool),
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

/// The runner channels of the devices, by device id.
#[derive(Default)]
pub struct Runners {
    pub(super) map: Mutex<HashMap<String, Sender<Cmd>>>,
}
