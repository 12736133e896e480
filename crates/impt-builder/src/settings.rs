//! One set of preprocessor options for every command that preprocesses: the `[builder]` table
//! of `impt.toml`, then `pleasebuild`'s command-line options on top.
//!
//! ```toml
//! [builder]
//! variables = { DEBUG = "1" }        # like -D
//! libs = ["js/*.js"]                 # like --lib
//! cache = true                        # like --cache; cache-dir = ".builder-cache"
//! cache-exclude-list = "exclude.txt"
//! use-remote-relative-includes = true
//! suppress-duplicate-includes-warning = true
//! save-dependencies = "dependencies.json"   # or use-dependencies
//! save-directives = "directives.json"       # or use-directives
//! credentials = ".builder-credentials.toml" # a file never committed, same keys as below
//! github-token-env = "GITHUB_TOKEN"         # credentials from environment variables
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Options;

/// Default file of `--save-dependencies`/`--use-dependencies` without a value.
pub const DEPENDENCIES_FILE: &str = "dependencies.json";
/// Default file of `--save-directives`/`--use-directives` without a value.
pub const DIRECTIVES_FILE: &str = "directives.json";
/// Builder's cache directory.
pub const CACHE_DIR: &str = ".builder-cache";

/// Credentials: given directly (only in the uncommitted credentials file) or as the names
/// of environment variables holding them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Credentials {
    github_user: Option<String>,
    github_token: Option<String>,
    github_user_env: Option<String>,
    github_token_env: Option<String>,
    azure_user: Option<String>,
    azure_token: Option<String>,
    azure_user_env: Option<String>,
    azure_token_env: Option<String>,
    bitbucket_server_addr: Option<String>,
    bitbucket_server_user: Option<String>,
    bitbucket_server_token: Option<String>,
    bitbucket_server_user_env: Option<String>,
    bitbucket_server_token_env: Option<String>,
}

/// The `[builder]` table (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Table {
    #[serde(default)]
    variables: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    libs: Vec<String>,
    line_control: Option<bool>,
    cache: Option<bool>,
    cache_dir: Option<String>,
    cache_exclude_list: Option<String>,
    use_remote_relative_includes: Option<bool>,
    suppress_duplicate_includes_warning: Option<bool>,
    save_dependencies: Option<String>,
    use_dependencies: Option<String>,
    save_directives: Option<String>,
    use_directives: Option<String>,
    credentials: Option<String>,
}

/// Keys of [`Credentials`], which may also stand in the `[builder]` table itself.
const CREDENTIAL_KEYS: &[&str] = &[
    "github-user",
    "github-token",
    "github-user-env",
    "github-token-env",
    "azure-user",
    "azure-token",
    "azure-user-env",
    "azure-token-env",
    "bitbucket-server-addr",
    "bitbucket-server-user",
    "bitbucket-server-token",
    "bitbucket-server-user-env",
    "bitbucket-server-token-env",
];

fn env(name: &Option<String>) -> Option<String> {
    name.as_ref().and_then(|n| std::env::var(n).ok())
}

impl Credentials {
    fn apply(&self, o: &mut Options) {
        let pick = |direct: &Option<String>, var: &Option<String>| direct.clone().or(env(var));
        if let Some(v) = pick(&self.github_user, &self.github_user_env) {
            o.github_user = Some(v);
        }
        if let Some(v) = pick(&self.github_token, &self.github_token_env) {
            o.github_token = Some(v);
        }
        if let Some(v) = pick(&self.azure_user, &self.azure_user_env) {
            o.azure_user = Some(v);
        }
        if let Some(v) = pick(&self.azure_token, &self.azure_token_env) {
            o.azure_token = Some(v);
        }
        if let Some(v) = self.bitbucket_server_addr.clone() {
            o.bitbucket_server_addr = Some(v);
        }
        if let Some(v) = pick(&self.bitbucket_server_user, &self.bitbucket_server_user_env) {
            o.bitbucket_server_user = Some(v);
        }
        if let Some(v) = pick(
            &self.bitbucket_server_token,
            &self.bitbucket_server_token_env,
        ) {
            o.bitbucket_server_token = Some(v);
        }
    }
}

fn rel(dir: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Reads the `[builder]` table of `dir/impt.toml` (absent file or table: defaults), with
/// paths made absolute against `dir`.
pub fn from_project(dir: &Path) -> Result<Options, String> {
    let path = dir.join("impt.toml");
    let text = match crate::fsread::read_text(&path, crate::fsread::MAX_SETTINGS_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Options::default()),
        Err(e) => return Err(format!("{}: {}", path.display(), e)),
    };
    let bad = |m: String| format!("{}: {}", path.display(), m.trim());
    let mut file: toml::Table = toml::from_str(&text).map_err(|e| bad(e.message().into()))?;
    let Some(toml::Value::Table(mut table)) = file.remove("builder") else {
        return Ok(Options::default());
    };
    let mut creds = toml::Table::new();
    for k in CREDENTIAL_KEYS {
        if let Some(v) = table.remove(*k) {
            creds.insert(k.to_string(), v);
        }
    }
    let t: Table = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| bad(format!("builder: {}", e.message())))?;
    let creds: Credentials = toml::Value::Table(creds)
        .try_into()
        .map_err(|e: toml::de::Error| bad(format!("builder: {}", e.message())))?;
    let mut o = Options {
        vars: t.variables,
        libs: t
            .libs
            .iter()
            .map(|l| rel(dir, l).to_string_lossy().into_owned())
            .collect(),
        line_control: t.line_control.unwrap_or(false),
        remote_relative_includes: t.use_remote_relative_includes.unwrap_or(false),
        suppress_duplicate_warning: t.suppress_duplicate_includes_warning.unwrap_or(false),
        save_dependencies: t.save_dependencies.map(|p| rel(dir, &p)),
        use_dependencies: t.use_dependencies.map(|p| rel(dir, &p)),
        save_directives: t.save_directives.map(|p| rel(dir, &p)),
        use_directives: t.use_directives.map(|p| rel(dir, &p)),
        ..Default::default()
    };
    if t.cache.unwrap_or(false) || t.cache_dir.is_some() {
        o.cache_dir = Some(rel(dir, t.cache_dir.as_deref().unwrap_or(CACHE_DIR)));
    }
    if let Some(f) = t.cache_exclude_list {
        o.cache_exclude = read_exclude_list(&rel(dir, &f))?;
    }
    creds.apply(&mut o);
    if let Some(f) = t.credentials {
        let f = rel(dir, &f);
        match crate::fsread::read_text(&f, crate::fsread::MAX_SETTINGS_BYTES) {
            Ok(text) => {
                let c: Credentials = toml::from_str(&text)
                    .map_err(|e| format!("{}: {}", f.display(), e.message().trim()))?;
                c.apply(&mut o);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {}", f.display(), e)),
        }
    }
    Ok(o)
}

/// Builder's cache exclude list read when none is named (if it exists).
pub const DEFAULT_EXCLUDE_FILE: &str = "builder-cache.exclude";

/// Builder's cache exclude list: one glob a line; blank lines and `#` comments skipped.
pub fn read_exclude_list(path: &Path) -> Result<Vec<String>, String> {
    let text = crate::fsread::read_text(path, crate::fsread::MAX_SETTINGS_BYTES).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{} file does not exist", path.display())
        } else {
            format!("{}: {}", path.display(), e)
        }
    })?;
    Ok(text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).trim_start())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// `pleasebuild`'s options as a command received them (the cli layer's typed options are
/// turned into this); `None`/empty/false means not given. A file option given without a
/// value (`Some(None)`) uses Builder's default file name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flags {
    pub var: Vec<String>,
    pub lines: bool,
    pub github_user: Option<String>,
    pub github_token: Option<String>,
    pub azure_user: Option<String>,
    pub azure_token: Option<String>,
    pub bitbucket_server_addr: Option<String>,
    pub bitbucket_server_user: Option<String>,
    pub bitbucket_server_token: Option<String>,
    pub lib: Vec<String>,
    pub use_remote_relative_includes: bool,
    pub suppress_duplicate_includes_warning: bool,
    pub cache: bool,
    pub clear_cache: bool,
    pub cache_exclude_list: Option<String>,
    pub save_dependencies: Option<Option<String>>,
    pub use_dependencies: Option<Option<String>>,
    pub save_directives: Option<Option<String>>,
    pub use_directives: Option<Option<String>>,
}

/// The options of a command run in the project directory: `impt.toml`'s `[builder]` table,
/// then the command's flags.
pub fn for_command(flags: &Flags) -> Result<Options, String> {
    let mut o = from_project(Path::new("."))?;
    o.apply_flags(flags)?;
    Ok(o)
}

impl Options {
    /// Applies command-line options on top of these settings; relative paths are taken
    /// against the current directory.
    pub fn apply_flags(&mut self, f: &Flags) -> Result<(), String> {
        for var in &f.var {
            let Some((name, value)) = var.split_once('=').filter(|(n, _)| !n.is_empty()) else {
                return Err(format!(
                    "Option \"--var\" must be NAME=VALUE, not \"{var}\"."
                ));
            };
            self.vars
                .insert(name.to_string(), serde_json::Value::String(value.into()));
        }
        if f.lines {
            self.line_control = true;
        }
        let set = |slot: &mut Option<String>, v: &Option<String>| {
            if let Some(v) = v {
                *slot = Some(v.clone());
            }
        };
        set(&mut self.github_user, &f.github_user);
        set(&mut self.github_token, &f.github_token);
        set(&mut self.azure_user, &f.azure_user);
        set(&mut self.azure_token, &f.azure_token);
        set(&mut self.bitbucket_server_addr, &f.bitbucket_server_addr);
        set(&mut self.bitbucket_server_user, &f.bitbucket_server_user);
        set(&mut self.bitbucket_server_token, &f.bitbucket_server_token);
        self.libs.extend(f.lib.iter().cloned());
        if f.use_remote_relative_includes {
            self.remote_relative_includes = true;
        }
        if f.suppress_duplicate_includes_warning {
            self.suppress_duplicate_warning = true;
        }
        if f.cache && self.cache_dir.is_none() {
            self.cache_dir = Some(PathBuf::from(CACHE_DIR));
        }
        if f.clear_cache {
            self.clear_cache = true;
        }
        if let Some(file) = &f.cache_exclude_list {
            self.cache_exclude = read_exclude_list(Path::new(file))?;
        } else if self.cache_exclude.is_empty() && Path::new(DEFAULT_EXCLUDE_FILE).is_file() {
            self.cache_exclude = read_exclude_list(Path::new(DEFAULT_EXCLUDE_FILE))?;
        }
        let file = |v: &Option<Option<String>>, default: &str| -> Option<PathBuf> {
            v.as_ref().map(|v| {
                PathBuf::from(
                    v.clone()
                        .filter(|s| !s.is_empty())
                        .unwrap_or(default.into()),
                )
            })
        };
        if let Some(p) = file(&f.save_dependencies, DEPENDENCIES_FILE) {
            self.save_dependencies = Some(p);
        }
        if let Some(p) = file(&f.use_dependencies, DEPENDENCIES_FILE) {
            self.use_dependencies = Some(p);
        }
        if let Some(p) = file(&f.save_directives, DIRECTIVES_FILE) {
            self.save_directives = Some(p);
        }
        if let Some(p) = file(&f.use_directives, DIRECTIVES_FILE) {
            self.use_directives = Some(p);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_then_flags() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("impt.toml"),
            "[builder]\nvariables = { A = \"1\" }\nlibs = [\"js\"]\ncache = true\n\
             github-token-env = \"IMPT_TEST_SETTINGS_TOKEN\"\ncredentials = \"creds.toml\"\n\
             use-dependencies = \"deps.json\"\n",
        )
        .unwrap();
        std::fs::write(d.path().join("creds.toml"), "azure-token = \"az\"\n").unwrap();
        std::env::set_var("IMPT_TEST_SETTINGS_TOKEN", "gh");
        let mut o = from_project(d.path()).unwrap();
        assert_eq!(o.vars["A"], "1");
        assert_eq!(o.libs, vec![d.path().join("js").to_string_lossy()]);
        assert_eq!(o.cache_dir, Some(d.path().join(CACHE_DIR)));
        assert_eq!(o.github_token.as_deref(), Some("gh"));
        assert_eq!(o.azure_token.as_deref(), Some("az"));
        assert_eq!(o.use_dependencies, Some(d.path().join("deps.json")));
        let flags = Flags {
            var: vec!["A=2".into()],
            save_directives: Some(None),
            lib: vec!["x.js".into()],
            ..Default::default()
        };
        o.apply_flags(&flags).unwrap();
        assert_eq!(o.vars["A"], "2");
        assert_eq!(o.save_directives, Some(PathBuf::from(DIRECTIVES_FILE)));
        assert_eq!(o.libs.len(), 2);
        std::fs::write(d.path().join("impt.toml"), "[builder]\nbogus = 1\n").unwrap();
        assert!(from_project(d.path()).unwrap_err().contains("bogus"));
    }
}
