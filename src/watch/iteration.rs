//! Iterations of the loop (build, deploy, restart in [`pipeline`]): one at a time; a save
//! that arrives meanwhile waits, a save that could not be deployed for a passing reason is
//! retried with backoff (or once a login works), and a newer save replaces it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::api::Api;
use super::keys::Key;
use super::pipeline::{self, Outcome, Target};
use super::settings::Settings;
use super::source::Sources;
use super::watcher;
use crate::output::watch::{Event, WatchRenderer};

/// First wait before a held save is retried; doubles up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(15);
/// How often the auth file is read again while a save waits for a login.
const LOGIN_POLL: Duration = Duration::from_secs(1);

/// Everything the loop reacts to.
pub enum Msg {
    Changed(Vec<PathBuf>, watcher::Phase),
    Key(Key),
    Event(Event),
    Done(Outcome),
    /// Retry the held save (if the loop's generation is still this one).
    Retry(u64),
    /// A device loaded code that this loop did not deploy: the sha of the group's current
    /// deployment then (`None`: unknown).
    Runs(String, Option<String>),
}

pub struct Loop {
    pub tx: mpsc::UnboundedSender<Msg>,
    pub api: Arc<Api>,
    pub target: Target,
    pub sources: Sources,
    pub settings: Settings,
    pub deployed: Option<String>,
    pub devices: usize,
    pub local_check: bool,
    pub maps: pipeline::LineMapsBySha,
    pub running: bool,
    pub pending: Option<Pending>,
    /// What the running iteration deploys (kept when it fails in a way that passes).
    pub inflight: Option<Pending>,
    /// A save that was not deployed and waits for its retry.
    pub held: Option<Pending>,
    /// Counts finished iterations; a retry for an older one is dropped.
    pub generation: u64,
    pub retry_delay: Duration,
    /// The task that triggers the held save's retry.
    pub waiter: Option<tokio::task::JoinHandle<()>>,
}

/// A requested iteration.
#[derive(Clone, Default)]
pub struct Pending {
    pub force: bool,
    pub since: Option<Instant>,
    pub changed: BTreeSet<String>,
}

impl Pending {
    /// Adds an older request's changes.
    pub fn merge(&mut self, older: Pending) {
        self.force |= older.force;
        self.since = match (self.since, older.since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.changed.extend(older.changed);
    }
}

impl Loop {
    pub fn request(&mut self, force: bool, since: Instant, changed: Vec<String>) {
        let held = self.held.take();
        let p = self.pending.get_or_insert_with(Pending::default);
        if let Some(h) = held {
            // A newer save replaces the held one (and keeps its changes in the description).
            p.merge(h);
        }
        p.force |= force;
        p.since.get_or_insert(since);
        p.changed.extend(changed);
        self.start_if_idle();
    }

    fn start_if_idle(&mut self) {
        if self.running {
            return;
        }
        let Some(p) = self.pending.take() else { return };
        self.running = true;
        self.inflight = Some(p.clone());
        let job = pipeline::Job {
            api: self.api.clone(),
            target: self.target.clone(),
            sources: self.sources.clone(),
            tags: self.settings.tags.clone(),
            restart: self.settings.restart,
            deployed: self.deployed.clone(),
            force: p.force,
            since: p.since.unwrap_or_else(Instant::now),
            changed: p.changed.into_iter().collect(),
            devices: self.devices,
            local_check: self.local_check,
            maps: self.maps.clone(),
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let (etx, mut erx) = mpsc::unbounded_channel();
            let fwd_tx = tx.clone();
            let fwd = tokio::spawn(async move {
                while let Some(ev) = erx.recv().await {
                    let _ = fwd_tx.send(Msg::Event(ev));
                }
            });
            let out = pipeline::run(job, etx).await;
            let _ = fwd.await;
            let _ = tx.send(Msg::Done(out));
        });
    }

    /// An iteration ended: a save that was not deployed for a passing reason stays pending
    /// and is retried with backoff, or once a login works; a newer save replaces it.
    pub fn finished(&mut self, hold: Option<pipeline::Hold>, r: &mut dyn WatchRenderer) {
        self.running = false;
        self.generation += 1;
        if let Some(w) = self.waiter.take() {
            w.abort();
        }
        let inflight = self.inflight.take();
        let Some(hold) = hold else {
            self.retry_delay = FIRST_RETRY;
            self.start_if_idle();
            return;
        };
        let mut held = inflight.unwrap_or_default();
        if let Some(p) = self.pending.as_mut() {
            p.merge(held);
            self.start_if_idle();
            return;
        }
        if let Some(older) = self.held.take() {
            held.merge(older);
        }
        self.held = Some(held);
        let (tx, generation) = (self.tx.clone(), self.generation);
        match hold {
            pipeline::Hold::Transient(reason) => {
                let delay = self.retry_delay;
                self.retry_delay = (delay * 2).min(MAX_RETRY);
                r.emit(&Event::Pending {
                    reason,
                    retry_ms: Some(delay.as_millis() as u64),
                    login: false,
                });
                self.waiter = Some(tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Msg::Retry(generation));
                }));
            }
            pipeline::Hold::Login(reason) => {
                r.emit(&Event::Pending {
                    reason,
                    retry_ms: None,
                    login: true,
                });
                let api = self.api.clone();
                self.waiter = Some(tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(LOGIN_POLL).await;
                        if let Ok(true) = api.reload_auth().await {
                            let _ = tx.send(Msg::Retry(generation));
                            return;
                        }
                    }
                }));
            }
        }
    }

    pub fn retry(&mut self, generation: u64) {
        if generation != self.generation || self.running {
            return;
        }
        if let Some(h) = self.held.take() {
            self.pending.get_or_insert_with(Pending::default).merge(h);
            self.start_if_idle();
        }
    }
}
