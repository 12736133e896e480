//! Preprocessing time of a large generated include tree: this crate vs npm Builder 4.2.1.
//!
//! `cargo bench --bench builder_bench` (set `IMPT_BENCH_FILES` / `IMPT_BENCH_LINES` to resize
//! the tree; npm Builder is looked up like in `tests/suite/builder_compat.rs` and skipped if absent).

#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use impt_builder::{preprocess_file, Options};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn npm_builder() -> Option<PathBuf> {
    let dir = std::env::var_os("IMPT_NPM_BUILDER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/npmbuilder/node_modules/Builder"));
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    (ok && dir.join("src/index.js").exists()).then_some(dir)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

const NODE_TIMER: &str = r#"
const Builder = require(process.argv[2]);
const path = require('path');
const runs = Number(process.argv[4]);
const times = [];
let out = '';
for (let i = 0; i < runs; i++) {
  const t = process.hrtime.bigint();
  const b = new Builder({ libs: process.argv[6] ? [process.argv[6]] : [] });
  b.logger = { debug() {}, info() {}, warning() {}, error() {} };
  b.machine.generateLineControlStatements = process.argv[5] === 'lc';
  b.machine.readers.file.inputFileDir = path.dirname(path.resolve(process.argv[3]));
  out = b.machine.execute(`@include "${process.argv[3]}"`);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
require('fs').writeFileSync('node-out.nut', out);
console.log(JSON.stringify(times));
"#;

fn main() {
    let files = env_usize("IMPT_BENCH_FILES", 127);
    let lines = env_usize("IMPT_BENCH_LINES", 300);
    let runs = env_usize("IMPT_BENCH_RUNS", 3);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    big_tree(d, files, lines);
    let total_lines: usize = (0..files)
        .map(|i| {
            std::fs::read_to_string(d.join(format!("lib/f{}.nut", i)))
                .unwrap()
                .lines()
                .count()
        })
        .sum();
    println!(
        "include tree: {} files, {} source lines",
        files, total_lines
    );

    // a JavaScript library (--lib) called from a loop: engine calls with Builder's `this`
    let lib_calls = env_usize("IMPT_BENCH_LIB_CALLS", 3000);
    std::fs::write(
        d.join("lib.js"),
        "module.exports = { up: (s) => String(s).toUpperCase(), add: (a, b) => a + b,\n  where: function () { return this.__FILE__ + ':' + this.__LINE__; } };\n",
    )
    .unwrap();
    std::fs::write(
        d.join("libcalls.nut"),
        format!("@set i 0\n@while i < {lib_calls}\n@{{up(\"x\" + i)}} @{{add(i, 1)}} @{{where()}}\n@set i i + 1\n@end\n"),
    )
    .unwrap();
    println!("library loop: {} iterations of 3 calls", lib_calls);

    for mode in 0..3 {
        let (lc, lib) = (mode == 1, mode == 2);
        let input = if lib { "libcalls.nut" } else { "main.nut" };
        let opts = Options {
            line_control: lc,
            run_dir: Some(d.to_path_buf()),
            no_env: true,
            libs: if lib {
                vec!["lib.js".into()]
            } else {
                Vec::new()
            },
            ..Default::default()
        };
        let mut times = Vec::new();
        let mut out = String::new();
        for _ in 0..runs {
            let t = Instant::now();
            out = preprocess_file(Path::new(input), &opts).unwrap().code;
            times.push(ms(t.elapsed()));
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let label = ["plain  ", "with -l", "--lib  "][mode];
        println!(
            "impt (Rust)  {}: min {:8.1} ms  median {:8.1} ms  ({} output bytes, {} runs)",
            label,
            times[0],
            times[times.len() / 2],
            out.len(),
            runs
        );
        let Some(b) = npm_builder() else {
            if mode == 0 {
                println!("npm Builder not found: comparison skipped");
            }
            continue;
        };
        std::fs::write(d.join("timer.js"), NODE_TIMER).unwrap();
        let t = Instant::now();
        let o = Command::new("node")
            .current_dir(d)
            .arg("timer.js")
            .arg(b.join("src/index.js"))
            .arg(input)
            .arg(runs.to_string())
            .arg(if lc { "lc" } else { "plain" })
            .arg(if lib { "./lib.js" } else { "" })
            .output()
            .unwrap();
        let wall = ms(t.elapsed());
        let mut nt: Vec<f64> = serde_json::from_slice(&o.stdout).unwrap_or_default();
        if nt.is_empty() {
            println!("npm Builder failed: {}", String::from_utf8_lossy(&o.stderr));
            continue;
        }
        nt.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let same = std::fs::read_to_string(d.join("node-out.nut"))
            .map(|n| n == out)
            .unwrap_or(false);
        println!(
            "npm Builder  {}: min {:8.1} ms  median {:8.1} ms  (in-process; {:.0} ms wall for {} runs incl. node start)  identical output: {}",
            label,
            nt[0],
            nt[nt.len() / 2],
            wall,
            runs,
            same
        );
        println!("speed-up (min/min) {}: {:.1}x", label, nt[0] / times[0]);
    }
}

/// A large include tree for benchmarks: `files` files of `lines` lines each, a fan-out tree.
fn big_tree(dir: &Path, files: usize, lines: usize) -> PathBuf {
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    for i in (0..files).rev() {
        let mut s = String::new();
        let _ = writeln!(s, "// file {} @{{__FILE__}}", i);
        let _ = writeln!(s, "@set V{} = {}", i, i);
        for c in [2 * i + 1, 2 * i + 2] {
            if c < files {
                let _ = writeln!(s, "@include once \"lib/f{}.nut\"", c);
            }
        }
        for l in 0..lines {
            match l % 10 {
                0 => {
                    let _ = writeln!(s, "@if V{} % 2 == 0", i);
                    let _ = writeln!(s, "local even{} = @{{V{} * 2}};", l, i);
                    let _ = writeln!(s, "@else");
                    let _ = writeln!(s, "local odd{} = \"@{{S.toUpperCase('x' + V{})}}\";", l, i);
                    let _ = writeln!(s, "@endif");
                }
                3 => {
                    let _ = writeln!(s, "server.log(\"line @{{__LINE__}} of @{{__FILE__}}: @{{min(V{}, {}) + max(1, 2)}}\");", i, l);
                }
                _ => {
                    let _ = writeln!(s, "function f{}_{}(a, b) {{ return a + b * {}; }}", i, l, l);
                }
            }
        }
        std::fs::write(dir.join(format!("lib/f{}.nut", i)), s).unwrap();
    }
    let main = dir.join("main.nut");
    std::fs::write(&main, "@include \"lib/f0.nut\"\n").unwrap();
    main
}
