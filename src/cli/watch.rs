//! `impt watch`: options (an `options!` table, parsed by clap's rules) → [`crate::watch`].

use std::path::PathBuf;

use crate::commands::core::options::{options, Opt};
use crate::commands::log::FilterOpts;
use crate::watch::settings::{Overrides, RestartMode};

const ABOUT: &str = "Watch the project's sources; on every change deploy, restart and stream the logs.

Run it in a project directory (`.impt.project`), or name the Device Group and files like `impt build deploy`. Settings may also live in the `[watch]` table of `impt.toml` (debounce, ignore, paths, tags, restart); flags override it. Keys: `r` redeploy now, `c` clear, `q` quit (without a terminal: lines `r`, `c`, `q` on stdin); with --sim also `d` cut or restore the virtual devices' connection, `p` power them off and on, `b` toggle the --button pin.";

options! {
    /// Options of `impt watch`.
    pub struct WatchOpts {
        dg: str = Opt::s("dg", 'g', "DG", "Device Group identifier (default: the project's)"),
        device_file: str = Opt::s("device-file", 'x', "DEVICE_FILE", "Device source file (default: the project's deviceFile)"),
        agent_file: str = Opt::s("agent-file", 'y', "AGENT_FILE", "Agent source file (default: the project's agentFile)"),
        debounce: opt_val(u64) = Opt::s("debounce", ' ', "MS", "Quiet period in milliseconds before a change is deployed [default: 300, or watch.debounce]").long_only(),
        ignore: strs = Opt::a("ignore", ' ', "GLOB", "Ignore changes of paths matching GLOB (repeatable; VCS, editor temp and build-cache files always are)").long_only(),
        paths: strs = Opt::a("path", ' ', "PATH", "Also watch PATH, a file or a directory (repeatable)").long_only(),
        tags: strs = Opt::a("tag", 't', "TAGS", "Tag of every deployment (repeatable)"),
        conditional: flag = Opt::f("conditional", 'c', "Restart the devices conditionally").conflicts(&["no-restart"]),
        no_restart: flag = Opt::f("no-restart", ' ', "Deploy only; do not restart the devices").long_only(),
        no_local_check: flag = Opt::f("no-local-check", ' ', "Send the code without compiling it locally first (by default the embedded Squirrel compiler catches compile errors before any request; the cloud compiler stays the authority)").long_only(),
        test: flag = Opt::f("test", ' ', "After each deployed save, run the project's impUnit tests (its .impt.test) on the test configuration's device, the tests touching the changed files first; a newer save cancels a running pass (also `[watch] test = true` in impt.toml)").long_only(),
        virtual_time: flag = Opt::f("virtual-time", ' ', "With --test on a simulator (impt sim, --sim): the test passes run on its virtual time, as impt test run --virtual-time: while all code is idle its clock jumps to the next timer; switched back after each pass (also `[watch] virtual-time = true` in impt.toml)").long_only(),
        output: str = Opt::s("output", 'z', "MODE", "Output: text (default; minimal is the same), json (one JSON event per line: started, watching, stream_opened, stream_lost, changed, deploy_started, skipped, deployed, restarted, compile_error, retry, error, log, device, info, tests_started, tests_cancelled, tests, quit) or debug (API traces)").choices(&["text", "minimal", "json", "debug"]).default("text"),
        sim: opt_str = Opt::so("sim", ' ', "DIR", "Run against an in-process simulator with a virtual device; DIR holds device.nut and agent.nut (default: the current directory). A DIR without them gets a new project from the template with --init (or after asking, on a terminal)").long_only(),
        init: flag = Opt::f("init", ' ', "With --sim: create device.nut and agent.nut from the template when DIR has neither").long_only().requires(&["sim"]),
        devices: opt_val(usize) = Opt::s("devices", ' ', "N", "With --sim: how many virtual devices the simulator runs [default: 1]").long_only().requires(&["sim"]),
        parts: opt_val(PathBuf) = Opt::s("parts", ' ', "FILE", "With --sim: a part file (TOML) attached to the virtual devices, as impt sim --parts").long_only().requires(&["sim"]),
        button: str = Opt::s("button", ' ', "PIN", "With --sim: the input pin (e.g. pin1) the key b toggles between 0 and 1, like a button").long_only().requires(&["sim"]),
        logs: flatten(FilterOpts),
    }
}

/// The words after `--`: options of `impt sim` for the simulator of `--sim`.
fn sim_options_arg() -> clap::Arg {
    clap::Arg::new("sim_options")
        .last(true)
        .num_args(1..)
        .action(clap::ArgAction::Append)
        .value_name("SIM OPTIONS")
        .help("With --sim: options of `impt sim` for the simulator, after `--` (e.g. `impt watch --sim . -- --time-scale 10`); see `impt sim --help`")
}

/// The clap command of `impt watch` (parsing, help, completions).
pub fn command() -> clap::Command {
    super::clapstyle::command("impt watch", ABOUT, &WatchOpts::table()).arg(sim_options_arg())
}

pub fn run(args: &[String]) -> i32 {
    let m = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return super::clapstyle::failure(&e, command()),
    };
    let a = WatchOpts::from_args(&super::clapstyle::args(&m, &WatchOpts::table()));
    let sim_options: Vec<String> = m
        .get_many::<String>("sim_options")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    match crate::output::logfilter::LogFilter::new(&a.logs.log_options(false)) {
        Ok(f) => crate::output::logfilter::install(f),
        Err(e) => {
            let ui = crate::output::Ui::new(crate::output::Mode::Default);
            ui.error(&e);
            ui.fails();
            return 1;
        }
    }
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if !sim_options.is_empty() && a.sim.is_none() {
        return usage("Options after -- are for the simulator of --sim.");
    }
    let sim = match a.sim {
        Some(s) => {
            let d = match s.filter(|s| !s.is_empty()) {
                None => dir.clone(),
                Some(s) => PathBuf::from(s),
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
            if let Some(p) = &a.parts {
                argv.extend(["--parts".to_string(), p.display().to_string()]);
            }
            argv.extend(sim_options);
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
            test: a.test,
            virtual_time: a.virtual_time,
        },
        mode: match a.output.as_deref().unwrap_or_default() {
            "json" => crate::output::Mode::Json,
            "debug" => crate::output::Mode::Debug,
            _ => crate::output::Mode::Default,
        },
        sim,
        sim_config,
        button: a.button,
        no_local_check: a.no_local_check,
        tests: Some(crate::watch::testpass::TestRunner(std::sync::Arc::new(
            |changed, sim, virtual_time, cancel| {
                crate::commands::test::watch_pass(changed, sim, virtual_time, cancel)
                    .map(|r| r.map(|o| (o.files, o.affected, o.cases)))
            },
        ))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<WatchOpts, clap::error::ErrorKind> {
        let argv: Vec<&str> = s.split_whitespace().collect();
        let m = command().try_get_matches_from(argv).map_err(|e| e.kind())?;
        Ok(WatchOpts::from_args(&super::super::clapstyle::args(
            &m,
            &WatchOpts::table(),
        )))
    }

    #[test]
    fn the_table_parses_with_clap_rules() {
        let o = parse("--sim --devices 2 --debounce 50 -t a --tag b --source agent").unwrap();
        assert_eq!(o.sim, Some(Some(String::new())));
        assert_eq!((o.devices, o.debounce), (Some(2), Some(50)));
        assert_eq!(o.tags, ["a", "b"]);
        assert_eq!(o.logs.source, ["agent"]);
        assert_eq!(o.output.as_deref(), Some("text"));
        assert_eq!(parse("--sim dir").unwrap().sim, Some(Some("dir".into())));
        assert_eq!(parse("").unwrap().sim, None);
        use clap::error::ErrorKind;
        assert_eq!(
            parse("--init").err(),
            Some(ErrorKind::MissingRequiredArgument)
        );
        assert_eq!(
            parse("-c --no-restart").err(),
            Some(ErrorKind::ArgumentConflict)
        );
        assert_eq!(
            parse("--debounce x").err(),
            Some(ErrorKind::ValueValidation)
        );
    }
}
