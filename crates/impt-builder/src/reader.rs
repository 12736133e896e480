//! Include sources: local files, http(s) URLs and GitHub (`github:owner/repo/path@ref`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;

use super::js::Value;
use super::paths;

/// Characters escaped in URL path segments and query values.
const URL_ESCAPE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

const TIMEOUT: Duration = Duration::from_secs(30);

/// A classified include path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Github {
        owner: String,
        repo: String,
        path: String,
        reference: Option<String>,
    },
    Http(String),
    File(String),
    /// `bitbucket-server:project/repo/path[@ref]`
    Bitbucket {
        project: String,
        repo: String,
        path: String,
        reference: Option<String>,
    },
    /// `git-azure-repos:org/project/repo/path[@ref]`
    Azure {
        org: String,
        project: String,
        repo: String,
        path: String,
        reference: Option<String>,
    },
    /// `git-local:/path/in/a/repo/file.nut[@ref]`
    GitLocal {
        path: String,
        reference: Option<String>,
    },
}

/// Why a source could not be read; `Read` errors get a position appended by the caller.
#[derive(Debug)]
pub enum ReadError {
    Read(String),
    Other(String),
}

fn ci_prefix<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    if s.len() >= p.len() && s.is_char_boundary(p.len()) && s[..p.len()].eq_ignore_ascii_case(p) {
        Some(&s[p.len()..])
    } else {
        None
    }
}

fn is_http(s: &str) -> bool {
    ci_prefix(s, "http:").is_some() || ci_prefix(s, "https:").is_some()
}

fn has_dot_git(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.match_indices(".git").any(|(i, _)| {
        !l[i + 4..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn repo_name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// Parse `github:owner/repo/path[@ref]` (also `github.com:` and `github.com/`).
pub fn parse_github(s: &str) -> Option<Source> {
    let rest = ci_prefix(s, "github:")
        .or_else(|| ci_prefix(s, "github.com:"))
        .or_else(|| ci_prefix(s, "github.com/"))?;
    if rest.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let mut it = rest.splitn(3, '/');
    let owner = it.next()?;
    let repo = it.next()?;
    let tail = it.next()?;
    if !repo_name_ok(owner) || !repo_name_ok(repo) {
        return None;
    }
    let (path, reference) = match tail.rfind('@') {
        Some(i) => (&tail[..i], Some(tail[i + 1..].to_string())),
        None => (tail, None),
    };
    Some(Source::Github {
        owner: owner.into(),
        repo: repo.into(),
        path: path.into(),
        reference,
    })
}

fn repo_regex(
    re: &'static str,
    cell: &'static std::sync::OnceLock<regex::Regex>,
) -> &'static regex::Regex {
    cell.get_or_init(|| regex::Regex::new(re).expect("valid include regex"))
}

/// Parse `bitbucket-server:project/repo/path[@ref]` (Builder's pattern).
pub fn parse_bitbucket(s: &str) -> Option<Source> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let c = repo_regex(
        r"(?is)^bitbucket-server:(~?[a-z0-9\-._]+)/([a-z0-9\-._]+)/(.*?)(?:@([^@]*))?$",
        &RE,
    )
    .captures(s)?;
    Some(Source::Bitbucket {
        project: c[1].into(),
        repo: c[2].into(),
        path: c[3].into(),
        reference: c.get(4).map(|m| m.as_str().into()),
    })
}

/// Parse `git-azure-repos:org/project/repo/path[@ref]` (Builder's pattern).
pub fn parse_azure(s: &str) -> Option<Source> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let c = repo_regex(
        r"(?is)^git-azure-repos:(~?[a-z0-9\-._]+)/(~?[a-z0-9\-._]+)/([a-z0-9\-._]+)/(.*?)(?:@([^@]*))?$",
        &RE,
    )
    .captures(s)?;
    Some(Source::Azure {
        org: c[1].into(),
        project: c[2].into(),
        repo: c[3].into(),
        path: c[4].into(),
        reference: c.get(5).map(|m| m.as_str().into()),
    })
}

/// Pick the reader for an include path, in Builder's order.
pub fn classify(s: &str) -> Result<Source, ReadError> {
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = ci_prefix(s, "git-local:") {
        let mut parts = rest.split('@');
        let path = parts.next().unwrap_or_default();
        let reference = parts.next().map(str::to_string);
        if let Some(r) = &reference {
            check_git_ref(r)?;
        }
        if !path.is_empty() && parts.next().is_none() {
            return Ok(Source::GitLocal {
                path: path.to_string(),
                reference,
            });
        }
    }
    if let Some(b) = parse_bitbucket(s) {
        return Ok(b);
    }
    if let Some(a) = parse_azure(s) {
        return Ok(a);
    }
    let _ = lower;
    if let Some(g) = parse_github(s) {
        return Ok(g);
    }
    if is_http(s) && !has_dot_git(s) {
        return Ok(Source::Http(s.to_string()));
    }
    if !is_http(s) && !has_dot_git(s) {
        return Ok(Source::File(s.to_string()));
    }
    Err(ReadError::Other(format!(
        "Source \"{}\" is not supported",
        s
    )))
}

/// For a repository include: its `__REPO_PREFIX__` and ref.
pub fn repo_of(src: &Source) -> Result<Option<(String, Option<String>)>, ReadError> {
    Ok(match src {
        Source::Github {
            owner,
            repo,
            reference,
            ..
        } => Some((format!("github:{}/{}", owner, repo), reference.clone())),
        Source::GitLocal { path, reference } => {
            let (root, _) = git_local_root(path)?;
            Some((format!("git-local:{}", root), reference.clone()))
        }
        Source::Bitbucket { .. } | Source::Azure { .. } => {
            let vars = parse_path(src, "");
            let get = |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
            let prefix = get("__REPO_PREFIX__").map(|v| v.to_js_string());
            let reference = match get("__REPO_REF__") {
                Some(Value::Str(r)) => Some(r.to_string()),
                _ => None,
            };
            prefix.map(|p| (p, reference))
        }
        _ => None,
    })
}

/// The context variables an included source defines (`__FILE__`, `__PATH__`, …).
pub fn parse_path(src: &Source, include_path: &str) -> Vec<(&'static str, Value)> {
    match src {
        Source::Github {
            owner,
            repo,
            path,
            reference,
        } => vec![
            ("__FILE__", Value::str(&paths::u_basename(path))),
            (
                "__PATH__",
                Value::str(&format!(
                    "github:{}/{}/{}",
                    owner,
                    repo,
                    paths::u_dirname(path)
                )),
            ),
            (
                "__REPO_REF__",
                reference
                    .as_deref()
                    .map(Value::str)
                    .unwrap_or(Value::Undefined),
            ),
            (
                "__REPO_PREFIX__",
                Value::str(&format!("github:{}/{}", owner, repo)),
            ),
        ],
        Source::Http(url) => {
            let file = paths::u_basename(url);
            let path = paths::u_dirname(url).replacen(":/", "://", 1);
            let (root, upath) = split_url(url);
            vec![
                ("__FILE__", Value::str(&file)),
                ("__PATH__", Value::str(&path)),
                (
                    "__URL_ROOT__",
                    root.map(|r| Value::str(&r.replace('\\', "/")))
                        .unwrap_or(Value::Undefined),
                ),
                (
                    "__URL_PATH__",
                    upath
                        .map(|r| Value::str(&r.replace('\\', "/")))
                        .unwrap_or(Value::Undefined),
                ),
            ]
        }
        Source::Bitbucket {
            project,
            repo,
            path,
            reference,
        } => repo_vars(
            &format!("bitbucket-server:{}/{}", project, repo),
            path,
            reference,
        ),
        Source::Azure {
            org,
            project,
            repo,
            path,
            reference,
        } => repo_vars(
            &format!("git-azure-repos:{}/{}/{}", org, project, repo),
            path,
            reference,
        ),
        Source::GitLocal { path, reference } => vec![
            ("__FILE__", Value::str(&paths::u_basename(path))),
            (
                "__PATH__",
                Value::str(&format!("git-local:{}", paths::u_dirname(path))),
            ),
            (
                "__REPO_REF__",
                reference
                    .as_deref()
                    .map(Value::str)
                    .unwrap_or(Value::Undefined),
            ),
        ],
        Source::File(_) => {
            let file = paths::u_basename(include_path);
            let path = if paths::has_protocol(include_path) {
                paths::u_dirname(include_path)
            } else {
                let p = paths::u_normalize(&paths::u_dirname(include_path));
                if p == "." {
                    String::new()
                } else {
                    p
                }
            };
            vec![
                ("__FILE__", Value::str(&file)),
                ("__PATH__", Value::str(&path)),
            ]
        }
    }
}

fn repo_vars(prefix: &str, path: &str, reference: &Option<String>) -> Vec<(&'static str, Value)> {
    vec![
        ("__FILE__", Value::str(&paths::u_basename(path))),
        (
            "__PATH__",
            Value::str(&format!("{}/{}", prefix, paths::u_dirname(path))),
        ),
        (
            "__REPO_REF__",
            reference
                .as_deref()
                .map(Value::str)
                .unwrap_or(Value::Undefined),
        ),
        ("__REPO_PREFIX__", Value::str(prefix)),
    ]
}

/// Split `http(s)://host[:port]/path` into root and path.
pub fn split_url(url: &str) -> (Option<String>, Option<String>) {
    let scheme_len = if ci_prefix(url, "http://").is_some() {
        7
    } else if ci_prefix(url, "https://").is_some() {
        8
    } else {
        return (None, None);
    };
    let rest = &url[scheme_len..];
    let host_len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':')))
        .unwrap_or(rest.len());
    if host_len == 0 || !rest[host_len..].starts_with('/') || rest.contains(['\n', '\r']) {
        return (None, None);
    }
    let root = url[..scheme_len + host_len].to_string();
    let p = &rest[host_len + 1..];
    (
        Some(root),
        if p.is_empty() {
            None
        } else {
            Some(p.to_string())
        },
    )
}

/// Read a local file the way Builder searches for it. Returns content, the directory the
/// file was found in (as a string, for `__PATH__`) and its real path.
pub fn read_local(
    file: &str,
    ctx_path: Option<&str>,
    input_dir: Option<&str>,
    run_dir: &Path,
) -> Result<(String, String, PathBuf), ReadError> {
    let dirs: Vec<&str> = if file.starts_with('/') {
        vec![""]
    } else {
        let mut v: Vec<&str> = Vec::new();
        for d in [ctx_path, input_dir, run_dir.to_str()]
            .into_iter()
            .flatten()
        {
            if !v.contains(&d) {
                v.push(d);
            }
        }
        v
    };
    for dir in dirs {
        let joined = paths::join(dir, file);
        let real = if joined.starts_with('/') {
            PathBuf::from(&joined)
        } else {
            run_dir.join(&joined)
        };
        if real.exists() {
            let bytes = crate::fsread::read_checked(&real, crate::fsread::MAX_SOURCE_BYTES)
                .map_err(|e| ReadError::Other(format!("{}: {}", e, joined)))?;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            return Ok((text, paths::u_dirname(&joined), real));
        }
    }
    Err(ReadError::Read(format!(
        "Local file \"{}\" not found",
        paths::normalize(file)
    )))
}

fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    // reqwest's blocking client must not run on an async runtime thread
    std::thread::spawn(f)
        .join()
        .unwrap_or_else(|_| panic!("http worker panicked"))
}

/// GET an http(s) URL.
pub fn read_http(url: &str) -> Result<String, ReadError> {
    let u = url.to_string();
    let res = run_blocking(move || -> Result<String, String> {
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client
            .get(&u)
            .send()
            .map_err(|e| format!("Failed to fetch url \"{}\": {}", u, e))?;
        let status = resp.status().as_u16();
        if status >= 400 {
            let _ = resp.bytes();
            return Err(format!("Failed to fetch url \"{}\": HTTP/{}", u, status));
        }
        let bytes = resp
            .bytes()
            .map_err(|e| format!("Failed to fetch url \"{}\": {}", u, e))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    });
    res.map_err(ReadError::Read)
}

/// A `git-local:` ref must name a revision, never reach git as an option (`--output=…`
/// would write a file) or smuggle whitespace or control characters.
pub fn check_git_ref(r: &str) -> Result<(), ReadError> {
    if r.starts_with('-') || r.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ReadError::Other(format!(
            "Invalid git reference \"{}\"",
            r.escape_debug()
        )));
    }
    Ok(())
}

fn git(dir: &str, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("Error: git: {}", e))?;
    if !out.status.success() {
        return Err(format!(
            "Error: Command failed: git -C {} {}\n{}",
            dir,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The repository root of a `git-local:` path and the path relative to it.
pub fn git_local_root(path: &str) -> Result<(String, String), ReadError> {
    let mut dir = paths::u_dirname(path);
    while !Path::new(&dir).exists() {
        let up = paths::u_normalize(&paths::u_join(&dir, ".."));
        if up == dir {
            break;
        }
        dir = up;
    }
    let root = git(&dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| {
            ReadError::Read(format!(
                "Couldn't find the repo root. Probably {} is not a git repository (or any of the parent directories)",
                dir
            ))
        })?
        .trim()
        .replace('\\', "/");
    let rel = Path::new(&paths::u_normalize(path))
        .strip_prefix(&root)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string());
    Ok((paths::u_normalize(&root), paths::u_normalize(&rel)))
}

/// Read a file of a local repository at a ref (default `HEAD`); with `commit`, at that commit.
/// Returns the text and the commit the ref names.
pub fn read_git_local(
    root: &str,
    rel: &str,
    reference: Option<&str>,
    commit: Option<&str>,
    want_commit: bool,
) -> Result<(String, Option<String>), ReadError> {
    let r = commit.or(reference).unwrap_or("HEAD");
    check_git_ref(r)?;
    let text = git(root, &["show", &format!("{}:{}", r, rel)]).map_err(ReadError::Read)?;
    let id = if want_commit && commit.is_none() {
        Some(
            git(root, &["rev-parse", reference.unwrap_or("HEAD")])
                .map_err(ReadError::Read)?
                .trim()
                .to_string(),
        )
    } else {
        None
    };
    Ok((text, id))
}

/// Credentials and addresses of the Bitbucket Server and Azure Repos readers.
#[derive(Debug, Clone, Default)]
pub struct RepoAuth {
    pub bitbucket_addr: Option<String>,
    pub bitbucket_user: Option<String>,
    pub bitbucket_token: Option<String>,
    pub azure_base: Option<String>,
    pub azure_user: Option<String>,
    pub azure_token: Option<String>,
}

/// GET with optional basic auth: status and body text.
fn get_text(
    url: &str,
    user: Option<String>,
    pass: Option<String>,
    insecure: bool,
) -> Result<(u16, String), String> {
    let u = url.to_string();
    run_blocking(move || {
        let fail = |e: String| format!("Failed to fetch url \"{}\": {}\n", u, e);
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .danger_accept_invalid_certs(insecure)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let mut req = client.get(&u);
        if let (Some(a), Some(b)) = (&user, &pass) {
            if !a.is_empty() && !b.is_empty() {
                req = req.basic_auth(a, Some(b));
            }
        }
        let resp = req.send().map_err(|e| fail(e.to_string()))?;
        let status = resp.status().as_u16();
        let text = resp.text().map_err(|e| fail(e.to_string()))?;
        Ok((status, text))
    })
}

/// Builder's failure text for an API answer that is not 2xx.
fn http_failure(url: &str, status: u16, body: &str) -> String {
    let shown = serde_json::from_str::<serde_json::Value>(body)
        .unwrap_or_else(|_| serde_json::Value::String(body.to_string()));
    format!(
        "Failed to fetch url \"{}\": HTTP/{}\nResponse from the server: {}\n",
        url, status, shown
    )
}

/// Read from Bitbucket Server (`rest/api/1.0` raw files); with `commit` at that commit.
/// Returns the text and, when `want_commit`, the commit the ref names.
pub fn read_bitbucket(
    src: &Source,
    auth: &RepoAuth,
    commit: Option<&str>,
    want_commit: bool,
) -> Result<(String, Option<String>), ReadError> {
    let Source::Bitbucket {
        project,
        repo,
        path,
        reference,
    } = src
    else {
        return Err(ReadError::Other("not a Bitbucket Server source".into()));
    };
    let Some(mut addr) = auth.bitbucket_addr.clone().filter(|a| !a.is_empty()) else {
        return Err(ReadError::Read(
            "Bitbucket Server address is not specified".into(),
        ));
    };
    if !addr.ends_with('/') {
        addr.push('/');
    }
    let r = commit.map(str::to_string).or(reference.clone());
    let api = format!("{}rest/api/1.0/projects/{}/repos/{}", addr, project, repo);
    let mut url = format!("{}/raw/{}", api, paths::u_normalize(path));
    if let Some(r) = &r {
        url.push_str("?at=");
        url.push_str(r);
    }
    let (user, pass) = (auth.bitbucket_user.clone(), auth.bitbucket_token.clone());
    let (status, text) =
        get_text(&url, user.clone(), pass.clone(), true).map_err(ReadError::Read)?;
    if !(200..300).contains(&status) {
        return Err(ReadError::Read(http_failure(&url, status, &text)));
    }
    let id = if want_commit && commit.is_none() {
        let mut url = format!("{}/commits?limit=1", api);
        if let Some(r) = &r {
            url.push_str("&until=");
            url.push_str(r);
        }
        let (status, body) = get_text(&url, user, pass, true).map_err(ReadError::Read)?;
        if !(200..300).contains(&status) {
            return Err(ReadError::Read(http_failure(&url, status, &body)));
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["values"][0]["id"].as_str().map(str::to_string)
    } else {
        None
    };
    Ok((text, id))
}

/// Read from Azure Repos (items API, content included): a ref is tried as a branch, a tag,
/// then a commit; with `commit`, at that commit. Returns the text and its commit.
pub fn read_azure(
    src: &Source,
    auth: &RepoAuth,
    commit: Option<&str>,
) -> Result<(String, Option<String>), ReadError> {
    let Source::Azure {
        org,
        project,
        repo,
        path,
        reference,
    } = src
    else {
        return Err(ReadError::Other("not an Azure Repos source".into()));
    };
    let mut base = auth
        .azure_base
        .clone()
        .unwrap_or_else(|| "https://dev.azure.com/".into());
    if !base.ends_with('/') {
        base.push('/');
    }
    let url = format!(
        "{}{}/{}/_apis/git/repositories/{}/items?path={}&api-version=5.1&$format=json&includeContent=true",
        base,
        org,
        project,
        repo,
        paths::u_normalize(path)
    );
    let (user, pass) = (auth.azure_user.clone(), auth.azure_token.clone());
    let attempts: Vec<(String, bool)> = match (commit, reference) {
        (Some(c), _) => vec![(
            format!(
                "{}&versionDescriptor.version={}&versionDescriptor.versionType=commit",
                url, c
            ),
            false,
        )],
        (None, Some(r)) => ["branch", "tag", "commit"]
            .iter()
            .map(|t| {
                (
                    format!(
                        "{}&versionDescriptor.version={}&versionDescriptor.versionType={}",
                        url, r, t
                    ),
                    *t != "commit",
                )
            })
            .collect(),
        (None, None) => vec![(url, false)],
    };
    for (u, allow_missing) in attempts {
        let (status, body) =
            get_text(&u, user.clone(), pass.clone(), false).map_err(ReadError::Read)?;
        if status == 404 && allow_missing {
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(ReadError::Read(http_failure(&u, status, &body)));
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let content = v["content"].as_str().unwrap_or_default().to_string();
        return Ok((content, v["commitId"].as_str().map(str::to_string)));
    }
    Err(ReadError::Read(format!("Unknown error: \"{}\"", path)))
}

/// GitHub access settings.
#[derive(Debug, Clone, Default)]
pub struct GithubAuth {
    pub user: Option<String>,
    pub token: Option<String>,
    pub base: Option<String>,
}

/// Fetch a file through the GitHub contents API, or at a Git blob (`--use-dependencies`)
/// through the blobs API; returns the text and its blob SHA.
pub fn read_github(
    source: &str,
    src: &Source,
    auth: &GithubAuth,
    blob: Option<&str>,
) -> Result<(String, String), ReadError> {
    let Source::Github {
        owner,
        repo,
        path,
        reference,
    } = src
    else {
        return Err(ReadError::Other("not a GitHub source".into()));
    };
    let base = auth
        .base
        .clone()
        .unwrap_or_else(|| "https://api.github.com".into());
    let norm = paths::u_normalize(path);
    let enc: String = norm
        .split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, URL_ESCAPE).to_string())
        .collect::<Vec<_>>()
        .join("/");
    let mut url = format!(
        "{}/repos/{}/{}/contents/{}",
        base.trim_end_matches('/'),
        owner,
        repo,
        enc
    );
    if let Some(r) = reference {
        url.push_str("?ref=");
        url.push_str(&percent_encoding::utf8_percent_encode(r, URL_ESCAPE).to_string());
    }
    if let Some(b) = blob {
        url = format!(
            "{}/repos/{}/{}/git/blobs/{}",
            base.trim_end_matches('/'),
            owner,
            repo,
            percent_encoding::utf8_percent_encode(b, URL_ESCAPE)
        );
    }
    let auth = auth.clone();
    let source = source.to_string();
    let res = run_blocking(move || -> Result<(String, String), String> {
        let fail = |m: String| format!("Failed to fetch url \"{}\": {}", source, m);
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        let mut req = client
            .get(&url)
            .header("User-Agent", "impt-builder")
            .header("Accept", "application/vnd.github.v3+json");
        match (&auth.user, &auth.token) {
            (Some(u), Some(t)) => req = req.basic_auth(u, Some(t)),
            (None, Some(t)) if !t.is_empty() => {
                req = req.header("Authorization", format!("token {}", t))
            }
            _ => {}
        }
        let resp = req.send().map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            // drain the body: dropping an unread response stalls the blocking client
            let _ = resp.bytes();
            return Err(fail(format!(
                "HttpError: {}",
                status.canonical_reason().unwrap_or("error")
            )));
        }
        let json: serde_json::Value = resp.json().map_err(|e| fail(e.to_string()))?;
        let content = json
            .get("content")
            .and_then(|c| c.as_str())
            .ok_or_else(|| fail("no file content in the response".into()))?;
        let clean: String = content.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| fail(e.to_string()))?;
        let sha = json
            .get("sha")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        Ok((String::from_utf8_lossy(&bytes).into_owned(), sha))
    });
    res.map_err(ReadError::Read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_refs_never_reach_git_as_options() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("written");
        let r = format!("--output={}", out.display());
        assert!(classify(&format!("git-local:/repo/file.nut@{r}")).is_err());
        assert!(classify("git-local:/repo/file.nut@-p").is_err());
        assert!(classify("git-local:/repo/file.nut@v1.0~1").is_ok());
        let root = dir.path().to_string_lossy().into_owned();
        assert!(read_git_local(&root, "f.nut", Some(&r), None, true).is_err());
        assert!(read_git_local(&root, "f.nut", None, Some("-x"), false).is_err());
        assert!(!out.exists());
    }

    #[test]
    fn classify_sources() {
        assert_eq!(
            classify("github:a/b/c/d.nut@v1").ok(),
            Some(Source::Github {
                owner: "a".into(),
                repo: "b".into(),
                path: "c/d.nut".into(),
                reference: Some("v1".into())
            })
        );
        assert!(matches!(classify("https://x/y.nut"), Ok(Source::Http(_))));
        assert!(matches!(classify("a/b.nut"), Ok(Source::File(_))));
        assert!(classify("x.git/y").is_err());
        assert_eq!(
            split_url("http://h:80/a/b"),
            (Some("http://h:80".into()), Some("a/b".into()))
        );
    }
}
