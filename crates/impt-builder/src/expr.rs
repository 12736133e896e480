//! Parser of Builder's expression language. It accepts exactly what Builder's expression
//! parser accepts (a JavaScript subset: literals, identifiers, member access, calls, arrays,
//! unary `+ - !`, binary `|| && | == != < > <= >= + - * / %`, and `?:`), including its
//! quirks: a missing operand is kept as an `Empty` node and reported at evaluation time,
//! several top-level expressions form a `Compound`.

use super::js::parse_float;
use super::js::Value;

#[derive(Debug, Clone)]
pub enum Node {
    /// The parser's "nothing here" result (e.g. the left side of `* 2`).
    Empty,
    /// A hole of an array literal (`[1,,2]`).
    Hole,
    Literal(Value),
    Identifier(String),
    This,
    Compound(Vec<Node>),
    Member {
        object: Box<Node>,
        property: Box<Node>,
        computed: bool,
    },
    Call {
        callee: Box<Node>,
        args: Vec<Node>,
    },
    Unary {
        op: char,
        arg: Box<Node>,
    },
    Binary {
        op: &'static str,
        left: Box<Node>,
        right: Box<Node>,
    },
    Conditional {
        test: Box<Node>,
        consequent: Box<Node>,
        alternate: Box<Node>,
    },
    Array(Vec<Node>),
}

impl Node {
    fn is_empty(&self) -> bool {
        matches!(self, Node::Empty)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub index: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at character {}", self.message, self.index)
    }
}

const BINARY_OPS: [(&str, u8); 14] = [
    ("||", 1),
    ("&&", 2),
    ("|", 3),
    ("==", 6),
    ("!=", 6),
    ("<", 7),
    (">", 7),
    ("<=", 7),
    (">=", 7),
    ("+", 9),
    ("-", 9),
    ("*", 10),
    ("/", 10),
    ("%", 10),
];

fn binary_op(s: &str) -> Option<(&'static str, u8)> {
    BINARY_OPS.iter().find(|(o, _)| *o == s).copied()
}

fn is_binary_op_char(c: char) -> bool {
    BINARY_OPS
        .iter()
        .any(|(o, _)| o.len() == 1 && o.starts_with(c))
}

fn is_ident_start(c: Option<char>) -> bool {
    match c {
        Some(c) => {
            c == '$'
                || c == '_'
                || c.is_ascii_alphabetic()
                || (c as u32 >= 128 && !is_binary_op_char(c))
        }
        None => false,
    }
}

fn is_ident_part(c: Option<char>) -> bool {
    is_ident_start(c) || matches!(c, Some('0'..='9'))
}

type PResult = Result<Node, ParseError>;

struct Parser<'a> {
    s: &'a [char],
    i: usize,
    depth: usize,
}

/// Nesting limit (Builder's parser would exhaust the JavaScript stack).
const MAX_NESTING: usize = 500;

/// Parse an expression.
pub fn parse(text: &str) -> PResult {
    let chars: Vec<char> = text.chars().collect();
    parse_chars(&chars)
}

/// Parse an expression given as chars.
pub fn parse_chars(chars: &[char]) -> PResult {
    let mut p = Parser {
        s: chars,
        i: 0,
        depth: 0,
    };
    let mut nodes = Vec::new();
    while p.i < p.s.len() {
        let c = p.s[p.i];
        if c == ';' || c == ',' {
            p.i += 1;
        } else {
            let node = p.expression()?;
            if !node.is_empty() {
                nodes.push(node);
            } else if p.i < p.s.len() {
                return Err(p.err(format!("Unexpected \"{}\"", p.s[p.i])));
            }
        }
    }
    if nodes.len() == 1 {
        Ok(nodes.pop().unwrap_or(Node::Empty))
    } else {
        Ok(Node::Compound(nodes))
    }
}

impl Parser<'_> {
    fn err(&self, message: String) -> ParseError {
        ParseError {
            message,
            index: self.i,
        }
    }

    fn ch(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn cur(&self) -> Option<char> {
        self.ch(self.i)
    }

    fn spaces(&mut self) {
        while matches!(self.cur(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }

    fn expression(&mut self) -> PResult {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err("Maximum call stack size exceeded".into()));
        }
        let r = self.expression_inner();
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self) -> PResult {
        let test = self.binary_expression()?;
        self.spaces();
        if self.cur() == Some('?') {
            self.i += 1;
            let consequent = self.expression()?;
            if consequent.is_empty() {
                return Err(self.err("Expected expression".into()));
            }
            self.spaces();
            if self.cur() == Some(':') {
                self.i += 1;
                let alternate = self.expression()?;
                if alternate.is_empty() {
                    return Err(self.err("Expected expression".into()));
                }
                Ok(Node::Conditional {
                    test: Box::new(test),
                    consequent: Box::new(consequent),
                    alternate: Box::new(alternate),
                })
            } else {
                Err(self.err("Expected :".into()))
            }
        } else {
            Ok(test)
        }
    }

    fn binary_op(&mut self) -> Option<(&'static str, u8)> {
        self.spaces();
        for len in [2usize, 1] {
            if self.i + len <= self.s.len() {
                let cand: String = self.s[self.i..self.i + len].iter().collect();
                if let Some(op) = binary_op(&cand) {
                    self.i += len;
                    return Some(op);
                }
            }
        }
        None
    }

    fn binary_expression(&mut self) -> PResult {
        let left = self.token()?;
        let Some(first) = self.binary_op() else {
            return Ok(left);
        };
        let right = self.token()?;
        if right.is_empty() {
            return Err(self.err(format!("Expected expression after {}", first.0)));
        }
        let mut nodes = vec![left, right];
        let mut ops = vec![first];
        while let Some(op) = self.binary_op() {
            while !ops.is_empty() && op.1 <= ops[ops.len() - 1].1 {
                let r = nodes.pop().unwrap_or(Node::Empty);
                let l = nodes.pop().unwrap_or(Node::Empty);
                let o = ops.pop().map(|o| o.0).unwrap_or("+");
                nodes.push(Node::Binary {
                    op: o,
                    left: Box::new(l),
                    right: Box::new(r),
                });
            }
            let node = self.token()?;
            if node.is_empty() {
                return Err(self.err(format!("Expected expression after {}", op.0)));
            }
            ops.push(op);
            nodes.push(node);
        }
        let mut node = nodes.pop().unwrap_or(Node::Empty);
        while let Some(op) = ops.pop() {
            let l = nodes.pop().unwrap_or(Node::Empty);
            node = Node::Binary {
                op: op.0,
                left: Box::new(l),
                right: Box::new(node),
            };
        }
        Ok(node)
    }

    fn token(&mut self) -> PResult {
        self.spaces();
        let c = self.cur();
        match c {
            Some('0'..='9' | '.') => self.numeric_literal(),
            Some('\'' | '"') => self.string_literal(),
            Some('[') => {
                self.i += 1;
                Ok(Node::Array(self.arguments(']')?))
            }
            Some(op @ ('-' | '!' | '+')) => {
                self.i += 1;
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(self.err("Maximum call stack size exceeded".into()));
                }
                let arg = self.token();
                self.depth -= 1;
                let arg = arg?;
                Ok(Node::Unary {
                    op,
                    arg: Box::new(arg),
                })
            }
            _ if is_ident_start(c) || c == Some('(') => self.variable(),
            _ => Ok(Node::Empty),
        }
    }

    fn numeric_literal(&mut self) -> PResult {
        let mut number = String::new();
        while let Some(c @ '0'..='9') = self.cur() {
            number.push(c);
            self.i += 1;
        }
        if self.cur() == Some('.') {
            number.push('.');
            self.i += 1;
            while let Some(c @ '0'..='9') = self.cur() {
                number.push(c);
                self.i += 1;
            }
        }
        if let Some(c @ ('e' | 'E')) = self.cur() {
            number.push(c);
            self.i += 1;
            if let Some(c @ ('+' | '-')) = self.cur() {
                number.push(c);
                self.i += 1;
            }
            while let Some(c @ '0'..='9') = self.cur() {
                number.push(c);
                self.i += 1;
            }
            if !matches!(self.ch(self.i.wrapping_sub(1)), Some('0'..='9')) {
                let next = self.cur().map(String::from).unwrap_or_default();
                return Err(self.err(format!("Expected exponent ({}{})", number, next)));
            }
        }
        if is_ident_start(self.cur()) {
            let next = self.cur().map(String::from).unwrap_or_default();
            return Err(self.err(format!(
                "Variable names cannot start with a number ({}{})",
                number, next
            )));
        } else if self.cur() == Some('.') {
            return Err(self.err("Unexpected period".into()));
        }
        Ok(Node::Literal(Value::Num(parse_float(&number))))
    }

    fn string_literal(&mut self) -> PResult {
        let quote = self.cur();
        self.i += 1;
        let mut s = String::new();
        let mut closed = false;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            self.i += 1;
            if Some(c) == quote {
                closed = true;
                break;
            } else if c == '\\' {
                let e = self.cur();
                self.i += 1;
                match e {
                    Some('n') => s.push('\n'),
                    Some('r') => s.push('\r'),
                    Some('t') => s.push('\t'),
                    Some('b') => s.push('\u{8}'),
                    Some('f') => s.push('\u{c}'),
                    Some('v') => s.push('\u{b}'),
                    Some(c) => s.push(c),
                    None => {}
                }
            } else {
                s.push(c);
            }
        }
        if !closed {
            return Err(self.err(format!("Unclosed quote after \"{}\"", s)));
        }
        Ok(Node::Literal(Value::str(&s)))
    }

    fn identifier(&mut self) -> PResult {
        let start = self.i;
        if is_ident_start(self.cur()) {
            self.i += 1;
        } else {
            let c = self.cur().map(String::from).unwrap_or_default();
            return Err(self.err(format!("Unexpected {}", c)));
        }
        while self.i < self.s.len() && is_ident_part(self.cur()) {
            self.i += 1;
        }
        let id: String = self.s[start..self.i].iter().collect();
        Ok(match id.as_str() {
            "true" => Node::Literal(Value::Bool(true)),
            "false" => Node::Literal(Value::Bool(false)),
            "null" => Node::Literal(Value::Null),
            "this" => Node::This,
            _ => Node::Identifier(id),
        })
    }

    fn arguments(&mut self, term: char) -> Result<Vec<Node>, ParseError> {
        let mut args = Vec::new();
        let mut closed = false;
        let mut separators = 0usize;
        while self.i < self.s.len() {
            self.spaces();
            let c = self.cur();
            if c == Some(term) {
                closed = true;
                self.i += 1;
                if term == ')' && separators > 0 && separators >= args.len() {
                    return Err(self.err(format!("Unexpected token {}", term)));
                }
                break;
            } else if c == Some(',') {
                self.i += 1;
                separators += 1;
                if separators != args.len() {
                    if term == ')' {
                        return Err(self.err("Unexpected token ,".into()));
                    } else {
                        while args.len() < separators {
                            args.push(Node::Hole);
                        }
                    }
                }
            } else {
                let node = self.expression()?;
                if node.is_empty() {
                    return Err(self.err("Expected comma".into()));
                }
                args.push(node);
            }
        }
        if !closed {
            return Err(self.err(format!("Expected {}", term)));
        }
        Ok(args)
    }

    fn variable(&mut self) -> PResult {
        let mut node = if self.cur() == Some('(') {
            self.group()?
        } else {
            self.identifier()?
        };
        self.spaces();
        while let Some(c @ ('.' | '[' | '(')) = self.cur() {
            self.i += 1;
            match c {
                '.' => {
                    self.spaces();
                    let property = self.identifier()?;
                    node = Node::Member {
                        object: Box::new(node),
                        property: Box::new(property),
                        computed: false,
                    };
                }
                '[' => {
                    let property = self.expression()?;
                    node = Node::Member {
                        object: Box::new(node),
                        property: Box::new(property),
                        computed: true,
                    };
                    self.spaces();
                    if self.cur() != Some(']') {
                        return Err(self.err("Unclosed [".into()));
                    }
                    self.i += 1;
                }
                _ => {
                    let args = self.arguments(')')?;
                    node = Node::Call {
                        callee: Box::new(node),
                        args,
                    };
                }
            }
            self.spaces();
        }
        Ok(node)
    }

    fn group(&mut self) -> PResult {
        self.i += 1;
        let node = self.expression()?;
        self.spaces();
        if self.cur() == Some(')') {
            self.i += 1;
            Ok(node)
        } else {
            Err(self.err("Unclosed (".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects_like_builder() {
        for ok in [
            "1 + 2 * 3",
            "a.b[c](d, e)",
            "",
            " ",
            "* 3",
            "a b",
            "[1,,2]",
            "()",
            "-",
            "x ? 1 : 2",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a}", "1 +", "f(a,)", "f(,a)", "\"abc", "a = 1", "1a", "(1", "a ? 1", "1 === 1",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
