//! The Squirrel preprocessor (Builder-compatible). Placeholder interface: until the real
//! preprocessor lands, sources pass through unchanged.

use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub vars: serde_json::Map<String, serde_json::Value>,
    pub line_control: bool,
    pub cache_dir: Option<PathBuf>,
    pub cache_max_age: Option<Duration>,
    pub github_user: Option<String>,
    pub github_token: Option<String>,
    pub github_base: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePos {
    pub file: String,
    pub line: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Processed {
    pub code: String,
    pub line_map: Vec<SourcePos>,
    pub files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BuilderError(pub String);

pub fn has_directives(source: &str) -> bool {
    source.lines().any(|l| l.trim_start().starts_with('@'))
}

pub fn preprocess_str(
    source: &str,
    name: &str,
    _base_dir: &Path,
    _opts: &Options,
) -> Result<Processed, BuilderError> {
    let line_map = (1..=source.lines().count())
        .map(|line| SourcePos {
            file: name.to_string(),
            line,
        })
        .collect();
    Ok(Processed {
        code: source.to_string(),
        line_map,
        files: vec![],
    })
}

pub fn preprocess_file(path: &Path, opts: &Options) -> Result<Processed, BuilderError> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| BuilderError(format!("{}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut p = preprocess_str(&source, &path.display().to_string(), base, opts)?;
    p.files.push(path.to_path_buf());
    Ok(p)
}
