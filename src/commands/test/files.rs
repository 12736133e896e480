//! Test file discovery (glob patterns, `--tests` selection, partner files) and the session
//! code deployed for one test file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rand::Rng;

/// The impUnit-compatible framework that runs on the device or agent.
pub const FRAMEWORK: &str = include_str!("../../../templates/impunit/impunit.nut");

/// A test file found by the patterns of `.impt.test`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestFileEntry {
    /// As the glob found it (relative to the current directory).
    pub name: String,
    pub path: PathBuf,
    /// `agent` or `device`.
    pub kind: &'static str,
    /// `x.device.nut` of `x.agent.test.nut` (and the reverse), when present.
    pub partner: Option<String>,
}

/// `--tests [file][:Class][::method]` split into the file pattern, class and method.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub file: Option<String>,
    pub class: String,
    pub method: String,
}

impl Selection {
    pub fn parse(selected: Option<&str>) -> Selection {
        let Some(sel) = selected.filter(|s| !s.is_empty()) else {
            return Selection::default();
        };
        let (file, case) = match sel.find(':') {
            Some(i) => (sel[..i].replace('\\', "/"), &sel[i..]),
            None => (sel.to_string(), ""),
        };
        let (class, method) = match case.rfind("::") {
            Some(i) => (
                case.get(1..i).unwrap_or_default().to_string(),
                case[i + 2..].to_string(),
            ),
            None if !case.is_empty() => (case[1..].to_string(), String::new()),
            None => (String::new(), String::new()),
        };
        Selection {
            file: Some(file).filter(|f| !f.is_empty()),
            class,
            method,
        }
    }

    /// Whether a found file passes the file part (a regular expression searched in the path).
    pub fn file_matches(&self, file: &str) -> bool {
        match &self.file {
            None => true,
            Some(p) => match regex::Regex::new(p) {
                Ok(re) => re.is_match(file),
                Err(_) => file.contains(p.as_str()),
            },
        }
    }
}

/// One path segment of a glob as a regular expression.
fn segment_regex(seg: &str) -> regex::Regex {
    let mut re = String::from("^");
    let mut chars = seg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let mut class = String::from("[");
                let mut closed = false;
                for d in chars.by_ref() {
                    if d == ']' {
                        closed = true;
                        break;
                    }
                    if d == '!' && class.len() == 1 {
                        class.push('^');
                    } else {
                        class.push(d);
                    }
                }
                if closed {
                    class.push(']');
                    re.push_str(&class);
                } else {
                    re.push_str(&regex::escape(&class));
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap_or_else(|_| regex::Regex::new("^$").expect("valid"))
}

fn sorted_entries(dir: &Path) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let is_dir = e.path().is_dir();
                    (e.file_name().to_string_lossy().into_owned(), is_dir)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn walk(dir: &Path, prefix: &str, segs: &[&str], out: &mut BTreeSet<String>) {
    let Some(seg) = segs.first() else {
        return;
    };
    if *seg == "**" {
        walk(dir, prefix, &segs[1..], out);
        for (name, is_dir) in sorted_entries(dir) {
            if is_dir && !name.starts_with('.') {
                walk(&dir.join(&name), &format!("{prefix}{name}/"), segs, out);
            }
        }
        return;
    }
    let re = segment_regex(seg);
    for (name, is_dir) in sorted_entries(dir) {
        if name.starts_with('.') && !seg.starts_with('.') {
            continue;
        }
        if !re.is_match(&name) {
            continue;
        }
        let rel = format!("{prefix}{name}");
        if segs.len() == 1 {
            out.insert(rel);
        } else if is_dir {
            walk(&dir.join(&name), &format!("{rel}/"), &segs[1..], out);
        }
    }
}

/// Paths matching a glob pattern (`*`, `?`, `[…]`, `**`), relative to `cwd`, sorted.
pub fn glob(pattern: &str, cwd: &Path) -> Vec<String> {
    let (base, prefix, rest) = match pattern.strip_prefix('/') {
        Some(r) => (PathBuf::from("/"), "/".to_string(), r),
        None => (cwd.to_path_buf(), String::new(), pattern),
    };
    let segs: Vec<&str> = rest
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let mut out = BTreeSet::new();
    walk(&base, &prefix, &segs, &mut out);
    out.into_iter().collect()
}

/// Whether a test file is an agent test: its name has the word `agent`.
pub fn kind_of(name: &str) -> &'static str {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"(?i)\bagent\b").expect("valid"));
    if re.is_match(name) {
        "agent"
    } else {
        "device"
    }
}

/// The test files of the patterns (in pattern order), with their partners. Returns the
/// files and the names skipped by the selection.
pub fn find(patterns: &[String], sel: &Selection, cwd: &Path) -> (Vec<TestFileEntry>, Vec<String>) {
    static PARTNER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let partner_re = PARTNER
        .get_or_init(|| regex::Regex::new(r"(?i)\.(agent|device)\.test\.nut$").expect("valid"));
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for pattern in patterns {
        for name in glob(pattern, cwd) {
            if !sel.file_matches(&name) {
                skipped.push(name);
                continue;
            }
            let kind = kind_of(&name);
            let partner = if partner_re.is_match(&name) {
                let other = if kind == "agent" { ".device" } else { ".agent" };
                let p = format!("{}{other}.nut", partner_re.replace(&name, ""));
                Some(p).filter(|p| cwd.join(p).exists())
            } else {
                None
            };
            files.push(TestFileEntry {
                path: cwd.join(&name),
                name,
                kind,
                partner,
            });
        }
    }
    (files, skipped)
}

const WORDS: &[&str] = &[
    "amber", "anchor", "apple", "arrow", "autumn", "badge", "basket", "beacon", "berry", "blossom",
    "breeze", "bridge", "brook", "button", "cable", "candle", "canyon", "carbon", "castle",
    "cedar", "chalk", "cherry", "circle", "cloud", "clover", "comet", "copper", "coral", "cotton",
    "crystal", "dawn", "delta", "desert", "dolphin", "dragon", "dune", "eagle", "echo", "ember",
    "falcon", "feather", "fern", "field", "flame", "forest", "fossil", "fountain", "garden",
    "glacier", "granite", "harbor", "hazel", "horizon", "island", "ivory", "jasper", "jungle",
    "kettle", "lantern", "lemon", "lily", "magnet", "maple", "marble", "meadow", "meteor",
    "mirror", "moss", "mountain", "nectar", "night", "oasis", "ocean", "olive", "orbit", "orchid",
    "pebble", "pepper", "pine", "planet", "pocket", "prairie", "quartz", "rain", "raven", "ribbon",
    "river", "rocket", "saddle", "sand", "shadow", "silver", "spark", "spring", "stone", "summer",
    "sunset", "thunder", "timber", "tulip", "valley", "velvet", "willow", "winter", "zephyr",
];

/// Two random words joined by `-`: the id of a test session.
pub fn session_id() -> String {
    let mut rng = rand::thread_rng();
    let a = WORDS[rng.gen_range(0..WORDS.len())];
    let b = WORDS[rng.gen_range(0..WORDS.len())];
    format!("{a}-{b}")
}

/// 32 random alphanumerics: makes every deployment's code differ.
pub fn random_trigger() -> String {
    use rand::distributions::Alphanumeric;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Settings of the runner bootstrap.
pub struct Bootstrap<'a> {
    pub session: &'a str,
    pub timeout: f64,
    pub stop_on_failure: bool,
    pub class: &'a str,
    pub method: &'a str,
    /// Seconds between loading the code and starting the tests.
    pub delay: f64,
    /// An agent test starts once the device's code has run (it says so with a message,
    /// [`DEVICE_READY`]), at the latest [`DEVICE_READY_WAIT`] seconds after loading (the
    /// original's fixed wait, during which a real device starts): on the sim, where a
    /// device may still be downloading its code (`impt sim --device-boot-delay`).
    pub wait_device: bool,
}

/// The message the device's code sends its agent when it has run (see
/// [`Bootstrap::wait_device`]).
pub const DEVICE_READY: &str = "__impt_device_ready__";
/// Seconds an agent test waits at most for [`DEVICE_READY`]: the original's wait.
pub const DEVICE_READY_WAIT: f64 = 2.0;

fn js_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn squirrel_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The Builder sources (before preprocessing) of the two sides of a session: the tested
/// side gets the tests module and the runner bootstrap; the framework itself is prepended
/// after preprocessing (see [`with_framework`]).
pub struct SessionSources {
    pub agent: String,
    pub device: String,
}

pub fn session_sources(
    file: &TestFileEntry,
    agent_source: Option<&str>,
    device_source: Option<&str>,
    cwd: &Path,
    b: &Bootstrap,
) -> SessionSources {
    let include = |p: &str| format!("@include \"{}\"", p.replace('\\', "/").replace('"', "\\\""));
    let agent_inc = agent_source
        .map(include)
        .unwrap_or_else(|| "/* no agent source */".into());
    let device_inc = device_source
        .map(include)
        .unwrap_or_else(|| "/* no device source */".into());
    let partner_inc = file
        .partner
        .as_ref()
        .map(|p| include(&cwd.join(p).to_string_lossy()))
        .unwrap_or_default();
    let start = format!(
        "function() {{\n  \
           local runner = ImpUnitRunner();\n  \
           runner.readableOutput = false;\n  \
           runner.session = \"{}\";\n  \
           runner.timeout = {};\n  \
           runner.stopOnFailure = {};\n  \
           runner.testClass = \"{}\";\n  \
           runner.testCase = \"{}\";\n  \
           runner.run();\n\
         }}",
        squirrel_string(b.session),
        js_number(b.timeout),
        b.stop_on_failure,
        squirrel_string(b.class),
        squirrel_string(b.method),
    );
    let wait_device = b.wait_device && file.kind == "agent";
    let bootstrap = if wait_device {
        format!(
            "// start the tests once the device's code has run (or after a while)\n\
             local start = {start};\n\
             local timer = null;\n\
             local go = function(_ = null) {{\n  \
               if (timer == null) return;\n  \
               imp.cancelwakeup(timer);\n  \
               timer = null;\n  \
               imp.wakeup(0, start);\n\
             }};\n\
             timer = imp.wakeup({}, go);\n\
             device.on(\"{DEVICE_READY}\", go);",
            js_number(DEVICE_READY_WAIT)
        )
    } else {
        format!(
            "// start the tests once the service messages are out\n\
             imp.wakeup({}, {start});",
            js_number(b.delay)
        )
    };
    let tests = format!(
        "{{own}}\n\n// tests module\nfunction __module_tests(ImpTestCase) {{\n{}\n}}\n\n\
         // tests bootstrap module\nfunction __module_tests_bootstrap(ImpUnitRunner) {{\n\
         #line 1 \"__tests_bootstrap__\"\n{bootstrap}\n}}\n\n\
         // resolve modules\n\
         __module_tests(__module_impUnit_exports.ImpTestCase);\n\
         __module_tests_bootstrap(__module_impUnit_exports.ImpUnitRunner);\n",
        include(&file.path.to_string_lossy()),
    );
    let trigger = format!("// force code update\n\"{}\"\n", random_trigger());
    if file.kind == "agent" {
        SessionSources {
            agent: tests.replace("{own}", &agent_inc),
            device: if wait_device {
                format!(
                    "{device_inc}\n\n{partner_inc}\n\nagent.send(\"{DEVICE_READY}\", null);\n{trigger}"
                )
            } else {
                format!("{device_inc}\n\n{partner_inc}\n\n{trigger}")
            },
        }
    } else {
        SessionSources {
            device: format!("{}\n{trigger}", tests.replace("{own}", &device_inc)),
            agent: format!("{agent_inc}\n\n{partner_inc}\n"),
        }
    }
}

/// The framework followed by preprocessed code of the tested side.
pub fn with_framework(code: &str) -> String {
    format!("{FRAMEWORK}\n{code}")
}

/// Whether the tested side's code has the selected class and method (else the file is
/// skipped).
pub fn has_selection(code: &str, class: &str, method: &str) -> bool {
    let found = |kw: &str, name: &str| {
        regex::Regex::new(&format!(r"{kw}\s*{}", regex::escape(name)))
            .map(|re| re.is_match(code))
            .unwrap_or(true)
    };
    (class.is_empty() || found("class", class)) && (method.is_empty() || found("function", method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection() {
        assert_eq!(Selection::parse(None), Selection::default());
        let s = Selection::parse(Some("abc:My::testX"));
        assert_eq!(s.file.as_deref(), Some("abc"));
        assert_eq!(s.class, "My");
        assert_eq!(s.method, "testX");
        let s = Selection::parse(Some(":My"));
        assert_eq!(s.file, None);
        assert_eq!(s.class, "My");
        let s = Selection::parse(Some("::testY"));
        assert_eq!(s.class, "");
        assert_eq!(s.method, "testY");
        assert!(Selection::parse(Some("a.*b")).file_matches("xa1b"));
    }

    #[test]
    fn globbing_and_partners() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("tests/sub")).unwrap();
        std::fs::create_dir_all(p.join(".hidden")).unwrap();
        for f in [
            "a.test.nut",
            "b.agent.test.nut",
            "b.device.nut",
            ".x.test.nut",
            "tests/c.test.nut",
            "tests/sub/d.test.nut",
            ".hidden/e.test.nut",
            "tests/other.nut",
        ] {
            std::fs::write(p.join(f), "").unwrap();
        }
        assert_eq!(
            glob("*.test.nut", p),
            vec!["a.test.nut", "b.agent.test.nut"]
        );
        assert_eq!(
            glob("tests/**/*.test.nut", p),
            vec!["tests/c.test.nut", "tests/sub/d.test.nut"]
        );
        let (files, _) = find(&["*.test.nut".to_string()], &Selection::default(), p);
        assert_eq!(files[1].kind, "agent");
        assert_eq!(files[1].partner.as_deref(), Some("b.device.nut"));
        assert_eq!(files[0].kind, "device");
        let (files, skipped) = find(
            &["*.test.nut".to_string()],
            &Selection::parse(Some("agent")),
            p,
        );
        assert_eq!(files.len(), 1);
        assert_eq!(skipped, vec!["a.test.nut"]);
    }

    #[test]
    fn selection_check() {
        let code = "class MyCase extends ImpTestCase {\n function testOne() {}\n}";
        assert!(has_selection(code, "MyCase", "testOne"));
        assert!(!has_selection(code, "Other", ""));
        assert!(!has_selection(code, "", "testTwo"));
        assert!(session_id().contains('-'));
    }
}

#[cfg(test)]
mod framework_tests {
    #[test]
    fn framework_compiles_in_the_sim() {
        assert!(impt_sim::compile(super::FRAMEWORK, "").is_empty());
        assert!(!super::FRAMEWORK
            .lines()
            .any(|l| l.trim_start().starts_with('@')));
    }
}
