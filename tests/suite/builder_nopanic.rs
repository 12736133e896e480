//! Bounded randomized robustness test: the preprocessor and the expression parser return
//! `Ok` or `Err` (never panic, never hang) on random and adversarial inputs.
//! (A cargo-fuzz target for the same entry points lives in `fuzz/`.)

use impt::builder::{expr, preprocess_str, Options};
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
