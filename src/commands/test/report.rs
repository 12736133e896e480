//! `test run --report junit|json FILE`: a machine-readable result per test (file, name,
//! time, outcome and failure message), collected by the runner as the framework's messages
//! arrive. Test methods of a session that never started are listed as not run, with the
//! reason; failures of `setUp()`/`tearDown()` are entries of their own.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};

use crate::error::{ImptError, Result};

/// An output format and its file, from `--report FORMAT FILE` (repeatable).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub junit: bool,
    pub path: PathBuf,
}

/// The `--report` values (pairs of format and file); `Err` for an unknown format.
pub fn targets(values: &[String]) -> Result<Vec<Target>> {
    values
        .chunks(2)
        .map(|pair| match pair {
            [format, path] if format == "junit" || format == "json" => Ok(Target {
                junit: format == "junit",
                path: PathBuf::from(path),
            }),
            [format, _] => Err(ImptError::msg(format!(
                "Unknown report format \"{format}\" (junit or json)."
            ))),
            _ => Err(ImptError::msg("--report needs a format and a file.")),
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Passed,
    Failed(String),
    /// The session never started (the reason), or stopped before the test ran.
    NotRun(String),
    /// The test file itself failed: its code did not compile or load (JUnit `<error>`).
    Error(String),
}

/// Where a failure happened in the user's files: `file:line`, and the stack frames
/// (`file:line (function)`, innermost first) that lead there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub frames: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub file: String,
    /// `Class::method()` as the framework names it; `(compile)` or `(load)` for a file
    /// whose code failed before any test ran.
    pub name: String,
    pub secs: f64,
    pub outcome: Outcome,
    pub at: Option<Location>,
}

impl Entry {
    /// A test method (not `setUp()`/`tearDown()`, not a file's own failure).
    fn is_test(&self) -> bool {
        self.name
            .split("::")
            .nth(1)
            .is_some_and(|m| m.starts_with("test"))
    }
}

/// The results of one `test run`.
#[derive(Default)]
pub struct Report {
    entries: Vec<Entry>,
    file: String,
    /// Test methods of the session's tested code (`Class::method()`), for the ones that
    /// never ran.
    expected: Vec<String>,
    running: Option<(usize, Instant)>,
    started: bool,
}

/// `Class::method()` names of the test methods in `code` (classes extending a test case).
pub fn test_methods(code: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(?m)\bclass\s+(\w+)\s+extends\b|\bfunction\s+(test\w*)\s*\(")
            .expect("valid")
    });
    let mut class = String::new();
    let mut out = Vec::new();
    for c in re.captures_iter(code) {
        if let Some(k) = c.get(1) {
            class = k.as_str().to_string();
        } else if let Some(m) = c.get(2) {
            if !class.is_empty() {
                out.push(format!("{class}::{}()", m.as_str()));
            }
        }
    }
    out
}

impl Report {
    /// A session of `file` starts; `expected` are its test methods.
    pub fn begin_session(&mut self, file: &str, expected: Vec<String>) {
        self.file = file.to_string();
        self.expected = expected;
        self.running = None;
        self.started = false;
    }

    /// The framework's `SESSION_START`.
    pub fn session_started(&mut self) {
        self.started = true;
    }

    /// `TEST_START` of `name`.
    pub fn start(&mut self, name: &str) {
        self.close("the next test started before this one ended");
        self.entries.push(Entry {
            file: self.file.clone(),
            name: name.to_string(),
            secs: 0.0,
            outcome: Outcome::Passed,
            at: None,
        });
        self.running = Some((self.entries.len() - 1, Instant::now()));
    }

    fn settle(&mut self, outcome: Outcome, at: Option<Location>) {
        if let Some((i, t)) = self.running.take() {
            self.entries[i].secs = t.elapsed().as_secs_f64();
            self.entries[i].outcome = outcome;
            self.entries[i].at = at;
        }
    }

    /// `TEST_OK` of the running test.
    pub fn ok(&mut self) {
        self.settle(Outcome::Passed, None);
    }

    /// `TEST_FAIL` of the running test, with the failing assertion's place when known.
    pub fn fail(&mut self, message: &str, at: Option<Location>) {
        self.settle(Outcome::Failed(message.to_string()), at);
    }

    /// The file's code failed before its tests ran (`name`: `(compile)` or `(load)`): one
    /// error entry for the file.
    pub fn file_error(&mut self, name: &str, message: &str, at: Option<Location>) {
        self.close("the file's code failed");
        self.entries.push(Entry {
            file: self.file.clone(),
            name: name.to_string(),
            secs: 0.0,
            outcome: Outcome::Error(message.to_string()),
            at,
        });
    }

    fn close(&mut self, why: &str) {
        if self.running.is_some() {
            self.settle(Outcome::Failed(why.to_string()), None);
        }
    }

    /// The session ended; `reason` says why when it did not end normally. Tests that never
    /// ran are listed with that reason.
    pub fn end_session(&mut self, reason: Option<&str>) {
        let why = reason.unwrap_or("the session ended").to_string();
        self.close(&why);
        let ran: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.file == self.file)
            .map(|e| e.name.clone())
            .collect();
        let missing: Vec<String> = self
            .expected
            .iter()
            .filter(|m| !ran.contains(m))
            .cloned()
            .collect();
        if !self.started || reason.is_some() {
            let why = if self.started {
                why
            } else {
                format!("session did not start: {why}")
            };
            for name in missing {
                self.entries.push(Entry {
                    file: self.file.clone(),
                    name,
                    secs: 0.0,
                    outcome: Outcome::NotRun(why.clone()),
                    at: None,
                });
            }
        }
        self.expected.clear();
    }

    /// Adds the entries of another run's report (a parallel job's) after this one's.
    pub fn append(&mut self, other: Report) {
        self.entries.extend(other.entries);
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Test methods in the report (whatever their outcome).
    pub fn tests(&self) -> usize {
        self.entries.iter().filter(|e| e.is_test()).count()
    }

    /// Files whose code failed before their tests ran.
    pub fn errors(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Error(_)))
            .count()
    }

    /// (tests, passed, failed, not run) over test methods.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let tests: Vec<&Entry> = self.entries.iter().filter(|e| e.is_test()).collect();
        let passed = tests
            .iter()
            .filter(|e| e.outcome == Outcome::Passed)
            .count();
        let failed = tests
            .iter()
            .filter(|e| matches!(e.outcome, Outcome::Failed(_)))
            .count();
        (tests.len(), passed, failed, tests.len() - passed - failed)
    }

    pub fn to_json(&self) -> Value {
        let (tests, passed, failed, not_run) = self.counts();
        let results: Vec<Value> = self
            .entries
            .iter()
            .map(|e| {
                let (status, message) = match &e.outcome {
                    Outcome::Passed => ("passed", None),
                    Outcome::Failed(m) => ("failed", Some(m.clone())),
                    Outcome::NotRun(m) => ("not run", Some(m.clone())),
                    Outcome::Error(m) => ("error", Some(m.clone())),
                };
                let kind = if matches!(e.outcome, Outcome::Error(_)) {
                    "file"
                } else if e.is_test() {
                    "test"
                } else {
                    "fixture"
                };
                let mut v = json!({
                    "file": e.file,
                    "name": e.name,
                    "kind": kind,
                    "status": status,
                    "time": (e.secs * 1000.0).round() / 1000.0,
                    "message": message,
                });
                if let Some(at) = &e.at {
                    v["location"] = json!(format!("{}:{}", at.file, at.line));
                    v["line"] = json!(at.line);
                    v["frames"] = json!(at.frames);
                }
                v
            })
            .collect();
        json!({
            "tests": tests,
            "passed": passed,
            "failed": failed,
            "not_run": not_run,
            "errors": self.errors(),
            "results": results,
        })
    }

    pub fn to_junit(&self) -> String {
        let mut files: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !files.contains(&e.file.as_str()) {
                files.push(&e.file);
            }
        }
        let failed = |e: &&Entry| matches!(e.outcome, Outcome::Failed(_));
        let errored = |e: &&Entry| matches!(e.outcome, Outcome::Error(_));
        let skipped = |e: &&Entry| matches!(e.outcome, Outcome::NotRun(_));
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuites name=\"impt test run\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
            self.entries.len(),
            self.entries.iter().filter(failed).count(),
            self.entries.iter().filter(errored).count(),
            self.entries.iter().filter(skipped).count()
        ));
        for f in files {
            let items: Vec<&Entry> = self.entries.iter().filter(|e| e.file == f).collect();
            let time: f64 = items.iter().map(|e| e.secs).sum();
            out.push_str(&format!(
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
                xml(f),
                items.len(),
                items.iter().filter(|e| failed(e)).count(),
                items.iter().filter(|e| errored(e)).count(),
                items.iter().filter(|e| skipped(e)).count(),
                time
            ));
            for e in items {
                let (class, method) = e.name.split_once("::").unwrap_or(("", &e.name));
                let line = match &e.at {
                    Some(at) if at.file == e.file => format!(" line=\"{}\"", at.line),
                    _ => String::new(),
                };
                out.push_str(&format!(
                    "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"{line} time=\"{:.3}\"",
                    xml(class),
                    xml(method.trim_end_matches("()")),
                    xml(&e.file),
                    e.secs
                ));
                let (tag, m) = match &e.outcome {
                    Outcome::Passed => {
                        out.push_str("/>\n");
                        continue;
                    }
                    Outcome::Failed(m) => ("failure", m),
                    Outcome::Error(m) => ("error", m),
                    Outcome::NotRun(m) => ("skipped", m),
                };
                let mut body = m.clone();
                if let Some(at) = &e.at {
                    for f in &at.frames {
                        body.push_str(&format!("\n  at {f}"));
                    }
                }
                out.push_str(&format!(
                    ">\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>\n",
                    xml(m),
                    xml(&body)
                ));
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// Writes every target (atomically).
    pub fn write(&self, targets: &[Target]) -> Result<()> {
        for t in targets {
            let text = if t.junit {
                self.to_junit()
            } else {
                serde_json::to_string_pretty(&self.to_json()).unwrap_or_default() + "\n"
            };
            crate::config::write_atomic(Path::new(&t.path), text.as_bytes(), false)?;
        }
        Ok(())
    }
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_and_writes() {
        let code = "class A extends ImpTestCase {\n function setUp() {}\n function testOne() {}\n function testTwo() {}\n}";
        assert_eq!(test_methods(code), vec!["A::testOne()", "A::testTwo()"]);
        let mut r = Report::default();
        r.begin_session("a.test.nut", test_methods(code));
        r.session_started();
        r.start("A::setUp()");
        r.fail("setup <broke>", None);
        r.start("A::testOne()");
        r.ok();
        r.start("A::testTwo()");
        let at = Location {
            file: "a.test.nut".into(),
            line: 4,
            frames: vec!["a.test.nut:4 (testTwo)".into(), "lib.nut:9 (helper)".into()],
        };
        r.fail("4 != 2", Some(at));
        r.end_session(Some("Testing timeout"));
        r.begin_session("b.test.nut", vec!["B::testX()".into()]);
        r.file_error("(load)", "cannot load", None);
        r.end_session(Some("boom"));
        assert_eq!(r.counts(), (3, 1, 1, 1));
        assert_eq!(r.errors(), 1);
        let j = r.to_json();
        assert_eq!(j["results"][0]["kind"], "fixture");
        assert_eq!(j["results"][0]["message"], "setup <broke>");
        assert_eq!(j["results"][2]["location"], "a.test.nut:4");
        assert_eq!(j["results"][2]["line"], 4);
        assert_eq!(j["results"][2]["frames"][1], "lib.nut:9 (helper)");
        assert_eq!(j["results"][3]["status"], "error");
        assert_eq!(j["results"][3]["kind"], "file");
        assert_eq!(j["results"][4]["status"], "not run");
        assert_eq!(j["results"][4]["message"], "session did not start: boom");
        assert_eq!(j["errors"], 1);
        let x = r.to_junit();
        assert!(x.contains("message=\"setup &lt;broke&gt;\""), "{x}");
        assert!(
            x.contains("<testcase classname=\"B\" name=\"testX\""),
            "{x}"
        );
        assert!(
            x.contains("name=\"testTwo\" file=\"a.test.nut\" line=\"4\""),
            "{x}"
        );
        assert!(
            x.contains("4 != 2\n  at a.test.nut:4 (testTwo)\n  at lib.nut:9 (helper)</failure>"),
            "{x}"
        );
        assert!(x.contains("<error message=\"cannot load\">"), "{x}");
        assert!(
            x.contains("<skipped message=\"session did not start: boom\">"),
            "{x}"
        );
        assert!(
            x.contains("tests=\"5\" failures=\"2\" errors=\"1\" skipped=\"1\""),
            "{x}"
        );
        assert!(targets(&["xml".into(), "f".into()]).is_err());
        assert_eq!(
            targets(&["junit".into(), "r.xml".into()]).unwrap()[0],
            Target {
                junit: true,
                path: "r.xml".into()
            }
        );
    }
}
