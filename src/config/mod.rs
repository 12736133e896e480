//! Configuration files (`.impt.auth`, `.impt.project`, `.impt.test`) and the execution context.
//! Files are read and written as the original writes them: `JSON.stringify(obj, null, 2)`
//! without a trailing newline, keys in their original order. Writes are atomic; auth files
//! are created with mode 0600.

pub mod auth;
pub mod project;
pub mod test;

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{ImptError, Result};

/// Writes `contents` to `path` atomically (temp file in the same directory, then rename).
pub fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_err = |e: std::io::Error| ImptError::File {
        file: path.display().to_string(),
        msg: e.to_string(),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".impt-tmp")
        .tempfile_in(&dir)
        .map_err(file_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private {
            0o600
        } else {
            // Keep the mode of an existing file; otherwise the usual 0644.
            std::fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0o644)
        };
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(file_err)?;
    }
    tmp.write_all(contents).map_err(file_err)?;
    tmp.as_file().sync_all().map_err(file_err)?;
    tmp.persist(path).map_err(|e| file_err(e.error))?;
    Ok(())
}

/// Serializes as `JSON.stringify(value, null, 2)` does.
pub fn to_js_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A file that exists but is not a JSON object.
#[derive(Debug)]
pub struct Unreadable;

/// Reads a JSON object file. `Ok(None)` when missing; `Err(Unreadable)` when not a JSON object.
pub fn read_object(path: &Path) -> std::result::Result<Option<Map<String, Value>>, Unreadable> {
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(Unreadable),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err(Unreadable),
    }
}

pub fn get_str<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
