//! On-disk cache of remote includes (Builder's `--cache`): one file per include path,
//! valid for a maximum age (24 hours by default), optional exclusion patterns.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(86_400);
const MAX_FILENAME_LENGTH: usize = 250;

/// File name of a cached include path (Builder's scheme; hashes use SHA-256 instead of xxhash).
pub fn cache_file_name(link: &str) -> String {
    let mut l = link.to_string();
    for p in ["bitbucket-server", "github", "git-azure-repos"] {
        if let Some(rest) = l.strip_prefix(&format!("{}:", p)) {
            l = format!("{}#{}", p, rest);
        }
    }
    l = l.replacen("://", "#", 1).replace('/', "-");
    if let Some(q) = l.find('?') {
        let query = l[q + 1..].to_string();
        if !query.is_empty() {
            l = format!("{}{}", &l[..q], short_hash(&query));
        } else {
            l.truncate(q);
        }
    }
    if l.len() > MAX_FILENAME_LENGTH {
        let chars: Vec<char> = l.chars().collect();
        let start: String = chars[..100.min(chars.len())].iter().collect();
        let end: String = chars[chars.len().saturating_sub(100)..].iter().collect();
        l = format!("{}{}{}", start, end, short_hash(&l));
    }
    l
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

/// Glob match with `*` (within a path segment), `**` (any depth) and `?`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn rec(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') if p.get(1) == Some(&'*') => {
                let rest = if p.get(2) == Some(&'/') {
                    &p[3..]
                } else {
                    &p[2..]
                };
                (0..=t.len()).any(|i| rec(rest, &t[i..]))
            }
            Some('*') => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != '/')
                .any(|i| rec(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && t[0] != '/' && rec(&p[1..], &t[1..]),
            Some(c) => t.first() == Some(c) && rec(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    rec(&p, &t)
}

/// Read a cached copy if present and fresh.
pub fn lookup(dir: &Path, link: &str, max_age: Duration) -> Option<String> {
    let f = dir.join(cache_file_name(link));
    let meta = std::fs::metadata(&f).ok()?;
    let age = SystemTime::now()
        .duration_since(meta.modified().ok()?)
        .unwrap_or_default();
    if age > max_age {
        return None;
    }
    crate::fsread::read_checked(&f, crate::fsread::MAX_SOURCE_BYTES)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Store content; failures are ignored like Builder does (it only logs them).
pub fn store(dir: &Path, link: &str, content: &str) -> Option<PathBuf> {
    let f = dir.join(cache_file_name(link));
    std::fs::create_dir_all(dir).ok()?;
    std::fs::write(&f, content).ok()?;
    Some(f)
}

/// Remote files kept in memory for the life of the process (`Options::remote_memo`).
type Memo = std::sync::Mutex<std::collections::HashMap<String, (String, String)>>;

fn memo() -> &'static Memo {
    static MEMO: std::sync::OnceLock<Memo> = std::sync::OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// A remote file (text and Git blob) read before in this process.
pub fn memo_get(key: &str) -> Option<(String, String)> {
    crate::lock(memo()).get(key).cloned()
}

pub fn memo_put(key: &str, v: &(String, String)) {
    crate::lock(memo()).insert(key.to_string(), v.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_globs() {
        assert_eq!(
            cache_file_name("github:a/b/c.nut@v1"),
            "github#a-b-c.nut@v1"
        );
        assert_eq!(cache_file_name("https://h/x/y.nut"), "https#h-x-y.nut");
        assert!(glob_match(
            "github:electricimp/**",
            "github:electricimp/a/b.nut"
        ));
        assert!(glob_match("github:*/**/*@*", "github:a/b/c.nut@v1"));
        assert!(!glob_match("/foo/*ar", "/foo/get/bar"));
        assert!(glob_match("bo?t.js", "boat.js"));
    }
}
