//! The worker pool that runs the virtual devices' code: a fixed number of threads
//! (`impt sim --workers`, default: one per core) shared by every device, so an idle device
//! costs only its VMs' memory, never a thread.
//!
//! Each device is a [`Job`] (its agent and device VMs, see the runner module) with a
//! mailbox of commands. A job runs a *step* on whatever worker is free when it has
//! commands or something falls due (a timer, a restart, an answer), and says in a [`Wake`]
//! when it wants to run next. Ready jobs wait in one FIFO queue: every device gets its turn
//! in order, none runs twice while another waits.
//!
//! Fairness and isolation:
//! - a device's code may use [`PoolConfig::cpu_share`] of one core in the long run: each job
//!   has a credit of CPU time (at most [`PoolConfig::burst`]) refilled at that rate; a job
//!   whose credit is spent waits until it is positive again, so short bursts (boot, a test
//!   suite) run at full speed and a device that computes without end gets its share only;
//! - with `impt sim --worker-nice N` the workers run at a lower OS priority than the API
//!   (Linux `nice` +N), so code busy on every worker leaves the API, other accounts and the
//!   log streams the CPU they need even on a loaded machine (default 0: same priority);
//! - when every worker is busy with code that does not return and a job has been ready for
//!   50 ms, an extra worker is started (up to four per core, 32 at most; idle ones end
//!   after 10 s), so long callbacks of a few devices do not hold up the others;
//! - a command that replaces or stops the code (new code, restart, unassignment, deletion)
//!   raises the job's interrupt flag: the running VM call stops within a slice of
//!   instructions or a long native's next check (see `src/vm/glue.cpp`).
//!
//! Virtual time (`impt sim --virtual-time`, `POST /_sim/time`): when no job is ready or
//! running and none waits on something outside the simulator (an agent's HTTP request in
//! flight, a factory BlinkUp under way: [`Pool::outside`]), the clock jumps to the earliest virtual deadline any job is waiting for, and the
//! jobs due then run.

use super::app::lock;
use super::exec::{Clock, Cmd};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What a device's runner does on a worker.
pub trait Job: Send {
    /// Handle `cmds` (in order), then run what is due. Returns when to run again.
    fn step(&mut self, cmds: Vec<Cmd>) -> Wake;
    /// The flag that stops the job's running VM call (see [`impt_vm::Vm::set_interrupt`]).
    fn interrupt_flag(&self) -> Arc<AtomicI32>;
}

/// When a job wants to run again (besides on a new command).
#[derive(Debug, Clone, Copy, Default)]
pub struct Wake {
    /// Run again at this instant (`None`: only on a command).
    pub at: Option<Instant>,
    /// The virtual time (seconds, as [`Clock::now`]) of the earliest virtual deadline among
    /// those behind `at` (timers, sleeps, restarts), if any.
    pub vdue: Option<f64>,
    /// Waiting for something outside the simulator's code (an HTTP request in flight):
    /// virtual time must not jump meanwhile.
    pub external: bool,
}

/// Settings of the pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Worker threads.
    pub workers: usize,
    /// Fraction of one core a device may use in the long run (0 < share <= 1).
    pub cpu_share: f64,
    /// CPU time a device may use at once beyond its share.
    pub burst: Duration,
    /// OS priority offset of the worker threads (Linux `nice`; the API threads keep 0).
    pub nice: i32,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            workers: default_workers(),
            cpu_share: 0.5,
            burst: Duration::from_secs(2),
            nice: 0,
        }
    }
}

/// One worker per core, at least two.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a command or its wake time.
    Idle,
    /// In the ready queue.
    Ready,
    /// On a worker now.
    Running,
}

struct Entry {
    /// Tells this entry from a later one of the same id.
    serial: u64,
    job: Option<Box<dyn Job>>,
    inbox: Vec<Cmd>,
    state: State,
    /// Bumped whenever the entry's registered wake is replaced (stale heap items).
    gen: u64,
    wake: Wake,
    interrupt: Arc<AtomicI32>,
    /// CPU seconds the job may still use at once (negative: throttled).
    credit: f64,
    refilled: Instant,
}

#[derive(Default)]
struct Sched {
    entries: HashMap<String, Entry>,
    /// Ready jobs and since when they wait.
    ready: VecDeque<(String, Instant)>,
    timers: BinaryHeap<Reverse<(Instant, u64, String)>>,
    /// Virtual deadlines: (f64 bits of a non-negative time, gen, id).
    vtimers: BinaryHeap<Reverse<(u64, u64, String)>>,
    running: usize,
    /// Idle entries whose wake says `external`.
    external: usize,
    /// Work of the simulator's own that virtual time waits for (see [`Pool::outside`]).
    outside: usize,
    serial: u64,
    threads: usize,
    /// The overflow monitor runs.
    monitor: bool,
    stop: bool,
}

struct Inner {
    sched: Mutex<Sched>,
    cv: Condvar,
    /// Wakes the overflow monitor (a job became ready while every worker was busy).
    busy: Condvar,
    clock: Clock,
    cfg: PoolConfig,
}

/// The pool; dropping it stops its workers (after their current step).
pub struct Pool {
    inner: Arc<Inner>,
}

/// Figures of the pool (`GET /_sim/time` and the benchmarks).
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolStats {
    pub workers: usize,
    pub jobs: usize,
    pub ready: usize,
    pub running: usize,
}

fn vkey(t: f64) -> u64 {
    // Virtual times are positive: their bit patterns order as the numbers do.
    t.max(0.0).to_bits()
}

/// Whether `cmd` replaces or stops the running code (the running call is interrupted).
fn interrupts(cmd: &Cmd) -> bool {
    matches!(cmd, Cmd::Start(_) | Cmd::Stop)
}

impl Pool {
    pub fn new(clock: Clock, cfg: PoolConfig) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                sched: Mutex::new(Sched::default()),
                cv: Condvar::new(),
                busy: Condvar::new(),
                clock,
                cfg: PoolConfig {
                    workers: cfg.workers.clamp(1, 256),
                    cpu_share: if cfg.cpu_share.is_finite() {
                        cfg.cpu_share.clamp(0.01, 1.0)
                    } else {
                        1.0
                    },
                    burst: cfg.burst,
                    nice: cfg.nice.clamp(0, 19),
                },
            }),
        }
    }

    /// Queue `cmd` for job `id`; a missing job is made with `make` first (`None`: the
    /// command is dropped).
    pub fn send(&self, id: &str, cmd: Cmd, make: impl FnOnce() -> Option<Box<dyn Job>>) {
        let mut s = lock(&self.inner.sched);
        if s.stop {
            return;
        }
        if !s.entries.contains_key(id) {
            let Some(job) = make() else { return };
            s.serial += 1;
            let entry = Entry {
                serial: s.serial,
                interrupt: job.interrupt_flag(),
                job: Some(job),
                inbox: Vec::new(),
                state: State::Idle,
                gen: 0,
                wake: Wake::default(),
                credit: self.inner.cfg.burst.as_secs_f64(),
                refilled: Instant::now(),
            };
            s.entries.insert(id.to_string(), entry);
        }
        self.start_workers(&mut s);
        self.push(&mut s, id, cmd);
    }

    /// Queue `cmd` for job `id` if it exists.
    pub fn notify(&self, id: &str, cmd: Cmd) {
        let mut s = lock(&self.inner.sched);
        if s.entries.contains_key(id) {
            self.push(&mut s, id, cmd);
        }
    }

    /// Drop job `id`: a running step is interrupted and its job dropped when it returns.
    pub fn forget(&self, id: &str) {
        let removed = {
            let mut s = lock(&self.inner.sched);
            let e = s.entries.remove(id);
            if let Some(e) = &e {
                e.interrupt.store(1, Ordering::Relaxed);
                if e.state == State::Idle && e.wake.external {
                    s.external -= 1;
                }
            }
            e
        };
        drop(removed);
        self.inner.cv.notify_all();
    }

    pub fn stats(&self) -> PoolStats {
        let s = lock(&self.inner.sched);
        PoolStats {
            workers: s.threads,
            jobs: s.entries.len(),
            ready: s.ready.len(),
            running: s.running,
        }
    }

    /// Holds virtual time while the simulator does something in real time that the code
    /// waits for (a factory BlinkUp, a blessing's round trip): the clock jumps only once
    /// the hold is dropped, so the code sees the same order of events as in real time.
    pub fn outside(&self) -> Outside {
        lock(&self.inner.sched).outside += 1;
        Outside(self.inner.clone())
    }

    /// Re-examine the jobs' deadlines now (virtual time was switched on, or jumped).
    pub fn kick(&self) {
        let mut s = lock(&self.inner.sched);
        let now = self.inner.clock.now();
        promote_virtual(&mut s, now);
        drop(s);
        self.inner.cv.notify_all();
    }

    fn push(&self, s: &mut Sched, id: &str, cmd: Cmd) {
        let Some(e) = s.entries.get_mut(id) else {
            return;
        };
        if interrupts(&cmd) && e.state == State::Running {
            e.interrupt.store(1, Ordering::Relaxed);
        }
        e.inbox.push(cmd);
        if e.state == State::Idle {
            if e.wake.external {
                s.external -= 1;
            }
            e.state = State::Ready;
            e.gen += 1;
            s.ready.push_back((id.to_string(), Instant::now()));
            self.inner.cv.notify_one();
            if s.running >= s.threads {
                self.inner.busy.notify_one();
            }
        }
    }

    fn start_workers(&self, s: &mut Sched) {
        while s.threads < self.inner.cfg.workers {
            if !spawn_worker(&self.inner, s) {
                break;
            }
        }
        if !s.monitor {
            let inner = self.inner.clone();
            let spawned = std::thread::Builder::new()
                .name("vdev-monitor".into())
                .spawn(move || monitor(inner));
            s.monitor = spawned.is_ok();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let entries = {
            let mut s = lock(&self.inner.sched);
            s.stop = true;
            for e in s.entries.values() {
                e.interrupt.store(1, Ordering::Relaxed);
            }
            s.ready.clear();
            std::mem::take(&mut s.entries)
        };
        self.inner.cv.notify_all();
        self.inner.busy.notify_all();
        drop(entries);
    }
}

/// How long a ready job may wait while every worker is busy (with code that does not return
/// soon) before an extra worker takes it.
const STARVE: Duration = Duration::from_millis(50);
/// An extra worker idle this long ends.
const EXTRA_IDLE: Duration = Duration::from_secs(10);

/// Most worker threads at a time, extra ones included.
fn max_threads(cfg: &PoolConfig) -> usize {
    (cfg.workers * 4).clamp(cfg.workers, 32.max(cfg.workers))
}

fn spawn_worker(inner: &Arc<Inner>, s: &mut Sched) -> bool {
    let n = s.threads;
    let inner = inner.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("vdev-worker-{n}"))
        .stack_size(8 << 20)
        .spawn(move || worker(inner));
    if spawned.is_ok() {
        s.threads += 1;
    }
    spawned.is_ok()
}

/// Adds a worker when the oldest ready job has waited [`STARVE`] while every worker was busy
/// (code running long on all of them), up to [`max_threads`]: one device's long callbacks
/// never keep the others waiting for long.
fn monitor(inner: Arc<Inner>) {
    let mut s = lock(&inner.sched);
    loop {
        if s.stop {
            return;
        }
        let mut wait = Duration::from_secs(1);
        if let Some((_, since)) = s.ready.front() {
            let waited = since.elapsed();
            if s.running >= s.threads && waited >= STARVE {
                if s.threads < max_threads(&inner.cfg) {
                    spawn_worker(&inner, &mut s);
                }
                wait = STARVE;
            } else {
                wait = STARVE.saturating_sub(waited).max(Duration::from_millis(5));
            }
        }
        s = inner
            .busy
            .wait_timeout(s, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Move every idle job whose virtual deadline is at or before `now` to the ready queue.
fn promote_virtual(s: &mut Sched, now: f64) {
    while let Some(Reverse((bits, gen, _))) = s.vtimers.peek() {
        if f64::from_bits(*bits) > now {
            break;
        }
        let gen = *gen;
        let Some(Reverse((_, _, id))) = s.vtimers.pop() else {
            break;
        };
        make_ready(s, &id, gen);
    }
}

/// Move every idle job whose wake time has come to the ready queue.
fn promote_due(s: &mut Sched, now: Instant) {
    while let Some(Reverse((at, gen, _))) = s.timers.peek() {
        if *at > now {
            break;
        }
        let gen = *gen;
        let Some(Reverse((_, _, id))) = s.timers.pop() else {
            break;
        };
        make_ready(s, &id, gen);
    }
}

fn make_ready(s: &mut Sched, id: &str, gen: u64) {
    let Some(e) = s.entries.get_mut(id) else {
        return;
    };
    if e.gen != gen || e.state != State::Idle {
        return;
    }
    if e.wake.external {
        s.external -= 1;
    }
    e.state = State::Ready;
    e.gen += 1;
    s.ready.push_back((id.to_string(), Instant::now()));
}

/// The earliest valid virtual deadline (dropping stale heap items).
fn next_virtual(s: &mut Sched) -> Option<f64> {
    while let Some(Reverse((bits, gen, id))) = s.vtimers.peek() {
        let valid = s
            .entries
            .get(id)
            .is_some_and(|e| e.gen == *gen && e.state == State::Idle);
        if valid {
            return Some(f64::from_bits(*bits));
        }
        s.vtimers.pop();
    }
    None
}

/// The earliest valid real wake time (dropping stale heap items).
fn next_real(s: &mut Sched) -> Option<Instant> {
    while let Some(Reverse((at, gen, id))) = s.timers.peek() {
        let valid = s
            .entries
            .get(id)
            .is_some_and(|e| e.gen == *gen && e.state == State::Idle);
        if valid {
            return Some(*at);
        }
        s.timers.pop();
    }
    None
}

fn worker(inner: Arc<Inner>) {
    if inner.cfg.nice > 0 {
        impt_vm::lower_thread_priority(inner.cfg.nice);
    }
    let mut s = lock(&inner.sched);
    let mut idle_since = Instant::now();
    loop {
        if s.stop {
            return;
        }
        promote_due(&mut s, Instant::now());
        if !s.ready.is_empty() && s.running >= s.threads.saturating_sub(1) {
            inner.busy.notify_one();
        }
        let Some((id, _)) = s.ready.pop_front() else {
            if s.threads > inner.cfg.workers && idle_since.elapsed() >= EXTRA_IDLE {
                // An extra worker no longer needed.
                s.threads -= 1;
                return;
            }
            if inner.clock.is_virtual() && s.running == 0 && s.external == 0 && s.outside == 0 {
                if let Some(due) = next_virtual(&mut s) {
                    let now = inner.clock.now();
                    if due > now {
                        inner.clock.advance_to(due);
                    }
                    promote_virtual(&mut s, inner.clock.now());
                    if !s.ready.is_empty() {
                        inner.cv.notify_all();
                        continue;
                    }
                }
            }
            let wait = next_real(&mut s)
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(3600))
                .min(if s.threads > inner.cfg.workers {
                    EXTRA_IDLE
                } else {
                    Duration::from_secs(3600)
                });
            s = inner
                .cv
                .wait_timeout(s, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            continue;
        };
        let Some(e) = s.entries.get_mut(&id) else {
            continue;
        };
        if e.state != State::Ready {
            continue;
        }
        let Some(mut job) = e.job.take() else {
            continue;
        };
        e.state = State::Running;
        e.interrupt.store(0, Ordering::Relaxed);
        let cmds = std::mem::take(&mut e.inbox);
        let serial = e.serial;
        s.running += 1;
        drop(s);

        let cpu0 = impt_vm::thread_cpu_ns();
        let wake = job.step(cmds);
        let used = (impt_vm::thread_cpu_ns() - cpu0).max(0) as f64 / 1e9;

        s = lock(&inner.sched);
        s.running -= 1;
        let now = Instant::now();
        idle_since = now;
        let Some(e) = s.entries.get_mut(&id).filter(|e| e.serial == serial) else {
            // Forgotten meanwhile.
            drop(s);
            drop(job);
            s = lock(&inner.sched);
            continue;
        };
        let share = inner.cfg.cpu_share;
        let burst = inner.cfg.burst.as_secs_f64();
        e.credit = (e.credit + now.duration_since(e.refilled).as_secs_f64() * share).min(burst);
        e.refilled = now;
        e.credit -= used;
        e.job = Some(job);
        e.wake = wake;
        e.gen += 1;
        let gen = e.gen;
        let hold = (e.credit < 0.0).then(|| now + Duration::from_secs_f64(-e.credit / share));
        if !e.inbox.is_empty() || (wake.at.is_some_and(|t| t <= now) && hold.is_none()) {
            e.state = State::Ready;
            s.ready.push_back((id, now));
            continue;
        }
        e.state = State::Idle;
        if wake.external {
            s.external += 1;
        }
        let at = match (wake.at, hold) {
            (Some(t), Some(h)) => Some(t.max(h)),
            (t, _) => t,
        };
        if let Some(at) = at {
            s.timers.push(Reverse((at, gen, id.clone())));
        }
        if let (Some(v), None) = (wake.vdue, hold) {
            s.vtimers.push(Reverse((vkey(v), gen, id)));
        }
    }
}

/// A hold of [`Pool::outside`], given back on drop.
pub struct Outside(Arc<Inner>);

impl Drop for Outside {
    fn drop(&mut self) {
        let mut s = lock(&self.0.sched);
        s.outside = s.outside.saturating_sub(1);
        drop(s);
        self.0.cv.notify_all();
    }
}

/// The devices' runners: jobs of the worker pool, by device id.
pub struct Runners {
    pub(super) pool: Pool,
}

impl Runners {
    pub fn new(clock: Clock, cfg: PoolConfig) -> Runners {
        Runners {
            pool: Pool::new(clock, cfg),
        }
    }

    /// Figures of the worker pool.
    pub fn stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// Re-examine the devices' deadlines (virtual time switched on).
    pub fn kick(&self) {
        self.pool.kick();
    }
}
