//! Remote includes (http and GitHub API) against a local server on 127.0.0.1, and the cache.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use impt_builder::{preprocess_str, ErrorKind, Options};

#[derive(Default)]
struct Log {
    hits: HashMap<String, usize>,
    auth: Vec<Option<String>>,
}

/// Start a tiny HTTP server; returns its base URL and the request log.
fn serve(files: Vec<(&'static str, String)>) -> (String, Arc<Mutex<Log>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Log::default()));
    let files: HashMap<&'static str, String> = files.into_iter().collect();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut auth = None;
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if lower.starts_with("authorization:") {
                    auth = Some(h[14..].trim().to_string());
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            {
                let mut l = log2.lock().unwrap();
                *l.hits.entry(target.clone()).or_default() += 1;
                l.auth.push(auth);
            }
            let (status, text) = match files.get(target.as_str()) {
                Some(t) => ("200 OK", t.clone()),
                None => ("404 Not Found", "{\"message\":\"Not Found\"}".to_string()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n{}",
                status,
                text.len(),
                text
            );
        }
    });
    (base, log)
}

fn gh_json(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    // GitHub wraps base64 content at 60 columns
    let wrapped: Vec<String> = b64
        .as_bytes()
        .chunks(60)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    serde_json::json!({"type": "file", "sha": "abc123", "content": wrapped.join("\n") + "\n"})
        .to_string()
}

fn pre(src: &str, dir: &Path, opts: &Options) -> Result<String, impt_builder::BuilderError> {
    preprocess_str(src, "main.nut", dir, opts).map(|p| p.code)
}

#[test]
fn http_includes_and_line_control() {
    let (base, _) = serve(vec![
        (
            "/lib/a.nut",
            "a @{__FILE__} @{__PATH__} @{__URL_ROOT__} @{__URL_PATH__}\n".into(),
        ),
        ("/lib/noeol.nut", "no newline".into()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let src = format!("@include \"{base}/lib/a.nut\"\n@include \"{base}/lib/noeol.nut\"\nend\n");
    let out = pre(&src, dir.path(), &Options::default()).unwrap();
    assert_eq!(
        out,
        format!("a a.nut {base}/lib {base} lib/a.nut\nno newline\nend\n")
    );

    let opts = Options {
        line_control: true,
        ..Default::default()
    };
    let out = pre(
        &format!("@include \"{base}/lib/noeol.nut\"\n"),
        dir.path(),
        &opts,
    )
    .unwrap();
    assert_eq!(
        out,
        format!("#line 1 \"{base}/lib/noeol.nut\"\nno newline\n")
    );

    let e = pre(
        &format!("\n@include \"{base}/missing.nut\"\n"),
        dir.path(),
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Include);
    assert_eq!(e.line, 2);
    assert!(
        e.builder_message().starts_with(&format!(
            "Failed to fetch url \"{base}/missing.nut\": HTTP/404 ("
        )),
        "{}",
        e.builder_message()
    );
}

#[test]
fn github_includes_use_the_contents_api() {
    let (base, log) = serve(vec![
        (
            "/repos/acme/lib/contents/src/util.nut?ref=v1.0",
            gh_json("util @{__FILE__} @{__PATH__} @{__REPO_PREFIX__} @{__REPO_REF__}\n@include \"/src/other.nut\"\n"),
        ),
        ("/repos/acme/lib/contents/src/other.nut?ref=v1.0", gh_json("other @{__REPO_REF__}\n")),
        ("/repos/acme/lib/contents/top.nut", gh_json("top @{__REPO_REF__}\n")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        github_base: Some(base.clone()),
        github_token: Some("tok".into()),
        remote_relative_includes: true,
        ..Default::default()
    };
    let out = pre(
        "@include \"github:acme/lib/src/util.nut@v1.0\"\n@include \"github:acme/lib/top.nut\"\n",
        dir.path(),
        &opts,
    )
    .unwrap();
    assert_eq!(
        out,
        "util util.nut github:acme/lib/src github:acme/lib v1.0\nother v1.0\ntop undefined\n"
    );
    assert!(log
        .lock()
        .unwrap()
        .auth
        .iter()
        .all(|a| a.as_deref() == Some("token tok")));

    let e = pre("@include \"github:acme/lib/nope.nut\"\n", dir.path(), &opts).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Include);
    assert!(e
        .builder_message()
        .starts_with("Failed to fetch url \"github:acme/lib/nope.nut\""));
}

#[test]
fn remote_files_are_cached() {
    let (base, log) = serve(vec![
        ("/c.nut", "cached @{1 + 1}\n".into()),
        ("/x.nut", "excluded\n".into()),
    ]);
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join(".builder-cache");
    let mut opts = Options {
        cache_dir: Some(cache.clone()),
        ..Default::default()
    };
    let src = format!("@include \"{base}/c.nut\"\n@include \"{base}/x.nut\"\n");
    opts.cache_exclude = vec![format!("{base}/x*")];
    for _ in 0..3 {
        assert_eq!(
            pre(&src, work.path(), &opts).unwrap(),
            "cached 2\nexcluded\n"
        );
    }
    {
        let l = log.lock().unwrap();
        assert_eq!(
            l.hits.get("/c.nut"),
            Some(&1),
            "served once, then from the cache"
        );
        assert_eq!(l.hits.get("/x.nut"), Some(&3), "excluded from the cache");
    }
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
    // expired entries are fetched again
    opts.cache_max_age = Some(Duration::ZERO);
    std::thread::sleep(Duration::from_millis(20));
    pre(&src, work.path(), &opts).unwrap();
    assert_eq!(log.lock().unwrap().hits.get("/c.nut"), Some(&2));
    // without cache_dir the cache is not used
    pre(&src, work.path(), &Options::default()).unwrap();
    assert_eq!(log.lock().unwrap().hits.get("/c.nut"), Some(&3));
}

#[test]
fn remote_relative_includes() {
    let (base, _) = serve(vec![
        (
            "/a/b/main.nut",
            "@include \"sib.nut\"\n@include \"/root.nut\"\n".into(),
        ),
        ("/a/b/sib.nut", "sibling\n".into()),
        ("/root.nut", "root\n".into()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        remote_relative_includes: true,
        ..Default::default()
    };
    assert_eq!(
        pre(
            &format!("@include \"{base}/a/b/main.nut\"\n"),
            dir.path(),
            &opts
        )
        .unwrap(),
        "sibling\nroot\n"
    );
    // without the option, a relative include from a remote file is searched locally
    std::fs::write(dir.path().join("sib.nut"), "local sibling\n").unwrap();
    let e = pre(
        &format!("@include \"{base}/a/b/main.nut\"\n"),
        dir.path(),
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        e.builder_message()
            .starts_with("Local file \"/root.nut\" not found"),
        "{}",
        e.builder_message()
    );
}
