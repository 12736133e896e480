//! The debounce stage of the watch loop (the only one): file changes that come close
//! together become one batch, handed on once no change arrived for the quiet period
//! (`--debounce`, `watch.debounce`). A file that is being written (a non-atomic save:
//! truncate, write, write, close) holds the batch until it is closed, even with
//! `--debounce 0`, for at most [`WRITE_HOLD`]. Time is passed in, so the stage is tested
//! without waiting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Changed files, merged until the quiet period has passed since the last one.
#[derive(Debug)]
pub struct Debounce {
    quiet: Duration,
    paths: BTreeSet<PathBuf>,
    /// When the first change of the batch arrived.
    first: Option<Instant>,
    /// When the batch is due, unless another change comes first.
    due: Option<Instant>,
    /// Files written and not closed yet, since when.
    writing: BTreeMap<PathBuf, Instant>,
}

/// The longest a batch waits for a file being written to be closed (a program that keeps a
/// file open does not block the loop).
pub const WRITE_HOLD: Duration = Duration::from_secs(5);

/// A batch of changes, handed on when it is due.
#[derive(Debug, PartialEq)]
pub struct Batch {
    /// The changed files, sorted, each once.
    pub paths: Vec<PathBuf>,
    /// When the first change of the batch arrived (the latency of an iteration counts
    /// from here).
    pub first: Instant,
}

impl Debounce {
    pub fn new(quiet: Duration) -> Debounce {
        Debounce {
            quiet,
            paths: BTreeSet::new(),
            first: None,
            due: None,
            writing: BTreeMap::new(),
        }
    }

    /// Files written at `now` and still open: they join the batch, which waits for them to
    /// be closed ([`Debounce::closed`]).
    pub fn writing(&mut self, paths: impl IntoIterator<Item = PathBuf>, now: Instant) {
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        for p in &paths {
            self.writing.entry(p.clone()).or_insert(now);
        }
        self.push(paths, now);
    }

    /// Files closed after writing at `now`: the save is complete.
    pub fn closed(&mut self, paths: impl IntoIterator<Item = PathBuf>, now: Instant) {
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        for p in &paths {
            self.writing.remove(p);
        }
        self.push(paths, now);
    }

    /// Files changed at `now`: they join the batch, and the batch is due `quiet` later.
    pub fn push(&mut self, paths: impl IntoIterator<Item = PathBuf>, now: Instant) {
        self.paths.extend(paths);
        self.first.get_or_insert(now);
        self.due = Some(now + self.quiet);
    }

    /// When the pending batch is due; `None` when nothing is pending. A file still being
    /// written holds it until it is closed or [`WRITE_HOLD`] has passed.
    pub fn due(&self) -> Option<Instant> {
        let due = self.due?;
        Some(match self.writing.values().max() {
            Some(since) => due.max(*since + WRITE_HOLD),
            None => due,
        })
    }

    /// The batch, if it is due at `now` (and then the stage is empty again).
    pub fn take_due(&mut self, now: Instant) -> Option<Batch> {
        if self.due().is_some_and(|d| d <= now) {
            self.writing.clear();
            self.take()
        } else {
            None
        }
    }

    /// The pending batch whether due or not (`None` when nothing is pending).
    pub fn take(&mut self) -> Option<Batch> {
        self.due.take()?;
        Some(Batch {
            paths: std::mem::take(&mut self.paths).into_iter().collect(),
            first: self.first.take().unwrap_or_else(Instant::now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Duration = Duration::from_millis(100);

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn nothing_pending_nothing_due() {
        let mut d = Debounce::new(Q);
        assert_eq!(d.due(), None);
        assert_eq!(d.take_due(Instant::now() + Q * 10), None);
        assert_eq!(d.take(), None);
    }

    #[test]
    fn a_change_is_due_after_the_quiet_period() {
        let t0 = Instant::now();
        let mut d = Debounce::new(Q);
        d.push([p("device.nut")], t0);
        assert_eq!(d.due(), Some(t0 + Q));
        assert_eq!(d.take_due(t0 + Q / 2), None);
        let b = d.take_due(t0 + Q).unwrap();
        assert_eq!(b.paths, vec![p("device.nut")]);
        assert_eq!(b.first, t0);
        // Handed on once.
        assert_eq!(d.due(), None);
        assert_eq!(d.take_due(t0 + Q * 5), None);
    }

    #[test]
    fn changes_in_the_quiet_period_extend_it_and_merge() {
        let t0 = Instant::now();
        let mut d = Debounce::new(Q);
        d.push([p("b.nut"), p("a.nut")], t0);
        d.push([p("a.nut")], t0 + Q * 3 / 4);
        // The first deadline has passed, but the second change moved it.
        assert_eq!(d.take_due(t0 + Q), None);
        d.push([p("c.nut")], t0 + Q * 3 / 2);
        assert_eq!(d.due(), Some(t0 + Q * 5 / 2));
        let b = d.take_due(t0 + Q * 5 / 2).unwrap();
        assert_eq!(b.paths, vec![p("a.nut"), p("b.nut"), p("c.nut")]);
        assert_eq!(b.first, t0, "latency counts from the first change");
    }

    #[test]
    fn a_new_batch_starts_after_one_is_taken() {
        let t0 = Instant::now();
        let mut d = Debounce::new(Q);
        d.push([p("a.nut")], t0);
        d.take_due(t0 + Q).unwrap();
        let t1 = t0 + Q * 10;
        d.push([p("b.nut")], t1);
        let b = d.take().unwrap();
        assert_eq!(b.paths, vec![p("b.nut")]);
        assert_eq!(b.first, t1);
    }

    #[test]
    fn a_file_being_written_holds_the_batch_until_it_is_closed() {
        let t0 = Instant::now();
        let mut d = Debounce::new(Duration::ZERO);
        d.writing([p("device.nut")], t0);
        assert_eq!(d.take_due(t0 + Q), None, "truncated, not closed yet");
        d.writing([p("device.nut")], t0 + Q);
        assert_eq!(d.take_due(t0 + Q * 2), None);
        d.closed([p("device.nut")], t0 + Q * 3);
        assert_eq!(d.take_due(t0 + Q * 3).unwrap().paths, vec![p("device.nut")]);
        // A file kept open does not hold the loop for ever.
        d.writing([p("log.nut")], t0);
        assert_eq!(d.take_due(t0 + WRITE_HOLD - Q), None);
        assert!(d.take_due(t0 + WRITE_HOLD).is_some());
        assert_eq!(d.due(), None);
    }

    #[test]
    fn zero_quiet_period_is_due_at_once() {
        let t0 = Instant::now();
        let mut d = Debounce::new(Duration::ZERO);
        d.push([p("a.nut")], t0);
        assert!(d.take_due(t0).is_some());
    }
}
