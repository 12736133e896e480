//! Entities held by the simulator (persisted as one JSON document).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::VecDeque;

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

    /// Index of a device of `owner` addressed by id, MAC or (assigned only) agent id.
    pub fn device_index(&self, owner: &str, ident: &str) -> Option<usize> {
        let ident_l = ident.to_ascii_lowercase();
        let mac_plain = ident_l.replace([':', '-'], "");
        self.devices.iter().position(|d| {
            d.owner == owner
                && (d.id == ident_l
                    || d.mac == ident_l
                    || (mac_plain.len() == 12 && d.mac.replace(':', "") == mac_plain)
                    || (d.group.is_some() && d.agent_id == ident))
        })
    }

    pub fn deployment(&self, owner: &str, id: &str) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.id == id && d.owner == owner)
    }
}
