//! Byte-compatibility check against npm Builder 4.2.1.
//!
//! Runs npm Builder (through a small Node driver, many inputs per process) and this crate on
//! (a) every `.nut` file of Builder's own spec fixtures, as shipped in the npm package, and
//! (b) randomly generated programs with include trees, with and without `-l`, and (c) random
//! token noise (lexer and expression-parser parity, errors included), plus this project's own
//! edge-case fixtures in `tests/fixtures/builder`.
//! Skips (passes) when Node or npm Builder is absent. Builder is looked up in
//! `$IMPT_NPM_BUILDER` (the `node_modules/Builder` directory) or
//! `/tmp/npmbuilder/node_modules/Builder` (`npm install Builder@4.2.1` there).
//! `IMPT_COMPAT_CASES` sets the number of generated programs (default 150).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use impt_builder::{preprocess_file, Options};
use serde_json::{json, Value};

use crate::support::builder_gen;

const DRIVER: &str = r#"
const Builder = require(process.argv[2]);
const path = require('path');
const fs = require('fs');
const jobs = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const results = [];
const quiet = { debug() {}, info() {}, warning() {}, error() {} };
for (const job of jobs) {
  process.chdir(job.cwd);
  const warnings = [];
  const saved = console.error;
  console.error = (m) => warnings.push(String(m));
  let r;
  try {
    const b = new Builder({ libs: job.libs || [] });
    b.logger = quiet;
    b.machine.remoteRelativeIncludes = !!job.rri;
    if (job.saveDirs) b.machine.directivesSaveFile = job.saveDirs + '.npm';
    if (job.useDirs) b.machine.directivesUseFile = job.useDirs;
    if (job.saveDeps) b.machine.dependenciesSaveFile = job.saveDeps + '.npm';
    if (job.useDeps) b.machine.dependenciesUseFile = job.useDeps;
    b.machine.generateLineControlStatements = !!job.lc;
    b.machine.readers.file.inputFileDir = path.dirname(path.resolve(job.input));
    b.machine.excludeList = '';
    const out = b.machine.execute(`@include "${job.input.replace(/"/g, `'`)}"`, job.defines || {});
    // base64 of the UTF-8 bytes, as written to stdout (lone surrogates become U+FFFD)
    r = { ok: true, out: Buffer.from(out).toString('base64') };
  } catch (e) {
    r = { ok: false, err: Buffer.from(String((e && e.message) || e)).toString('base64') };
  }
  console.error = saved;
  r.warnings = warnings;
  for (const [k, f] of [['savedDirs', job.saveDirs], ['savedDeps', job.saveDeps]]) {
    if (f && fs.existsSync(f + '.npm')) r[k] = fs.readFileSync(f + '.npm', 'utf8');
  }
  results.push(r);
}
fs.writeFileSync(process.argv[4], JSON.stringify(results));
"#;

fn npm_builder() -> Option<PathBuf> {
    let dir = std::env::var_os("IMPT_NPM_BUILDER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/npmbuilder/node_modules/Builder"));
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    (node_ok && dir.join("src/index.js").exists()).then_some(dir)
}

#[derive(Default)]
struct Job {
    cwd: PathBuf,
    input: String,
    lc: bool,
    defines: serde_json::Map<String, Value>,
    label: String,
    /// `--lib` paths (absolute).
    libs: Vec<String>,
    /// `--use-remote-relative-includes`
    rri: bool,
    /// Save files (npm writes `<name>.npm`, this crate `<name>.ours`; contents compared).
    save_dirs: Option<String>,
    save_deps: Option<String>,
    use_dirs: Option<String>,
    use_deps: Option<String>,
}

fn run_node(builder: &Path, jobs: &[Job], work: &Path) -> Vec<Value> {
    let driver = work.join("driver.js");
    std::fs::write(&driver, DRIVER).unwrap();
    let jobs_json: Vec<Value> = jobs
        .iter()
        .map(|j| {
            json!({"cwd": j.cwd, "input": j.input, "lc": j.lc, "defines": j.defines,
                "libs": j.libs, "rri": j.rri, "saveDirs": j.save_dirs, "saveDeps": j.save_deps,
                "useDirs": j.use_dirs, "useDeps": j.use_deps})
        })
        .collect();
    let jf = work.join("jobs.json");
    let rf = work.join("results.json");
    std::fs::write(&jf, serde_json::to_string(&jobs_json).unwrap()).unwrap();
    let st = Command::new("node")
        .arg(&driver)
        .arg(builder.join("src/index.js"))
        .arg(&jf)
        .arg(&rf)
        // never reach the network
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        // except the test's own server on loopback
        .env("NO_PROXY", "127.0.0.1")
        .status()
        .unwrap();
    assert!(st.success(), "node driver failed");
    let mut v = serde_json::from_str::<Vec<Value>>(&std::fs::read_to_string(&rf).unwrap()).unwrap();
    for r in v.iter_mut() {
        for k in ["out", "err"] {
            if let Some(b) = r[k].as_str() {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
                r[k] = Value::String(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    v
}

fn spec_jobs(builder: &Path) -> Vec<Job> {
    fixture_jobs(&builder.join("spec/fixtures"), false)
}

/// Jobs for every `.nut` under `root` (cwd = the file's directory, with and without `-l`);
/// with `from_root`, also each one run from `root` with a relative path.
fn fixture_jobs(root: &Path, from_root: bool) -> Vec<Job> {
    let mut out = Vec::new();
    let root = root.to_path_buf();
    let mut stack = vec![root.clone()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "nut") {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        // remote includes (GitHub/http) need the internet: not compared here
        if ["github", "http", "git-local", "bitbucket", "azure"]
            .iter()
            .any(|k| text.contains(k))
        {
            continue;
        }
        // a `libs` file beside the input lists its JavaScript libraries (Builder's specs)
        let dir = f.parent().unwrap().to_path_buf();
        let libs: Vec<String> = std::fs::read_to_string(dir.join("libs"))
            .map(|t| {
                t.lines()
                    .filter(|l| !l.is_empty())
                    .map(|l| format!("{}/{}", dir.display(), l))
                    .collect()
            })
            .unwrap_or_default();
        for lc in [false, true] {
            out.push(Job {
                cwd: f.parent().unwrap().to_path_buf(),
                input: f.file_name().unwrap().to_string_lossy().into(),
                lc,
                libs: libs.clone(),
                defines: Default::default(),
                label: format!(
                    "{}{}",
                    f.strip_prefix(&root).unwrap().display(),
                    if lc { " -l" } else { "" }
                ),
                ..Default::default()
            });
        }
        if from_root {
            let rel = f.strip_prefix(&root).unwrap().display().to_string();
            out.push(Job {
                cwd: root.clone(),
                input: rel.clone(),
                lc: true,
                defines: Default::default(),
                label: format!("{} from {}", rel, root.display()),
                ..Default::default()
            });
        }
    }
    out
}

#[test]
fn output_matches_npm_builder() {
    let Some(builder) = npm_builder() else {
        eprintln!("npm Builder 4.2.1 not found: compatibility comparison skipped");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("IMPT_COMPAT_KEEP").map(PathBuf::from);
    let work_path = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let work = work_path.as_path();
    let mut jobs = spec_jobs(&builder);
    let n_spec = jobs.len();
    // this project's own edge-case fixtures
    jobs.extend(fixture_jobs(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/builder"),
        true,
    ));
    let n_own = jobs.len() - n_spec;
    let cases: u64 = std::env::var("IMPT_COMPAT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    for seed in 0..cases {
        let dir = work.join(format!("g{}", seed));
        let mut g = builder_gen::Gen::new(seed);
        g.program(&dir, (seed % 4) as usize, 12 + (seed % 20) as usize);
        let mut defines = serde_json::Map::new();
        if seed % 3 == 0 {
            defines.insert("A".into(), json!("5"));
        }
        let input = if seed % 5 == 0 {
            "./main.nut".to_string()
        } else {
            "main.nut".to_string()
        };
        jobs.push(Job {
            cwd: dir,
            input,
            lc: seed % 2 == 1,
            defines,
            label: format!("generated seed {}", seed),
            ..Default::default()
        });
    }
    // lexer/parser noise: single files of random Builder-ish tokens
    for seed in 0..cases {
        let dir = work.join(format!("n{}", seed));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.nut"), builder_gen::noise(seed, 6)).unwrap();
        jobs.push(Job {
            cwd: dir,
            input: "main.nut".into(),
            lc: seed % 2 == 0,
            defines: Default::default(),
            label: format!("noise seed {}", seed),
            ..Default::default()
        });
    }
    let n_before_features = jobs.len();
    jobs.extend(feature_jobs(work, cases));
    let n_features = jobs.len() - n_before_features;
    let results = run_node(&builder, &jobs, work);
    let (mut same_out, mut same_err, mut err_text_differs) = (0, 0, 0);
    let mut diffs = Vec::new();
    for (job, r) in jobs.iter().zip(&results) {
        let ours_file = |f: &Option<String>| f.as_ref().map(|f| PathBuf::from(format!("{f}.ours")));
        let opts = Options {
            vars: job.defines.clone(),
            line_control: job.lc,
            run_dir: Some(job.cwd.clone()),
            libs: job.libs.clone(),
            remote_relative_includes: job.rri,
            save_directives: ours_file(&job.save_dirs),
            save_dependencies: ours_file(&job.save_deps),
            use_directives: job.use_dirs.as_ref().map(PathBuf::from),
            use_dependencies: job.use_deps.as_ref().map(PathBuf::from),
            ..Default::default()
        };
        let ours = preprocess_file(Path::new(&job.input), &opts);
        for (key, f) in [("savedDirs", &job.save_dirs), ("savedDeps", &job.save_deps)] {
            let Some(f) = ours_file(f) else { continue };
            let mine = std::fs::read_to_string(job.cwd.join(f)).ok();
            if r[key].as_str() != mine.as_deref() {
                diffs.push(format!("{}: saved {} differ", job.label, key));
            }
        }
        match (r["ok"].as_bool().unwrap_or(false), ours) {
            (true, Ok(p)) => {
                assert_eq!(
                    p.line_map.len(),
                    p.code.lines().count(),
                    "{}: line map size",
                    job.label
                );
                if r["out"].as_str() == Some(p.code.as_str()) {
                    same_out += 1;
                } else {
                    diffs.push(format!("{}: output differs", job.label));
                }
            }
            (false, Err(e)) => {
                if r["err"].as_str() == Some(e.builder_message()) {
                    if std::env::var_os("IMPT_COMPAT_VERBOSE").is_some() {
                        eprintln!("{}: both fail: {}", job.label, e.builder_message());
                    }
                    same_err += 1;
                } else {
                    err_text_differs += 1;
                    eprintln!(
                        "{}: both fail, messages differ:\n  npm:  {}\n  ours: {}",
                        job.label,
                        r["err"].as_str().unwrap_or(""),
                        e.builder_message()
                    );
                }
            }
            (true, Err(e)) => diffs.push(format!("{}: npm ok, ours failed: {}", job.label, e)),
            (false, Ok(_)) => {
                diffs.push(format!("{}: npm failed ({}), ours ok", job.label, r["err"]))
            }
        }
    }
    eprintln!(
        "compared {} inputs ({} from Builder's spec fixtures, {} own fixtures, {} generated, {} of them with libraries, directives, dependencies, git-local and http relative includes): {} identical outputs, {} identical errors, {} errors with different text, {} differences",
        jobs.len(),
        n_spec,
        n_own,
        jobs.len() - n_spec - n_own,
        n_features,
        same_out,
        same_err,
        err_text_differs,
        diffs.len()
    );
    for d in &diffs {
        eprintln!("DIFF {}", d);
    }
    assert!(
        diffs.is_empty(),
        "{} inputs differ from npm Builder",
        diffs.len()
    );
}

/// A JavaScript library for generated programs: results that V8 and QuickJS agree on.
const GEN_LIB: &str = "'use strict';\nlet n = 0;\nmodule.exports = {\n  up: (s) => String(s).toUpperCase(),\n  add: (a, b) => a + b,\n  cat: function () { return [].slice.call(arguments).join('|'); },\n  count: () => ++n,\n  where: function () { return this.__FILE__ + ':' + this.__LINE__; },\n  setg: function (k, v) { this.globals[k] = v; return ''; },\n  typ: (v) => typeof v,\n  arr: (a, b) => [a, b],\n  obj: { twice: (x) => x * 2, name: 'o' },\n  json: (v) => JSON.stringify(v),\n};\n";

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
    assert!(o.status.success(), "git {:?}", args);
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Generated programs calling library functions everywhere an expression goes, directives
/// files used and saved, and git-local includes (relative ones too) with dependencies files.
fn feature_jobs(work: &Path, cases: u64) -> Vec<Job> {
    use rand::Rng;
    let mut out = Vec::new();
    for seed in 0..cases {
        let dir = work.join(format!("f{}", seed));
        let mut g = builder_gen::Gen::new(1_000_000 + seed);
        g.program(&dir, (seed % 3) as usize, 6 + (seed % 8) as usize);
        std::fs::write(dir.join("lib.js"), GEN_LIB).unwrap();
        let mut tail = String::new();
        for _ in 0..(4 + seed % 6) {
            let e = g.expr(2);
            let f = g.expr(1);
            let line = match g.rng.gen_range(0..12) {
                0 => format!("@{{up({e})}}\n"),
                1 => format!("@{{add({e}, {f})}}\n"),
                2 => format!("@{{cat({e}, {f}, count())}}\n"),
                3 => "@{count()} @{where()}\n".to_string(),
                4 => format!("@{{setg(\"G1\", {e})}}@{{G1}}\n"),
                5 => format!("@{{typ({e})}} @{{typ(up)}}\n"),
                6 => format!("@{{arr({e}, {f})[1]}} @{{arr(1, 2).length}}\n"),
                7 => format!("@{{obj.twice({f})}} @{{obj.name}}\n"),
                8 => format!("@{{json({e})}}\n"),
                9 => format!("@set X up({e})\n@{{X}}\n"),
                10 => format!("@if add({e}, {f}) > 3\nbig\n@else\nsmall\n@endif\n"),
                _ => format!("@{{{e} | up}}\n"),
            };
            tail.push_str(&line);
        }
        let main = dir.join("main.nut");
        let mut text = std::fs::read_to_string(&main).unwrap();
        text.push_str(&tail);
        std::fs::write(&main, text).unwrap();
        let mut defines = serde_json::Map::new();
        if seed % 2 == 0 {
            defines.insert("A".into(), json!("5"));
        }
        let (use_dirs, save_dirs) = if seed % 3 == 0 {
            std::fs::write(
                dir.join("dirs.json"),
                json!({"A": seed, "B": "from file", "S1": [1, "x"]}).to_string(),
            )
            .unwrap();
            (
                Some("dirs.json".to_string()),
                Some("saved-dirs".to_string()),
            )
        } else {
            (None, (seed % 3 == 1).then(|| "saved-dirs".to_string()))
        };
        out.push(Job {
            cwd: dir.clone(),
            input: "main.nut".into(),
            lc: seed % 2 == 1,
            defines,
            label: format!("libs seed {}", seed),
            libs: vec![dir.join("lib.js").to_string_lossy().into_owned()],
            use_dirs,
            save_dirs,
            ..Default::default()
        });
    }
    // http includes from a server on loopback, relative ones resolved against the URL
    let base = serve_dir(work.join("www"));
    let www = work.join("www");
    std::fs::create_dir_all(www.join("lib/sub")).unwrap();
    std::fs::write(
        www.join("lib/a.nut"),
        "a @{__FILE__} @{__PATH__} @{__URL_ROOT__} @{__URL_PATH__}\n@include \"b.nut\"\n@include \"/root.nut\"\n@include \"sub/c.nut\"\n",
    )
    .unwrap();
    std::fs::write(www.join("lib/b.nut"), "b @{__LINE__} @{__FILE__}\n").unwrap();
    std::fs::write(www.join("root.nut"), "root @{__PATH__}").unwrap();
    std::fs::write(
        www.join("lib/sub/c.nut"),
        "c @{__PATH__}\n@include once \"../b.nut\"\n@include \"../../root.nut\"\n",
    )
    .unwrap();
    let dir = work.join("http");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.nut"),
        format!("@include \"{base}/lib/a.nut\"\n@include \"{base}/lib/sub/c.nut\"\n"),
    )
    .unwrap();
    for (i, rri) in [true, false, true].into_iter().enumerate() {
        out.push(Job {
            cwd: dir.clone(),
            input: "main.nut".into(),
            lc: i == 2,
            label: format!("http rri={rri} lc={}", i == 2),
            rri,
            ..Default::default()
        });
    }
    // a local repository at two commits, included at refs, relatively and pinned
    let repo = work.join("repo");
    std::fs::create_dir_all(repo.join("lib")).unwrap();
    git(&repo, &["init", "-q"]);
    let head = |v: &str| {
        format!("{v} @{{__FILE__}} @{{__PATH__}} @{{__REPO_REF__}} @{{__REPO_PREFIX__}}\n@include \"b.nut\"\n@include \"/root.nut\"\n")
    };
    std::fs::write(repo.join("lib/a.nut"), head("a1")).unwrap();
    std::fs::write(repo.join("lib/b.nut"), "b1 @{__FILE__} @{__LINE__}\n").unwrap();
    std::fs::write(repo.join("root.nut"), "root1 @{__PATH__}\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "one"]);
    git(&repo, &["tag", "v1"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join("lib/a.nut"), head("a2")).unwrap();
    std::fs::write(repo.join("lib/b.nut"), "b2\n").unwrap();
    git(&repo, &["commit", "-qam", "two"]);
    let r = repo.to_string_lossy().to_string();
    let dir = work.join("gitlocal");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("main.nut"),
        format!("@include \"git-local:{r}/lib/a.nut@v1\"\n@include once \"git-local:{r}/lib/a.nut\"\n@include \"git-local:{r}/lib/b.nut@v1\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("pinned.json"),
        json!([[format!("git-local:{r}/lib/a.nut"), first]]).to_string(),
    )
    .unwrap();
    for (i, (rri, use_deps)) in [(true, false), (true, true), (false, false), (false, true)]
        .into_iter()
        .enumerate()
    {
        out.push(Job {
            cwd: dir.clone(),
            input: "main.nut".into(),
            lc: i % 2 == 0,
            label: format!("git-local rri={rri} pinned={use_deps}"),
            rri,
            save_deps: Some(format!("saved-deps{i}")),
            use_deps: use_deps.then(|| "pinned.json".to_string()),
            ..Default::default()
        });
    }
    out
}

/// Serve the files below `root` over HTTP on loopback (404 for anything else); the base URL.
fn serve_dir(root: PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
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
            let target = first.split_whitespace().nth(1).unwrap_or("/");
            let file = root.join(target.trim_start_matches('/'));
            let (status, body) = match std::fs::read(&file) {
                Ok(b) if !target.contains("..") => ("200 OK", b),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    base
}
