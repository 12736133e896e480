//! The events stage of the watch loop: file watching with notify. Watches the parent
//! directory of every watched file (so that editors' atomic renames are seen) and extra
//! directories recursively; reports the changed paths that matter, event by event (merging
//! them is the [`debounce`](super::debounce) stage's job).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::ignore::Ignore;

/// What a file event says about the files it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Written (created, truncated or appended to) and still open: a non-atomic save may be
    /// half done. Only on platforms that report when a written file is closed (Linux).
    Writing,
    /// Closed after writing: the save is complete.
    Closed,
    /// Anything else (renamed over, removed, attributes).
    Other,
}

/// Whether the platform's watcher reports closes after writes (inotify's `IN_CLOSE_WRITE`).
pub const SEES_CLOSES: bool = cfg!(target_os = "linux");

fn phase_of(kind: &EventKind) -> Phase {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Phase::Closed,
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any)
            if SEES_CLOSES =>
        {
            Phase::Writing
        }
        _ => Phase::Other,
    }
}

/// What the watcher matches events against.
struct Matcher {
    root: PathBuf,
    files: BTreeSet<PathBuf>,
    dirs: Vec<PathBuf>,
    ignore: Ignore,
}

impl Matcher {
    fn matches(&self, p: &Path) -> bool {
        if self.files.contains(p) {
            return true;
        }
        self.dirs.iter().any(|d| p.starts_with(d)) && !self.ignore.is_ignored(&self.root, p)
    }
}

pub struct Watcher {
    inner: notify::RecommendedWatcher,
    matcher: Arc<Mutex<Matcher>>,
    /// Watched directory → recursive?
    watched: BTreeMap<PathBuf, bool>,
}

impl Watcher {
    /// Starts watching; `on_change` is called from the watcher's thread with the changed
    /// paths that match and what the event says about them.
    pub fn new(
        root: &Path,
        ignore: Ignore,
        on_change: impl Fn(Vec<PathBuf>, Phase) + Send + 'static,
        on_error: impl Fn(String) + Send + 'static,
    ) -> notify::Result<Watcher> {
        let matcher = Arc::new(Mutex::new(Matcher {
            root: root.to_path_buf(),
            files: BTreeSet::new(),
            dirs: Vec::new(),
            ignore,
        }));
        let m = matcher.clone();
        let inner =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                Ok(event) => {
                    let phase = phase_of(&event.kind);
                    if matches!(event.kind, EventKind::Access(_)) && phase != Phase::Closed {
                        return;
                    }
                    let m = crate::sync::lock(&m);
                    let mut hit: Vec<PathBuf> = event
                        .paths
                        .iter()
                        .filter(|p| m.matches(p))
                        .cloned()
                        .collect();
                    hit.sort();
                    hit.dedup();
                    drop(m);
                    if !hit.is_empty() {
                        on_change(hit, phase);
                    }
                }
                Err(e) => on_error(e.to_string()),
            })?;
        Ok(Watcher {
            inner,
            matcher,
            watched: BTreeMap::new(),
        })
    }

    /// Watches exactly these files and (recursively) these directories from now on.
    pub fn set(&mut self, files: &[PathBuf], dirs: &[PathBuf]) -> Vec<String> {
        let mut want: BTreeMap<PathBuf, bool> = BTreeMap::new();
        for f in files {
            if let Some(parent) = f.parent() {
                want.entry(parent.to_path_buf()).or_insert(false);
            }
        }
        for d in dirs {
            want.insert(d.clone(), true);
        }
        let mut errors = Vec::new();
        let old = std::mem::take(&mut self.watched);
        // A directory still wanted in another mode is watched again without unwatching it
        // first, so that no event falls between the two (extra events of subdirectories
        // left watched are filtered out by the matcher).
        for dir in old.keys() {
            if !want.contains_key(dir) {
                let _ = self.inner.unwatch(dir);
            }
        }
        for (dir, rec) in want {
            if old.get(&dir) == Some(&rec) {
                self.watched.insert(dir, rec);
                continue;
            }
            if !dir.is_dir() {
                errors.push(format!("{}: not a directory", dir.display()));
                continue;
            }
            let mode = if rec {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            match self.inner.watch(&dir, mode) {
                Ok(()) => {
                    self.watched.insert(dir, rec);
                }
                Err(e) => errors.push(format!("{}: {e}", dir.display())),
            }
        }
        let mut m = crate::sync::lock(&self.matcher);
        m.files = files.iter().cloned().collect();
        m.dirs = dirs.to_vec();
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn sees_writes_and_renames_of_watched_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let f = root.join("device.nut");
        std::fs::write(&f, "a").unwrap();
        let (tx, rx) = mpsc::channel();
        let mut w = Watcher::new(
            &root,
            Ignore::new(&[]).unwrap(),
            move |p, _| {
                let _ = tx.send(p);
            },
            |_| {},
        )
        .unwrap();
        assert!(w.set(std::slice::from_ref(&f), &[]).is_empty());
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(root.join("other.nut"), "x").unwrap();
        std::fs::write(root.join(".device.nut.swp"), "x").unwrap();
        std::fs::write(&f, "b").unwrap();
        let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(got, vec![f.clone()]);
        // An atomic save: write a temp file, rename it over the watched one.
        while rx.recv_timeout(Duration::from_millis(150)).is_ok() {}
        let tmp = root.join("device.nut.tmp.1");
        std::fs::write(&tmp, "c").unwrap();
        std::fs::rename(&tmp, &f).unwrap();
        let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(got.contains(&f), "{got:?}");
    }
}
