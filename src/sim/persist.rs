//! `--state FILE`: load at start, save (atomically, debounced) after mutations.

use super::app::App;
use super::model::Db;
use anyhow::Context;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

pub fn load(path: &Path) -> anyhow::Result<Option<Db>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| {
            format!("cannot parse the state file {}", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write `db` to `path` via a temporary file in the same folder and a rename.
pub fn save(path: &Path, db: &Db) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut tmp, db)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    Ok(())
}

/// Save the state if anything changed since the last save.
pub fn flush(app: &App) {
    let Some(path) = app.cfg.state.as_ref() else {
        return;
    };
    if !app.dirty.swap(false, Ordering::AcqRel) {
        return;
    }
    let db = app.world().db.clone();
    if let Err(e) = save(path, &db) {
        eprintln!("impt sim: cannot save state: {e:#}");
        app.mark_dirty();
    }
}

/// Save every 200 ms while there are changes.
pub fn spawn_saver(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let a = app.clone();
            let _ = tokio::task::spawn_blocking(move || flush(&a)).await;
        }
    })
}
