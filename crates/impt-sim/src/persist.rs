//! `--state FILE`: load (checked) at start; write-through after every acknowledged change.
//!
//! Every change bumps [`App::changes`]. An API or control request that changed something is
//! answered only after [`commit`] wrote a snapshot holding its change to `FILE.tmp`,
//! fsync'd it, renamed it over `FILE` and fsync'd the folder, so a `2xx` survives kill -9.
//! Concurrent requests share one write when a snapshot already holds their change. Other
//! changes (device log lines) are saved by a background flush every 200 ms, and on
//! shutdown. A `FILE.tmp` left by an interrupted write is removed at load.

use super::app::{lock, App};
use super::model::{is_dg_type, truncate_log, Db, MAX_DEVICE_LOGS};
use anyhow::{bail, Context};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Largest state file read.
pub const MAX_STATE_BYTES: u64 = 512 << 20;

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Reads and checks the state file; `Ok(None)` when it does not exist.
pub fn load(path: &Path) -> anyhow::Result<Option<Db>> {
    let tmp = tmp_path(path);
    if tmp.symlink_metadata().is_ok_and(|m| m.is_file()) {
        let _ = std::fs::remove_file(&tmp);
    }
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !meta.is_file() {
        bail!("the state file {} is not a regular file", path.display());
    }
    if meta.len() > MAX_STATE_BYTES {
        bail!(
            "the state file {} is larger than {} MiB",
            path.display(),
            MAX_STATE_BYTES >> 20
        );
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_STATE_BYTES + 1).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut db: Db = serde_json::from_slice(&bytes)
        .with_context(|| format!("cannot parse the state file {}", path.display()))?;
    check(&mut db).with_context(|| format!("invalid state file {}", path.display()))?;
    Ok(Some(db))
}

/// The rules the API enforces, applied to loaded data: ids unique, references resolve,
/// group types known; lists over their limits are cut (oldest first).
pub fn check(db: &mut Db) -> anyhow::Result<()> {
    fn unique<'a>(
        what: &str,
        ids: impl Iterator<Item = &'a str>,
    ) -> anyhow::Result<HashSet<&'a str>> {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                bail!("duplicate {what} id {id:?}");
            }
        }
        Ok(seen)
    }
    {
        let accounts = unique("account", db.accounts.iter().map(|a| a.id.as_str()))?;
        let products = unique("product", db.products.iter().map(|p| p.id.as_str()))?;
        let groups = unique("device group", db.groups.iter().map(|g| g.id.as_str()))?;
        unique("device", db.devices.iter().map(|d| d.id.as_str()))?;
        let deployments = unique("deployment", db.deployments.iter().map(|d| d.id.as_str()))?;
        unique("webhook", db.webhooks.iter().map(|w| w.id.as_str()))?;
        unique("login key", db.login_keys.iter().map(|k| k.id.as_str()))?;
        let owned = |what: &str, id: &str, owner: &str| -> anyhow::Result<()> {
            if !accounts.contains(owner) {
                bail!("{what} {id:?} belongs to an unknown account {owner:?}");
            }
            Ok(())
        };
        for p in &db.products {
            owned("product", &p.id, &p.owner)?;
        }
        for g in &db.groups {
            owned("device group", &g.id, &g.owner)?;
            if !is_dg_type(&g.gtype) {
                bail!("device group {:?} has an unknown type {:?}", g.id, g.gtype);
            }
            if !products.contains(g.product.as_str()) {
                bail!("device group {:?} names an unknown product", g.id);
            }
            for dep in [&g.current_deployment, &g.min_supported_deployment] {
                if dep.as_deref().is_some_and(|d| !deployments.contains(d)) {
                    bail!("device group {:?} names an unknown deployment", g.id);
                }
            }
        }
        for d in &db.devices {
            owned("device", &d.id, &d.owner)?;
            if d.group.as_deref().is_some_and(|g| !groups.contains(g)) {
                bail!("device {:?} is assigned to an unknown device group", d.id);
            }
        }
        for d in &db.deployments {
            owned("deployment", &d.id, &d.owner)?;
        }
        for w in &db.webhooks {
            owned("webhook", &w.id, &w.owner)?;
            if !groups.contains(w.group.as_str()) {
                bail!("webhook {:?} names an unknown device group", w.id);
            }
        }
    }
    for d in &mut db.devices {
        while d.logs.len() > MAX_DEVICE_LOGS {
            d.logs.pop_front();
        }
        for l in &mut d.logs {
            if let std::borrow::Cow::Owned(m) = truncate_log(&l.msg) {
                l.msg = m;
            }
        }
    }
    let now = super::util::now_ms();
    db.access_tokens.retain(|t| t.expires_ms > now);
    db.login_tokens.retain(|t| t.expires_ms > now);
    let accounts: Vec<String> = db.accounts.iter().map(|a| a.id.clone()).collect();
    for a in &accounts {
        keep_newest(
            &mut db.refresh_tokens,
            |t| &t.account == a,
            super::auth::MAX_REFRESH_TOKENS,
        );
        keep_newest(
            &mut db.access_tokens,
            |t| &t.account == a,
            super::auth::MAX_ACCESS_TOKENS,
        );
        keep_newest(
            &mut db.login_tokens,
            |t| &t.account == a,
            super::auth::MAX_LOGIN_TOKENS,
        );
        keep_newest(
            &mut db.login_keys,
            |k| &k.account == a,
            super::auth::MAX_LOGIN_KEYS,
        );
    }
    db.seq = db.deployments.iter().map(|d| d.seq).fold(db.seq, u64::max);
    Ok(())
}

/// Drop the oldest items matching `mine` (lists are in creation order) beyond `max`.
fn keep_newest<T>(v: &mut Vec<T>, mine: impl Fn(&T) -> bool, max: usize) {
    let mut n = v.iter().filter(|x| mine(x)).count();
    v.retain(|x| {
        if n > max && mine(x) {
            n -= 1;
            false
        } else {
            true
        }
    });
}

/// Write `db` to `path`: `path.tmp`, fsync, rename, fsync of the folder.
pub fn save(path: &Path, db: &Db) -> anyhow::Result<()> {
    let tmp = tmp_path(path);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(&mut f);
        serde_json::to_writer(&mut w, db)?;
        w.flush()?;
        drop(w);
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(folder(path))?.sync_all()?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::Error::from(e).context(format!("cannot write {}", path.display()))
    })
}

/// Save a snapshot holding every change made so far (if none does yet). Blocking.
pub fn commit(app: &App) -> anyhow::Result<()> {
    let Some(path) = app.cfg.state.as_ref() else {
        return Ok(());
    };
    let wanted = app.changes.load(Ordering::Acquire);
    let mut saved = lock(&app.saved);
    if *saved >= wanted {
        return Ok(());
    }
    let (db, holds) = {
        let w = app.world();
        (w.db.clone(), app.changes.load(Ordering::Acquire))
    };
    save(path, &db)?;
    *saved = holds;
    Ok(())
}

/// [`commit`] off the async runtime.
pub async fn commit_async(app: &Arc<App>) -> anyhow::Result<()> {
    if app.cfg.state.is_none() {
        return Ok(());
    }
    let a = app.clone();
    tokio::task::spawn_blocking(move || commit(&a))
        .await
        .unwrap_or_else(|e| Err(anyhow::anyhow!("{e}")))
}

/// Save if anything changed since the last save; errors are printed.
pub fn flush(app: &App) {
    if let Err(e) = commit(app) {
        eprintln!("impt sim: cannot save state: {e:#}");
    }
}

/// Save every 200 ms while there are changes.
pub fn spawn_saver(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // A commit in progress holds `saved`: never wait for it on the runtime.
            let saved = app.saved.try_lock().map(|s| *s).unwrap_or(u64::MAX);
            if app.cfg.state.is_some() && app.changes.load(Ordering::Acquire) > saved {
                let a = app.clone();
                let _ = tokio::task::spawn_blocking(move || flush(&a)).await;
            }
        }
    })
}
