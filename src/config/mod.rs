//! Configuration files (`.impt.auth`, `.impt.project`, `.impt.test`) and the execution context.
//! Files are read and written as the original writes them: `JSON.stringify(obj, null, 2)`
//! without a trailing newline, keys in their original order. Writes are atomic; auth files
//! are created with mode 0600.

pub mod auth;
pub mod project;
pub mod test;

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{ConfigKind, ImptError, Result};

/// Writes `contents` to `path` atomically: a temp file `.<name>.tmp.<pid>.<random>` in the
/// same directory, fsync'd, then renamed. Temp files of earlier writes to `path` whose
/// process is gone (an interrupted write) are removed first.
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
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_leftovers(&dir, &name);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{}{}.", tmp_prefix(&name), std::process::id()))
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

/// The start of the temp file names of writes to `name`: `.<name>.tmp.` (one dot only for
/// a dotfile: `.impt.auth.tmp.`).
fn tmp_prefix(name: &str) -> String {
    match name.strip_prefix('.') {
        Some(_) => format!("{name}.tmp."),
        None => format!(".{name}.tmp."),
    }
}

/// Whether process `pid` exists.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        use rustix::process::{test_kill_process, Pid};
        let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            return false;
        };
        // kill(pid, 0): checks that the process exists; nothing is sent.
        match test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e == rustix::io::Errno::PERM,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Removes the temp files of interrupted writes to `dir/name` (see [`write_atomic`]).
fn remove_leftovers(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = tmp_prefix(name);
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        let gone = pid.is_some_and(|p| p != std::process::id() && !alive(p));
        if gone && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Serializes as `JSON.stringify(value, null, 2)` does.
pub fn to_js_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Writes a JSON object file as the original does (see [`write_atomic`], [`to_js_json`]).
pub fn save_object(path: &Path, map: &Map<String, Value>, private: bool) -> Result<()> {
    write_atomic(path, to_js_json(map).as_bytes(), private)
}

/// Reads a directory's Device Group file (`.impt.project`, `.impt.test`): a JSON object
/// naming a `deviceGroupId`. `Ok(None)` when absent, `Corrupted` (of `kind`) when invalid.
pub fn load_dg_file(path: &Path, kind: ConfigKind) -> Result<Option<Map<String, Value>>> {
    match read_object(path) {
        Ok(Some(map)) if get_str(&map, "deviceGroupId").is_none() => {
            Err(ImptError::Corrupted(kind))
        }
        Ok(map) => Ok(map),
        Err(e) => Err(e.error(kind)),
    }
}

/// Largest configuration file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads a configuration file: only a regular file (or a link to one) of at most
/// [`MAX_CONFIG_BYTES`], opened without blocking (the preprocessor's reader, shared). A FIFO,
/// device or directory is an `InvalidInput` error instead of a read that blocks or never
/// ends; a missing file is `NotFound`.
pub fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    impt_builder::fsread::read_checked(path, MAX_CONFIG_BYTES)
}

/// Why a configuration file could not be used.
#[derive(Debug)]
pub enum Unreadable {
    /// It exists but is not a JSON object (or not readable as text).
    Corrupt,
    /// It is not a regular file or too large: the error to report.
    Refused(ImptError),
}

impl Unreadable {
    /// The error to report for a file of `kind`.
    pub fn error(self, kind: ConfigKind) -> ImptError {
        match self {
            Unreadable::Corrupt => ImptError::Corrupted(kind),
            Unreadable::Refused(e) => e,
        }
    }
}

/// Reads a JSON object file (see [`read_limited`]). `Ok(None)` when missing.
pub fn read_object(path: &Path) -> std::result::Result<Option<Map<String, Value>>, Unreadable> {
    match read_limited(path) {
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(Unreadable::Corrupt),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            Err(Unreadable::Refused(ImptError::File {
                file: path.display().to_string(),
                msg: e.to_string(),
            }))
        }
        Err(_) => Err(Unreadable::Corrupt),
    }
}

pub fn get_str<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
