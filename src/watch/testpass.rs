//! `impt watch --test` (or `[watch] test = true`): after each deployed save, the project's
//! impUnit tests (its `.impt.test`) run on the test configuration's device, the tests whose
//! files or includes touch the changed files first. A newer save cancels a running pass.
//!
//! The pass itself is the test runner's (`impt test run`), given to the loop by the command
//! line as a [`PassFn`] (the loop reaches the commands only through their core). It runs on
//! a thread of its own with its own runtime; its result comes back as
//! [`Event::TestsDone`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc::UnboundedSender, Notify};

use crate::output::watch::{Event, TestFailure};

/// A test case as the pass reports it (`status`: `passed`, `failed`, `not run` or `error`).
pub use crate::commands::test::PassCase as Case;
/// With `--sim`: the tests run on a Device Group of the in-process simulator, with a
/// virtual device of its own (the test configuration's settings, or the default test file
/// patterns when the project has none).
pub use crate::commands::test::SimTests as SimTarget;

/// What one pass found: the files in the order they ran, how many the change touched, the
/// cases; `Err` when the tests could not run at all.
pub type PassResult = std::result::Result<(Vec<String>, usize, Vec<Case>), String>;

/// Runs one pass for the changed files (relative to the project), on the simulator's test
/// Device Group with `--sim`, on the simulator's virtual time when asked
/// (`--virtual-time`); `None` when cancelled.
pub type PassFn = Arc<
    dyn Fn(Vec<String>, Option<SimTarget>, bool, Arc<Notify>) -> Option<PassResult> + Send + Sync,
>;

/// The pass function the command line gives the loop.
#[derive(Clone)]
pub struct TestRunner(pub PassFn);

impl std::fmt::Debug for TestRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestRunner")
    }
}

/// The loop's test stage: at most one pass at a time, the newest save's.
pub struct Tests {
    run: PassFn,
    sim: Option<SimTarget>,
    virtual_time: bool,
    running: Option<Arc<Notify>>,
    /// Ends when the running pass's thread ends (see [`Tests::stop`]).
    ended: Option<std::sync::mpsc::Receiver<()>>,
    /// Counts passes: only the newest one's result is shown.
    generation: Arc<AtomicU64>,
}

impl Tests {
    pub fn new(run: PassFn, sim: Option<SimTarget>, virtual_time: bool) -> Tests {
        Tests {
            run,
            sim,
            virtual_time,
            running: None,
            ended: None,
            generation: Default::default(),
        }
    }

    /// Starts a pass for `changed` (cancelling a running one); its events go to `send`.
    pub fn start(&mut self, changed: Vec<String>, send: impl Fn(Event) + Send + 'static) {
        if let Some(cancel) = self.running.take() {
            cancel.notify_one();
            send(Event::TestsCancelled);
        }
        let cancel = Arc::new(Notify::new());
        self.running = Some(cancel.clone());
        let run = self.run.clone();
        let sim = self.sim.clone();
        let virtual_time = self.virtual_time;
        let generation = self.generation.clone();
        let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
        send(Event::TestsStarted {
            changed: changed.clone(),
        });
        let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
        self.ended = Some(ended);
        std::thread::spawn(move || {
            // (dropped when the thread ends, however it ends)
            let _ended = ended_tx;
            let t0 = Instant::now();
            let Some(result) = run(changed, sim, virtual_time, cancel) else {
                return;
            };
            if generation.load(Ordering::SeqCst) == mine {
                send(done(result, t0.elapsed().as_millis() as u64));
            }
        });
    }

    /// A pass ended (its [`Event::TestsDone`] was shown).
    pub fn finished(&mut self) {
        self.running = None;
    }

    /// The loop ends: a running pass is cancelled and given a few seconds to end, so that
    /// what it switched on the simulator (virtual time) is switched back.
    pub fn stop(&mut self) {
        if let Some(cancel) = self.running.take() {
            cancel.notify_one();
        }
        if let Some(ended) = self.ended.take() {
            let _ = ended.recv_timeout(std::time::Duration::from_secs(5));
        }
    }
}

/// The event of a finished pass.
pub fn done(result: PassResult, ms: u64) -> Event {
    match result {
        Err(message) => Event::TestsDone {
            passed: 0,
            total: 0,
            failures: vec![],
            error: Some(message),
            ms,
            files: vec![],
            affected: 0,
        },
        Ok((files, affected, cases)) => {
            let tests: Vec<&Case> = cases.iter().filter(|c| c.name.contains("::test")).collect();
            let passed = tests.iter().filter(|c| c.status == "passed").count();
            let failures = cases
                .iter()
                .filter(|c| c.status == "failed" || c.status == "error")
                .map(|c| TestFailure {
                    file: c
                        .location
                        .as_deref()
                        .and_then(|l| l.rsplit_once(':'))
                        .map_or(c.file.clone(), |(f, _)| f.to_string()),
                    line: c.line,
                    name: c.name.clone(),
                    message: c.message.clone().unwrap_or_default(),
                })
                .collect();
            Event::TestsDone {
                passed,
                total: tests.len(),
                failures,
                error: None,
                ms,
                files,
                affected,
            }
        }
    }
}

/// Sends events of the test stage into the loop's channel.
pub fn sender<M: Send + 'static>(
    tx: UnboundedSender<M>,
    wrap: fn(Event) -> M,
) -> impl Fn(Event) + Send + 'static {
    move |ev| {
        let _ = tx.send(wrap(ev));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, status: &str, location: Option<&str>) -> Case {
        Case {
            file: "a.test.nut".into(),
            name: name.into(),
            status: status.into(),
            message: Some("m".into()),
            location: location.map(str::to_string),
            line: location
                .and_then(|l| l.rsplit_once(':'))
                .map(|(_, n)| n.parse().unwrap()),
        }
    }

    #[test]
    fn a_pass_counts_test_methods_and_lists_failures_with_their_place() {
        let ev = done(
            Ok((
                vec!["a.test.nut".into()],
                1,
                vec![
                    case("A::setUp()", "passed", None),
                    case("A::testOne()", "passed", None),
                    case("A::testTwo()", "failed", Some("lib/x.nut:7")),
                    case("(load)", "error", Some("b.test.nut:3")),
                ],
            )),
            12,
        );
        let Event::TestsDone {
            passed,
            total,
            failures,
            ..
        } = ev
        else {
            panic!("{ev:?}")
        };
        assert_eq!((passed, total), (1, 2));
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].file, "lib/x.nut");
        assert_eq!(failures[0].line, Some(7));
        assert_eq!(failures[1].file, "b.test.nut");
    }
}
