//! The virtual factory. A device assigned to a (pre-)factory Device Group is a BlinkUp
//! fixture running the group's factory firmware. Its `server.factoryblinkup()` makes a new
//! virtual device under test (DUT) appear after the BlinkUp time (`impt sim
//! --blinkup-time`), as long as the DUT pool (`impt sim --dut-pool`) lasts: a fresh device
//! id, MAC and agent, assigned to the fixture group's DUT target when it has one (else
//! left unassigned, as a DUT only runs factory firmware), running the DUT target's current
//! deployment or else the fixture's own factory firmware. `imp.configparams` tells the
//! two apart as on an imp: `factoryfirmware`, `factory_imp` (the fixture's MAC) and
//! `factory_imp_device_id` (its id) on both, and on a DUT's agent `factory_fixture_url`
//! (see `exec::Code::config_params`); Electric Imp's FactoryTools reads them.
//!
//! A DUT's `server.bless(passed, callback)` asks the server: when the tests passed and the
//! fixture group has a production target, the device moves there (blessed), its callback
//! gets `true`, the target's `blessing` webhooks are called, and when the target's
//! `load_code_after_blessing` is on (the default) the device restarts with the target's
//! current deployment. Otherwise the callback gets `false` and the device stays.

use super::app::App;
use super::delivery;
use super::devlog::emit;
use super::exec::{Cmd, Code, FactoryCall, FactoryRole};
use super::model::{Db, Device, FactoryLink};
use super::newdev::new_device;
use super::runner;
use super::util::now_iso;
use impt_wire::factory as texts;
use impt_wire::types::{dg_type_name, is_fixture_type};
use serde_json::{json, Map};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The server's answer to a blessing request arrives this long after it.
const BLESS_ROUND_TRIP: Duration = Duration::from_millis(100);

/// Requests under way (kind, device id), so that code calling in a loop starts one at a time.
static UNDER_WAY: std::sync::Mutex<Vec<(&'static str, String)>> = std::sync::Mutex::new(Vec::new());

/// A request under way until dropped.
struct Busy(&'static str, String);

impl Busy {
    fn take(kind: &'static str, id: &str) -> Option<Busy> {
        let mut u = super::app::lock(&UNDER_WAY);
        if u.iter().any(|(k, i)| *k == kind && i == id) {
            return None;
        }
        u.push((kind, id.to_string()));
        Some(Busy(kind, id.to_string()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut u = super::app::lock(&UNDER_WAY);
        u.retain(|(k, i)| !(*k == self.0 && *i == self.1));
    }
}

/// What `d` runs now, with its factory role.
pub fn code_for(app: &App, db: &Db, d: &Device) -> Option<Code> {
    let group = |id: &str| db.groups.iter().find(|g| g.id == id);
    let deployment = |g: &super::model::Group| {
        g.current_deployment
            .as_deref()
            .and_then(|dep| db.deployments.iter().find(|x| x.id == dep))
    };
    let mut role = None;
    let dep = match &d.factory {
        Some(link) if !link.blessed => {
            let fixture = db.device(&link.fixture);
            role = Some(FactoryRole::Dut {
                fixture_id: link.fixture.clone(),
                fixture_mac: fixture.map_or_else(String::new, |f| f.mac.clone()),
                fixture_agent_url: fixture.map_or_else(String::new, |f| app.agent_url(&f.agent_id)),
            });
            d.group
                .as_deref()
                .and_then(group)
                .and_then(deployment)
                .or_else(|| group(&link.fixture_group).and_then(deployment))
        }
        _ => {
            let g = d.group.as_deref().and_then(group)?;
            if is_fixture_type(&g.gtype) {
                role = Some(FactoryRole::Fixture);
            }
            deployment(g)
        }
    }?;
    Some(Code {
        device_code: dep.device_code.clone(),
        agent_code: dep.agent_code.clone(),
        agent_url: app.agent_url(&d.agent_id),
        mac: d.mac.clone(),
        factory: role,
        deployment_seq: dep.seq,
    })
}

/// Carries out a factory call of a device's code (see `App::factory`).
pub fn call(app: &Arc<App>, c: FactoryCall) {
    match c {
        FactoryCall::Blinkup { fixture } => blinkup(Arc::downgrade(app), fixture),
        FactoryCall::Bless { dut, passed } => bless(Arc::downgrade(app), dut, passed),
    }
}

/// `server.factoryblinkup()` on fixture `fixture_id`: a DUT appears after the BlinkUp time.
fn blinkup(app: Weak<App>, fixture_id: String) {
    let delay = app.upgrade().map_or(0.0, |a| a.cfg.blinkup_time);
    let Some(busy) = Busy::take("blinkup", &fixture_id) else {
        // one BlinkUp at a time per fixture: the call during one is ignored
        return;
    };
    // (virtual time waits for it, as the code does)
    let hold = app.upgrade().map(|a| a.runners.pool.outside());
    let _ = std::thread::Builder::new()
        .name(format!("blinkup-{fixture_id}"))
        .spawn(move || {
            let _busy = busy;
            let _hold = hold;
            std::thread::sleep(Duration::from_secs_f64(delay.clamp(0.0, 600.0)));
            if let Some(app) = app.upgrade() {
                make_dut(&app, &fixture_id);
            }
        });
}

fn make_dut(app: &Arc<App>, fixture_id: &str) {
    let mut w = app.world();
    let Some(fixture) = w.db.device(fixture_id).cloned() else {
        return;
    };
    let Some(g) = fixture
        .group
        .as_deref()
        .and_then(|g| w.db.groups.iter().find(|x| x.id == g))
        .filter(|g| is_fixture_type(&g.gtype))
        .cloned()
    else {
        emit(&mut w, fixture_id, "server.error", texts::NOT_A_FIXTURE);
        return;
    };
    let made = w.db.devices.iter().filter(|d| d.factory.is_some()).count();
    if made >= app.cfg.dut_pool || w.db.devices.len() >= super::newdev::MAX_DEVICES {
        let msg = texts::no_dut_line(app.cfg.dut_pool);
        emit(&mut w, fixture_id, "status", &msg);
        return;
    }
    let mut dut = new_device(&w.db, &fixture.owner, None, true);
    dut.group = g.dut_target.clone();
    dut.factory = Some(FactoryLink {
        fixture: fixture_id.to_string(),
        fixture_group: g.id.clone(),
        blessed: false,
    });
    let code = code_for(app, &w.db, &dut);
    let (dut_id, mac) = (dut.id.clone(), dut.mac.clone());
    w.logs.adopt(&mut dut);
    w.db.push_device(dut);
    let msg = texts::blinkup_line(&dut_id, &mac);
    emit(&mut w, fixture_id, "status", &msg);
    drop(w);
    app.mark_dirty();
    if let Some(c) = code {
        runner::send(app, &dut_id, Cmd::Start(Box::new(c)));
    }
}

/// `server.bless(passed, ...)` on device `dut_id`: the answer reaches its callback after a
/// round trip.
fn bless(app: Weak<App>, dut_id: String, passed: bool) {
    let Some(busy) = Busy::take("bless", &dut_id) else {
        // a blessing request is under way: this one is not sent
        return;
    };
    let hold = app.upgrade().map(|a| a.runners.pool.outside());
    let _ = std::thread::Builder::new()
        .name(format!("bless-{dut_id}"))
        .spawn(move || {
            let _hold = hold;
            std::thread::sleep(BLESS_ROUND_TRIP);
            if let Some(app) = app.upgrade() {
                let (ok, then) = decide(&app, &dut_id, passed);
                // answered: the callback may ask again
                drop(busy);
                runner::notify(&app, &dut_id, Cmd::Blessed(ok, then));
            }
        });
}

/// Bless the device if it may be; the answer and what it runs next.
fn decide(app: &Arc<App>, dut_id: &str, passed: bool) -> (bool, Option<Box<Cmd>>) {
    let mut w = app.world();
    let Some(i) = w.db.device_pos(dut_id) else {
        return (false, None);
    };
    let refuse = |w: &mut super::app::World, why: &str| {
        emit(w, dut_id, "status", &texts::blessing_failed_line(why));
        (false, None)
    };
    let Some(link) = w.db.devices[i].factory.clone() else {
        return refuse(&mut w, "the device is not a device under test");
    };
    if link.blessed {
        return refuse(&mut w, "the device is already blessed");
    }
    if !passed {
        return refuse(&mut w, "the factory firmware reported failed tests");
    }
    let target =
        w.db.groups
            .iter()
            .find(|g| g.id == link.fixture_group)
            .and_then(|g| g.production_target.clone())
            .and_then(|t| w.db.groups.iter().find(|g| g.id == t))
            .cloned();
    let Some(target) = target else {
        return refuse(
            &mut w,
            "the fixture's Device Group has no production target",
        );
    };
    let d = &mut w.db.devices[i];
    d.group = Some(target.id.clone());
    d.updated_at = now_iso();
    if let Some(l) = d.factory.as_mut() {
        l.blessed = true;
    }
    let d = d.clone();
    let msg = texts::blessed_line(dg_type_name(&target.gtype), &target.name);
    emit(&mut w, dut_id, "status", &msg);
    // The documented body: the device id and the imp id (derived from the MAC on an imp;
    // the documentation's example shows both equal, as here).
    let mut payload = Map::new();
    payload.insert("device_id".into(), json!(d.id));
    payload.insert("imp_id".into(), json!(d.id));
    delivery::fire(app, &mut w, &target.id, "blessing", payload);
    let then = if target.load_code_after_blessing.unwrap_or(true) {
        Some(Box::new(match code_for(app, &w.db, &d) {
            Some(c) => Cmd::Start(Box::new(c)),
            None => Cmd::Stop,
        }))
    } else {
        None
    };
    drop(w);
    app.mark_dirty();
    (true, then)
}

/// An end user's BlinkUp of a production device (`POST /_sim/devices/{id}/blinkup`): the
/// `blinkup` webhooks of its Device Group are called. `false`: no such device.
pub fn user_blinkup(app: &Arc<App>, device_id: &str) -> bool {
    let mut w = app.world();
    let Some(d) = w.db.device(device_id).cloned() else {
        return false;
    };
    emit(
        &mut w,
        device_id,
        "status",
        "BlinkUp: device configured by an end user",
    );
    if let Some(g) = d.group.clone() {
        // The documented body: the device id, and the plan id and enrollment token the
        // BlinkUp app used (made up here).
        let mut payload = Map::new();
        payload.insert("device_id".into(), json!(d.id));
        payload.insert("plan_id".into(), json!(super::util::new_id()));
        payload.insert("token".into(), json!(super::util::new_id()));
        delivery::fire(app, &mut w, &g, "blinkup", payload);
    }
    true
}
