//! Parsed command-line options, as the cli layer hands them to commands.

use std::collections::HashMap;

use crate::output::Mode;

#[derive(Clone, Debug, Default)]
pub struct Args {
    /// Every value given per option long name, in order; `None` for an option given without
    /// a value (flags and optional-value options).
    pub values: HashMap<String, Vec<Option<String>>>,
    pub output: Mode,
    /// The positional argument of commands that take one (`build preprocess FILE`).
    pub positional: Option<String>,
}

impl Args {
    pub fn has(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| !v.is_empty())
    }
    /// The value of a single-value option.
    pub fn str(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .and_then(|v| v.last().cloned().flatten())
    }
    /// Every value of a repeatable option.
    pub fn strs(&self, name: &str) -> Vec<String> {
        self.values
            .get(name)
            .map(|v| v.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }
    /// A flag given (and not given as `false`).
    pub fn flag(&self, name: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| v.iter().any(|x| x.as_deref() != Some("false")))
    }
    /// An optional boolean (`--x`, `--x true`, `--x false`); `None` when absent.
    pub fn opt_bool(&self, name: &str) -> Option<bool> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(|x| x.as_deref() != Some("false"))
    }
    pub fn num(&self, name: &str) -> Option<u64> {
        self.str(name).and_then(|s| s.parse().ok())
    }
    /// Builds args from `(name, value)` pairs (for tests).
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, Option<&str>)]) -> Args {
        let mut a = Args::default();
        for (k, v) in pairs {
            a.values
                .entry(k.to_string())
                .or_default()
                .push(v.map(str::to_string));
        }
        a
    }
}
