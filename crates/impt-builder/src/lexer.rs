//! Line-level tokenizer: splits a source into lines the way Builder does, recognises
//! directives (`@include`, `@set`, …), `@ ` comment lines and `@{…}` inline expressions.

use super::error::BuilderError;
use super::expr;
use super::js::{is_js_space, js_trim};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    Include,
    Set,
    If,
    Else,
    ElseIf,
    EndIf,
    Error,
    Macro,
    EndMacro,
    End,
    While,
    EndWhile,
    Repeat,
    EndRepeat,
    Warning,
}

const NAMES: [(&str, Directive); 15] = [
    ("include", Directive::Include),
    ("set", Directive::Set),
    ("if", Directive::If),
    ("else", Directive::Else),
    ("elseif", Directive::ElseIf),
    ("endif", Directive::EndIf),
    ("error", Directive::Error),
    ("macro", Directive::Macro),
    ("endmacro", Directive::EndMacro),
    ("end", Directive::End),
    ("while", Directive::While),
    ("endwhile", Directive::EndWhile),
    ("repeat", Directive::Repeat),
    ("endrepeat", Directive::EndRepeat),
    ("warning", Directive::Warning),
];

impl Directive {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, d)| *d == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

#[derive(Debug, Clone)]
pub enum Token {
    /// A directive with its (trimmed, comment-stripped) argument text.
    Directive {
        kind: Directive,
        arg: String,
        once: bool,
        line: usize,
    },
    /// Literal text.
    Text { text: String, line: usize },
    /// An `@{…}` expression.
    Inline { expr: String, line: usize },
    /// A tokenizer error (reported when the parser reaches it, like Builder's lazy tokenizer).
    Err(BuilderError),
}

/// Split into lines exactly like Builder: `\n` / `\r\n` terminate a line (and stay part of
/// it); any other line terminator (`\r`, U+2028, U+2029) is dropped and starts a new line.
pub fn split_lines(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            out.push(&src[start..=i]);
            i += 1;
            start = i;
        } else if c == b'\r' {
            if b.get(i + 1) == Some(&b'\n') {
                out.push(&src[start..i + 2]);
                i += 2;
                start = i;
            } else {
                if start < i {
                    out.push(&src[start..i]);
                }
                out.push("");
                i += 1;
                start = i;
            }
        } else if c == 0xe2
            && b.get(i + 1) == Some(&0x80)
            && matches!(b.get(i + 2), Some(0xa8 | 0xa9))
        {
            if start < i {
                out.push(&src[start..i]);
            }
            out.push("");
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push(&src[start..]);
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// If `line` is a directive line, its kind and raw argument.
fn match_directive(line: &str) -> Option<(Directive, &str)> {
    let t = line.trim_start_matches(is_js_space);
    let rest = t.strip_prefix('@')?;
    let mut best: Option<(Directive, &str)> = None;
    for (name, kind) in NAMES {
        if let Some(after) = rest.strip_prefix(name) {
            if after.chars().next().is_some_and(is_word) {
                continue;
            }
            if !matches!(best, Some((k, _)) if k.name().len() >= name.len()) {
                best = Some((kind, after));
            }
        }
    }
    let (kind, after) = best?;
    // `(.*?)\s*$` with `.` not matching line terminators
    let arg = after.trim_end_matches(is_js_space);
    if arg.contains(['\n', '\r', '\u{2028}', '\u{2029}']) {
        return None;
    }
    Some((kind, arg))
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start_matches(is_js_space);
    t.strip_prefix('@')
        .and_then(|r| r.chars().next())
        .is_some_and(is_js_space)
}

/// Quick check whether a source uses any Builder syntax.
pub fn has_directives(source: &str) -> bool {
    split_lines(source)
        .iter()
        .any(|l| match_directive(l).is_some() || is_comment(l) || l.contains("@{"))
}

/// Remove `//` and `/* */` comments from a directive argument (single line, no EOLs).
pub fn decomment(code: &str) -> String {
    let c: Vec<char> = code.chars().collect();
    let len = c.len();
    let mut s = String::new();
    let mut empty_line = true;
    let mut empty_letters = String::new();
    if len == 0 {
        return String::new();
    }
    let mut idx = 0usize;
    loop {
        let mut skip_normal = false;
        if c[idx] == '/' && idx < len - 1 && (idx == 0 || c[idx - 1] != '\\') {
            if c[idx + 1] == '/' {
                break;
            }
            if c[idx + 1] == '*' {
                let end = find(&c, &['*', '/'], idx + 2);
                let Some(end) = end else { break };
                idx = end + 1;
                if empty_line {
                    empty_letters.clear();
                }
                skip_normal = true;
            }
        }
        if !skip_normal {
            let sym = c[idx];
            let is_space = sym == ' ' || sym == '\t';
            if sym == '\r' || sym == '\n' {
                // cannot happen in a directive argument
            } else if !is_space {
                empty_line = false;
                s.push_str(&empty_letters);
                empty_letters.clear();
            }
            if empty_line && is_space {
                empty_letters.push(sym);
            } else {
                s.push(sym);
            }
            if matches!(sym, '\'' | '"' | '`') && (idx == 0 || c[idx - 1] != '\\') {
                let mut close = idx;
                let found = loop {
                    match find(&c, &[sym], close + 1) {
                        Some(ci) => {
                            close = ci;
                            let mut sh = ci;
                            while sh > 0 && c[sh - 1] == '\\' {
                                sh -= 1;
                            }
                            // number of backslashes before the quote is ci - sh
                            if (ci - sh) % 2 == 0 {
                                break true;
                            }
                        }
                        None => break false,
                    }
                };
                if !found {
                    break;
                }
                s.extend(&c[idx + 1..=close]);
                idx = close;
            }
        }
        idx += 1;
        if idx >= len {
            break;
        }
    }
    s
}

fn find(c: &[char], pat: &[char], from: usize) -> Option<usize> {
    if pat.is_empty() || from > c.len() {
        return None;
    }
    (from..c.len().saturating_sub(pat.len() - 1)).find(|&i| c[i..i + pat.len()] == *pat)
}

/// Tokenize a whole source. `file` is used in syntax error messages. A syntax error ends
/// the token list with a [`Token::Err`].
pub fn tokenize(source: &str, file: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (i, text) in split_lines(source).into_iter().enumerate() {
        let line = i + 1;
        let res = if let Some((kind, raw)) = match_directive(text) {
            directive_token(kind, decomment(js_trim(raw)), line, file).map(|t| out.push(t))
        } else if is_comment(text) {
            Ok(())
        } else {
            tokenize_fragment(text, line, file, &mut out)
        };
        if let Err(e) = res {
            out.push(Token::Err(e));
            break;
        }
    }
    out
}

fn directive_token(
    kind: Directive,
    mut arg: String,
    line: usize,
    file: &str,
) -> Result<Token, BuilderError> {
    let mut once = false;
    let err = || {
        BuilderError::syntax(
            format!("Syntax error in @{} ({}:{})", kind.name(), file, line),
            file,
            line,
        )
    };
    match kind {
        Directive::Include => {
            if arg.starts_with("once") && !arg[4..].chars().next().is_some_and(is_word) {
                let rest: String = arg.chars().skip(5).collect();
                arg = js_trim(&rest).to_string();
                once = true;
            }
            if arg.is_empty() {
                return Err(err());
            }
        }
        Directive::Set => {
            if set_parts(&arg).is_none() {
                return Err(err());
            }
        }
        Directive::If
        | Directive::ElseIf
        | Directive::Error
        | Directive::Warning
        | Directive::Macro
        | Directive::While
        | Directive::Repeat => {
            if arg.is_empty() {
                return Err(err());
            }
        }
        _ => {
            if !arg.is_empty() {
                return Err(err());
            }
        }
    }
    Ok(Token::Directive {
        kind,
        arg,
        once,
        line,
    })
}

/// Split an `@set` argument into variable name and value expression.
pub fn set_parts(arg: &str) -> Option<(&str, &str)> {
    let mut it = arg.char_indices();
    match it.next() {
        Some((_, c)) if c == '_' || c == '$' || c.is_ascii_alphabetic() => {}
        _ => return None,
    }
    let end = arg
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(arg.len());
    let name = &arg[..end];
    let mut rest = arg[end..].trim_start_matches(is_js_space);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches(is_js_space);
    }
    if rest.is_empty() {
        None
    } else {
        Some((name, rest))
    }
}

/// For each prefix length `n` (index), whether `body[..n]` may parse: `false` once inside an
/// open string literal; the vector ends at the first unquoted `}` (longer prefixes fail).
fn viable_prefix_ends(body: &[char]) -> Vec<bool> {
    let mut v = Vec::with_capacity(body.len() + 1);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    v.push(true);
    for &c in body {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '}' {
                    break;
                }
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
        v.push(quote.is_none());
    }
    v
}

/// Start of the first `@{` that has a `}` somewhere after it.
fn inline_start(frag: &[char]) -> Option<usize> {
    let at = (0..frag.len().saturating_sub(1)).find(|&i| frag[i] == '@' && frag[i + 1] == '{')?;
    frag[at + 2..].contains(&'}').then_some(at)
}

fn tokenize_fragment(
    text: &str,
    line: usize,
    file: &str,
    out: &mut Vec<Token>,
) -> Result<(), BuilderError> {
    let mut frag: Vec<char> = text.chars().collect();
    while let Some(at) = inline_start(&frag) {
        let body = &frag[at + 2..];
        let max = frag.len() as isize - at as isize - 3;
        // Only prefixes without an unquoted `}` and not ending inside a string literal can
        // parse (quotes always open string literals in the expression grammar): skip the rest.
        let viable = viable_prefix_ends(body);
        let mut arg_len = max.min(viable.len() as isize - 1);
        let mut parsed = false;
        while arg_len >= 0 {
            if viable[arg_len as usize] {
                let end = at + 2 + arg_len as usize;
                if expr::parse_chars(&frag[at + 2..end]).is_ok() {
                    parsed = true;
                    break;
                }
            }
            arg_len -= 1;
        }
        let end = at + 2 + arg_len.max(0) as usize;
        if !parsed || frag.get(end) != Some(&'}') {
            return Err(BuilderError::syntax(
                format!(
                    "Syntax error in the inline instruction at ({}:{})",
                    file, line
                ),
                file,
                line,
            ));
        }
        if at > 0 {
            out.push(Token::Text {
                text: frag[..at].iter().collect(),
                line,
            });
        }
        out.push(Token::Inline {
            expr: frag[at + 2..end].iter().collect(),
            line,
        });
        frag = frag[end + 1..].to_vec();
    }
    if !frag.is_empty() {
        out.push(Token::Text {
            text: frag.into_iter().collect(),
            line,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_builder() {
        assert_eq!(
            split_lines("a\rb\nc\u{2028}d\r\n"),
            vec!["a", "", "b\n", "c", "", "d\r\n"]
        );
        assert_eq!(split_lines("x"), vec!["x"]);
        assert_eq!(split_lines("\r\r"), vec!["", ""]);
        assert_eq!(split_lines("x\n\rb"), vec!["x\n", "", "b"]);
    }

    #[test]
    fn decomment_keeps_strings() {
        assert_eq!(decomment("\"http://x\" // c"), "\"http://x\" ");
        assert_eq!(decomment("a /* b */ c"), "a  c");
        assert_eq!(decomment("/* b */  c"), "  c");
        assert_eq!(decomment("\"abc"), "\"");
    }

    #[test]
    fn directives() {
        assert_eq!(
            match_directive("  @include \"a\"  \n").map(|d| d.1),
            Some(" \"a\"")
        );
        assert!(match_directive("@endx\n").is_none());
        assert_eq!(
            match_directive("@elseif 1\n").map(|d| d.0),
            Some(Directive::ElseIf)
        );
        assert!(is_comment("@ hi\n"));
        assert!(is_comment("@\n"));
    }
}
