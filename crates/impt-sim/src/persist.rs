//! `--state FILE`: load (checked) at start; write-through after every acknowledged change.
//!
//! Every change bumps [`App::changes`]. An API or control request that changed something is
//! answered only after [`commit`] wrote a snapshot holding its change to `FILE.tmp`,
//! fsync'd it, renamed it over `FILE` and fsync'd the folder, so a `2xx` survives kill -9.
//! Concurrent requests share one write when a snapshot already holds their change. Other
//! changes are saved by a background flush every 200 ms, and on shutdown. A `FILE.tmp`
//! left by an interrupted write is removed at load.
//!
//! Files are created 0600 (they hold password hashes and token digests, see the secrets
//! module). Device log history is not in `FILE` but in `FILE.logs` (see the devlog
//! module), written only by the background flush: its size never delays an acknowledged
//! change, and a damaged or missing log file only loses history (the sim starts anyway).
//! An older `FILE` (plaintext secrets, logs inside) is migrated at load.

use super::app::{lock, App};
use super::model::{is_dg_type, Db};
use anyhow::{bail, Context};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Largest state file read (an older one may hold long log histories: they are read one
/// entry at a time and cut, see `devlog::newest_entries`).
pub const MAX_STATE_BYTES: u64 = 4 << 30;
/// Largest log file read.
pub const MAX_LOG_FILE_BYTES: u64 = 1 << 30;

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
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, f.take(MAX_STATE_BYTES + 1));
    let mut db: Db = serde_json::from_reader(reader)
        .with_context(|| format!("cannot parse the state file {}", path.display()))?;
    check(&mut db).with_context(|| format!("invalid state file {}", path.display()))?;
    super::secrets::migrate(&mut db);
    db.reindex_devices();
    Ok(Some(db))
}

/// Opens a regular file for reading, without blocking on a FIFO put in its place.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let f = o.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(f)
}

/// `FILE.logs` next to the state file `path`.
pub fn logs_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".logs");
    path.with_file_name(name)
}

/// The device log history saved next to `path`; empty (with a warning) when it is missing,
/// damaged or too large: history is not worth refusing to start for.
pub fn load_logs(path: &Path) -> super::devlog::Logs {
    let mut logs = super::devlog::Logs::default();
    let lp = logs_path(path);
    let file = match open_regular(&lp) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return logs,
        Err(e) => {
            eprintln!(
                "impt sim: device log history not loaded: {}: {e}",
                lp.display()
            );
            return logs;
        }
    };
    let reader = std::io::BufReader::new(file.take(MAX_LOG_FILE_BYTES));
    match serde_json::from_reader::<_, super::devlog::LogFile>(reader) {
        Ok(f) => {
            for (id, entries) in f.devices {
                for e in entries {
                    logs.push(&id, Arc::unwrap_or_clone(e));
                }
            }
            logs.changes = 0;
        }
        Err(e) => eprintln!(
            "impt sim: device log history not loaded: cannot parse {}: {e}",
            lp.display()
        ),
    }
    logs
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

/// A new file readable by its owner only, from its first byte.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        o.mode(0o600);
        let f = o.open(path)?;
        // A file left by an older version may have other bits: the mode above only
        // applies to a file this call creates.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    o.open(path)
}

/// Write `db` to `path`: `path.tmp`, fsync, rename, fsync of the folder.
pub fn save(path: &Path, db: &impl serde::Serialize) -> anyhow::Result<()> {
    let tmp = tmp_path(path);
    let write = || -> std::io::Result<()> {
        let _ = std::fs::remove_file(&tmp);
        let mut f = create_private(&tmp)?;
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

/// Save the device log history to `FILE.logs` if it changed. Blocking; the world lock is
/// held only to take a snapshot (entries are shared, not copied).
pub fn save_logs(app: &App) -> anyhow::Result<()> {
    let Some(path) = app.cfg.state.as_ref() else {
        return Ok(());
    };
    let _one_at_a_time = lock(&LOG_WRITER);
    let (snapshot, holds) = {
        let w = app.world();
        if w.logs.changes == w.logs.saved {
            return Ok(());
        }
        (w.logs.snapshot(), w.logs.changes)
    };
    save(
        &logs_path(path),
        &super::devlog::LogFile { devices: snapshot },
    )?;
    let mut w = app.world();
    w.logs.saved = w.logs.saved.max(holds);
    Ok(())
}

static LOG_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Save if anything changed since the last save; errors are printed.
pub fn flush(app: &App) {
    if let Err(e) = commit(app) {
        eprintln!("impt sim: cannot save state: {e:#}");
    }
    if let Err(e) = save_logs(app) {
        eprintln!("impt sim: cannot save the device log history: {e:#}");
    }
}

/// Save every 200 ms while there are changes.
pub fn spawn_saver(app: Arc<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // A commit in progress holds `saved`: never wait for it on the runtime.
            let saved = app.saved.try_lock().map(|s| *s).unwrap_or(u64::MAX);
            let logs_changed = {
                let w = app.world();
                w.logs.changes != w.logs.saved
            };
            if app.cfg.state.is_some()
                && (app.changes.load(Ordering::Acquire) > saved || logs_changed)
            {
                let a = app.clone();
                let _ = tokio::task::spawn_blocking(move || flush(&a)).await;
            }
        }
    })
}
