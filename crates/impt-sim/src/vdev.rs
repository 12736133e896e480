//! Virtual devices: seeding, the imp-like boot sequence and log emission.

use super::app::App;
pub use super::devlog::{emit, emit_app, storage_used};
pub use super::newdev::new_device;
use super::runner;
use super::util::now_iso;
use std::sync::Arc;
use std::time::Duration;

/// Restart a device: agent restart, code download and reconnection status lines, then the
/// group's current deployment runs (agent and device, see [`runner`]).
pub fn boot(app: &Arc<App>, device_id: String) {
    boot_as(app, device_id, false);
}

/// A conditional restart of a device (`…/conditional_restart`): as [`boot`], but a device
/// that runs a supported deployment and has a `server.onshutdown` handler is told of the
/// new code instead of being restarted (see [`runner::Cmd::Conditional`]).
pub fn boot_conditional(app: &Arc<App>, device_id: String) {
    boot_as(app, device_id, true);
}

fn boot_as(app: &Arc<App>, device_id: String, conditional: bool) {
    let app = app.clone();
    tokio::spawn(async move {
        let snapshot = {
            let w = app.world();
            w.db.device(&device_id).map(|d| {
                let min_seq = d
                    .group
                    .as_deref()
                    .and_then(|g| w.db.groups.iter().find(|x| x.id == g))
                    .and_then(|g| g.min_supported_deployment.as_deref())
                    .and_then(|m| w.db.deployments.iter().find(|x| x.id == m))
                    .map_or(0, |m| m.seq);
                (d.online, super::factory::code_for(&app, &w.db, d), min_seq)
            })
        };
        let Some((online, code, min_seq)) = snapshot else {
            return;
        };
        // Delay between the steps of the boot sequence.
        const STEP_CAP_MS: u64 = 60_000;
        let step = Duration::from_millis(app.cfg.boot_step_ms.min(STEP_CAP_MS));
        tokio::time::sleep(step).await;
        if !emit_app(&app, &device_id, "status", "Agent restarted: reload.") {
            return;
        }
        if online {
            let len = code.as_ref().map_or(0, |c| c.device_code.len());
            tokio::time::sleep(step).await;
            let used = storage_used(len);
            let msg = format!("Downloading new code; {used:.2}% program storage used");
            if !emit_app(&app, &device_id, "status", &msg) {
                return;
            }
            tokio::time::sleep(step).await;
            if !emit_app(&app, &device_id, "status", "Device connected") {
                return;
            }
        }
        let cmd = match code {
            Some(c) if conditional => runner::Cmd::Conditional(Box::new(c), min_seq),
            Some(c) => runner::Cmd::Start(Box::new(c)),
            None => runner::Cmd::Stop,
        };
        runner::send(&app, &device_id, cmd);
    });
}

/// Bring a device online or offline, logging the change.
pub fn set_online(app: &App, device_id: &str, online: bool) -> bool {
    let mut w = app.world();
    let Some(d) = w.db.device_mut(device_id) else {
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
