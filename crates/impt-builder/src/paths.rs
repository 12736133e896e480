//! POSIX path string helpers with Node's `path.posix` semantics (and the `upath` variants
//! that collapse `//`), used for `__PATH__`, `#line` and error positions.

/// Node `path.posix.normalize`.
pub fn normalize(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let abs = p.starts_with('/');
    let trailing = p.ends_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let mut out = parts.join("/");
    if out.is_empty() {
        if abs {
            return "/".into();
        }
        out = ".".into();
    }
    if trailing {
        out.push('/');
    }
    if abs {
        out = format!("/{}", out);
    }
    out
}

/// Node `path.posix.join`.
pub fn join(a: &str, b: &str) -> String {
    let joined = match (a.is_empty(), b.is_empty()) {
        (true, true) => return ".".into(),
        (true, false) => b.to_string(),
        (false, true) => a.to_string(),
        (false, false) => format!("{}/{}", a, b),
    };
    normalize(&joined)
}

/// Node `path.posix.dirname`.
pub fn dirname(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let abs = p.starts_with('/');
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = trimmed[..i].trim_end_matches('/');
            if d.is_empty() {
                if abs {
                    "/".into()
                } else {
                    // e.g. "//x" handled above; a relative path cannot start with '/'
                    ".".into()
                }
            } else {
                d.to_string()
            }
        }
    }
}

/// Node `path.posix.basename`.
pub fn basename(p: &str) -> String {
    let trimmed = p.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// `upath`'s unix conversion: backslashes to slashes, then collapse every `//`.
pub fn to_unix(p: &str) -> String {
    let mut s = p.replace('\\', "/");
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    s
}

pub fn u_dirname(p: &str) -> String {
    to_unix(&dirname(&to_unix(p)))
}

pub fn u_basename(p: &str) -> String {
    to_unix(&basename(&to_unix(p)))
}

pub fn u_normalize(p: &str) -> String {
    to_unix(&normalize(&to_unix(p)))
}

pub fn u_join(a: &str, b: &str) -> String {
    to_unix(&join(&to_unix(a), &to_unix(b)))
}

/// Does Node's legacy `url.parse` find a protocol (`scheme:`) at the start of `s`?
pub fn has_protocol(s: &str) -> bool {
    match s.find(':') {
        Some(i) if i > 0 => s[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-')),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_semantics() {
        assert_eq!(normalize("a//b/../c"), "a/c");
        assert_eq!(normalize("/../a/./b/"), "/a/b/");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(join("/a/b", "../c.nut"), "/a/c.nut");
        assert_eq!(join("", "x"), "x");
        assert_eq!(dirname("/a/b.nut"), "/a");
        assert_eq!(dirname("b.nut"), ".");
        assert_eq!(dirname("/b.nut"), "/");
        assert_eq!(basename("/a/b.nut"), "b.nut");
        assert_eq!(u_dirname("http://host/dir/f.nut"), "http:/host/dir");
        assert!(has_protocol("github:a/b"));
        assert!(!has_protocol("/abs/x"));
    }
}
