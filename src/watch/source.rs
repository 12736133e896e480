//! The code a deployment would send: device and agent files preprocessed, their hash, the
//! local files they are made of, and compile diagnostics mapped back to those files.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use crate::output::watch::Diagnostic;
use impt_builder::{self as builder, Processed};

/// Where the sources of the project are (absolute paths; `None`: empty code).
#[derive(Clone, Debug, PartialEq)]
pub struct Sources {
    pub root: PathBuf,
    pub device: Option<PathBuf>,
    pub agent: Option<PathBuf>,
}

/// The preprocessed code of both sides.
#[derive(Clone, Debug, Default)]
pub struct Code {
    pub device: Processed,
    pub agent: Processed,
    /// sha256 over the code as the server computes a deployment sha.
    pub hash: String,
}

impl Code {
    /// Every local file the code was built from (deduplicated, sorted).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .device
            .files
            .iter()
            .chain(&self.agent.files)
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// sha256 of the device then the agent code, each followed by a NUL byte: the deployment
/// `sha` of the simulator, and what "unchanged" is decided on.
pub fn code_hash(device_code: &str, agent_code: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in [device_code, agent_code] {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// A path shown relative to `root` when it is below it.
pub fn display_path(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// A source file as diagnostics and mapped error frames name it: relative to the working
/// directory (where the command runs, as editors resolve paths), absolute when it is not
/// below it.
pub fn shown(p: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    display_path(&cwd, &abs)
}

/// Why the code could not be built.
#[derive(Clone, Debug, Default)]
pub struct Failure {
    pub message: String,
    /// The failure at a place of a source (a preprocessor error: `file:line:1: error: …`).
    pub diagnostic: Option<Box<Diagnostic>>,
    /// Files to watch: those read so far and the ones that were missing.
    pub files: Vec<PathBuf>,
}

impl Failure {
    fn plain(message: String, files: Vec<PathBuf>) -> Failure {
        Failure {
            message,
            diagnostic: None,
            files,
        }
    }
}

/// An include that was not found (`Local file "util.nut" not found`): where it would be
/// looked for, next to the including file and in the project's directory.
fn missing_include(root: &Path, e: &builder::BuilderError) -> Vec<PathBuf> {
    let Some(name) = e
        .message
        .strip_prefix("Local file \"")
        .and_then(|r| r.strip_suffix("\" not found"))
    else {
        return Vec::new();
    };
    let mut dirs = vec![root.to_path_buf()];
    if let Some(d) = Path::new(&e.file).parent() {
        let d = if d.is_absolute() {
            d.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(d)
        };
        dirs.insert(0, d);
    }
    dirs.iter()
        .map(|d| d.join(name))
        .filter(|f| f.parent().is_some_and(Path::is_dir))
        .collect()
}

fn side(root: &Path, path: Option<&Path>, opts: &builder::Options) -> Result<Processed, Failure> {
    let Some(path) = path else {
        return Ok(Processed::default());
    };
    if !path.is_file() {
        return Err(Failure::plain(
            format!("{}: file not found", shown(path)),
            vec![],
        ));
    }
    let mut p = builder::preprocess_file(path, opts).map_err(|e| {
        let at = if e.file.is_empty() {
            shown(path)
        } else {
            shown(Path::new(&e.file))
        };
        let d = Diagnostic {
            file: at,
            line: e.line.max(1),
            column: 1,
            kind: "error".into(),
            text: e.message.clone(),
        };
        Failure {
            message: d.to_string(),
            diagnostic: Some(Box::new(d)),
            files: missing_include(root, &e),
        }
    })?;
    // Names in diagnostics relative to the working directory; absolute paths for watching.
    for pos in &mut p.line_map {
        pos.file = shown(Path::new(&pos.file));
    }
    p.files = p
        .files
        .iter()
        .map(|f| {
            if f.is_absolute() {
                f.clone()
            } else {
                std::env::current_dir().unwrap_or_default().join(f)
            }
        })
        .collect();
    if !p.files.iter().any(|f| f == path) {
        p.files.push(path.to_path_buf());
    }
    Ok(p)
}

/// Reads and preprocesses both sides. On a failure the message names the file, and the
/// files read so far (and a missing include) are still returned so that they are watched.
pub fn load(src: &Sources) -> Result<Code, Failure> {
    let mut opts =
        builder::settings::from_project(&src.root).map_err(|e| Failure::plain(e, Vec::new()))?;
    opts.remote_memo = true;
    let mut known: Vec<PathBuf> = src.device.iter().chain(&src.agent).cloned().collect();
    let with_known = |mut f: Failure, known: &[PathBuf]| {
        f.files.extend(known.iter().cloned());
        f
    };
    let device =
        side(&src.root, src.device.as_deref(), &opts).map_err(|e| with_known(e, &known))?;
    known.extend(device.files.iter().cloned());
    let agent = side(&src.root, src.agent.as_deref(), &opts).map_err(|e| with_known(e, &known))?;
    let hash = code_hash(&device.code, &agent.code);
    Ok(Code {
        device,
        agent,
        hash,
    })
}

/// Maps compile diagnostics (`meta` items `{file: device_code|agent_code, row, column, text}`)
/// through the line maps to the user's files.
pub fn diagnostics(code: &Code, src: &Sources, meta: &[Value]) -> Vec<Diagnostic> {
    meta.iter()
        .map(|m| {
            let side = m.get("file").and_then(Value::as_str).unwrap_or_default();
            let num = |k: &str| {
                m.get(k)
                    .and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    })
                    .unwrap_or(0) as usize
            };
            let (row, column) = (num("row"), num("column"));
            let (p, path) = if side.starts_with("agent") {
                (&code.agent, &src.agent)
            } else {
                (&code.device, &src.device)
            };
            let fallback = path
                .as_deref()
                .map(shown)
                .unwrap_or_else(|| side.to_string());
            let (file, line) = match row.checked_sub(1).and_then(|i| p.line_map.get(i)) {
                Some(pos) => (pos.file.clone(), pos.line),
                None => (fallback, row),
            };
            Diagnostic {
                file,
                line,
                column,
                kind: m
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_string(),
                text: m
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_simulator() {
        assert_eq!(code_hash("a", "b"), impt_sim::sha256_hex(&["a", "b"]));
    }

    #[test]
    fn load_and_map() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::write(root.join("device.nut"), "a\nb\nc\n").unwrap();
        let src = Sources {
            root: root.clone(),
            device: Some(root.join("device.nut")),
            agent: None,
        };
        let code = load(&src).unwrap();
        assert_eq!(code.hash, code_hash("a\nb\nc\n", ""));
        assert_eq!(code.files(), vec![root.join("device.nut")]);
        let meta = serde_json::json!([{"file": "device_code", "type": "error", "row": 2, "column": 3, "text": "boom"}]);
        let d = diagnostics(&code, &src, meta.as_array().unwrap());
        let shown = d[0].to_string();
        assert!(shown.ends_with("device.nut:2:3: error: boom"), "{shown}");
        let missing = Sources {
            agent: Some(root.join("agent.nut")),
            ..src
        };
        let f = load(&missing).unwrap_err();
        assert!(f.message.contains("agent.nut"), "{}", f.message);
        assert!(f.files.contains(&root.join("agent.nut")));
    }
}
