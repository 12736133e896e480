//! Virtual devices: seeding, the imp-like boot sequence and log emission.

use super::app::App;
pub use super::devlog::{emit, emit_app, storage_used};
use super::model::{Db, Device, LogEntry};
use super::runner;
use super::util::{new_agent_id, new_device_id, new_mac, now_iso};
use std::sync::Arc;
use std::time::Duration;

/// Delay between the steps of a boot sequence.
const STEP: Duration = Duration::from_millis(80);

/// A new online, unassigned device owned by `owner`, with one historical log entry.
pub fn new_device(db: &Db, owner: &str, name: Option<String>, online: bool) -> Device {
    let now = now_iso();
    let n = db.devices.len() as i64;
    let mut d = Device {
        id: new_device_id(),
        owner: owner.to_string(),
        mac: new_mac(),
        agent_id: new_agent_id(),
        name,
        online,
        group: None,
        imp_type: if n % 2 == 0 {
            "imp005".into()
        } else {
            "imp004m".into()
        },
        swversion: "44b8f5a - release-42.12 - Thu Jan 11 09:31:06 2024".into(),
        free_memory: 82_000 + n * 512,
        rssi: -48 - (n % 20),
        ip_address: format!("192.168.1.{}", 20 + (n % 200)),
        created_at: now.clone(),
        updated_at: now.clone(),
        state_changed_at: now.clone(),
        logs: Default::default(),
    };
    d.logs.push_back(LogEntry {
        ts: now,
        typ: "status".into(),
        msg: if online {
            "Device connected".into()
        } else {
            "Device disconnected".into()
        },
    });
    d
}

/// Restart a device: agent restart, code download and reconnection status lines, then the
/// group's current deployment runs (agent and device, see [`runner`]).
pub fn boot(app: &Arc<App>, device_id: String) {
    let app = app.clone();
    tokio::spawn(async move {
        let snapshot = {
            let w = app.world();
            w.db.devices.iter().find(|d| d.id == device_id).map(|d| {
                let code = d
                    .group
                    .as_deref()
                    .and_then(|g| w.db.groups.iter().find(|x| x.id == g))
                    .and_then(|g| g.current_deployment.clone())
                    .and_then(|dep| w.db.deployments.iter().find(|x| x.id == dep))
                    .map(|dep| runner::Code {
                        device_code: dep.device_code.clone(),
                        agent_code: dep.agent_code.clone(),
                        agent_id: d.agent_id.clone(),
                        agent_url: app.agent_url(&d.agent_id),
                        mac: d.mac.clone(),
                    });
                (d.online, code)
            })
        };
        let Some((online, code)) = snapshot else {
            return;
        };
        tokio::time::sleep(STEP).await;
        if !emit_app(&app, &device_id, "status", "Agent restarted: reload.") {
            return;
        }
        if online {
            let len = code.as_ref().map_or(0, |c| c.device_code.len());
            tokio::time::sleep(STEP).await;
            let used = storage_used(len);
            let msg = format!("Downloading new code; {used:.2}% program storage used");
            if !emit_app(&app, &device_id, "status", &msg) {
                return;
            }
            tokio::time::sleep(STEP).await;
            if !emit_app(&app, &device_id, "status", "Device connected") {
                return;
            }
        }
        let cmd = match code {
            Some(c) => runner::Cmd::Start(Box::new(c)),
            None => runner::Cmd::Stop,
        };
        runner::send(&app, &device_id, cmd);
    });
}

/// Bring a device online or offline, logging the change.
pub fn set_online(app: &App, device_id: &str, online: bool) -> bool {
    let mut w = app.world();
    let Some(d) = w.db.devices.iter_mut().find(|d| d.id == device_id) else {
        return false;
    };
    if d.online != online {
        d.online = online;
        d.state_changed_at = now_iso();
        let msg = if online {
            "Device connected"
        } else {
            "Device disconnected"
        };
        emit(&mut w, device_id, "status", msg);
    }
    drop(w);
    app.mark_dirty();
    runner::notify(app, device_id, runner::Cmd::Online(online));
    true
}
