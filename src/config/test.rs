//! `.impt.test` (the test configuration of a directory), the GitHub credentials file and the
//! Builder variables file that it may reference.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{get_str, load_dg_file, read_object, save_object};
use crate::error::{ConfigKind, ImptError, Result};

pub const TEST_FILE: &str = ".impt.test";
pub const BUILDER_CACHE_DIR: &str = ".builder-cache";
pub const DEBUG_DIR: &str = ".build";
pub const DEFAULT_TEST_FILES: [&str; 2] = ["*.test.nut", "tests/**/*.test.nut"];
pub const DEFAULT_TIMEOUT: u64 = 30;

/// Labels of the configuration types, as messages name them.
pub const TEST_TYPE: &str = "Test Configuration";
pub const GITHUB_TYPE: &str = "GitHub credentials Configuration";
pub const BUILDER_TYPE: &str = "Builder Configuration";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestFile {
    pub map: Map<String, Value>,
}

impl TestFile {
    pub fn path() -> PathBuf {
        PathBuf::from(TEST_FILE)
    }
    pub fn exists() -> bool {
        Self::path().exists()
    }
    /// Loads `./.impt.test`; `Ok(None)` when absent, `Corrupted` when invalid.
    pub fn load() -> Result<Option<TestFile>> {
        Ok(load_dg_file(&Self::path(), ConfigKind::Test)?.map(|map| TestFile { map }))
    }
    /// Like [`load`](Self::load) but a missing file is an error.
    pub fn load_required() -> Result<TestFile> {
        Self::load()?.ok_or(ImptError::ConfigNotFound(ConfigKind::Test))
    }
    pub fn device_group_id(&self) -> Option<&str> {
        get_str(&self.map, "deviceGroupId")
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        get_str(&self.map, key)
    }
    pub fn device_file(&self) -> Option<&str> {
        self.str("deviceFile")
    }
    pub fn agent_file(&self) -> Option<&str> {
        self.str("agentFile")
    }
    pub fn github_config(&self) -> Option<&str> {
        self.str("githubConfig")
    }
    pub fn builder_config(&self) -> Option<&str> {
        self.str("builderConfig")
    }
    pub fn bool(&self, key: &str) -> bool {
        match self.map.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }
    /// The test timeout in seconds (a number or a numeric string; 30 otherwise).
    pub fn timeout(&self) -> f64 {
        match self.map.get("timeout") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(DEFAULT_TIMEOUT as f64),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(DEFAULT_TIMEOUT as f64),
            _ => DEFAULT_TIMEOUT as f64,
        }
    }
    pub fn test_files(&self) -> Vec<String> {
        match self.map.get("testFiles") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => vec![],
        }
    }
    pub fn set(&mut self, key: &str, value: Value) {
        self.map.insert(key.into(), value);
    }
    /// Removes a key (an option given without a value).
    pub fn unset(&mut self, key: &str) {
        self.map.shift_remove(key);
    }
    pub fn save(&self) -> Result<()> {
        save_object(&Self::path(), &self.map, false)
    }
}

/// The GitHub credentials file: `{"githubUser": "…", "githubToken": "…"}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GithubFile {
    pub user: Option<String>,
    pub token: Option<String>,
}

impl GithubFile {
    /// Reads the file; `None` when it is missing or unreadable. Both keys are needed to be
    /// usable ([`valid`](Self::valid)).
    pub fn load(path: &Path) -> Option<GithubFile> {
        let map = read_object(path).ok()??;
        Some(GithubFile {
            user: get_str(&map, "githubUser").map(str::to_string),
            token: get_str(&map, "githubToken").map(str::to_string),
        })
    }
    pub fn valid(&self) -> bool {
        self.user.is_some() && self.token.is_some()
    }
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut map = Map::new();
        map.insert(
            "githubUser".into(),
            self.user.clone().unwrap_or_default().into(),
        );
        map.insert(
            "githubToken".into(),
            self.token.clone().unwrap_or_default().into(),
        );
        save_object(path, &map, true)
    }
}

/// The Builder variables file: any JSON object; `None` when missing or not an object.
pub fn load_builder_vars(path: &Path) -> Option<Map<String, Value>> {
    read_object(path).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let mut t = TestFile::default();
        t.set("deviceGroupId", "dg".into());
        t.set("timeout", 12.into());
        t.set("stopOnFail", true.into());
        t.set("testFiles", serde_json::json!(["a", "b"]));
        assert_eq!(t.device_group_id(), Some("dg"));
        assert_eq!(t.timeout(), 12.0);
        assert!(t.bool("stopOnFail"));
        assert!(!t.bool("allowDisconnect"));
        assert_eq!(t.test_files(), vec!["a", "b"]);
        t.unset("timeout");
        assert_eq!(t.timeout(), 30.0);
    }
}
