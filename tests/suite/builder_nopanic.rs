//! Bounded randomized robustness test: the preprocessor and the expression parser return
//! `Ok` or `Err` (never panic, never hang) on random and adversarial inputs.
//! (A cargo-fuzz target for the same entry points lives in `fuzz/`.)

use impt_builder::{expr, preprocess_str, Options};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::support::builder_gen;

const ALPHABET: &[&str] = &[
    "@", "{", "}", "(", ")", "[", "]", "\"", "'", "\\", "/", "*", "|", "?", ":", ",", ".", "+",
    "-", "!", "=", "<", ">", "&", "%", " ", "\t", "\n", "\r", "a", "Z", "_", "$", "0", "9", "e",
    "ü", "\u{2028}", "\u{feff}", "😀", "include", "set", "if", "else", "elseif", "end", "endif",
    "macro", "while", "repeat", "once", "defined", "S.", "loop", "__FILE__", "__LINE__", "null",
    "true", "1e400", "0x", "//", "/*", "*/",
];

fn random_text(rng: &mut StdRng, max: usize) -> String {
    let n = rng.gen_range(0..max);
    (0..n)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())])
        .collect()
}

#[test]
fn expression_parser_never_panics() {
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20_000 {
        let t = random_text(&mut rng, 24);
        let _ = expr::parse(&t);
    }
    // deep nesting is an error, not a stack overflow (on a thread with an 8 MiB stack, like
    // the preprocessor's and a main thread)
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(|| {
            assert!(expr::parse(&"(".repeat(100_000)).is_err());
            assert!(expr::parse(&"-".repeat(100_000)).is_err());
            assert!(expr::parse(&"f(".repeat(100_000)).is_err());
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn preprocessor_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        no_env: true,
        ..Default::default()
    };
    let mut rng = StdRng::seed_from_u64(11);
    for i in 0..1500u64 {
        let src = match i % 3 {
            0 => {
                let lines: Vec<String> = (0..rng.gen_range(1..6))
                    .map(|_| random_text(&mut rng, 12))
                    .collect();
                lines.join("\n")
            }
            1 => builder_gen::noise(i, 5),
            _ => {
                let mut g = builder_gen::Gen::new(i);
                let mut s = String::new();
                g.block(8, &mut s);
                s
            }
        };
        let _ = preprocess_str(&src, "fuzz.nut", dir.path(), &opts);
        let lc = Options {
            line_control: true,
            ..opts.clone()
        };
        let _ = preprocess_str(&src, "fuzz.nut", dir.path(), &lc);
    }
}

/// A JavaScript library whose functions take and return every kind of value.
pub const FUZZ_LIB: &str = "module.exports = { up: (s) => String(s).toUpperCase(), id: (v) => v,\n  obj: { k: [1, null, 'x'], f: () => undefined }, boom: () => { throw new Error('boom'); },\n  sym: () => Symbol('s'), big: () => 10n, setg: function (k, v) { this.globals[k] = v; return k; } };\n";

#[test]
fn libraries_and_repository_options_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.js"), FUZZ_LIB).unwrap();
    let mut rng = StdRng::seed_from_u64(13);
    let calls = [
        "up", "id", "obj.f", "boom", "sym", "big", "setg", "obj.k", "obj",
    ];
    for i in 0..300u64 {
        let mut g = builder_gen::Gen::new(i);
        let mut src = String::new();
        g.block(4, &mut src);
        for _ in 0..3 {
            let f = calls[rng.gen_range(0..calls.len())];
            src.push_str(&format!("@{{{}({}, {})}}\n", f, g.expr(1), g.expr(1)));
        }
        if i % 5 == 0 {
            src.push_str(&random_text(&mut rng, 12));
        }
        if i % 7 == 0 {
            src.push_str("@include \"git-local:/nonexistent/x.nut@v\"\n");
        }
        let opts = Options {
            no_env: true,
            libs: vec![dir.path().join("lib.js").to_string_lossy().into_owned()],
            remote_relative_includes: i % 2 == 0,
            save_directives: (i % 3 == 0).then(|| dir.path().join("d.json")),
            use_directives: (i % 3 == 1).then(|| dir.path().join("d.json")),
            save_dependencies: (i % 4 == 0).then(|| dir.path().join("deps.json")),
            ..Default::default()
        };
        let _ = preprocess_str(&src, "fuzz.nut", dir.path(), &opts);
    }
}

#[test]
fn runaway_loops_and_recursion_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = Options::default();
    assert!(preprocess_str("@repeat -1\n@end\n", "m.nut", dir.path(), &o).is_err());
    assert!(preprocess_str("@while 1\n@end\n", "m.nut", dir.path(), &o).is_err());
    let e = preprocess_str(
        "@macro m()\n@include m()\n@end\n@include m()\n",
        "m.nut",
        dir.path(),
        &o,
    )
    .unwrap_err();
    assert!(e.to_string().contains("Maximum execution depth reached"));
    let deep = "@if 1\n".repeat(5000) + &"@end\n".repeat(5000);
    assert!(preprocess_str(&deep, "m.nut", dir.path(), &o).is_err());
}
