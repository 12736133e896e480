//! `.impt.project`: links a directory's source files to a Device Group.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{get_str, load_dg_file, save_object};
use crate::error::{ConfigKind, ImptError, Result};

pub const PROJECT_FILE: &str = ".impt.project";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectFile {
    pub map: Map<String, Value>,
}

impl ProjectFile {
    pub fn new(dg_id: &str, device_file: &str, agent_file: &str) -> Self {
        let mut map = Map::new();
        map.insert("deviceGroupId".into(), dg_id.into());
        map.insert("deviceFile".into(), device_file.into());
        map.insert("agentFile".into(), agent_file.into());
        ProjectFile { map }
    }
    pub fn path() -> PathBuf {
        PathBuf::from(PROJECT_FILE)
    }
    pub fn exists() -> bool {
        Self::path().exists()
    }
    /// Loads `./.impt.project`; `Ok(None)` when absent, `Corrupted` when invalid.
    pub fn load() -> Result<Option<ProjectFile>> {
        Ok(load_dg_file(&Self::path(), ConfigKind::Project)?.map(|map| ProjectFile { map }))
    }
    /// Like [`load`](Self::load) but a missing file is an error.
    pub fn load_required() -> Result<ProjectFile> {
        Self::load()?.ok_or(ImptError::ConfigNotFound(ConfigKind::Project))
    }
    pub fn device_group_id(&self) -> Option<&str> {
        get_str(&self.map, "deviceGroupId")
    }
    pub fn device_file(&self) -> Option<&str> {
        get_str(&self.map, "deviceFile")
    }
    pub fn agent_file(&self) -> Option<&str> {
        get_str(&self.map, "agentFile")
    }
    pub fn set(&mut self, key: &str, value: &str) {
        self.map.insert(key.into(), value.into());
    }
    pub fn save(&self) -> Result<()> {
        save_object(&Self::path(), &self.map, false)
    }
}
