//! Entities held by the simulator (persisted as one JSON document).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};

/// Historical log entries kept per device.
pub const MAX_DEVICE_LOGS: usize = 200;
/// Longest log message kept, in bytes; longer ones are cut (and end in `…`).
pub const MAX_LOG_MSG: usize = 64 * 1024;

/// `msg` cut to [`MAX_LOG_MSG`] bytes at a character boundary.
pub fn truncate_log(msg: &str) -> std::borrow::Cow<'_, str> {
    if msg.len() <= MAX_LOG_MSG {
        return msg.into();
    }
    let mut end = MAX_LOG_MSG - '…'.len_utf8();
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &msg[..end]).into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub email: String,
    /// Argon2id PHC string (see the secrets module).
    #[serde(default)]
    pub password_hash: String,
    /// The plaintext password of an older state file: read to migrate, never written.
    #[serde(default, skip_serializing)]
    pub password: String,
    /// One-time password required at login (multi-factor accounts), as an Argon2id hash.
    pub otp: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub owner: String,
    pub creator: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub gtype: String,
    pub product: String,
    pub owner: String,
    pub creator: String,
    pub name: String,
    pub description: String,
    pub region: Option<String>,
    pub env_vars: Map<String, Value>,
    pub load_code_after_blessing: Option<bool>,
    pub current_deployment: Option<String>,
    pub min_supported_deployment: Option<String>,
    pub production_target: Option<String>,
    pub dut_target: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub ts: String,
    #[serde(rename = "type")]
    pub typ: String,
    pub msg: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub owner: String,
    pub mac: String,
    /// The agent id this device uses while assigned.
    pub agent_id: String,
    pub name: Option<String>,
    pub online: bool,
    pub group: Option<String>,
    pub imp_type: String,
    pub swversion: String,
    pub free_memory: i64,
    pub rssi: i64,
    pub ip_address: String,
    pub created_at: String,
    pub updated_at: String,
    pub state_changed_at: String,
    /// Log history of an older state file (read to migrate, never written), or the first
    /// entry of a new device: the devlog module moves them into its store, kept apart.
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "super::devlog::newest_entries"
    )]
    pub logs: VecDeque<LogEntry>,
    /// Set on a device under test made by a fixture's factory BlinkUp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factory: Option<FactoryLink>,
}

/// Where a device under test came from (see the factory module).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FactoryLink {
    /// The fixture that configured it.
    pub fixture: String,
    /// The fixture's (pre-)factory Device Group at the time.
    pub fixture_group: String,
    pub blessed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    /// Creation sequence number: larger is newer.
    pub seq: u64,
    pub group: Option<String>,
    pub group_type: String,
    pub product: String,
    pub owner: String,
    pub creator: String,
    pub flagger: Option<String>,
    /// Shared, never copied: lists and device boots take a reference.
    pub device_code: std::sync::Arc<str>,
    pub agent_code: std::sync::Arc<str>,
    pub description: String,
    pub origin: String,
    pub flagged: bool,
    pub tags: Vec<String>,
    pub sha: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub group: String,
    pub owner: String,
    pub creator: String,
    pub url: String,
    pub event: String,
    pub content_type: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginKey {
    pub id: String,
    pub account: String,
    pub description: String,
    pub usages: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// `token` fields hold SHA-256 digests (see the secrets module).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    pub id: String,
    pub token: String,
    pub account: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    pub token: String,
    pub account: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginToken {
    pub token: String,
    pub account: String,
    pub expires_ms: i64,
}

/// Everything the simulator persists.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Db {
    pub accounts: Vec<Account>,
    pub products: Vec<Product>,
    pub groups: Vec<Group>,
    pub devices: Vec<Device>,
    pub deployments: Vec<Deployment>,
    pub webhooks: Vec<Webhook>,
    pub login_keys: Vec<LoginKey>,
    pub refresh_tokens: Vec<RefreshToken>,
    pub access_tokens: Vec<AccessToken>,
    pub login_tokens: Vec<LoginToken>,
    pub seq: u64,
    /// Format of the secrets (see the secrets module).
    #[serde(default)]
    pub format: u32,
    /// Position of each device in `devices` by id and by MAC (not persisted; kept in step by
    /// [`Db::push_device`], [`Db::remove_device`] and rebuilt by [`Db::reindex_devices`]).
    #[serde(skip)]
    device_ix: DeviceIndex,
}

/// Positions in `Db::devices` by device id and by MAC (lowercase, without separators).
#[derive(Debug, Default)]
struct DeviceIndex {
    ids: HashMap<String, usize>,
    macs: HashMap<String, usize>,
    agents: HashMap<String, usize>,
}

/// A copy of the world's `Db` is taken under the world lock only to be saved: the index is
/// not copied (a copy's lookups fall back to scans, still right; `reindex_devices` restores).
impl Clone for DeviceIndex {
    fn clone(&self) -> Self {
        DeviceIndex::default()
    }
}

fn mac_key(mac: &str) -> String {
    mac.to_ascii_lowercase().replace([':', '-'], "")
}

pub use impt_wire::types::{is_dg_type, is_production_type, log_type_for, target_types};

impl Db {
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn product(&self, owner: &str, id: &str) -> Option<&Product> {
        self.products
            .iter()
            .find(|p| p.id == id && p.owner == owner)
    }

    pub fn group(&self, owner: &str, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id && g.owner == owner)
    }

    pub fn group_type(&self, id: &str) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.gtype.as_str())
    }

    /// Rebuild the device index from `devices` (after loading or any bulk change).
    pub fn reindex_devices(&mut self) {
        let mut ix = DeviceIndex::default();
        for (i, d) in self.devices.iter().enumerate() {
            ix.ids.entry(d.id.clone()).or_insert(i);
            ix.macs.entry(mac_key(&d.mac)).or_insert(i);
            ix.agents.entry(d.agent_id.clone()).or_insert(i);
        }
        self.device_ix = ix;
    }

    /// Append a device, keeping the index in step.
    pub fn push_device(&mut self, d: Device) {
        let i = self.devices.len();
        self.device_ix.ids.entry(d.id.clone()).or_insert(i);
        self.device_ix.macs.entry(mac_key(&d.mac)).or_insert(i);
        self.device_ix.agents.entry(d.agent_id.clone()).or_insert(i);
        self.devices.push(d);
    }

    /// Remove the device at position `i` (the others keep their order), keeping the index
    /// in step; O(devices after `i`).
    pub fn remove_device(&mut self, i: usize) -> Device {
        let d = self.devices.remove(i);
        let ix = &mut self.device_ix;
        if ix.ids.get(&d.id) == Some(&i) {
            ix.ids.remove(&d.id);
        }
        let mk = mac_key(&d.mac);
        if ix.macs.get(&mk) == Some(&i) {
            ix.macs.remove(&mk);
        }
        if ix.agents.get(&d.agent_id) == Some(&i) {
            ix.agents.remove(&d.agent_id);
        }
        for (j, x) in self.devices.iter().enumerate().skip(i) {
            ix.ids.insert(x.id.clone(), j);
            ix.macs.insert(mac_key(&x.mac), j);
            ix.agents.insert(x.agent_id.clone(), j);
        }
        d
    }

    /// Whether the index covers `devices` exactly (else lookups fall back to a scan).
    fn device_ix_whole(&self) -> bool {
        self.device_ix.ids.len() == self.devices.len()
    }

    /// Position of the device with id `id` (exact): O(1) through the index, checked against
    /// the list (a list changed behind the index's back falls back to a scan).
    pub fn device_pos(&self, id: &str) -> Option<usize> {
        match self.device_ix.ids.get(id) {
            Some(&i) if self.devices.get(i).is_some_and(|d| d.id == id) => Some(i),
            None if self.device_ix_whole() => None,
            _ => self.devices.iter().position(|d| d.id == id),
        }
    }

    /// Position of the device with MAC `mac` (any case, with or without separators).
    pub fn device_pos_by_mac(&self, mac: &str) -> Option<usize> {
        let key = mac_key(mac);
        match self.device_ix.macs.get(&key) {
            Some(&i) if self.devices.get(i).is_some_and(|d| mac_key(&d.mac) == key) => Some(i),
            None if self.device_ix.macs.len() == self.devices.len() => None,
            _ => self.devices.iter().position(|d| mac_key(&d.mac) == key),
        }
    }

    /// Position of the device whose agent has id `agent_id` (assigned or not).
    pub fn device_pos_by_agent(&self, agent_id: &str) -> Option<usize> {
        match self.device_ix.agents.get(agent_id) {
            Some(&i) if self.devices.get(i).is_some_and(|d| d.agent_id == agent_id) => Some(i),
            None if self.device_ix.agents.len() == self.devices.len() => None,
            _ => self.devices.iter().position(|d| d.agent_id == agent_id),
        }
    }

    /// The device with id `id`.
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.device_pos(id).map(|i| &self.devices[i])
    }

    /// The device with id `id`, mutable.
    pub fn device_mut(&mut self, id: &str) -> Option<&mut Device> {
        self.device_pos(id).map(|i| &mut self.devices[i])
    }

    /// Index of a device of `owner` addressed by id, MAC or (assigned only) agent id.
    /// Ids, MACs and agent ids are found through the index.
    pub fn device_index(&self, owner: &str, ident: &str) -> Option<usize> {
        let ident_l = ident.to_ascii_lowercase();
        let mac_plain = ident_l.replace([':', '-'], "");
        let mine = |i: &usize| self.devices[*i].owner == owner;
        if let Some(i) = self.device_pos(&ident_l).filter(mine) {
            return Some(i);
        }
        if mac_plain.len() == 12 {
            if let Some(i) = self.device_pos_by_mac(&mac_plain).filter(mine) {
                return Some(i);
            }
        }
        self.device_pos_by_agent(ident)
            .filter(|&i| mine(&i) && self.devices[i].group.is_some())
    }

    pub fn deployment(&self, owner: &str, id: &str) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.id == id && d.owner == owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: &str, mac: &str, owner: &str) -> Device {
        let mut d = crate::newdev::new_device(&Db::default(), owner, None, true);
        d.id = id.into();
        d.mac = mac.into();
        d
    }

    /// Every device is found at its own position by id and MAC; unknown ids are not.
    fn assert_indexed(db: &Db) {
        for (i, d) in db.devices.iter().enumerate() {
            assert_eq!(db.device_pos(&d.id), Some(i), "id {}", d.id);
            assert_eq!(db.device_pos_by_mac(&d.mac), Some(i), "mac {}", d.mac);
            assert_eq!(
                db.device_pos_by_agent(&d.agent_id),
                Some(i),
                "agent {}",
                d.agent_id
            );
            assert_eq!(db.device_ix.ids.get(&d.id), Some(&i));
        }
        assert_eq!(db.device_ix.ids.len(), db.devices.len());
        assert_eq!(db.device_ix.macs.len(), db.devices.len());
        assert_eq!(db.device_ix.agents.len(), db.devices.len());
    }

    #[test]
    fn device_index_stays_right_after_removals() {
        let mut db = Db::default();
        for n in 0..6 {
            db.push_device(dev(&format!("d{n}"), &format!("0c:2a:69:00:00:0{n}"), "a"));
        }
        assert_indexed(&db);
        assert_eq!(db.remove_device(2).id, "d2");
        assert_indexed(&db);
        assert_eq!(db.device_pos("d2"), None);
        assert_eq!(db.device_pos("d3"), Some(2));
        assert_eq!(db.device_pos("d5"), Some(4));
        db.remove_device(0);
        db.remove_device(3); // the last one (d5)
        assert_indexed(&db);
        let ids: Vec<_> = db.devices.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d1", "d3", "d4"]);
        assert_eq!(db.device_pos("d5"), None);
        assert_eq!(db.device_pos_by_mac("0c2a69000005"), None);
        db.push_device(dev("d9", "0c:2a:69:00:00:09", "b"));
        assert_indexed(&db);
        // By owner: id, MAC in any form; another owner's device is not found.
        assert_eq!(db.device_index("a", "D4"), Some(2));
        assert_eq!(db.device_index("a", "0C-2A-69-00-00-03"), Some(1));
        assert_eq!(db.device_index("a", "0c2a69000001"), Some(0));
        assert_eq!(db.device_index("a", "d9"), None);
        assert_eq!(db.device_index("b", "d9"), Some(3));
        // By agent id: only an assigned device answers to it.
        let agent = db.devices[3].agent_id.clone();
        assert_eq!(db.device_index("b", &agent), None);
        db.devices[3].group = Some("g".into());
        assert_eq!(db.device_index("b", &agent), Some(3));
        assert_eq!(db.device_index("a", &agent), None);
        assert_eq!(db.device_pos_by_agent("no-such-agent"), None);
        // A list reordered behind the index's back is still answered right.
        db.devices.swap(0, 1);
        assert_eq!(db.device_pos("d3"), Some(0));
        assert_eq!(db.device_pos("d1"), Some(1));
        db.reindex_devices();
        assert_indexed(&db);
        // A copy (taken to be saved) has no index but answers the same.
        let copy = db.clone();
        assert!(copy.device_ix.ids.is_empty());
        for (i, d) in db.devices.iter().enumerate() {
            assert_eq!(copy.device_pos(&d.id), Some(i));
            assert_eq!(copy.device_pos_by_mac(&d.mac), Some(i));
            assert_eq!(copy.device_pos_by_agent(&d.agent_id), Some(i));
        }
        assert_eq!(copy.device_pos("nope"), None);
    }
}
