//! A JSON syntax check whose error texts are those of V8's `JSON.parse` (Node 20): the
//! original impt parses option values such as `--env-variable` with `JSON.parse` and reports
//! its exception's message, so a bad value fails here with the same words.

const CONTEXT: usize = 10;

struct P {
    s: Vec<char>,
    i: usize,
}

type R = Result<(), String>;

impl P {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }
    fn at(&self, what: &str) -> String {
        format!("{what} in JSON at position {}", self.i)
    }
    /// The "unexpected token" error at the current position.
    fn unexpected(&self) -> String {
        let Some(c) = self.peek() else {
            return "Unexpected end of JSON input".into();
        };
        let (n, pos) = (self.s.len(), self.i);
        let sub = |a: usize, b: usize| self.s[a..b.min(n)].iter().collect::<String>();
        if n < CONTEXT * 2 + 1 {
            format!(
                "Unexpected token '{c}', \"{}\" is not valid JSON",
                sub(0, n)
            )
        } else if pos < CONTEXT {
            format!(
                "Unexpected token '{c}', \"{}\"... is not valid JSON",
                sub(0, pos + CONTEXT)
            )
        } else if pos < n - CONTEXT {
            format!(
                "Unexpected token '{c}', ...\"{}\"... is not valid JSON",
                sub(pos - CONTEXT, pos + CONTEXT)
            )
        } else {
            format!(
                "Unexpected token '{c}', ...\"{}\" is not valid JSON",
                sub(pos - CONTEXT, n)
            )
        }
    }
    fn value(&mut self) -> R {
        self.ws();
        match self.peek() {
            Some('"') => self.string(),
            Some('-' | '0'..='9') => self.number(),
            Some('{') => self.object(),
            Some('[') => self.array(),
            Some('t') => self.literal("true"),
            Some('f') => self.literal("false"),
            Some('n') => self.literal("null"),
            _ => Err(self.unexpected()),
        }
    }
    fn literal(&mut self, word: &str) -> R {
        for w in word.chars() {
            if self.peek() != Some(w) {
                return Err(self.unexpected());
            }
            self.i += 1;
        }
        Ok(())
    }
    fn digits(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some('0'..='9')) {
            self.i += 1;
        }
        self.i > start
    }
    fn number(&mut self) -> R {
        if self.peek() == Some('-') {
            self.i += 1;
            if !matches!(self.peek(), Some('0'..='9')) {
                return Err(self.at("No number after minus sign"));
            }
        }
        if self.peek() == Some('0') {
            self.i += 1;
            if matches!(self.peek(), Some('0'..='9')) {
                return Err(self.at("Unexpected number"));
            }
        } else {
            self.digits();
        }
        if self.peek() == Some('.') {
            self.i += 1;
            if !self.digits() {
                return Err(self.at("Unterminated fractional number"));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.i += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.i += 1;
            }
            if !self.digits() {
                return Err(self.at("Exponent part is missing a number"));
            }
        }
        Ok(())
    }
    fn string(&mut self) -> R {
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err(self.at("Unterminated string")),
                Some('"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(c) if (c as u32) < 0x20 => {
                    return Err(self.at("Bad control character in string literal"))
                }
                Some('\\') => {
                    self.i += 1;
                    match self.peek() {
                        None => return Err(self.at("Unterminated string")),
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => self.i += 1,
                        Some('u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                                    return Err(self.at("Bad Unicode escape"));
                                }
                                self.i += 1;
                            }
                        }
                        Some(_) => return Err(self.at("Bad escaped character")),
                    }
                }
                Some(_) => self.i += 1,
            }
        }
    }
    fn array(&mut self) -> R {
        self.i += 1;
        self.ws();
        if self.peek() == Some(']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value()?;
            self.ws();
            match self.peek() {
                Some(',') => self.i += 1,
                Some(']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.at("Expected ',' or ']' after array element")),
            }
        }
    }
    fn object(&mut self) -> R {
        self.i += 1;
        self.ws();
        match self.peek() {
            Some('}') => {
                self.i += 1;
                return Ok(());
            }
            Some('"') => {}
            _ => return Err(self.at("Expected property name or '}'")),
        }
        loop {
            self.string()?;
            self.ws();
            if self.peek() != Some(':') {
                return Err(self.at("Expected ':' after property name"));
            }
            self.i += 1;
            self.value()?;
            self.ws();
            match self.peek() {
                Some(',') => {
                    self.i += 1;
                    self.ws();
                    if self.peek() != Some('"') {
                        return Err(self.at("Expected double-quoted property name"));
                    }
                }
                Some('}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.at("Expected ',' or '}' after property value")),
            }
        }
    }
}

/// `Err(message)` when `JSON.parse(text)` would throw.
fn check(text: &str) -> Result<(), String> {
    let mut p = P {
        s: text.chars().collect(),
        i: 0,
    };
    p.value()?;
    p.ws();
    if p.peek().is_some() {
        return Err(format!(
            "Unexpected non-whitespace character after JSON at position {}",
            p.i
        ));
    }
    Ok(())
}

/// `JSON.parse(text)`: the value, or the message of the exception it throws.
pub fn parse(text: &str) -> Result<serde_json::Value, String> {
    check(text)?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn v8_messages() {
        let cases = [
            ("bad", "Unexpected token 'b', \"bad\" is not valid JSON"),
            (
                "{bad",
                "Expected property name or '}' in JSON at position 1",
            ),
            ("", "Unexpected end of JSON input"),
            (
                "{\"a\":1",
                "Expected ',' or '}' after property value in JSON at position 6",
            ),
            ("[1,]", "Unexpected token ']', \"[1,]\" is not valid JSON"),
            (
                "{\"a\":1}x",
                "Unexpected non-whitespace character after JSON at position 7",
            ),
            (
                "{\"a\" 1}",
                "Expected ':' after property name in JSON at position 5",
            ),
            ("\"abc", "Unterminated string in JSON at position 4"),
            (
                "{\"a\":tru}",
                "Unexpected token '}', \"{\"a\":tru}\" is not valid JSON",
            ),
            (
                "{\"a\":-}",
                "No number after minus sign in JSON at position 6",
            ),
            ("nul", "Unexpected end of JSON input"),
            (
                "[1 2]",
                "Expected ',' or ']' after array element in JSON at position 3",
            ),
            (
                "{\"a\":1,}",
                "Expected double-quoted property name in JSON at position 7",
            ),
            ("1.", "Unterminated fractional number in JSON at position 2"),
            (
                "1.5e+",
                "Exponent part is missing a number in JSON at position 5",
            ),
            ("\"a\\x\"", "Bad escaped character in JSON at position 3"),
            ("\"\\u12g4\"", "Bad Unicode escape in JSON at position 5"),
            (
                "\"a\tb\"",
                "Bad control character in string literal in JSON at position 2",
            ),
            ("01", "Unexpected number in JSON at position 1"),
            (
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                "Unexpected token 'x', \"xxxxxxxxxx\"... is not valid JSON",
            ),
            (
                "{\"aaaaaaaaaaaaaa\": 1, \"bbbbbbbbbbbbbbbbbbb\": x, \"ccccccccccccccccccccc\": 2}",
                "Unexpected token 'x', ...\"bbbbbbb\": x, \"cccccc\"... is not valid JSON",
            ),
            (
                "{\"aaaaaaaaaaaaaaaaaaaaaaa\": x}",
                "Unexpected token 'x', ...\"aaaaaaa\": x}\" is not valid JSON",
            ),
            (
                "{\"a\":1,",
                "Expected double-quoted property name in JSON at position 7",
            ),
            ("[", "Unexpected end of JSON input"),
        ];
        for (text, msg) in cases {
            assert_eq!(check(text).unwrap_err(), msg, "{text}");
        }
        for ok in [
            "{}",
            " {\"a\": [1, -2.5e3, true, null, \"\\u00e9\"]} ",
            "7",
            "\"x\"",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }
}
