//! `impt watch`: save a file, see your device's logs.
//!
//! Stages, each testable alone: events ([`watcher`], notify, filtered by [`ignore`]) →
//! [`debounce`] (the only one) → [`pipeline`]'s build (the [`builder`](impt_builder), hash
//! in [`source`]), deploy and restart, while [`stream`] keeps the log stream alive → render
//! ([`crate::output::watch`]: text with a status line, or JSON lines). The loop below only
//! moves messages: [`setup`] is the setup stage (`--sim`: [`sim`]), [`session`] the message
//! handler, [`iteration`] schedules iterations and their retries, [`restarts`] places the
//! dividers and knows which code each device runs. [`settings`] reads `impt.toml`; [`keys`]
//! reads the keys.
//!
//! Iterations never overlap: a change that arrives while one runs marks the loop dirty and
//! the newest state is built once the running iteration ends.

pub mod api;
pub mod debounce;
pub mod factory;
pub mod ignore;
pub mod iteration;
pub mod keys;
pub mod pipeline;
pub mod restarts;
pub mod session;
pub mod settings;
pub mod setup;
pub mod sim;
pub mod source;
pub mod stream;
pub mod testpass;
pub mod watcher;

use tokio::sync::mpsc;

use crate::error::Result;
use crate::output::watch::{Event, WatchRenderer};
use iteration::Msg;
use keys::Key;
use session::{Flow, Session};
use settings::Settings;
pub use setup::Options;
use setup::Setup;

/// Runs the loop; the exit code.
pub fn run(opts: Options) -> i32 {
    let rt = match crate::sync::runtime(Some(2)) {
        Ok(rt) => rt,
        Err(e) => {
            crate::output::stderr_line(&format!("Error: {e}"));
            return 1;
        }
    };
    let mut r = crate::output::logfilter::filtered(crate::output::watch::renderer(opts.mode));
    let code = match rt.block_on(main(opts, r.as_mut())) {
        Ok(()) => 0,
        Err(e) => {
            r.emit(&Event::Error {
                message: e.to_string(),
            });
            r.finish();
            1
        }
    };
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

async fn main(opts: Options, r: &mut dyn WatchRenderer) -> Result<()> {
    let base = opts.sim.clone().unwrap_or(opts.dir.clone());
    let file = settings::load_file(&base)?;
    let settings = settings::merge(&base, file, opts.flags.clone())?;
    let setup = match &opts.sim {
        Some(dir) => {
            let tests = settings.test && opts.tests.is_some();
            sim::setup(dir, opts.sim_config.clone(), tests, |ev| r.emit(&ev)).await?
        }
        None => setup::setup_project(&opts).await?,
    };
    r.flush();
    watch_loop(opts, settings, setup, r).await
}

/// The loop: messages in, [`Session`] handles them, the screen is drawn once per batch.
async fn watch_loop(
    opts: Options,
    settings: Settings,
    setup: Setup,
    r: &mut dyn WatchRenderer,
) -> Result<()> {
    // One Ctrl-C listener for the whole loop, registered before anything is shown, so that a
    // signal arriving at any time after the first event (or while messages are handled) ends
    // the loop cleanly.
    let ctrl_c = crate::commands::core::interrupt::listener()?;
    tokio::pin!(ctrl_c);
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut s = Session::start(opts, settings, setup, tx, r).await?;
    loop {
        let due = s.debounce.due();
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = async { tokio::time::sleep_until(due.unwrap().into()).await }, if due.is_some() => {
                s.on_due(r).await;
                continue;
            }
            _ = &mut ctrl_c => Some(Msg::Key(Key::Quit)),
        };
        let Some(msg) = msg else { break };
        let mut batch = vec![msg];
        // Drain what is queued, then render once.
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
            if batch.len() > 4096 {
                break;
            }
        }
        for msg in batch {
            if s.handle(msg, r) == Flow::Quit {
                return Ok(());
            }
        }
        r.flush();
    }
    r.finish();
    Ok(())
}
