//! A new virtual device: ids, MAC and the figures an imp reports.

use super::identity::new_identity;
use super::model::{Db, Device, LogEntry};
use super::util::{new_agent_id, now_iso};

/// Devices the simulator holds at most (added through `/_sim/devices` or made by factory
/// BlinkUps).
pub const MAX_DEVICES: usize = 1000;

/// A new online, unassigned device owned by `owner`, with one historical log entry.
pub fn new_device(db: &Db, owner: &str, name: Option<String>, online: bool) -> Device {
    let now = now_iso();
    let n = db.devices.len() as i64;
    let imp_type = impt_vm::DEFAULT_IMP_TYPE;
    // Device id and MAC related as on a real imp of this type; never one already taken
    // (MACs have 24 random bits: among 10,000 devices a few would repeat).
    let (id, mac) = loop {
        let (id, mac) = new_identity(imp_type);
        if db.device_pos(&id).is_none() && db.device_pos_by_mac(&mac).is_none() {
            break (id, mac);
        }
    };
    let mut d = Device {
        id,
        owner: owner.to_string(),
        mac,
        agent_id: new_agent_id(),
        name,
        online,
        group: None,
        imp_type: imp_type.into(),
        swversion: "44b8f5a - release-42.12 - Thu Jan 11 09:31:06 2024".into(),
        free_memory: 82_000 + n * 512,
        rssi: -48 - (n % 20),
        ip_address: format!("192.168.1.{}", 20 + (n % 200)),
        created_at: now.clone(),
        updated_at: now.clone(),
        state_changed_at: now.clone(),
        logs: Default::default(),
        factory: None,
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
