//! `impt watch`: options (clap derive) → [`crate::watch`].

use std::path::PathBuf;

use clap::Parser;

use crate::watch::settings::{Overrides, RestartMode};

/// Watch the project's sources; on every change deploy, restart and stream the logs.
///
/// Run it in a project directory (`.impt.project`), or name the Device Group and files like
/// `impt build deploy`. Settings may also live in the `[watch]` table of `impt.toml`
/// (debounce, ignore, paths, tags, restart); flags override it. Keys: `r` redeploy now,
/// `c` clear, `q` quit (without a terminal: lines `r`, `c`, `q` on stdin).
#[derive(Debug, Parser)]
#[command(name = "impt watch", no_binary_name = true)]
struct Args {
    /// Device Group identifier (default: the project's).
    #[arg(short = 'g', long)]
    dg: Option<String>,
    /// Device source file (default: the project's deviceFile).
    #[arg(short = 'x', long)]
    device_file: Option<String>,
    /// Agent source file (default: the project's agentFile).
    #[arg(short = 'y', long)]
    agent_file: Option<String>,
    /// Quiet period in milliseconds before a change is deployed
    /// [default: 300, or watch.debounce].
    #[arg(long, value_name = "MS")]
    debounce: Option<u64>,
    /// Ignore changes of paths matching GLOB (repeatable; VCS, editor temp and build-cache
    /// files always are).
    #[arg(long, value_name = "GLOB")]
    ignore: Vec<String>,
    /// Also watch PATH, a file or a directory (repeatable).
    #[arg(long = "path", value_name = "PATH")]
    paths: Vec<String>,
    /// Tag of every deployment (repeatable).
    #[arg(short = 't', long = "tag")]
    tags: Vec<String>,
    /// Restart the devices conditionally.
    #[arg(short = 'c', long, conflicts_with = "no_restart")]
    conditional: bool,
    /// Deploy only; do not restart the devices.
    #[arg(long)]
    no_restart: bool,
    /// Send the code without compiling it locally first (by default the embedded Squirrel
    /// compiler catches compile errors before any request; the cloud compiler stays the
    /// authority).
    #[arg(long)]
    no_local_check: bool,
    /// Output: text (default; minimal is the same), json (one JSON event per line: started, watching,
    /// stream_opened, stream_lost, changed, deploy_started, skipped, deployed, restarted,
    /// compile_error, retry, error, log, device, info, quit) or debug (API traces).
    #[arg(short = 'z', long, value_name = "MODE", default_value = "text",
          value_parser = ["text", "minimal", "json", "debug"])]
    output: String,
    /// Run against an in-process simulator with a virtual device; DIR holds device.nut and
    /// agent.nut (default: the current directory). A DIR without them gets a new project from
    /// the template with --init (or after asking, on a terminal).
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "")]
    sim: Option<String>,
    /// With --sim: create device.nut and agent.nut from the template when DIR has neither.
    #[arg(long, requires = "sim")]
    init: bool,
    /// With --sim: how many virtual devices the simulator runs [default: 1].
    #[arg(long, value_name = "N", requires = "sim")]
    devices: Option<usize>,
    /// With --sim: options of `impt sim` for the simulator, after `--` (e.g.
    /// `impt watch --sim . -- --time-scale 10`); see `impt sim --help`.
    #[arg(last = true, value_name = "SIM OPTIONS")]
    sim_options: Vec<String>,
    /// Show only the log lines of this source (repeatable).
    #[arg(long = "source", value_name = "agent|device", value_parser = ["agent", "device"])]
    sources: Vec<String>,
    /// Show only log lines of this type, e.g. server.log, server.error, agent.log,
    /// agent.error, status (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Show only log lines whose message matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    grep: Option<String>,
    /// Hide the timestamps of log lines.
    #[arg(long)]
    no_timestamps: bool,
    /// Also append the shown log lines to FILE.
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

/// The clap command of `impt watch` (for completions).
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

pub fn run(args: &[String]) -> i32 {
    let a = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => return super::clapstyle::failure(&e, <Args as clap::CommandFactory>::command()),
    };
    let logs = crate::output::logfilter::LogOptions {
        sources: a.sources.clone(),
        types: a.types.clone(),
        grep: a.grep.clone(),
        no_timestamps: a.no_timestamps,
        log_file: a.log_file.clone(),
        json_lines: false,
    };
    match crate::output::logfilter::LogFilter::new(&logs) {
        Ok(f) => crate::output::logfilter::install(f),
        Err(e) => {
            let ui = crate::output::Ui::new(crate::output::Mode::Default);
            ui.error(&e);
            ui.fails();
            return 1;
        }
    }
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if !a.sim_options.is_empty() && a.sim.is_none() {
        return usage("Options after -- are for the simulator of --sim.");
    }
    let sim = match a.sim {
        Some(s) => {
            let d = if s.is_empty() {
                dir.clone()
            } else {
                PathBuf::from(s)
            };
            if let Err(e) = sim_project(&d, a.init) {
                return usage(&e);
            }
            Some(d)
        }
        None => None,
    };
    let sim_config = match &sim {
        Some(_) => {
            let mut argv: Vec<String> = [
                "--devices",
                &a.devices.unwrap_or(1).to_string(),
                "--keepalive-ms",
                "5000",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            argv.extend(a.sim_options.iter().cloned());
            match super::sim::config_from(&argv) {
                Ok(c) => Some(c),
                Err(e) => return usage(&format!("simulator options: {e}")),
            }
        }
        None => None,
    };
    let restart = if a.no_restart {
        Some(RestartMode::None)
    } else if a.conditional {
        Some(RestartMode::Conditional)
    } else {
        None
    };
    let opts = crate::watch::Options {
        dir,
        dg: a.dg,
        device_file: a.device_file,
        agent_file: a.agent_file,
        flags: Overrides {
            debounce: a.debounce,
            ignore: a.ignore,
            paths: a.paths,
            tags: a.tags,
            restart,
        },
        mode: match a.output.as_str() {
            "json" => crate::output::Mode::Json,
            "debug" => crate::output::Mode::Debug,
            _ => crate::output::Mode::Default,
        },
        sim,
        sim_config,
        no_local_check: a.no_local_check,
    };
    let ui = crate::output::Ui::new(opts.mode);
    let code = crate::watch::run(opts);
    if code == 0 {
        ui.succeeds();
    } else {
        ui.fails();
    }
    code
}

/// A usage failure of `impt watch`: the message, the FAILS line; exit code 1.
fn usage(msg: &str) -> i32 {
    let ui = crate::output::Ui::new(crate::output::Mode::Default);
    ui.error(&crate::error::ImptError::msg(msg));
    ui.fails();
    1
}

/// The new project's files (`--sim --init`), embedded so that they exist wherever impt runs.
const TEMPLATE: [(&str, &str); 2] = [
    (
        "device.nut",
        include_str!("../../templates/project/device.nut"),
    ),
    (
        "agent.nut",
        include_str!("../../templates/project/agent.nut"),
    ),
];

/// Makes sure `dir` has code for `--sim`: a directory without device.nut and agent.nut gets
/// the template's with `init` or after a yes on a terminal; otherwise the error says how.
fn sim_project(dir: &std::path::Path, init: bool) -> Result<(), String> {
    let has_code = ["device.nut", "agent.nut"]
        .iter()
        .any(|f| dir.join(f).is_file())
        || crate::watch::factory::sim_files(dir).is_some();
    if has_code {
        return Ok(());
    }
    let shown = if dir.as_os_str().is_empty() || dir == std::path::Path::new(".") {
        "the current directory".to_string()
    } else {
        format!("\"{}\"", dir.display())
    };
    let create = init
        || {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() {
                let ui = crate::output::Ui::new(crate::output::Mode::Default);
                ui.confirm(Some(&format!(
                "{shown} has no device.nut or agent.nut: create a new project there from the template?"
            )))
            .is_ok()
            } else {
                false
            }
        };
    if !create {
        return Err(format!(
            "{shown} has no device.nut or agent.nut to deploy. Run `impt watch --sim --init` to \
             create a project from the template there, or give a directory with code: \
             impt watch --sim DIR."
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in TEMPLATE {
        let path = dir.join(name);
        crate::config::write_atomic(&path, text.as_bytes(), false)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        crate::output::stderr_line(&format!("Created {} from the template.", path.display()));
    }
    Ok(())
}
