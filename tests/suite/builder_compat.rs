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
use impt::builder::{preprocess_file, Options};
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
    const b = new Builder();
    b.logger = quiet;
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

struct Job {
    cwd: PathBuf,
    input: String,
    lc: bool,
    defines: serde_json::Map<String, Value>,
    label: String,
}

fn run_node(builder: &Path, jobs: &[Job], work: &Path) -> Vec<Value> {
    let driver = work.join("driver.js");
    std::fs::write(&driver, DRIVER).unwrap();
    let jobs_json: Vec<Value> = jobs
        .iter()
        .map(|j| json!({"cwd": j.cwd, "input": j.input, "lc": j.lc, "defines": j.defines}))
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
        for lc in [false, true] {
            out.push(Job {
                cwd: f.parent().unwrap().to_path_buf(),
                input: f.file_name().unwrap().to_string_lossy().into(),
                lc,
                defines: Default::default(),
                label: format!(
                    "{}{}",
                    f.strip_prefix(&root).unwrap().display(),
                    if lc { " -l" } else { "" }
                ),
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
        });
    }
    let results = run_node(&builder, &jobs, work);
    let (mut same_out, mut same_err, mut err_text_differs) = (0, 0, 0);
    let mut diffs = Vec::new();
    for (job, r) in jobs.iter().zip(&results) {
        let opts = Options {
            vars: job.defines.clone(),
            line_control: job.lc,
            run_dir: Some(job.cwd.clone()),
            ..Default::default()
        };
        let ours = preprocess_file(Path::new(&job.input), &opts);
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
        "compared {} inputs ({} from Builder's spec fixtures, {} own fixtures, {} generated): {} identical outputs, {} identical errors, {} errors with different text, {} differences",
        jobs.len(),
        n_spec,
        n_own,
        jobs.len() - n_spec - n_own,
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
