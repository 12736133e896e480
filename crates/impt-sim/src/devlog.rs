//! Log lines of virtual devices: recorded in the device's history and sent to every log
//! stream subscribed to the device.

use super::app::{App, SseMsg, World};
use super::model::{log_type_for, truncate_log, LogEntry, MAX_DEVICE_LOGS};
use super::util::now_iso;

/// Record a log line of a device and send it to every stream that has the device.
pub fn emit(w: &mut World, device_id: &str, typ: &str, msg: &str) {
    let Some(i) = w.db.devices.iter().position(|d| d.id == device_id) else {
        return;
    };
    let msg = truncate_log(msg);
    let msg: &str = &msg;
    let log_type = {
        let g = w.db.devices[i].group.clone();
        log_type_for(g.as_deref().and_then(|g| w.db.group_type(g)))
    };
    let ts = now_iso();
    let d = &mut w.db.devices[i];
    d.logs.push_back(LogEntry {
        ts: ts.clone(),
        typ: typ.into(),
        msg: msg.into(),
    });
    while d.logs.len() > MAX_DEVICE_LOGS {
        d.logs.pop_front();
    }
    for s in w
        .streams
        .iter()
        .filter(|s| s.devices.iter().any(|x| x == device_id))
    {
        s.send(SseMsg::Log {
            device_id: device_id.to_string(),
            ts: ts.clone(),
            log_type: log_type.into(),
            typ: typ.into(),
            msg: msg.into(),
        });
    }
}

pub fn emit_app(app: &App, device_id: &str, typ: &str, msg: &str) -> bool {
    let mut w = app.world();
    if !w.db.devices.iter().any(|d| d.id == device_id) {
        return false;
    }
    emit(&mut w, device_id, typ, msg);
    drop(w);
    app.mark_dirty();
    true
}

/// Percentage of program storage that device code of `len` bytes uses.
pub fn storage_used(len: usize) -> f64 {
    3.0 + (len as f64 / 4096.0).min(90.0)
}
