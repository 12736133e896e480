//! Errors of the preprocessor.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Directive syntax (unterminated block, unexpected `@end…`, bad `@set`, bad `@{…}`).
    Syntax,
    /// An expression could not be evaluated.
    Expression,
    /// An included source could not be found or read.
    Include,
    /// Maximum nesting depth reached (include or macro cycle).
    Cycle,
    /// Macro declared twice.
    MacroRedeclared,
    /// `@error` directive.
    User,
    /// A JavaScript library (`--lib`) could not be found or loaded.
    Library,
}

/// A preprocessing error. `Display` gives `file:line: message`; [`BuilderError::builder_message`]
/// gives the exact text npm Builder would print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderError {
    pub kind: ErrorKind,
    /// The message without position.
    pub message: String,
    /// File (path as Builder reports it) and 1-based line, when known.
    pub file: String,
    pub line: usize,
    builder_text: String,
}

impl BuilderError {
    pub fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        file: &str,
        line: usize,
        builder_text: String,
    ) -> Self {
        BuilderError {
            kind,
            message: message.into(),
            file: file.to_string(),
            line,
            builder_text,
        }
    }

    /// A syntax error; `text` is Builder's full message.
    pub fn syntax(text: String, file: &str, line: usize) -> Self {
        let message = match text.rfind(" (") {
            Some(i) => text[..i].to_string(),
            None => text.clone(),
        };
        BuilderError::new(ErrorKind::Syntax, message, file, line, text)
    }

    /// The message npm Builder 4.2.1 would report for the same error.
    pub fn builder_message(&self) -> &str {
        &self.builder_text
    }
}

impl fmt::Display for BuilderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.file.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for BuilderError {}
