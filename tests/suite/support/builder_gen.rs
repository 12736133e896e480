//! Random Builder program generator shared by `builder_compat` and `builder_nopanic`.
//! Deterministic for a given seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct Gen {
    pub rng: StdRng,
    /// Names of include files available (relative to the input directory).
    pub includes: Vec<String>,
    vars: Vec<String>,
    macros: Vec<(String, usize)>,
    depth: usize,
    /// Whether macro declarations may be generated.
    pub allow_macros: bool,
}

const STRINGS: [&str; 10] = [
    "abc", "", "a b", "x\\ty", "12", " 7 ", "q\\\"q", "ünï", "0x1f", "1e3",
];
const NUMBERS: [&str; 10] = ["0", "1", "2", "3.5", "10", "1e3", "0.1", ".5", "7", "255"];

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            includes: Vec::new(),
            vars: vec!["A".into(), "B".into(), "S1".into()],
            macros: Vec::new(),
            depth: 0,
            allow_macros: true,
        }
    }

    fn pick<'a>(&mut self, v: &'a [&'a str]) -> &'a str {
        v[self.rng.gen_range(0..v.len())]
    }

    fn var(&mut self) -> String {
        let i = self.rng.gen_range(0..self.vars.len() + 2);
        match self.vars.get(i) {
            Some(v) => v.clone(),
            None => ["__LINE__", "__FILE__", "UNDEFINED_X"][self.rng.gen_range(0..3)].to_string(),
        }
    }

    /// A random expression.
    pub fn expr(&mut self, depth: usize) -> String {
        let r = self.rng.gen_range(0..if depth > 2 { 4 } else { 16 });
        match r {
            0 => self.pick(&NUMBERS).to_string(),
            4..=7 if self.rng.gen_bool(0.1) => {
                format!("{} / {}", self.expr(depth + 1), self.pick(&NUMBERS))
            }
            1 => {
                let q = if self.rng.gen_bool(0.5) { '"' } else { '\'' };
                format!("{q}{}{q}", self.pick(&STRINGS).replace('"', &q.to_string()))
            }
            2 => self.var(),
            3 => ["true", "false", "null", "1"][self.rng.gen_range(0..4)].to_string(),
            4..=7 => {
                let op = self.pick(&["+", "-", "*", "==", "!=", "<", ">", "<=", ">=", "&&", "||"]);
                format!("{} {} {}", self.expr(depth + 1), op, self.expr(depth + 1))
            }
            8 => format!("{}{}", self.pick(&["-", "!", "+"]), self.expr(depth + 1)),
            9 => format!("({})", self.expr(depth + 1)),
            10 => format!(
                "{} ? {} : {}",
                self.expr(depth + 1),
                self.expr(depth + 1),
                self.expr(depth + 1)
            ),
            11 => {
                let f = self.pick(&["min", "max", "abs"]);
                format!("{}({}, {})", f, self.expr(depth + 1), self.expr(depth + 1))
            }
            12 => {
                let f = self.pick(&[
                    "S.toUpperCase",
                    "S.trim",
                    "S.substr",
                    "S.substring",
                    "S.repeat",
                    "S.split",
                    "S.concat",
                    "S.startsWith",
                    "S.endsWith",
                    "S.includes",
                    "S.toLowerCase",
                ]);
                let n = self.rng.gen_range(1..4);
                let mut args: Vec<String> = (0..n).map(|_| self.expr(depth + 2)).collect();
                if self.rng.gen_bool(0.8) {
                    args[0] = format!("\"{}\"", self.pick(&STRINGS).replace('"', "'"));
                }
                format!("{}({})", f, args.join(", "))
            }
            13 => {
                let f = self.pick(&["escape", "base64", "abs", "S.toUpperCase"]);
                format!("({} | {})", self.expr(depth + 1), f)
            }
            14 => format!("defined({})", self.var()),
            _ => format!(
                "([{}, {}])[{}]",
                self.expr(depth + 1),
                self.expr(depth + 1),
                self.rng.gen_range(0..2)
            ),
        }
    }

    fn text(&mut self) -> String {
        let mut s = String::new();
        for _ in 0..self.rng.gen_range(0..4) {
            match self.rng.gen_range(0..8) {
                0 => s.push_str("local x = 1;"),
                1 => s.push_str("  // comment @ here"),
                2 => {
                    let e = self.expr(1);
                    let _ = write!(s, "@{{{}}}", e);
                }
                3 if self.rng.gen_bool(0.05) => s.push_str("\"str @{ not closed"),
                4 => s.push_str("server.log(\"hi\");"),
                5 => s.push('\t'),
                6 => s.push_str("a@b.c"),
                7 if self.rng.gen_bool(0.2) => s.push_str("}{"),
                _ => s.push_str("x = [1, 2];"),
            }
        }
        s
    }

    /// A block of random lines.
    pub fn block(&mut self, lines: usize, out: &mut String) {
        let mut n = 0;
        while n < lines {
            n += 1;
            let r = self.rng.gen_range(0..30);
            match r {
                0..=9 => {
                    let t = self.text();
                    out.push_str(&t);
                }
                10 | 11 => {
                    let v = ["A", "B", "S1", "C_2", "$d"][self.rng.gen_range(0..5)].to_string();
                    let e = self.expr(0);
                    let eq = if self.rng.gen_bool(0.5) { " = " } else { " " };
                    let _ = write!(out, "@set {}{}{}", v, eq, e);
                    if !self.vars.contains(&v) {
                        self.vars.push(v);
                    }
                }
                12 | 13 if self.depth < 3 => {
                    self.depth += 1;
                    let e = self.expr(0);
                    let _ = writeln!(out, "@if {}", e);
                    self.block(3, out);
                    if self.rng.gen_bool(0.4) {
                        let e = self.expr(0);
                        let _ = writeln!(out, "@elseif {}", e);
                        self.block(2, out);
                    }
                    if self.rng.gen_bool(0.5) {
                        out.push_str("@else\n");
                        self.block(2, out);
                    }
                    out.push_str(["@endif", "@end", "  @endif // c"][self.rng.gen_range(0..3)]);
                    self.depth -= 1;
                }
                14 if !self.includes.is_empty() => {
                    let f = self.includes[self.rng.gen_range(0..self.includes.len())].clone();
                    let once = if self.rng.gen_bool(0.3) { "once " } else { "" };
                    let _ = write!(out, "@include {}\"{}\"", once, f);
                }
                15 if self.depth < 2 => {
                    self.depth += 1;
                    let _ = writeln!(out, "@repeat {}", self.rng.gen_range(0..3));
                    out.push_str("  i=@{loop.index} it=@{loop.iteration}\n");
                    self.block(2, out);
                    out.push_str(["@endrepeat", "@end"][self.rng.gen_range(0..2)]);
                    self.depth -= 1;
                }
                16 if self.depth < 2 && self.allow_macros => {
                    self.depth += 1;
                    let name = format!("m{}", self.macros.len());
                    let args = self.rng.gen_range(0..3);
                    let params: Vec<String> = (0..args).map(|i| format!("p{}", i)).collect();
                    let _ = writeln!(out, "@macro {}({})", name, params.join(", "));
                    for p in &params {
                        let _ = writeln!(out, "  {} = @{{{}}} def=@{{defined({})}}", p, p, p);
                    }
                    self.block(2, out);
                    out.push_str(["@endmacro", "@end"][self.rng.gen_range(0..2)]);
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.macros.push((name, args));
                    }
                }
                17 if !self.macros.is_empty() => {
                    let (name, args) =
                        self.macros[self.rng.gen_range(0..self.macros.len())].clone();
                    let a: Vec<String> = (0..self.rng.gen_range(0..=args + 1))
                        .map(|_| self.expr(2))
                        .collect();
                    if self.rng.gen_bool(0.5) {
                        let _ = write!(out, "@include {}({})", name, a.join(", "));
                    } else {
                        let _ = write!(out, "x = @{{{}({})}};", name, a.join(", "));
                    }
                }
                18 => out.push_str("@ a builder comment"),
                19 => out.push('@'),
                20 if self.rng.gen_bool(0.1) => {
                    let e = self.expr(0);
                    let _ = write!(
                        out,
                        "@{} {}",
                        ["warning", "error"][self.rng.gen_range(0..2)],
                        e
                    );
                }
                21 => out.push_str("@{__FILE__}:@{__LINE__}"),
                22 if self.rng.gen_bool(0.05) => {
                    out.push_str(
                        [
                            "@endif", "@else", "@end", "@set", "@include", "@elseif", "@foo bar",
                        ][self.rng.gen_range(0..7)],
                    );
                }
                23 if self.depth < 2 => {
                    self.depth += 1;
                    out.push_str("@set W = 0\n@while W < 2\n");
                    self.block(1, out);
                    out.push_str("\n@set W = W + 1\n@endwhile");
                    self.depth -= 1;
                }
                24 if !self.includes.is_empty() => {
                    let f = self.includes[self.rng.gen_range(0..self.includes.len())].clone();
                    let _ = write!(out, "v = \"@{{include(\"{}\") | escape}}\";", f);
                }
                _ => out.push_str("plain line"),
            }
            let eol = match self.rng.gen_range(0..40) {
                0 => "\r\n",
                1 => "\r",
                _ => "\n",
            };
            out.push_str(eol);
        }
    }

    /// Write a random program with `n_inc` include files into `dir`; returns the input file.
    pub fn program(&mut self, dir: &Path, n_inc: usize, lines: usize) -> PathBuf {
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        self.includes.clear();
        self.macros.clear();
        self.allow_macros = false;
        for i in 0..n_inc {
            let mut s = String::new();
            self.block(lines / 2, &mut s);
            let name = format!("lib/inc{}.nut", i);
            if self.rng.gen_bool(0.2) {
                s = s.trim_end_matches('\n').to_string();
            }
            std::fs::write(dir.join(&name), s).unwrap();
            self.includes.push(name);
        }
        self.allow_macros = true;
        let mut s = String::new();
        self.block(lines, &mut s);
        let p = dir.join("main.nut");
        std::fs::write(&p, s).unwrap();
        p
    }
}

/// A "noise" program: lines of random Builder-ish tokens, for lexer/parser parity.
pub fn noise(seed: u64, lines: usize) -> String {
    const TOKENS: [&str; 40] = [
        "@",
        "@{",
        "}",
        "{",
        "\"",
        "'",
        "\\",
        "/",
        "*",
        " ",
        "\t",
        "a",
        "1",
        "+",
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        "?",
        ":",
        "@include ",
        "@set ",
        "@if ",
        "@end",
        "@else",
        "|",
        "\r",
        "ü",
        "\u{2028}",
        "once ",
        "//",
        "/*",
        "*/",
        "@{1}",
        "x",
        "=",
        "-",
        "@ ",
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut s = String::new();
    for _ in 0..lines {
        for _ in 0..rng.gen_range(0..8) {
            s.push_str(TOKENS[rng.gen_range(0..TOKENS.len())]);
        }
        s.push_str(if rng.gen_bool(0.1) { "\r\n" } else { "\n" });
    }
    s
}
