//! Deterministic stand-in for the Squirrel compiler.
//!
//! A source fails to compile when it has unbalanced `{}`/`()`/`[]` (outside strings and
//! comments), when a line consists of a lone `/`, or when a line holds the test hook
//! `//#sim-compile-error <text>` (an error with that text at that line).

use serde_json::{json, Value};

/// One diagnostic: `(row, column, text)`, 1-based.
type Diag = (usize, usize, String);

fn check(src: &str) -> Option<Diag> {
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("//#sim-compile-error") {
            let col = line.find("//#").unwrap_or(0) + 1;
            let text = rest.trim();
            let text = if text.is_empty() {
                "compile error"
            } else {
                text
            };
            return Some((i + 1, col, text.to_string()));
        }
        if t == "/" {
            let col = line.find('/').unwrap_or(0) + 1;
            return Some((i + 1, col, "expression expected".into()));
        }
    }
    brackets(src)
}

fn brackets(src: &str) -> Option<Diag> {
    let chars: Vec<char> = src.chars().collect();
    let mut stack: Vec<(char, usize, usize)> = Vec::new();
    let (mut row, mut col) = (1usize, 0usize);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        col += 1;
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => {
                row += 1;
                col = 0;
            }
            '/' if next == Some('/') => {
                while i + 1 < chars.len() && chars[i + 1] != '\n' {
                    i += 1;
                }
            }
            '#' => {
                while i + 1 < chars.len() && chars[i + 1] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                i += 1;
                col += 1;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                    if chars[i] == '\n' {
                        row += 1;
                        col = 0;
                    } else {
                        col += 1;
                    }
                }
                i += 1;
                col += 1;
            }
            '@' if next == Some('"') => {
                i += 1;
                col += 1;
                loop {
                    i += 1;
                    let Some(&ch) = chars.get(i) else { break };
                    if ch == '\n' {
                        row += 1;
                        col = 0;
                    } else {
                        col += 1;
                    }
                    if ch == '"' {
                        if chars.get(i + 1) == Some(&'"') {
                            i += 1;
                            col += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            '"' | '\'' => {
                let (srow, scol) = (row, col);
                loop {
                    i += 1;
                    let Some(&ch) = chars.get(i) else {
                        return Some((srow, scol, "unfinished string".into()));
                    };
                    col += 1;
                    if ch == '\\' {
                        i += 1;
                        col += 1;
                    } else if ch == c {
                        break;
                    } else if ch == '\n' {
                        return Some((srow, scol, "newline in a constant".into()));
                    }
                }
            }
            '{' | '(' | '[' => stack.push((c, row, col)),
            '}' | ')' | ']' => {
                let want = match c {
                    '}' => '{',
                    ')' => '(',
                    _ => '[',
                };
                match stack.pop() {
                    Some((open, _, _)) if open == want => {}
                    _ => return Some((row, col, format!("unexpected '{c}'"))),
                }
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop().map(|(open, r, c)| {
        let close = match open {
            '{' => '}',
            '(' => ')',
            _ => ']',
        };
        (r, c, format!("expected '{close}' to match this '{open}'"))
    })
}

/// The compile diagnostics of a deployment, as `meta` entries; empty when it compiles.
pub fn compile(device_code: &str, agent_code: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (file, src) in [("agent_code", agent_code), ("device_code", device_code)] {
        if let Some((row, column, text)) = check(src) {
            out.push(
                json!({"file": file, "type": "error", "row": row, "column": column, "text": text}),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(compile("server.log(\"a)\");", "").is_empty());
        assert_eq!(compile("/", "")[0]["row"], 1);
        let e = compile("x <- 1;\nfunction f() {\n", "");
        assert_eq!(e[0]["row"], 2);
        assert_eq!(e[0]["column"], 14);
        let e = compile("", "a\n//#sim-compile-error boom");
        assert_eq!(e[0]["text"], "boom");
        assert_eq!(e[0]["file"], "agent_code");
        assert!(compile("// ( unbalanced in comment\n/* { */ local s = @\"(\";", "").is_empty());
    }
}
