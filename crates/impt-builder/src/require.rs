//! `#require "NAME:VERSION"`: Electric Imp's published libraries, as the impCloud's compiler
//! resolves them.
//!
//! The impCloud reads the `#require` lines of agent and device code (Squirrel itself treats
//! them as comments) and loads the named library, at that exact version, ahead of the code.
//! Here a library comes, in this order, from:
//!
//! 1. a folder given by the user (`impt sim --libraries DIR`, or `$IMPT_LIBRARIES`);
//! 2. the user cache (`$XDG_CACHE_HOME/impt/libraries`, else `~/.cache/impt/libraries`),
//!    where every version fetched is kept: a version is fetched once per machine;
//! 3. its public source: the library's repository on GitHub, read through Builder's GitHub
//!    reader (so `$IMPT_GITHUB_API` points it elsewhere), at the tag `vX.Y.Z`, else `X.Y.Z`,
//!    else the default branch when the file there declares `VERSION = "X.Y.Z"`.
//!
//! A process keeps what it resolved in memory too ([`resolve`] never asks twice for a
//! version: `impt watch` fetches a library once, not per save).
//!
//! Folder and cache layout: `DIR/<Repo>/<X.Y.Z>/<file>`; a folder may also hold clones,
//! `DIR/<Repo>/<file>`, used when the file declares the required version.
//!
//! Which repository and file a name means is the table [`LIBRARIES`] (assumed: Electric Imp
//! documents the names, not where its compiler reads them; the table was derived from the
//! libraries' repositories, whose file at each version tag is the published library). Names
//! match case-insensitively on the part before the first `.` (published code writes both
//! `promise.class.nut:3.0.0` and `Promise.lib.nut:4.0.0`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::reader::{read_github, GithubAuth, ReadError, Source};

/// Where a library may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Both,
    Device,
    Agent,
}

/// Which side's code is being resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Device,
    Agent,
}

/// One published library: the lower-case name (before the first `.`), its repository and the
/// library file from each version on (ascending), and where it may be used.
pub struct Known {
    pub base: &'static str,
    pub repo: &'static str,
    pub files: &'static [(&'static str, &'static str)],
    pub target: Target,
}

/// The libraries the resolver knows how to fetch (a library outside this table can still be
/// used from a `--libraries` folder). File names at each version are as in the repositories'
/// version tags; the targets as Electric Imp's library list gives them.
pub const LIBRARIES: &[Known] = &[
    Known {
        base: "promise",
        repo: "electricimp/Promise",
        files: &[
            ("1.0.0", "promise.class.nut"),
            ("2.0.0", "Promise.class.nut"),
            ("3.0.0", "promise.class.nut"),
            ("4.0.0", "Promise.lib.nut"),
        ],
        target: Target::Both,
    },
    Known {
        base: "jsonencoder",
        repo: "electricimp/JSONEncoder",
        files: &[("1.0.0", "JSONEncoder.class.nut")],
        target: Target::Both,
    },
    Known {
        base: "serializer",
        repo: "electricimp/Serializer",
        files: &[("1.0.0", "Serializer.class.nut")],
        target: Target::Both,
    },
    Known {
        base: "messagemanager",
        repo: "electricimp/MessageManager",
        files: &[
            ("0.9.0", "MessageManager.class.nut"),
            ("2.0.0", "MessageManager.lib.nut"),
        ],
        target: Target::Both,
    },
    Known {
        base: "factorytools",
        repo: "electricimp/FactoryTools",
        files: &[
            ("1.0.0", "FactoryTools.device.nut"),
            ("1.1.0", "FactoryTools.class.nut"),
            ("2.2.0", "FactoryTools.lib.nut"),
        ],
        target: Target::Both,
    },
    Known {
        base: "rocky",
        repo: "electricimp/Rocky",
        files: &[
            ("1.0.0", "Rocky.class.nut"),
            ("3.0.0", "Rocky.agent.lib.nut"),
        ],
        target: Target::Agent,
    },
    Known {
        base: "connectionmanager",
        repo: "electricimp/ConnectionManager",
        files: &[
            ("1.0.0", "ConnectionManager.class.nut"),
            ("2.0.0", "ConnectionManager.lib.nut"),
        ],
        target: Target::Device,
    },
    Known {
        base: "scheduler",
        repo: "electricimp/Scheduler",
        files: &[("0.1.0", "Scheduler.lib.nut")],
        target: Target::Both,
    },
    Known {
        base: "spiflashfilesystem",
        repo: "electricimp/SPIFlashFileSystem",
        files: &[
            ("0.2.0", "SPIFlashFileSystem.class.nut"),
            ("2.0.0", "SPIFlashFileSystem.device.lib.nut"),
        ],
        target: Target::Device,
    },
    Known {
        base: "spiflashlogger",
        repo: "electricimp/SpiFlashLogger",
        files: &[
            ("1.0.0", "SPIFlashLogger.class.nut"),
            ("2.2.0", "SPIFlashLogger.device.lib.nut"),
        ],
        target: Target::Device,
    },
    Known {
        base: "messenger",
        repo: "electricimp/Messenger_ReplayMessenger",
        files: &[("0.1.0", "Messenger.lib.nut")],
        target: Target::Both,
    },
    Known {
        base: "replaymessenger",
        repo: "electricimp/Messenger_ReplayMessenger",
        files: &[("0.1.0", "ReplayMessenger.device.lib.nut")],
        target: Target::Device,
    },
    Known {
        base: "hts221",
        repo: "electricimp/HTS221",
        files: &[
            ("1.0.0", "HTS221.class.nut"),
            ("2.0.0", "HTS221.device.lib.nut"),
        ],
        target: Target::Device,
    },
];

/// The documented bound on `#require` statements per code file.
pub const MAX_REQUIRES: usize = 100;

/// One `#require` line: 1-based row and column (of the `#`), the name and version as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Require {
    pub row: usize,
    pub column: usize,
    pub name: String,
    pub version: String,
}

/// A resolved library: the name as required, the published file name, its version and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    pub name: String,
    pub file: String,
    pub version: String,
    pub code: String,
}

/// A compile error at a `#require` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequireError {
    pub row: usize,
    pub column: usize,
    pub text: String,
}

/// Where libraries come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Settings {
    /// A folder searched first (`--libraries`, `$IMPT_LIBRARIES`).
    pub folder: Option<PathBuf>,
    /// The cache (default: the user cache); `None`: nothing is kept on disk.
    pub cache: Option<PathBuf>,
    /// Base URL of the GitHub API (default `$IMPT_GITHUB_API`, else GitHub's).
    pub github_base: Option<String>,
}

impl Settings {
    /// From the environment: `$IMPT_LIBRARIES`, the user cache, `$IMPT_GITHUB_API`.
    pub fn from_env() -> Settings {
        let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        Settings {
            folder: env("IMPT_LIBRARIES").map(PathBuf::from),
            cache: user_cache(),
            github_base: env("IMPT_GITHUB_API"),
        }
    }
}

/// `$XDG_CACHE_HOME/impt/libraries`, else `$HOME/.cache/impt/libraries`.
pub fn user_cache() -> Option<PathBuf> {
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".cache")))
        .map(|c| c.join("impt").join("libraries"))
}

fn err(r: &Require, text: String) -> RequireError {
    RequireError {
        row: r.row,
        column: r.column,
        text,
    }
}

/// The `#require` lines of `src` (a line whose text starts with `#require`), with the
/// statement rules of the documentation: a quoted `NAME:VERSION`, a version without
/// wildcards, no library twice, at most [`MAX_REQUIRES`].
pub fn parse(src: &str) -> Result<Vec<Require>, RequireError> {
    let mut out: Vec<Require> = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed.strip_prefix("#require") else {
            continue;
        };
        if rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let column = line.len() - trimmed.len() + 1;
        let at = |text: &str| RequireError {
            row: i + 1,
            column,
            text: text.to_string(),
        };
        let rest = rest.trim_start();
        let malformed = "Malformed #require statement: it takes a library name and version in double quotes, e.g. #require \"Promise.lib.nut:4.0.0\"";
        let Some(inner) = rest.strip_prefix('"') else {
            return Err(at(malformed));
        };
        let Some(end) = inner.find('"') else {
            return Err(at(malformed));
        };
        let after = inner[end + 1..].trim();
        if !(after.is_empty() || after.starts_with("//") || after.starts_with('#')) {
            return Err(at(malformed));
        }
        let spec = inner[..end].trim();
        let (name, version) = match spec.rsplit_once(':') {
            Some((n, v)) if !v.trim().is_empty() => (n.trim(), v.trim()),
            _ => {
                return Err(at(&format!(
                    "#require \"{spec}\": a library must be required with its version number (NAME:VERSION)"
                )))
            }
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(at(malformed));
        }
        if version.contains(['*', 'x', 'X', '^', '~', '>', '<']) {
            return Err(at(&format!(
                "#require \"{spec}\": wildcards are not allowed in library versions"
            )));
        }
        let r = Require {
            row: i + 1,
            column,
            name: name.to_string(),
            version: version.to_string(),
        };
        if out.iter().any(|o| base_of(&o.name) == base_of(&r.name)) {
            return Err(err(
                &r,
                format!("Library \"{}\" is required more than once", r.name),
            ));
        }
        if out.len() == MAX_REQUIRES {
            return Err(err(
                &r,
                format!("Too many #require statements (at most {MAX_REQUIRES})"),
            ));
        }
        out.push(r);
    }
    Ok(out)
}

/// The lower-case part of a library name before its first `.`.
pub fn base_of(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_ascii_lowercase()
}

/// The table entry of a name.
pub fn known(name: &str) -> Option<&'static Known> {
    let b = base_of(name);
    LIBRARIES.iter().find(|k| k.base == b)
}

fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.split('.');
    let p = |s: Option<&str>| s.and_then(|s| s.parse::<u64>().ok());
    let r = (p(it.next())?, p(it.next())?, p(it.next())?);
    it.next().is_none().then_some(r)
}

impl Known {
    /// The library file at `version` (`None`: before the first published version).
    pub fn file_at(&self, version: &str) -> Option<&'static str> {
        let v = semver(version)?;
        self.files
            .iter()
            .rev()
            .find(|(from, _)| semver(from).is_some_and(|f| f <= v))
            .map(|(_, f)| *f)
    }

    fn repo_name(&self) -> &'static str {
        self.repo.rsplit('/').next().unwrap_or(self.repo)
    }

    fn target_at(&self, file: &str) -> Target {
        target_of_file(file).unwrap_or(self.target)
    }
}

fn target_of_file(file: &str) -> Option<Target> {
    let l = file.to_ascii_lowercase();
    if l.contains(".agent.") {
        Some(Target::Agent)
    } else if l.contains(".device.") {
        Some(Target::Device)
    } else {
        None
    }
}

/// The `VERSION` a library file declares (`static VERSION = "X.Y.Z"`).
pub fn declared_version(code: &str) -> Option<String> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r#"(?m)^\s*(?:static\s+)?(?:const\s+)?VERSION\s*=\s*"([^"]+)""#)
            .expect("valid VERSION regex")
    });
    re.captures(code).map(|c| c[1].to_string())
}

/// Why a library could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No library of that name.
    Name,
    /// The library has no such version.
    Version,
    /// The source could not be read (network, server error).
    Unreachable(String),
}

/// A library found, and where it may be used.
#[derive(Debug, Clone)]
struct Found {
    file: String,
    code: String,
    target: Target,
}

type Memo = Mutex<HashMap<(Settings, String, String), Result<Arc<Found>, Missing>>>;

fn memo() -> &'static Memo {
    static M: OnceLock<Memo> = OnceLock::new();
    M.get_or_init(Default::default)
}

/// Case-insensitive lookup of an entry of `dir`.
fn entry_ci(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.exists() {
        return Some(exact);
    }
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        e.file_name()
            .to_str()
            .filter(|n| n.eq_ignore_ascii_case(name))
            .map(|_| e.path())
    })
}

/// The library file of `name` in folder `dir` (a `<Repo>/<version>/` folder or a clone).
fn from_folder(dir: &Path, name: &str, version: &str) -> Option<Found> {
    let k = known(name);
    let base = base_of(name);
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(k) = k {
        roots.extend(entry_ci(dir, k.repo_name()));
    }
    roots.extend(entry_ci(dir, &base));
    let pick = |d: &Path| -> Option<(String, String)> {
        let want = k.and_then(|k| k.file_at(version));
        let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(d)
            .ok()?
            .flatten()
            .filter(|e| e.path().is_file())
            .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
            .filter(|(n, _)| n.to_ascii_lowercase().ends_with(".nut") && base_of(n) == base)
            .collect();
        files.sort();
        let chosen = want
            .and_then(|w| files.iter().find(|(n, _)| n.eq_ignore_ascii_case(w)))
            .or_else(|| files.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
            .or_else(|| files.first())?;
        let code = std::fs::read_to_string(&chosen.1).ok()?;
        Some((chosen.0.clone(), code))
    };
    for root in roots {
        if let Some(vdir) = entry_ci(&root, version).filter(|p| p.is_dir()) {
            if let Some((file, code)) = pick(&vdir) {
                return Some(found(k, file, code));
            }
        }
        if let Some((file, code)) = pick(&root) {
            if declared_version(&code).as_deref() == Some(version) {
                return Some(found(k, file, code));
            }
        }
    }
    None
}

fn found(k: Option<&Known>, file: String, code: String) -> Found {
    let target = match k {
        Some(k) => k.target_at(&file),
        None => target_of_file(&file).unwrap_or(Target::Both),
    };
    Found { file, code, target }
}

fn is_not_found(e: &ReadError) -> bool {
    match e {
        ReadError::Read(m) | ReadError::Other(m) => m.contains("Not Found"),
    }
}

/// Fetch a known library at `version` from its repository.
fn from_github(k: &Known, version: &str, s: &Settings) -> Result<Found, Missing> {
    let Some(file) = k.file_at(version) else {
        return Err(Missing::Version);
    };
    let (owner, repo) = k.repo.split_once('/').unwrap_or(("electricimp", k.repo));
    let auth = GithubAuth {
        user: None,
        token: None,
        base: s
            .github_base
            .clone()
            .or_else(|| std::env::var("IMPT_GITHUB_API").ok()),
    };
    let read = |reference: Option<String>| {
        let src = Source::Github {
            owner: owner.into(),
            repo: repo.into(),
            path: file.into(),
            reference: reference.clone(),
        };
        let shown = match &reference {
            Some(r) => format!("github:{owner}/{repo}/{file}@{r}"),
            None => format!("github:{owner}/{repo}/{file}"),
        };
        read_github(&shown, &src, &auth, None).map(|(text, _)| text)
    };
    for reference in [Some(format!("v{version}")), Some(version.to_string()), None] {
        let tagged = reference.is_some();
        match read(reference) {
            Ok(code) => {
                if tagged || declared_version(&code).as_deref() == Some(version) {
                    return Ok(found(Some(k), file.to_string(), code));
                }
            }
            Err(e) if is_not_found(&e) => {}
            Err(ReadError::Read(m) | ReadError::Other(m)) => return Err(Missing::Unreachable(m)),
        }
    }
    Err(Missing::Version)
}

/// Keep a fetched library in the cache (atomically; failures only cost a later fetch).
fn store(cache: &Path, k: &Known, version: &str, f: &Found) {
    let dir = cache.join(k.repo_name()).join(version);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(&dir) {
        if std::io::Write::write_all(&mut tmp, f.code.as_bytes()).is_ok() {
            let _ = tmp.persist(dir.join(&f.file));
        }
    }
}

fn lookup(name: &str, version: &str, s: &Settings) -> Result<Arc<Found>, Missing> {
    let key = (s.clone(), base_of(name), version.to_string());
    if let Some(r) = crate::lock(memo()).get(&key) {
        return r.clone();
    }
    let r = lookup_uncached(name, version, s).map(Arc::new);
    // An unreachable source is not remembered: the next compile tries again.
    if !matches!(r, Err(Missing::Unreachable(_))) {
        crate::lock(memo()).insert(key, r.clone());
    }
    r
}

fn lookup_uncached(name: &str, version: &str, s: &Settings) -> Result<Found, Missing> {
    for dir in [&s.folder, &s.cache].into_iter().flatten() {
        if let Some(f) = from_folder(dir, name, version) {
            return Ok(f);
        }
    }
    let Some(k) = known(name) else {
        return Err(Missing::Name);
    };
    let f = from_github(k, version, s)?;
    if let Some(c) = &s.cache {
        store(c, k, version, &f);
    }
    Ok(f)
}

/// Fetch one library version (into the cache, when there is one): the fill-the-cache
/// command. Returns the published file name.
pub fn fetch(name: &str, version: &str, s: &Settings) -> Result<Library, String> {
    let r = Require {
        row: 0,
        column: 0,
        name: name.to_string(),
        version: version.to_string(),
    };
    get(&r, s).map_err(|e| e.text).map(|f| Library {
        name: name.to_string(),
        file: f.file.clone(),
        version: version.to_string(),
        code: f.code.clone(),
    })
}

fn get(r: &Require, s: &Settings) -> Result<Arc<Found>, RequireError> {
    if semver(&r.version).is_none() {
        return Err(err(
            r,
            format!(
                "Library \"{}\" version \"{}\" not found (versions are written MAJOR.MINOR.PATCH)",
                r.name, r.version
            ),
        ));
    }
    lookup(&r.name, &r.version, s).map_err(|m| {
        err(
            r,
            match m {
                Missing::Name => format!("Library \"{}\" not found", r.name),
                Missing::Version => {
                    format!("Library \"{}\" version \"{}\" not found", r.name, r.version)
                }
                Missing::Unreachable(why) => format!(
                    "Library \"{}:{}\" could not be loaded: {}",
                    r.name,
                    r.version,
                    why.trim()
                ),
            },
        )
    })
}

/// The libraries the `#require` lines of `src` name, in order, for code of `side`; the
/// first problem as a compile error at its line.
pub fn resolve(src: &str, side: Side, s: &Settings) -> Result<Vec<Library>, RequireError> {
    let mut out = Vec::new();
    for r in parse(src)? {
        let f = get(&r, s)?;
        let wrong = match (f.target, side) {
            (Target::Agent, Side::Device) => Some("agent"),
            (Target::Device, Side::Agent) => Some("device"),
            _ => None,
        };
        if let Some(only) = wrong {
            return Err(err(
                &r,
                format!("Library \"{}\" can only be used in {} code", r.name, only),
            ));
        }
        out.push(Library {
            name: r.name.clone(),
            file: f.file.clone(),
            version: r.version.clone(),
            code: f.code.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements() {
        let r = parse("// x\n  #require \"Promise.lib.nut:4.0.0\" // c\nlocal a = 1;\n").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].row, r[0].column), (2, 3));
        assert_eq!(r[0].name, "Promise.lib.nut");
        assert_eq!(r[0].version, "4.0.0");
        assert!(parse("#requirement\n").unwrap().is_empty());
        let e = parse("\n#require \"Promise.lib.nut\"").unwrap_err();
        assert_eq!(e.row, 2);
        assert!(e.text.contains("version"), "{}", e.text);
        assert!(parse("#require \"A.lib.nut:1.*\"")
            .unwrap_err()
            .text
            .contains("wildcards"));
        assert!(parse("#require Promise.lib.nut:4.0.0")
            .unwrap_err()
            .text
            .contains("Malformed"));
        let e = parse("#require \"promise.class.nut:3.0.0\"\n#require \"Promise.lib.nut:4.0.0\"")
            .unwrap_err();
        assert_eq!(e.row, 2);
        assert!(e.text.contains("more than once"));
        let many: String = (0..101)
            .map(|i| format!("#require \"L{i}.lib.nut:1.0.0\"\n"))
            .collect();
        assert_eq!(parse(&many).unwrap_err().row, 101);
    }

    #[test]
    fn table() {
        let p = known("promise.class.nut").unwrap();
        assert_eq!(p.file_at("3.0.0"), Some("promise.class.nut"));
        assert_eq!(p.file_at("4.0.1"), Some("Promise.lib.nut"));
        assert_eq!(p.file_at("0.1.0"), None);
        assert_eq!(known("Rocky.agent.lib.nut").unwrap().target, Target::Agent);
        assert!(known("NoSuch.lib.nut").is_none());
        assert_eq!(
            declared_version("class X {\n    static VERSION = \"2.2.0\";\n}"),
            Some("2.2.0".into())
        );
    }

    #[test]
    fn folders_and_rules() {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path().join("Promise/4.0.0");
        std::fs::create_dir_all(&v).unwrap();
        std::fs::write(v.join("Promise.lib.nut"), "class Promise {}\n").unwrap();
        let clone = dir.path().join("Rocky");
        std::fs::create_dir_all(&clone).unwrap();
        std::fs::write(
            clone.join("Rocky.agent.lib.nut"),
            "class Rocky {\n    static VERSION = \"3.0.1\";\n}\n",
        )
        .unwrap();
        let s = Settings {
            folder: Some(dir.path().into()),
            cache: None,
            github_base: Some("http://127.0.0.1:9".into()),
        };
        let l = resolve("#require \"promise.lib.nut:4.0.0\"\n", Side::Device, &s).unwrap();
        assert_eq!(l[0].file, "Promise.lib.nut");
        assert_eq!(l[0].code, "class Promise {}\n");
        let l = resolve("#require \"Rocky.agent.lib.nut:3.0.1\"\n", Side::Agent, &s).unwrap();
        assert_eq!(l[0].file, "Rocky.agent.lib.nut");
        let e = resolve(
            "\n#require \"Rocky.agent.lib.nut:3.0.1\"\n",
            Side::Device,
            &s,
        )
        .unwrap_err();
        assert_eq!(e.row, 2);
        assert!(e.text.contains("agent code"), "{}", e.text);
        let e = resolve("#require \"Nope.lib.nut:1.0.0\"\n", Side::Device, &s).unwrap_err();
        assert_eq!(e.text, "Library \"Nope.lib.nut\" not found");
        // Known, not in the folder, the source unreachable.
        let e = resolve(
            "#require \"JSONEncoder.class.nut:2.0.0\"\n",
            Side::Agent,
            &s,
        )
        .unwrap_err();
        assert!(e.text.contains("could not be loaded"), "{}", e.text);
        let e = resolve("#require \"Promise.lib.nut:4.0\"\n", Side::Agent, &s).unwrap_err();
        assert!(e.text.contains("version \"4.0\" not found"), "{}", e.text);
    }
}
