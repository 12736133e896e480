//! Builds the instruction tree from tokens, with Builder's block rules and error messages.

use super::error::BuilderError;
use super::lexer::{tokenize, Directive, Token};

#[derive(Debug, Clone)]
pub struct ElseIf {
    pub test: String,
    pub body: Vec<Instr>,
}

#[derive(Debug, Clone)]
pub enum Instr {
    Include {
        value: String,
        once: bool,
        line: usize,
    },
    Set {
        variable: String,
        value: String,
        line: usize,
    },
    Error {
        value: String,
        line: usize,
    },
    Warning {
        value: String,
        line: usize,
    },
    /// Literal text (`computed == false`) or an inline expression.
    Output {
        value: String,
        expression: bool,
        line: usize,
    },
    Conditional {
        test: String,
        consequent: Vec<Instr>,
        elseifs: Vec<ElseIf>,
        alternate: Option<Vec<Instr>>,
        line: usize,
    },
    Macro {
        declaration: String,
        body: Vec<Instr>,
        line: usize,
    },
    Loop {
        test: String,
        is_while: bool,
        body: Vec<Instr>,
        line: usize,
    },
}

impl Instr {
    pub fn line(&self) -> usize {
        match self {
            Instr::Include { line, .. }
            | Instr::Set { line, .. }
            | Instr::Error { line, .. }
            | Instr::Warning { line, .. }
            | Instr::Output { line, .. }
            | Instr::Conditional { line, .. }
            | Instr::Macro { line, .. }
            | Instr::Loop { line, .. } => *line,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Ok,
    Macro,
    While,
    Repeat,
    IfConsequent,
    IfElseIf,
    IfAlternate,
}

enum Frame<'a> {
    Block(&'a mut Vec<Instr>),
    If {
        consequent: &'a mut Vec<Instr>,
        elseifs: &'a mut Vec<ElseIf>,
        alternate: &'a mut Option<Vec<Instr>>,
    },
}

struct P<'f> {
    tokens: std::vec::IntoIter<Token>,
    file: &'f str,
    last_line: usize,
}

/// Parse a source into instructions. `file` (a base name) is used in error messages.
pub fn parse(source: &str, file: &str) -> Result<Vec<Instr>, BuilderError> {
    let mut p = P {
        tokens: tokenize(source, file).into_iter(),
        file,
        last_line: 0,
    };
    let mut root = Vec::new();
    p.run(Frame::Block(&mut root), State::Ok)?;
    Ok(root)
}

impl P<'_> {
    fn err(&self, msg: &str, line: usize) -> BuilderError {
        BuilderError::syntax(format!("{} ({}:{})", msg, self.file, line), self.file, line)
    }

    fn append(frame: &mut Frame, state: State, node: Instr) {
        match frame {
            Frame::Block(v) => v.push(node),
            Frame::If {
                consequent,
                elseifs,
                alternate,
            } => match state {
                State::IfElseIf => {
                    if let Some(e) = elseifs.last_mut() {
                        e.body.push(node)
                    }
                }
                State::IfAlternate => {
                    if let Some(a) = alternate.as_mut() {
                        a.push(node)
                    }
                }
                _ => consequent.push(node),
            },
        }
    }

    fn run(&mut self, mut frame: Frame, mut state: State) -> Result<(), BuilderError> {
        let is_if = |s: State| {
            matches!(
                s,
                State::IfConsequent | State::IfElseIf | State::IfAlternate
            )
        };
        while let Some(token) = self.tokens.next() {
            let (kind, arg, once, line) = match token {
                Token::Err(e) => return Err(e),
                Token::Text { text, line } => {
                    self.last_line = line;
                    Self::append(
                        &mut frame,
                        state,
                        Instr::Output {
                            value: text,
                            expression: false,
                            line,
                        },
                    );
                    continue;
                }
                Token::Inline { expr, line } => {
                    self.last_line = line;
                    Self::append(
                        &mut frame,
                        state,
                        Instr::Output {
                            value: expr,
                            expression: true,
                            line,
                        },
                    );
                    continue;
                }
                Token::Directive {
                    kind,
                    arg,
                    once,
                    line,
                } => (kind, arg, once, line),
            };
            self.last_line = line;
            match kind {
                Directive::Include => Self::append(
                    &mut frame,
                    state,
                    Instr::Include {
                        value: arg,
                        once,
                        line,
                    },
                ),
                Directive::Set => {
                    let (variable, value) = super::lexer::set_parts(&arg).unwrap_or(("", ""));
                    let node = Instr::Set {
                        variable: variable.to_string(),
                        value: value.to_string(),
                        line,
                    };
                    Self::append(&mut frame, state, node)
                }
                Directive::Error => {
                    Self::append(&mut frame, state, Instr::Error { value: arg, line })
                }
                Directive::Warning => {
                    Self::append(&mut frame, state, Instr::Warning { value: arg, line })
                }
                Directive::If => {
                    let (mut consequent, mut elseifs, mut alternate) =
                        (Vec::new(), Vec::new(), None);
                    self.run(
                        Frame::If {
                            consequent: &mut consequent,
                            elseifs: &mut elseifs,
                            alternate: &mut alternate,
                        },
                        State::IfConsequent,
                    )?;
                    let node = Instr::Conditional {
                        test: arg,
                        consequent,
                        elseifs,
                        alternate,
                        line,
                    };
                    Self::append(&mut frame, state, node)
                }
                Directive::Else => {
                    if !is_if(state) {
                        return Err(self.err("Unexpected @else", line));
                    }
                    if let Frame::If { alternate, .. } = &mut frame {
                        if alternate.is_some() {
                            return Err(self.err("Multiple @else statements are not allowed", line));
                        }
                        **alternate = Some(Vec::new());
                    }
                    state = State::IfAlternate;
                }
                Directive::ElseIf => match state {
                    State::IfConsequent | State::IfElseIf => {
                        if let Frame::If { elseifs, .. } = &mut frame {
                            elseifs.push(ElseIf {
                                test: arg,
                                body: Vec::new(),
                            });
                        }
                        state = State::IfElseIf;
                    }
                    State::IfAlternate => {
                        return Err(self.err("@elseif after @else is not allowed", line))
                    }
                    _ => return Err(self.err("Unexpected @elseif", line)),
                },
                Directive::EndIf => {
                    if is_if(state) {
                        return Ok(());
                    }
                    return Err(self.err("Unexpected @endif", line));
                }
                Directive::Macro | Directive::While | Directive::Repeat => {
                    let mut body = Vec::new();
                    let sub = match kind {
                        Directive::Macro => State::Macro,
                        Directive::While => State::While,
                        _ => State::Repeat,
                    };
                    self.run(Frame::Block(&mut body), sub)?;
                    let node = match kind {
                        Directive::Macro => Instr::Macro {
                            declaration: arg,
                            body,
                            line,
                        },
                        _ => Instr::Loop {
                            test: arg,
                            is_while: kind == Directive::While,
                            body,
                            line,
                        },
                    };
                    Self::append(&mut frame, state, node)
                }
                Directive::EndMacro | Directive::EndWhile | Directive::EndRepeat => {
                    let want = match kind {
                        Directive::EndMacro => State::Macro,
                        Directive::EndWhile => State::While,
                        _ => State::Repeat,
                    };
                    if state == want {
                        return Ok(());
                    }
                    return Err(self.err(&format!("Unexpected @{}", kind.name()), line));
                }
                Directive::End => {
                    if state != State::Ok {
                        return Ok(());
                    }
                    return Err(self.err("Unexpected @end", line));
                }
            }
        }
        let what = match state {
            State::Ok => return Ok(()),
            State::Macro => "@macro",
            State::While => "@while",
            State::Repeat => "@repeat",
            _ => "@if",
        };
        Err(self.err(&format!("Unclosed {} statement", what), self.last_line))
    }
}
