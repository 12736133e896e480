//! Squirrel preprocessor, output-compatible with Electric Imp's Builder 4.x (`pleasebuild`).
//!
//! Directives: `@include [once]`, `@set`, `@if/@elseif/@else/@endif`, `@macro/@endmacro`,
//! `@while`, `@repeat`, `@error`, `@warning`, `@end`, inline `@{expr}` and `@ ` comments.
//! Includes: local files, http(s) URLs, `github:`, `bitbucket-server:`, `git-azure-repos:` and
//! `git-local:` sources, with an optional on-disk cache for remote ones, dependencies and
//! directives files, and JavaScript libraries (`--lib`).
//!
//! Layout: [`lexer`] (lines, directives, inline expressions) → [`parser`] (instruction tree) →
//! `machine` (execution, includes, output) using [`expr`] (expression parser), `js` (value
//! semantics), `jslib` (JavaScript libraries), `functions` (built-ins), `reader` (sources),
//! `cache`, `paths`; [`settings`] fills [`Options`] from impt.toml and command-line flags.

#![forbid(unsafe_code)]

mod cache;
mod context;
mod error;
pub mod expr;
pub mod fsread;
mod functions;
mod js;
mod jslib;
mod lexer;
mod machine;
mod parser;
mod paths;
mod reader;
pub mod require;
pub mod settings;

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

pub use error::{BuilderError, ErrorKind};

/// Locks `m`, using a mutex poisoned by a panic as it is (the workspace's one policy, see
/// the repository's ARCHITECTURE.md): the memos guarded here stay valid after a panic.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Preprocessor settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Variables (`-D name value`); they take precedence over `@set`.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Emit `#line N "file"` control lines (Builder's `-l`).
    pub line_control: bool,
    /// Cache remote includes in this directory (Builder's `--cache`, `.builder-cache`).
    pub cache_dir: Option<PathBuf>,
    /// Maximum age of cached files (default 24 hours).
    pub cache_max_age: Option<Duration>,
    /// Include paths never cached (glob patterns with `*`, `**`, `?`).
    pub cache_exclude: Vec<String>,
    pub github_user: Option<String>,
    pub github_token: Option<String>,
    /// Base URL of the GitHub API (default: `$IMPT_GITHUB_API`, else `https://api.github.com`).
    pub github_base: Option<String>,
    /// Builder's `--use-remote-relative-includes`.
    pub remote_relative_includes: bool,
    /// Builder's `--suppress-duplicate-includes-warning`.
    pub suppress_duplicate_warning: bool,
    /// Directory relative includes are finally searched in (default: current directory).
    pub run_dir: Option<PathBuf>,
    /// Do not resolve unknown variables from the environment.
    pub no_env: bool,
    /// JavaScript libraries (Builder's `--lib`): files, directories or glob patterns,
    /// relative to the run directory.
    pub libs: Vec<String>,
    /// Longest a library load or call may run before it is interrupted (default 60 s).
    pub js_time_limit: Option<Duration>,
    /// Azure Repos credentials (`--azure-user`, `--azure-token`).
    pub azure_user: Option<String>,
    pub azure_token: Option<String>,
    /// Base URL of the Azure Repos API (default: `$IMPT_AZURE_API`, else Azure's own).
    pub azure_base: Option<String>,
    /// Bitbucket Server address and credentials (`--bitbucket-server-*`).
    pub bitbucket_server_addr: Option<String>,
    pub bitbucket_server_user: Option<String>,
    pub bitbucket_server_token: Option<String>,
    /// Empty the cache directory first (`--clear-cache`).
    pub clear_cache: bool,
    /// `--save-dependencies FILE`: the Git blob of every GitHub include, written after a run.
    pub save_dependencies: Option<PathBuf>,
    /// `--use-dependencies FILE`: read GitHub includes at those blobs.
    pub use_dependencies: Option<PathBuf>,
    /// `--save-directives FILE`: the variables a run started with, written after it.
    pub save_directives: Option<PathBuf>,
    /// `--use-directives FILE`: variables to start with (`vars` override them).
    pub use_directives: Option<PathBuf>,
    /// Keep remote files in memory for the life of the process (the watch loop: a save
    /// costs no network round trip).
    pub remote_memo: bool,
}

impl Options {
    fn repo_auth(&self) -> reader::RepoAuth {
        let env = |n: &str| std::env::var(n).ok();
        reader::RepoAuth {
            bitbucket_addr: self
                .bitbucket_server_addr
                .clone()
                .or_else(|| env("IMPT_BITBUCKET_SERVER_ADDR")),
            bitbucket_user: self.bitbucket_server_user.clone(),
            bitbucket_token: self.bitbucket_server_token.clone(),
            azure_base: self.azure_base.clone().or_else(|| env("IMPT_AZURE_API")),
            azure_user: self.azure_user.clone(),
            azure_token: self.azure_token.clone(),
        }
    }

    fn github_auth(&self) -> reader::GithubAuth {
        reader::GithubAuth {
            user: self.github_user.clone(),
            token: self.github_token.clone(),
            base: self
                .github_base
                .clone()
                .or_else(|| std::env::var("IMPT_GITHUB_API").ok()),
        }
    }
}

/// Where an output line comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    /// The source as Builder names it in `#line` (path or URL).
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// Preprocessing result.
#[derive(Debug, Clone, Default)]
pub struct Processed {
    pub code: String,
    /// One entry per output line.
    pub line_map: Vec<SourcePos>,
    /// Local files read (for the watcher).
    pub files: Vec<PathBuf>,
    /// `@warning` messages and duplicate-include warnings.
    pub warnings: Vec<String>,
}

impl Processed {
    /// Source position of a 1-based output line.
    pub fn source_of(&self, line: usize) -> Option<&SourcePos> {
        line.checked_sub(1).and_then(|i| self.line_map.get(i))
    }
}

fn run_dir(opts: &Options) -> PathBuf {
    opts.run_dir
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Load the `--lib` JavaScript libraries, if any.
fn load_libs(opts: &Options, run: &Path) -> Result<Option<Rc<jslib::JsLibs>>, BuilderError> {
    if opts.libs.is_empty() {
        return Ok(None);
    }
    let lib_err = |m: String, file: &str, line: usize| {
        BuilderError::new(ErrorKind::Library, m.clone(), file, line, m)
    };
    let files = jslib::lib_files(&opts.libs, run).map_err(|m| lib_err(m, "", 0))?;
    let limit = opts.js_time_limit.unwrap_or(Duration::from_secs(60));
    let libs = jslib::JsLibs::load(&files, limit).map_err(|e| match &e.position {
        Some((f, l)) => lib_err(e.message.clone(), f, *l),
        None => lib_err(e.message.clone(), "", 0),
    })?;
    Ok(Some(Rc::new(libs)))
}

fn finish(m: machine::Machine, buf: machine::Buf) -> Processed {
    Processed {
        code: buf.out,
        line_map: buf.map.unwrap_or_default(),
        files: m.files,
        warnings: m.warnings,
    }
}

/// Run on a thread with a large stack: nesting goes up to 256 levels, like Builder's.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, f)
        {
            Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            Err(_) => panic!("cannot start the preprocessor thread"),
        }
    })
}

/// Preprocess a file, exactly like `pleasebuild [-l] <path>`.
pub fn preprocess_file(path: &Path, opts: &Options) -> Result<Processed, BuilderError> {
    on_big_stack(|| preprocess_file_inner(path, opts))
}

/// Preprocess source text named `name` as if it were a file in `base_dir`.
pub fn preprocess_str(
    source: &str,
    name: &str,
    base_dir: &Path,
    opts: &Options,
) -> Result<Processed, BuilderError> {
    on_big_stack(|| preprocess_str_inner(source, name, base_dir, opts))
}

fn plain(m: String) -> BuilderError {
    BuilderError::new(ErrorKind::Include, m.clone(), "", 0, m)
}

fn in_run(run: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        run.join(p)
    }
}

/// Write a file through a temporary file in the same directory.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

/// Reads a JSON file of `--use-dependencies`/`--use-directives` with Builder's error texts.
fn read_json(kind: &str, shown: &Path, real: &Path) -> Result<serde_json::Value, BuilderError> {
    if !real.exists() {
        return Err(plain(format!(
            "The {} JSON file '{}' does not exist",
            kind,
            shown.display()
        )));
    }
    fsread::read_text(real, fsread::MAX_SETTINGS_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|m| {
            plain(format!(
                "The {} JSON file '{}' cannot be used: {}",
                kind,
                shown.display(),
                m
            ))
        })
}

/// Everything around one run: `--clear-cache`, directives and dependencies files, libraries.
struct Run {
    opts: Options,
    deps: Option<Vec<(String, String)>>,
    directives: Option<serde_json::Map<String, serde_json::Value>>,
    js: Option<Rc<jslib::JsLibs>>,
}

impl Run {
    fn prepare(opts: &Options, run: &Path) -> Result<Run, BuilderError> {
        if opts.clear_cache {
            let dir = opts
                .cache_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(settings::CACHE_DIR));
            let _ = std::fs::remove_dir_all(in_run(run, &dir));
        }
        let mut opts = opts.clone();
        let deps = match (&opts.use_dependencies, &opts.save_dependencies) {
            (Some(f), _) => {
                let v = read_json("dependencies", f, &in_run(run, f))?;
                let pairs: Vec<(String, String)> = serde_json::from_value(v).map_err(|e| {
                    plain(format!(
                        "The dependencies JSON file '{}' cannot be used: {}",
                        f.display(),
                        e
                    ))
                })?;
                Some(pairs)
            }
            (None, Some(_)) => Some(Vec::new()),
            _ => None,
        };
        let directives = match (&opts.use_directives, &opts.save_directives) {
            (Some(f), _) => {
                let v = read_json("directives", f, &in_run(run, f))?;
                let mut merged = match v {
                    serde_json::Value::Object(m) => m,
                    _ => serde_json::Map::new(),
                };
                for (k, v) in &opts.vars {
                    merged.insert(k.clone(), v.clone());
                }
                opts.vars = merged.clone();
                Some(merged)
            }
            (None, Some(_)) => Some(opts.vars.clone()),
            _ => None,
        };
        let js = load_libs(&opts, run)?;
        Ok(Run {
            opts,
            deps,
            directives,
            js,
        })
    }

    /// The result; the `--use-dependencies`/`--use-directives` files count as files read
    /// (the watch loop follows them).
    fn finish(&self, m: machine::Machine, buf: machine::Buf, run: &Path) -> Processed {
        let mut p = finish(m, buf);
        for f in [&self.opts.use_dependencies, &self.opts.use_directives]
            .into_iter()
            .flatten()
        {
            p.files.push(in_run(run, f));
        }
        p
    }

    fn save(&self, deps: Option<Vec<(String, String)>>, run: &Path) -> Result<(), BuilderError> {
        let save = |f: &Path, text: String| {
            write_atomic(&in_run(run, f), &text)
                .map_err(|e| plain(format!("The {} file cannot be saved: {}", f.display(), e)))
        };
        if let (Some(f), Some(d)) = (&self.opts.save_dependencies, deps) {
            save(f, serde_json::to_string_pretty(&d).unwrap_or_default())?;
        }
        if let (Some(f), Some(d)) = (&self.opts.save_directives, &self.directives) {
            save(f, serde_json::to_string_pretty(d).unwrap_or_default())?;
        }
        Ok(())
    }
}

fn preprocess_file_inner(path: &Path, opts: &Options) -> Result<Processed, BuilderError> {
    let run = run_dir(opts);
    let prep = Run::prepare(opts, &run)?;
    let opts = &prep.opts;
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        run.join(path)
    };
    let input_dir = abs.parent().map(|p| paths::normalize(&p.to_string_lossy()));
    let mut m = machine::Machine::new(opts, input_dir, run.clone()).with_js(prep.js.clone());
    m.deps = prep.deps.clone();
    let run_s = run.to_string_lossy().to_string();
    let ctx = m.root_ctx("main", &run_s);
    let source = format!("@include \"{}\"", path.to_string_lossy().replace('"', "'"));
    let ast = parser::parse(&source, "main")?;
    let mut buf = machine::Buf::new(true);
    m.run(&ast, &ctx, &mut buf)?;
    prep.save(m.deps.take(), &run)?;
    Ok(prep.finish(m, buf, &run))
}

fn preprocess_str_inner(
    source: &str,
    name: &str,
    base_dir: &Path,
    opts: &Options,
) -> Result<Processed, BuilderError> {
    let run = run_dir(opts);
    let prep = Run::prepare(opts, &run)?;
    let opts = &prep.opts;
    let base = if base_dir.is_absolute() {
        base_dir.to_path_buf()
    } else {
        run.join(base_dir)
    };
    let base_s = paths::normalize(&base.to_string_lossy());
    let mut m =
        machine::Machine::new(opts, Some(base_s.clone()), run.clone()).with_js(prep.js.clone());
    m.deps = prep.deps.clone();
    let ctx = m.root_ctx(name, &base_s);
    let mut text = source.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let ast = parser::parse(&text, name)?;
    let mut buf = machine::Buf::new(true);
    m.run(&ast, &ctx, &mut buf)?;
    prep.save(m.deps.take(), &run)?;
    Ok(prep.finish(m, buf, &run))
}

/// Quick check whether a source uses Builder syntax at all.
pub fn has_directives(source: &str) -> bool {
    lexer::has_directives(source)
}
