//! Settings of the watch loop: the `[watch]` table of `impt.toml` in the project directory,
//! overridden by command-line flags.
//!
//! ```toml
//! [watch]
//! debounce = 300                 # milliseconds of quiet before a change is deployed
//! ignore = ["*.bak", "tmp/**"]   # extra ignore globs (VCS, editor and cache files always are)
//! paths = ["lib"]                # extra files or directories whose changes trigger a deploy
//! tags = ["dev"]                 # tags of every deployment
//! restart = "always"             # "always" | "conditional" | "none"
//! test = true                    # run the .impt.test tests after each deploy (as --test)
//! virtual-time = true            # the tests on the simulator's virtual time (as --virtual-time)
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{ImptError, Result};

/// Name of the settings file in the project directory.
pub const SETTINGS_FILE: &str = "impt.toml";
/// Default quiet period before a change is deployed.
pub const DEFAULT_DEBOUNCE_MS: u64 = 300;

/// How devices are restarted after a deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartMode {
    #[default]
    Always,
    Conditional,
    None,
}

impl RestartMode {
    pub fn parse(s: &str) -> Option<RestartMode> {
        match s {
            "always" | "restart" => Some(RestartMode::Always),
            "conditional" => Some(RestartMode::Conditional),
            "none" | "no" | "never" => Some(RestartMode::None),
            _ => None,
        }
    }
}

/// The `[watch]` table as written (every key optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub debounce: Option<u64>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub restart: Option<String>,
    pub test: Option<bool>,
    #[serde(rename = "virtual-time")]
    pub virtual_time: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct TomlFile {
    watch: Option<FileSettings>,
}

/// Flags of the command line that may override the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub debounce: Option<u64>,
    pub ignore: Vec<String>,
    pub paths: Vec<String>,
    pub tags: Vec<String>,
    pub restart: Option<RestartMode>,
    /// `--test`.
    pub test: bool,
    /// `--virtual-time`.
    pub virtual_time: bool,
}

/// Effective settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub debounce: Duration,
    pub ignore: Vec<String>,
    /// Extra paths, absolute.
    pub paths: Vec<PathBuf>,
    pub tags: Vec<String>,
    pub restart: RestartMode,
    /// Run the project's tests after each deploy.
    pub test: bool,
    /// Run them on the simulator's virtual time.
    pub virtual_time: bool,
}

/// Reads `impt.toml`'s `[watch]` table in `dir` (absent file or table: defaults).
pub fn load_file(dir: &Path) -> Result<FileSettings> {
    let path = dir.join(SETTINGS_FILE);
    let text = match crate::config::read_limited(&path).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            return Err(ImptError::File {
                file: path.display().to_string(),
                msg: "not UTF-8 text".into(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileSettings::default()),
        Err(e) => {
            return Err(ImptError::File {
                file: path.display().to_string(),
                msg: e.to_string(),
            })
        }
    };
    parse_file(&text).map_err(|msg| ImptError::File {
        file: path.display().to_string(),
        msg,
    })
}

pub fn parse_file(text: &str) -> std::result::Result<FileSettings, String> {
    let f: TomlFile = toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
    Ok(f.watch.unwrap_or_default())
}

/// Merges file settings and flags: scalar flags replace, lists add up.
pub fn merge(dir: &Path, file: FileSettings, flags: Overrides) -> Result<Settings> {
    let restart = match (flags.restart, file.restart.as_deref()) {
        (Some(r), _) => r,
        (None, Some(s)) => RestartMode::parse(s).ok_or_else(|| {
            ImptError::msg(format!(
                "{SETTINGS_FILE}: watch.restart must be \"always\", \"conditional\" or \"none\", not \"{s}\"."
            ))
        })?,
        (None, None) => RestartMode::Always,
    };
    let debounce = flags
        .debounce
        .or(file.debounce)
        .unwrap_or(DEFAULT_DEBOUNCE_MS);
    let mut ignore = file.ignore;
    ignore.extend(flags.ignore);
    let mut tags = file.tags;
    for t in flags.tags {
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let paths = file
        .paths
        .into_iter()
        .chain(flags.paths)
        .map(|p| dir.join(p))
        .collect();
    Ok(Settings {
        debounce: Duration::from_millis(debounce),
        ignore,
        paths,
        tags,
        restart,
        test: flags.test || file.test.unwrap_or(false),
        virtual_time: flags.virtual_time || file.virtual_time.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_flags() {
        let f = parse_file(
            "[watch]\ndebounce = 120\nignore = [\"*.bak\"]\npaths = [\"lib\"]\ntags = [\"a\"]\nrestart = \"conditional\"\n",
        )
        .unwrap();
        let s = merge(Path::new("/p"), f.clone(), Overrides::default()).unwrap();
        assert_eq!(s.debounce, Duration::from_millis(120));
        assert_eq!(s.restart, RestartMode::Conditional);
        assert_eq!(s.paths, vec![PathBuf::from("/p/lib")]);
        let s = merge(
            Path::new("/p"),
            f,
            Overrides {
                debounce: Some(50),
                restart: Some(RestartMode::None),
                tags: vec!["b".into(), "a".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.debounce, Duration::from_millis(50));
        assert_eq!(s.restart, RestartMode::None);
        assert_eq!(s.tags, vec!["a".to_string(), "b".to_string()]);
        assert!(parse_file("[watch]\nbogus = 1\n").is_err());
        assert_eq!(
            parse_file("[watch]\ntest = true\n").unwrap().test,
            Some(true)
        );
        let vt = parse_file("[watch]\nvirtual-time = true\n").unwrap();
        assert_eq!(vt.virtual_time, Some(true));
        assert!(
            merge(Path::new("/p"), vt, Overrides::default())
                .unwrap()
                .virtual_time
        );
        assert_eq!(parse_file("").unwrap().debounce, None);
        let bad = FileSettings {
            restart: Some("sometimes".into()),
            ..Default::default()
        };
        assert!(merge(Path::new("/p"), bad, Overrides::default()).is_err());
    }
}
