//! Compile checks of deployments, with the embedded Squirrel compiler, after the code's
//! `#require` libraries are resolved as the impCloud does (see `builder::require`): an
//! unknown library, version or an unreachable source, or a library required on the wrong
//! side, is a compile error at the `#require` line; so is a library that does not compile.
//!
//! A line holding the test hook `//#sim-compile-error <text>` fails with that text at that
//! line, whatever the compiler says.

use impt_builder::require::{self, Settings, Side};
use serde_json::{json, Value};

/// One diagnostic: `(row, column, text)`, 1-based.
type Diag = (usize, usize, String);

fn hook(src: &str) -> Option<Diag> {
    src.lines().enumerate().find_map(|(i, line)| {
        let rest = line.trim().strip_prefix("//#sim-compile-error")?;
        let col = line.find("//#").unwrap_or(0) + 1;
        let text = match rest.trim() {
            "" => "compile error",
            t => t,
        };
        Some((i + 1, col, text.to_string()))
    })
}

fn check(src: &str, file: &str, side: Side, libs: &Settings) -> Option<Diag> {
    hook(src)
        .or_else(|| libraries(src, side, libs).err())
        .or_else(|| {
            impt_vm::compile_check(src, file)
                .err()
                .map(|e| (e.row as usize, e.column as usize, e.text))
        })
}

/// The `#require` libraries of `src` resolve and compile; else the error at its line.
fn libraries(src: &str, side: Side, libs: &Settings) -> Result<(), Diag> {
    let resolved = require::resolve(src, side, libs).map_err(|e| (e.row, e.column, e.text))?;
    let reqs = require::parse(src).unwrap_or_default();
    for (lib, r) in resolved.iter().zip(reqs.iter()) {
        if let Err(e) = impt_vm::compile_check(&lib.code, &lib.file) {
            return Err((
                r.row,
                r.column,
                format!(
                    "Library \"{}:{}\" does not compile: {} (line {})",
                    lib.name, lib.version, e.text, e.row
                ),
            ));
        }
    }
    Ok(())
}

/// Where the simulator's libraries come from: the folder of `impt sim --libraries`, then
/// the environment's settings (user cache, `$IMPT_GITHUB_API`).
pub fn library_settings(folder: Option<&std::path::Path>) -> Settings {
    let mut s = Settings::from_env();
    if let Some(f) = folder {
        s.folder = Some(f.to_path_buf());
    }
    s
}

/// Compilations under way at once: one core is always left to the API and the devices.
fn max_turns() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

static TURNS: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// A compile slot, held while it lives (see [`turn`]).
pub struct Turn(());

impl Drop for Turn {
    fn drop(&mut self) {
        let mut n = super::app::lock(&TURNS.0);
        *n -= 1;
        TURNS.1.notify_one();
    }
}

/// Wait for a compile slot (blocking: call it off the async runtime). Many large
/// deployments at once then take turns instead of taking every core from other requests.
pub fn turn() -> Turn {
    let max = max_turns();
    let mut n = super::app::lock(&TURNS.0);
    while *n >= max {
        n = TURNS.1.wait(n).unwrap_or_else(|e| e.into_inner());
    }
    *n += 1;
    Turn(())
}

/// Runs `f`, the whole of a large request (parsing its body, compiling, hashing, writing
/// the answer), in its turn (see [`turn`]) on a thread of lower priority
/// ([`COMPILE_NICE`]): many large deployments at once then leave the other requests the
/// CPU, not only while they compile. `None` if no thread could be made.
pub fn heavy<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    let _turn = turn();
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("sim-heavy".into())
            .stack_size(COMPILE_STACK)
            .spawn_scoped(s, || {
                impt_vm::lower_thread_priority(COMPILE_NICE);
                f()
            })
            .ok()?;
        Some(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

/// The compiling thread's nice value (lower priority than the API's threads).
const COMPILE_NICE: i32 = 10;

/// Stack of the thread that compiles user code: far more than the compiler's own nesting
/// bound needs (see build.rs), whatever thread asks.
const COMPILE_STACK: usize = 16 << 20;

/// The compile diagnostics of a deployment, as `meta` entries; empty when it compiles.
/// Libraries come from the environment's settings (see [`compile_with`]).
pub fn compile(device_code: &str, agent_code: &str) -> Vec<Value> {
    compile_with(device_code, agent_code, &library_settings(None))
}

/// [`compile`] with libraries from `libs`. Compiles on a dedicated thread with a known
/// stack ([`COMPILE_STACK`]) and a lower priority ([`COMPILE_NICE`]).
pub fn compile_with(device_code: &str, agent_code: &str, libs: &Settings) -> Vec<Value> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("sim-compile".into())
            .stack_size(COMPILE_STACK)
            .spawn_scoped(s, || {
                // Compiling big code must not slow the API's answers: on a busy machine
                // the API's threads go first.
                impt_vm::lower_thread_priority(COMPILE_NICE);
                compile_here(device_code, agent_code, libs)
            })
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_else(|_| compile_here(device_code, agent_code, libs))
    })
}

fn compile_here(device_code: &str, agent_code: &str, libs: &Settings) -> Vec<Value> {
    let mut out = Vec::new();
    for (file, src, side) in [
        ("agent_code", agent_code, Side::Agent),
        ("device_code", device_code, Side::Device),
    ] {
        if let Some((row, column, text)) = check(src, file, side, libs) {
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
        assert_eq!(e[0]["file"], "device_code");
        assert!(e[0]["row"].as_u64().unwrap() >= 2);
        let e = compile("", "a\n//#sim-compile-error boom");
        assert_eq!(e[0]["text"], "boom");
        assert_eq!(e[0]["row"], 2);
        assert_eq!(e[0]["file"], "agent_code");
        let e = compile("local x = ;", "local y = ;");
        assert_eq!(e.len(), 2);
        assert!(compile("// ( unbalanced in comment\n/* { */ local s = @\"(\";", "").is_empty());
    }

    #[test]
    fn deep_nesting_is_a_compile_error() {
        for src in [
            format!("local x = 1;\nlocal y = {}1;", "(".repeat(3000)),
            format!("local x = 1;\nlocal y = {}1;", "-".repeat(50_000)),
            format!("local x = 1;\nlocal y = {}1;", "a = ".repeat(50_000)),
            format!("local x = 1;\n{}", "{".repeat(50_000)),
            format!("local x = 1;\nlocal y = {}1;", "[".repeat(50_000)),
        ] {
            let e = compile(&src, "");
            assert_eq!(e.len(), 1, "{e:?}");
            assert_eq!(e[0]["row"], 2, "{e:?}");
            // Some nestings hit another compiler limit first ("too many locals").
            if src.contains("((") || src.contains("--") {
                assert_eq!(e[0]["text"], "nesting too deep", "{e:?}");
            }
        }
        // Ordinary nesting still compiles.
        let ok = format!("local y = {}1{};", "(".repeat(200), ")".repeat(200));
        assert!(compile(&ok, "").is_empty());
    }
}
