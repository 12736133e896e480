//! Builder parity: `--lib` JavaScript libraries, `impt build preprocess` with pleasebuild's
//! options and the `[builder]` table of impt.toml, git-local includes, and the dependencies
//! and directives round trips (GitHub pinned to blobs against a local API server).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use base64::Engine;
use impt_builder::{preprocess_file, ErrorKind, Options};

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn opts(dir: &Path) -> Options {
    Options {
        run_dir: Some(dir.to_path_buf()),
        no_env: true,
        ..Default::default()
    }
}

fn impt(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_impt"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn js_libraries_files_dirs_globs_this_and_globals() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "js/a.js",
        "'use strict';\nconst h = require('./helper');\nlet n = 0;\nmodule.exports = {\n  shout: (s) => h.up(s) + '!',\n  count: function () { return ++n; },\n  bump: function (k) { this.globals[k] = (this.globals[k] || 0) + 10; return this.__FILE__ + ':' + this.__LINE__; },\n  box: { get: function () { return [1, 'two', null]; } },\n};\n",
    );
    write(
        d.path(),
        "js/helper.js",
        "module.exports = { up: (s) => String(s).toUpperCase() };\n",
    );
    write(
        d.path(),
        "more/b.js",
        "const assert = require('assert');\nclass K { constructor() { this.v = 7; } twice() { assert(this === undefined || !('v' in this)); return 14; } }\nmodule.exports = { k: new K(), abs: () => 'lib abs' };\n",
    );
    write(
        d.path(),
        "in.nut",
        "@{shout(\"hi\")} @{\"x\" | shout}\n@{count()} @{count()}\n@set v 1\n@{bump(\"v\")} @{v}\n@{box.get()[1]} @{box.get().length}\n@{k.v} @{k.twice()}\n@if count() == 3\nthree\n@endif\n@{abs(-2)}\n",
    );
    let mut o = opts(d.path());
    o.libs = vec!["js/a.js".into(), "more".into()];
    let out = preprocess_file(&d.path().join("in.nut"), &o).unwrap();
    assert_eq!(
        out.code,
        "HI! X!\n1 2\nin.nut:4 11\ntwo 3\n7 14\nthree\n2\n"
    );

    // globs: the sorted matches; helper.js only exports `up`
    o.libs = vec!["js/*.js".into()];
    write(d.path(), "g.nut", "@{up(\"q\")} @{defined(shout)}\n");
    let out = preprocess_file(&d.path().join("g.nut"), &o).unwrap();
    assert_eq!(out.code, "Q true\n");

    // a missing lib path, as Builder says it
    o.libs = vec!["nope.js".into()];
    let e = preprocess_file(&d.path().join("g.nut"), &o).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Library);
    assert!(e
        .message
        .contains("no such file or directory, lstat 'nope.js'"));
}

#[test]
fn js_errors_name_the_library_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "lib.js",
        "module.exports = {\n  ok: () => 1,\n  bad: function (s) {\n    if (s) throw new TypeError('bad ' + s);\n  },\n};\n",
    );
    write(d.path(), "in.nut", "@{ok()}\n@{bad(1)}\n");
    let mut o = opts(d.path());
    o.libs = vec!["lib.js".into()];
    let e = preprocess_file(&d.path().join("in.nut"), &o).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Expression);
    assert_eq!(e.line, 2);
    assert!(e.message.contains("TypeError: bad 1 at "), "{}", e.message);
    assert!(e.message.ends_with("lib.js:4"), "{}", e.message);

    // a runaway library call is interrupted, not hung
    write(
        d.path(),
        "spin.js",
        "module.exports = { spin: () => { for (;;) {} } };\n",
    );
    write(d.path(), "spin.nut", "@{spin()}\n");
    o.libs = vec!["spin.js".into()];
    o.js_time_limit = Some(std::time::Duration::from_millis(200));
    let t = std::time::Instant::now();
    let e = preprocess_file(&d.path().join("spin.nut"), &o).unwrap_err();
    assert!(e.message.contains("interrupted"), "{}", e.message);
    assert!(t.elapsed() >= std::time::Duration::from_millis(200));
    assert!(t.elapsed() < std::time::Duration::from_secs(20));

    write(
        d.path(),
        "syntax.js",
        "module.exports = {\n  a: 1,\n  b: ;\n};\n",
    );
    o.libs = vec!["syntax.js".into()];
    let e = preprocess_file(&d.path().join("in.nut"), &o).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Library);
    assert!(e.file.ends_with("syntax.js"), "{e:?}");
    assert_eq!(e.line, 3);
}

#[test]
fn preprocess_uses_the_builder_table_and_flags_override_it() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "impt.toml",
        "[builder]\nvariables = { NAME = \"table\", OTHER = \"o\" }\nlibs = [\"lib.js\"]\n",
    );
    write(
        d.path(),
        "lib.js",
        "module.exports = { tag: (s) => '<' + s + '>' };\n",
    );
    write(d.path(), "in.nut", "@{tag(NAME)} @{OTHER}\n");
    let (ok, out, err) = impt(d.path(), &["build", "preprocess", "in.nut"]);
    assert!(ok, "{err}");
    assert_eq!(out, "<table> o\n");
    let (ok, out, err) = impt(
        d.path(),
        &[
            "build",
            "preprocess",
            "in.nut",
            "-D",
            "NAME=flag",
            "--save-directives",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "<flag> o\n");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("directives.json")).unwrap())
            .unwrap();
    assert_eq!(saved, serde_json::json!({"NAME": "flag", "OTHER": "o"}));

    // directives round trip without the table; -D still overrides the file
    std::fs::remove_file(d.path().join("impt.toml")).unwrap();
    write(d.path(), "v.nut", "@{NAME} @{OTHER}\n");
    let (ok, out, err) = impt(
        d.path(),
        &[
            "build",
            "preprocess",
            "v.nut",
            "--use-directives",
            "-D",
            "OTHER=x",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "flag x\n");
    let (ok, out, err) = impt(
        d.path(),
        &[
            "build",
            "preprocess",
            "v.nut",
            "--use-directives",
            "missing.json",
        ],
    );
    let err = out + &err;
    assert!(!ok);
    assert!(
        err.contains("The directives JSON file 'missing.json' does not exist"),
        "{err}"
    );

    // a bad table is a clear error
    write(d.path(), "impt.toml", "[builder]\nlibz = 1\n");
    let (ok, out, err) = impt(d.path(), &["build", "preprocess", "v.nut"]);
    let err = out + &err;
    assert!(!ok);
    assert!(err.contains("libz"), "{err}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn git_local_includes_and_dependencies() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "sub/lib.nut", "v1 @{__FILE__} @{__REPO_REF__}\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    git(&repo, &["tag", "t1"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo, "sub/lib.nut", "v2\n");
    git(&repo, &["commit", "-qam", "two"]);
    let r = repo.to_string_lossy();
    write(
        d.path(),
        "in.nut",
        &format!(
            "@include \"git-local:{r}/sub/lib.nut@t1\"\n@include \"git-local:{r}/sub/lib.nut\"\n"
        ),
    );
    let mut o = opts(d.path());
    o.save_dependencies = Some("deps.json".into());
    let out = preprocess_file(&d.path().join("in.nut"), &o).unwrap();
    assert_eq!(out.code, "v1 lib.nut t1\nv2\n");
    let deps: Vec<(String, String)> =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("deps.json")).unwrap())
            .unwrap();
    assert_eq!(deps[0], (format!("git-local:{r}/sub/lib.nut@t1"), first));

    // pinned: HEAD moves on, the dependencies keep the saved commit
    write(&repo, "sub/lib.nut", "v3\n");
    git(&repo, &["commit", "-qam", "three"]);
    let mut o = opts(d.path());
    o.use_dependencies = Some("deps.json".into());
    let out = preprocess_file(&d.path().join("in.nut"), &o).unwrap();
    assert_eq!(out.code, "v1 lib.nut t1\nv2\n");
    assert!(out.files.iter().any(|f| f.ends_with("deps.json")));
    let out = preprocess_file(&d.path().join("in.nut"), &opts(d.path())).unwrap();
    assert_eq!(out.code, "v1 lib.nut t1\nv3\n");

    write(
        d.path(),
        "bad.nut",
        &format!("@include \"git-local:{r}/nope.nut\"\n"),
    );
    let e = preprocess_file(&d.path().join("bad.nut"), &opts(d.path())).unwrap_err();
    assert!(
        e.message.starts_with(&format!(
            "Error: Command failed: git -C {r} show HEAD:nope.nut"
        )),
        "{}",
        e.message
    );
}

/// A GitHub API stand-in: contents and blobs of one file; counts requests by path.
fn github(
    content: HashMap<String, (String, String)>,
    blobs: HashMap<String, String>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            log2.lock().unwrap().push(target.clone());
            let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
            let body = if let Some((text, sha)) = content.get(&target) {
                Some(serde_json::json!({"type": "file", "sha": sha, "content": b64(text)}))
            } else {
                blobs.iter().find_map(|(sha, text)| {
                    target
                        .ends_with(&format!("/git/blobs/{sha}"))
                        .then(|| serde_json::json!({"sha": sha, "content": b64(text)}))
                })
            };
            let (status, body) = match body {
                Some(b) => ("200 OK", b.to_string()),
                None => ("404 Not Found", "{\"message\":\"Not Found\"}".into()),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, log)
}

#[test]
fn github_dependencies_round_trip() {
    let mut content = HashMap::new();
    content.insert(
        "/repos/o/r/contents/lib/x.nut?ref=main".to_string(),
        ("new\n".to_string(), "sha-new".to_string()),
    );
    let mut blobs = HashMap::new();
    blobs.insert("sha-old".to_string(), "old\n".to_string());
    let (base, log) = github(content, blobs);
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "in.nut",
        "@include \"github:o/r/lib/x.nut@main\"\n",
    );
    let mut o = opts(d.path());
    o.github_base = Some(base.clone());
    o.save_dependencies = Some("dependencies.json".into());
    let out = preprocess_file(&d.path().join("in.nut"), &o).unwrap();
    assert_eq!(out.code, "new\n");
    let saved = std::fs::read_to_string(d.path().join("dependencies.json")).unwrap();
    assert_eq!(
        saved,
        "[\n  [\n    \"github:o/r/lib/x.nut@main\",\n    \"sha-new\"\n  ]\n]"
    );

    // use a file pinning an older blob: fetched through the blobs API
    write(
        d.path(),
        "old.json",
        "[[\"github:o/r/lib/x.nut@main\", \"sha-old\"]]",
    );
    let mut o = opts(d.path());
    o.github_base = Some(base);
    o.use_dependencies = Some("old.json".into());
    o.remote_memo = true;
    for _ in 0..2 {
        let out = preprocess_file(&d.path().join("in.nut"), &o).unwrap();
        assert_eq!(out.code, "old\n");
    }
    // the second run came from memory (the watch loop's setting)
    let hits = log
        .lock()
        .unwrap()
        .iter()
        .filter(|t| t.ends_with("/git/blobs/sha-old"))
        .count();
    assert_eq!(hits, 1);

    write(d.path(), "broken.json", "{");
    o.use_dependencies = Some("broken.json".into());
    let e = preprocess_file(&d.path().join("in.nut"), &o).unwrap_err();
    assert!(e
        .message
        .starts_with("The dependencies JSON file 'broken.json' cannot be used:"));
}

/// A stand-in for the Bitbucket Server and Azure Repos APIs: exact request targets → answers.
fn api(routes: Vec<(String, u16, String)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            log2.lock().unwrap().push(target.clone());
            let (status, body) = routes
                .iter()
                .find(|(t, _, _)| *t == target)
                .map(|(_, st, b)| (*st, b.clone()))
                .unwrap_or((404, "{\"errors\":[{\"message\":\"no such file\"}]}".into()));
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, log)
}

#[test]
fn bitbucket_server_and_azure_repos_includes() {
    let bb = "/rest/api/1.0/projects/P/repos/r";
    let az = "/org/proj/_apis/git/repositories/repo/items?path=";
    let azq = "&api-version=5.1&$format=json&includeContent=true";
    let (base, log) = api(vec![
        (
            format!("{bb}/raw/lib/x.nut?at=v1"),
            200,
            "bb @{__FILE__} @{__PATH__} @{__REPO_PREFIX__}\n@include \"y.nut\"\n".into(),
        ),
        (format!("{bb}/raw/lib/y.nut?at=v1"), 200, "y at v1\n".into()),
        (
            format!("{bb}/raw/lib/y.nut?at=c0ffee"),
            200,
            "y pinned\n".into(),
        ),
        (
            format!("{bb}/commits?limit=1&until=v1"),
            200,
            "{\"values\":[{\"id\":\"c0ffee\"}]}".into(),
        ),
        (
            format!(
                "{az}lib/a.nut{azq}&versionDescriptor.version=t1&versionDescriptor.versionType=tag"
            ),
            200,
            "{\"content\":\"az @{__REPO_PREFIX__} @{__REPO_REF__}\\n\",\"commitId\":\"abc\"}"
                .into(),
        ),
    ]);
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "in.nut",
        "@include \"bitbucket-server:P/r/lib/x.nut@v1\"\n@include \"git-azure-repos:org/proj/repo/lib/a.nut@t1\"\n",
    );
    let mut o = opts(d.path());
    o.bitbucket_server_addr = Some(base.clone());
    o.azure_base = Some(format!("{base}/"));
    o.remote_relative_includes = true;
    o.save_dependencies = Some("deps.json".into());
    let out = preprocess_file(&d.path().join("in.nut"), &o).unwrap();
    assert_eq!(
        out.code,
        "bb x.nut bitbucket-server:P/r/lib bitbucket-server:P/r\ny at v1\naz git-azure-repos:org/proj/repo t1\n"
    );
    // the tag was found after the branch attempt answered 404
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|t| t.ends_with("versionType=branch")));
    let deps: Vec<(String, String)> =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("deps.json")).unwrap())
            .unwrap();
    assert_eq!(
        deps,
        vec![
            (
                "bitbucket-server:P/r/lib/x.nut@v1".to_string(),
                "c0ffee".to_string()
            ),
            (
                "bitbucket-server:P/r/lib/y.nut@v1".to_string(),
                "c0ffee".to_string()
            ),
            (
                "git-azure-repos:org/proj/repo/lib/a.nut@t1".to_string(),
                "abc".to_string()
            ),
        ]
    );

    // Builder's error texts
    write(
        d.path(),
        "bad.nut",
        "@include \"bitbucket-server:P/r/nope.nut\"\n",
    );
    let e = preprocess_file(&d.path().join("bad.nut"), &o).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Include);
    assert_eq!(
        e.message,
        format!("Failed to fetch url \"{base}{bb}/raw/nope.nut\": HTTP/404\nResponse from the server: {{\"errors\":[{{\"message\":\"no such file\"}}]}}\n")
    );
    o.bitbucket_server_addr = None;
    let e = preprocess_file(&d.path().join("bad.nut"), &o).unwrap_err();
    assert_eq!(e.message, "Bitbucket Server address is not specified");
}

#[test]
fn watch_sources_follow_the_builder_table_and_the_dependencies_file() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "lib.nut", "one\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo, "lib.nut", "two\n");
    git(&repo, &["commit", "-qam", "two"]);
    let inc = format!("git-local:{}/lib.nut", repo.to_string_lossy());
    write(
        d.path(),
        "deps.json",
        &serde_json::json!([[inc.clone(), first]]).to_string(),
    );
    write(
        d.path(),
        "impt.toml",
        "[builder]\nvariables = { WHO = \"table\" }\nuse-dependencies = \"deps.json\"\n",
    );
    write(
        d.path(),
        "device.nut",
        &format!("@{{WHO}}\n@include \"{inc}\"\n"),
    );
    let src = impt::watch::source::Sources {
        root: d.path().to_path_buf(),
        device: Some(d.path().join("device.nut")),
        agent: None,
    };
    let code = impt::watch::source::load(&src)
        .map_err(|e| e.message)
        .unwrap();
    assert_eq!(code.device.code, "table\none\n");
    assert!(code.files().contains(&d.path().join("deps.json")));
}
