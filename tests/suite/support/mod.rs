//! The suite's one support module. Everything a test needs to run the real `impt` binary
//! against a real `impt sim --port 0` on loopback, each test in its own temporary HOME and
//! working directory (handed to the child processes through their environment and
//! `current_dir`; the test process's own environment and directory are never changed).
//!
//! What it offers (all re-exported here, so a test module writes `use crate::support::*;`):
//! - [`sim`]: `Sim::start(&["--devices", "6"])` spawns a simulator and reads its port;
//!   `url()` (ends with `/v5`), `root()` (for `/_sim/…`), `port()`, `terminate(wait)`
//!   (SIGTERM); killed on drop, its stderr printed if the test fails.
//! - [`cli`]: `Env::start(&sim_args)` = a `Sim` + temp HOME + temp dir, logged in as
//!   `USER`/`PASSWORD` (`Env::start_no_login` leaves the login to the test).
//!   `env.impt(&args)` / `impt_input(&args, stdin)` / `impt_at(dir, &args, stdin, &envs)`
//!   run one command and return an `Out` (`ok()`, `failed()`, `has(text)`, `lacks(text)`,
//!   `json()`, `id_after(label)`, fields `stdout`, `stderr`, `code`);
//!   `env.spawn(&args)` / `spawn_at(dir, &args)` / `spawn_env(dir, &args, &envs)` start one
//!   without waiting (a `Running`);
//!   `env.http(method, path, body)` is a blocking call to the sim (logged in; `/_sim/…`
//!   paths go to the control endpoints); `env.device_ids()`, `env.assign(dg, device)`,
//!   `env.path(name)`; `plain(text)` strips ANSI colours.
//! - [`running`]: `Running`, a running impt whose stdout lines arrive on a thread:
//!   `wait_for(text)` (next matching line), `wait_nth(text, n)`, `send_line`,
//!   `close_input`, `ctrl_c`, `interrupt()` (Ctrl-C → exit code and the rest of the
//!   output), `finish()` (waits for the end → `Out`). Every wait is bounded.
//! - [`http`]: `Api`, an async JSON:API client (`Api::login(url, user, password)`, `get`,
//!   `post`, `patch`, `delete`, `send`, and `product`/`group`/`deploy`/`assign`/`device_ids`/`stream_of`
//!   shortcuts) returning a `Resp`, and `Sse`, a Server-Sent Events reader (`until`,
//!   `messages_until`); `sim_running(imp, args, device, agent)` = a sim whose first device runs
//!   that code with a stream on it. For `#[tokio::test]` tests.
//! - [`watch`]: `project(&sim_args)` (an `Env` with a product, a development group, one
//!   assigned device and project files) and `Project::watch(&args)`, which starts
//!   `impt watch -z json` and returns a `Watch` with bounded waits on its JSON events
//!   (`wait_event`, `wait_for`, `next_matching`, `settle`, `all`, `log_msgs`, `key`,
//!   `quit`, `interrupt`);
//!   `spawn_watch(dir, home, &args)` without a project.
//! - [`libraries`]: `seed_factorytools(home)` puts FactoryTools (the clone in `$IMPT_LIBS`,
//!   else a stand-in) in a HOME's library cache, for code that `#require`s it; `NO_GITHUB`.
//! - [`builder_gen`]: a seeded random Builder program generator (`Gen`, `noise`).

pub mod builder_gen;
pub mod cli;
pub mod http;
pub mod libraries;
pub mod running;
pub mod sim;
pub mod watch;

pub use cli::{plain, Env, Out, PASSWORD, USER};
pub use http::{sim_running, Api, Sse};
pub use libraries::{seed_factorytools, NO_GITHUB};
pub use running::Running;
pub use sim::Sim;
pub use watch::{project, project_in, project_typed, spawn_watch, DEBOUNCE_MS};

/// The `impt` binary cargo built for the tests.
pub fn impt_bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_impt"))
}
