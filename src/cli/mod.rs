//! Argument parsing and dispatch: one file per command group, each listing its commands once
//! (`spec::CmdSpec`: texts, option table, and the handler that runs it); `run_argv` finds the
//! command and calls its handler.

pub mod account;
pub mod auth;
pub mod build;
pub mod clapstyle;
pub mod device;
pub mod dg;
pub mod editor;
pub mod log;
pub mod loginkey;
pub mod parse;
pub mod product;
pub mod project;
pub mod sim;
pub mod simdevice;
pub mod simport;
pub mod spec;
pub mod suggest;
pub mod test;
pub mod watch;
pub mod webhook;

use std::sync::Arc;

use spec::GroupSpec;

use crate::commands::{Args, CommandCtx};
use crate::error::ImptError;
use crate::output::{self, Mode, Ui};

/// The version the tool reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn groups() -> Vec<GroupSpec> {
    vec![
        account::group(),
        auth::group(),
        build::group(),
        device::group(),
        dg::group(),
        log::group(),
        loginkey::group(),
        product::group(),
        project::group(),
        test::group(),
        webhook::group(),
    ]
}

/// Commands that are not groups of the original.
const EXTRA: [(&str, &str); 5] = [
    (
        "watch",
        "Watches the project's sources and deploys, restarts and streams logs on every change.",
    ),
    (
        "sim",
        "Runs a local impCentral API simulator with virtual devices.",
    ),
    (
        "editor",
        "Sets an editor up for impt watch: impt editor vscode|neovim|jetbrains.",
    ),
    (
        "completions",
        "Prints shell completions: impt completions bash|zsh|fish|powershell|elvish.",
    ),
    (
        "help",
        "Shows the help of the tool, a group or a command: impt help [group [command]].",
    ),
];

fn is_help(w: &str) -> bool {
    w == "--help" || w == "-h"
}

/// Prints a usage failure: help, the message, the FAILS line. Returns the exit code.
fn usage_failure(help: String, msg: String) -> i32 {
    let ui = Ui::new(Mode::Default);
    ui.error(&ImptError::Usage { help, msg });
    ui.fails();
    1
}

/// Prints a short usage failure (no help page): the message, the FAILS line.
fn short_failure(msg: String) -> i32 {
    usage_failure(String::new(), msg)
}

/// The error for a first word that names no command.
fn unknown_command(groups: &[GroupSpec], w: &str) -> String {
    let word = w.trim_start_matches('-');
    let best = if w.starts_with('-') {
        suggest::closest(word, ["version", "help"]).map(|o| format!("--{o}"))
    } else {
        let names = groups
            .iter()
            .map(|g| g.name)
            .chain(EXTRA.iter().map(|e| e.0));
        suggest::closest(word, names).map(str::to_string)
    };
    suggest::unknown(word, best, "impt --help")
}

/// `impt help [group [command]]`: the help page of what the words name.
fn help(groups: &[GroupSpec], words: &[String]) -> i32 {
    let words: Vec<&String> = words.iter().filter(|w| !is_help(w)).collect();
    let Some(first) = words.first() else {
        output::print_stdout(&parse::root_help(groups, &EXTRA));
        return 0;
    };
    let group = groups.iter().find(|g| g.name == first.as_str());
    if group.is_none() && !EXTRA.iter().any(|e| e.0 == first.as_str()) {
        return short_failure(unknown_command(groups, first));
    }
    let mut argv = vec![first.to_string()];
    if let (Some(g), Some(c)) = (group, words.get(1)) {
        if !g.commands.iter().any(|x| x.name == c.as_str()) {
            return short_failure(suggest::unknown(
                c,
                suggest::closest(c, g.commands.iter().map(|x| x.name)).map(str::to_string),
                &format!("impt help {}", g.name),
            ));
        }
        argv.push(c.to_string());
    }
    argv.push("--help".into());
    run_argv(&argv)
}

pub fn main() -> i32 {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    run_argv(&argv)
}

pub fn run_argv(argv: &[String]) -> i32 {
    let groups = groups();
    let first = argv.first().map(String::as_str);
    match first {
        Some("help") => return help(&groups, &argv[1..]),
        Some("sim") if argv.get(1).is_some_and(|w| w == "device") => {
            return in_group(&simdevice::group(), &argv[2..])
        }
        Some("sim") => return sim::run(&argv[1..]),
        Some("watch") => return watch::run(&argv[1..]),
        Some("editor") => return editor::run(&argv[1..]),
        Some("completions") => return completions(&groups, argv.get(1).map(String::as_str)),
        Some("--version") | Some("-v") if argv.len() == 1 => {
            output::print_stdout(&format!("{VERSION}\n"));
            return 0;
        }
        _ => {}
    }
    let help_asked = argv.iter().any(|w| is_help(w));
    let Some(group) = first
        .filter(|w| !w.starts_with('-'))
        .and_then(|w| groups.iter().find(|g| g.name == w))
    else {
        let root = parse::root_help(&groups, &EXTRA);
        if help_asked {
            output::print_stdout(&root);
            return 0;
        }
        return match first {
            None => usage_failure(root, "Please specify a valid command.".into()),
            Some(w) => short_failure(unknown_command(&groups, w)),
        };
    };
    in_group(group, &argv[1..])
}

/// `impt <group> <words>`: the command the first word names, with the options after it.
fn in_group(group: &GroupSpec, words: &[String]) -> i32 {
    let help_asked = words.iter().any(|w| is_help(w));
    let second = words.first().map(String::as_str);
    let Some(cmd) = second
        .filter(|w| !w.starts_with('-'))
        .and_then(|w| group.commands.iter().find(|c| c.name == w))
    else {
        let help = parse::group_help(group);
        if help_asked {
            output::print_stdout(&help);
            return 0;
        }
        return match second {
            Some(w) if !w.starts_with('-') => short_failure(suggest::unknown(
                w,
                suggest::closest(w, group.commands.iter().map(|c| c.name)).map(str::to_string),
                &format!("impt {} --help", group.name),
            )),
            _ => usage_failure(help, "Please specify a valid command.".into()),
        };
    };
    if help_asked {
        output::print_stdout(&parse::command_help(cmd));
        return 0;
    }
    let args = match parse::parse(cmd, &words[1..]) {
        Ok(a) => a,
        Err(msg) => match msg.strip_prefix("Unknown argument: ") {
            Some(word) => {
                let longs = cmd.opts.iter().map(|o| o.long).chain(["output"]);
                let best = suggest::closest(word, longs).map(|l| format!("--{l}"));
                let help = format!("impt {} {} --help", group.name, cmd.name);
                return short_failure(suggest::unknown(word, best, &help));
            }
            None => return usage_failure(parse::command_help(cmd), msg),
        },
    };
    run_command(cmd, args)
}

fn run_command(cmd: &spec::CmdSpec, args: Args) -> i32 {
    let ui = Arc::new(Ui::new(args.output));
    let rt = match crate::sync::runtime(Some(2)) {
        Ok(rt) => rt,
        Err(e) => {
            ui.error(&ImptError::Internal(e.to_string()));
            return 1;
        }
    };
    let ctx = CommandCtx::new(ui.clone());
    let result = match cmd.handler {
        Some(run) => rt.block_on(run(&ctx, &args)),
        None => Err(ImptError::Internal(format!(
            "no handler for {} {}",
            cmd.group, cmd.name
        ))),
    };
    ui.stop_spinner();
    match result {
        Ok(()) => {
            if !cmd.raw {
                ui.succeeds();
            }
            0
        }
        Err(e) => {
            ui.error(&e);
            ui.fails();
            1
        }
    }
}

/// The shells `impt completions` writes for.
const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

fn completions(groups: &[GroupSpec], shell: Option<&str>) -> i32 {
    use clap_complete::Shell;
    if shell.is_some_and(is_help) {
        output::print_stdout("Usage: impt completions bash|zsh|fish|powershell|elvish\n");
        return 0;
    }
    let Some(shell) = shell.and_then(|s| s.parse::<Shell>().ok()) else {
        let msg = match shell {
            Some(s) => format!(
                "Unknown shell \"{s}\": impt completions knows {}.",
                SHELLS.join(", ")
            ),
            None => "Please name a shell.".to_string(),
        };
        return usage_failure(
            "Usage: impt completions bash|zsh|fish|powershell|elvish".into(),
            msg,
        );
    };
    let mut cmd = completion_tree(groups);
    output::completions(shell, &mut cmd);
    0
}

/// Every command for completions: the groups, and `watch`, `sim`, `help` (with the group
/// names), `editor` (with the editors), `completions` (with the shells).
fn completion_tree(groups: &[GroupSpec]) -> clap::Command {
    use clap::{Arg, Command};
    let about = |name: &str| EXTRA.iter().find(|e| e.0 == name).map_or("", |e| e.1);
    let names: Vec<&'static str> = groups.iter().map(|g| g.name).collect();
    parse::clap_tree(groups)
        .subcommand(
            watch::command()
                .name("watch")
                .no_binary_name(false)
                .about(about("watch")),
        )
        .subcommand(
            sim::command()
                .name("sim")
                .no_binary_name(false)
                .about(about("sim"))
                .subcommand(parse::clap_group(&simdevice::group()).name("device")),
        )
        .subcommand(
            Command::new("help").about(about("help")).arg(
                Arg::new("group")
                    .value_parser(clap::builder::PossibleValuesParser::new(names))
                    .num_args(0..=2),
            ),
        )
        .subcommand(
            Command::new("editor")
                .about(about("editor"))
                .arg(Arg::new("editor").value_parser(editor::EDITORS))
                .arg(Arg::new("force").long("force").num_args(0)),
        )
        .subcommand(
            Command::new("completions")
                .about(about("completions"))
                .arg(Arg::new("shell").value_parser(SHELLS)),
        )
}
