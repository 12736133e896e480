//! `.impt.auth` files and the execution context of a command (which credentials it uses).

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{get_str, read_object, to_js_json, write_atomic};
use crate::error::{ConfigKind, ImptError, Result};

pub const DEFAULT_ENDPOINT: &str = "https://api.electricimp.com/v5";
pub const AUTH_FILE: &str = ".impt.auth";

/// The contents of an auth file. Unknown keys are kept in order on rewrite.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthFile {
    pub map: Map<String, Value>,
}

impl AuthFile {
    pub fn new(
        endpoint: &str,
        access_token: &str,
        expires_at: &str,
        login_key: Option<&str>,
        refresh_token: Option<&str>,
    ) -> Self {
        let mut map = Map::new();
        map.insert("endpoint".into(), endpoint.into());
        map.insert("accessToken".into(), access_token.into());
        map.insert("expiresAt".into(), expires_at.into());
        if let Some(k) = login_key {
            map.insert("loginKey".into(), k.into());
        }
        if let Some(t) = refresh_token {
            map.insert("refreshToken".into(), t.into());
        }
        AuthFile { map }
    }
    pub fn endpoint(&self) -> &str {
        get_str(&self.map, "endpoint").unwrap_or(DEFAULT_ENDPOINT)
    }
    pub fn access_token(&self) -> &str {
        get_str(&self.map, "accessToken").unwrap_or_default()
    }
    pub fn expires_at(&self) -> &str {
        get_str(&self.map, "expiresAt").unwrap_or_default()
    }
    pub fn login_key(&self) -> Option<&str> {
        get_str(&self.map, "loginKey")
    }
    pub fn refresh_token(&self) -> Option<&str> {
        get_str(&self.map, "refreshToken")
    }
    pub fn set_token(&mut self, access_token: &str, expires_at: &str) {
        self.map.insert("accessToken".into(), access_token.into());
        self.map.insert("expiresAt".into(), expires_at.into());
    }
    fn valid(&self) -> bool {
        !self.access_token().is_empty() && !self.expires_at().is_empty()
    }
    pub fn to_text(&self) -> String {
        to_js_json(&self.map)
    }
}

/// Where the credentials of a command come from.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthSource {
    /// An auth file: its path and which kind it is.
    File {
        path: PathBuf,
        kind: ConfigKind,
        file: AuthFile,
    },
    /// `IMPT_LOGINKEY` or `IMPT_USER`/`IMPT_PASSWORD`: log in on every run, save nothing.
    Env {
        endpoint: String,
        login_key: Option<String>,
        user: Option<String>,
        password: Option<String>,
    },
}

impl AuthSource {
    pub fn endpoint(&self) -> String {
        match self {
            AuthSource::File { file, .. } => file.endpoint().to_string(),
            AuthSource::Env { endpoint, .. } => endpoint.clone(),
        }
    }
}

pub fn global_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(AUTH_FILE))
}

pub fn local_path() -> PathBuf {
    PathBuf::from(AUTH_FILE)
}

/// Reads an auth file; `Ok(None)` when it does not exist.
pub fn load(path: &std::path::Path, kind: ConfigKind) -> Result<Option<AuthFile>> {
    match read_object(path) {
        Ok(Some(map)) => {
            let file = AuthFile { map };
            if file.valid() {
                Ok(Some(file))
            } else {
                Err(ImptError::Corrupted(kind))
            }
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e.error(kind)),
    }
}

/// Writes an auth file atomically with mode 0600.
pub fn save(path: &std::path::Path, file: &AuthFile) -> Result<()> {
    write_atomic(path, file.to_text().as_bytes(), true)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The execution context, in the original's order: local file, `IMPT_AUTH_FILE_PATH`,
/// environment variables, global file.
pub fn resolve() -> Result<AuthSource> {
    let local = local_path();
    if let Some(file) = load(&local, ConfigKind::LocalAuth)? {
        return Ok(AuthSource::File {
            path: local,
            kind: ConfigKind::LocalAuth,
            file,
        });
    }
    if let Some(dir) = env("IMPT_AUTH_FILE_PATH") {
        let path = PathBuf::from(dir).join(AUTH_FILE);
        return match load(&path, ConfigKind::Auth)? {
            Some(file) => Ok(AuthSource::File {
                path,
                kind: ConfigKind::Auth,
                file,
            }),
            None => Err(ImptError::AuthFileNotFound(ConfigKind::Auth)),
        };
    }
    let login_key = env("IMPT_LOGINKEY");
    let user = env("IMPT_USER");
    if login_key.is_some() || user.is_some() {
        return Ok(AuthSource::Env {
            endpoint: env("IMPT_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            login_key,
            user,
            password: std::env::var("IMPT_PASSWORD").ok(),
        });
    }
    if let Some(path) = global_path() {
        if let Some(file) = load(&path, ConfigKind::GlobalAuth)? {
            return Ok(AuthSource::File {
                path,
                kind: ConfigKind::GlobalAuth,
                file,
            });
        }
    }
    Err(ImptError::NotLoggedIn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_json_stringify_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUTH_FILE);
        let f = AuthFile::new(
            "http://x/v5",
            "tok",
            "2030-01-01T00:00:00.000Z",
            None,
            Some("r"),
        );
        save(&path, &f).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\n  \"endpoint\": \"http://x/v5\",\n  \"accessToken\": \"tok\",\n  \"expiresAt\": \"2030-01-01T00:00:00.000Z\",\n  \"refreshToken\": \"r\"\n}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(load(&path, ConfigKind::GlobalAuth).unwrap(), Some(f));
    }

    #[test]
    fn corrupt_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUTH_FILE);
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            load(&path, ConfigKind::LocalAuth),
            Err(ImptError::Corrupted(ConfigKind::LocalAuth))
        ));
        std::fs::write(&path, "{\"endpoint\": \"x\"}").unwrap();
        assert!(matches!(
            load(&path, ConfigKind::LocalAuth),
            Err(ImptError::Corrupted(_))
        ));
    }
}
