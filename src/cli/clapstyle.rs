//! `impt watch` and `impt sim`, the commands the original impt does not have: they declare
//! their options with `options!` like every other command, but parse them with clap's own
//! rules (typed values, `--x=v`, conflicts, a trailing `--`); this gives them the same help
//! layout, validation messages and FAILS line as the table-driven commands
//! (`parse::command_help`, `usage_failure`).

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ArgMatches, Command};

use super::spec::{Kind, Opt};
use super::suggest;
use crate::commands::Args;
use crate::error::ImptError;
use crate::output::{self, Mode, Ui};

/// The clap argument of one option of an extension command.
fn arg(o: &Opt) -> Arg {
    let mut a = Arg::new(o.long).long(o.long).help(o.desc).hide(o.hidden);
    if let Some(s) = o.short {
        a = a.short(s);
    }
    a = match o.kind {
        Kind::Flag => a
            .action(ArgAction::SetTrue)
            .value_name(o.long.replace('-', "_").to_uppercase()),
        Kind::Array => a.action(ArgAction::Append).value_name(o.value_name),
        Kind::OptStr => a
            .action(ArgAction::Set)
            .num_args(0..=1)
            .default_missing_value("")
            .value_name(o.value_name),
        _ => a.action(ArgAction::Set).value_name(o.value_name),
    };
    if let Some(p) = &o.parser {
        a = a.value_parser(p.clone());
    }
    if !o.choices.is_empty() {
        a = a.value_parser(clap::builder::PossibleValuesParser::new(
            o.choices.iter().copied(),
        ));
    }
    if let Some(d) = &o.default {
        a = a.default_value(d.to_string());
    }
    for c in o.conflicts {
        a = a.conflicts_with(c);
    }
    for r in o.requires {
        a = a.requires(r);
    }
    a
}

/// The clap command of an extension command from its option table: `about` is the first
/// paragraph of `long_about`.
pub fn command(name: &'static str, long_about: &'static str, table: &[Opt]) -> Command {
    let about = long_about
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    let mut c = Command::new(name)
        .no_binary_name(true)
        .about(about)
        .long_about(long_about);
    for o in table {
        c = c.arg(arg(o));
    }
    c
}

/// The parsed options as [`Args`] (given values and defaults), for `from_args`.
pub fn args(m: &ArgMatches, table: &[Opt]) -> Args {
    let mut args = Args::default();
    for o in table {
        let vals: Vec<Option<String>> = if o.kind == Kind::Flag {
            if m.get_flag(o.long) {
                vec![None]
            } else {
                continue;
            }
        } else {
            match m.get_raw(o.long) {
                Some(v) => v.map(|v| Some(v.to_string_lossy().into_owned())).collect(),
                None => continue,
            }
        };
        args.values.insert(o.long.to_string(), vals);
    }
    args
}

fn tag(a: &clap::Arg) -> String {
    let mut s = match a.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => "[boolean]".to_string(),
        ArgAction::Append => "[array]".to_string(),
        _ => "[string]".to_string(),
    };
    let choices: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("\"{}\"", v.get_name()))
        .collect();
    if !choices.is_empty() && !matches!(a.get_action(), ArgAction::SetTrue) {
        s.push_str(&format!(" [choices: {}]", choices.join(", ")));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if !defaults.is_empty() && !matches!(a.get_action(), ArgAction::SetTrue) {
        s.push_str(&format!(" [default: \"{}\"]", defaults.join(" ")));
    }
    s
}

fn options(cmd: &Command) -> impl Iterator<Item = &clap::Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_long().is_some() && a.get_id() != "help")
}

/// Help of `impt <name>` in the original's layout: usage, description, options.
pub fn help(cmd: &Command) -> String {
    let name = cmd.get_name();
    let mut usage = vec![name.to_string()];
    let mut rows = vec![(
        "--help, -h".to_string(),
        "Displays description of the command. Ignores any other options.".to_string(),
        "[boolean]".to_string(),
    )];
    for a in options(cmd) {
        let long = a.get_long().unwrap_or_default();
        let takes = !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        let value = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| long.to_string());
        usage.push(if takes {
            format!("[--{long} <{value}>]")
        } else {
            format!("[--{long}]")
        });
        let names = match a.get_short() {
            Some(s) => format!("--{long}, -{s}"),
            None => format!("--{long}"),
        };
        let desc = a
            .get_long_help()
            .or(a.get_help())
            .map(|h| {
                h.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        rows.push((names, desc, tag(a)));
    }
    usage.push("[--help]".into());
    let about = cmd
        .get_long_about()
        .or(cmd.get_about())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let table = rows
        .iter()
        .map(|(l, d, t)| format!("  {l:w$}  {d}  {t}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let mut text = format!(
        "\nUsage: {}\n\n{}\n\nOptions:\n{table}\n",
        usage.join(" "),
        about.trim_end()
    );
    if let Some(after) = cmd.get_after_long_help() {
        text.push_str(&format!("\n{}\n", after.to_string().trim_end()));
    }
    text
}

/// Prints a usage error the way every other command does and returns the exit code:
/// `--help` prints the help (0); an unknown option gets a short error with the closest
/// match; anything else the help, `Error: ...` and the FAILS line (1).
pub fn failure(e: &clap::Error, mut cmd: Command) -> i32 {
    cmd.build();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        output::print_stdout(&help(&cmd));
        return 0;
    }
    let invalid = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let key = invalid
        .split(['=', ' '])
        .next()
        .unwrap_or("")
        .trim_start_matches('-')
        .to_string();
    let (help_text, msg) = match e.kind() {
        ErrorKind::UnknownArgument => {
            let longs: Vec<&str> = options(&cmd).filter_map(|a| a.get_long()).collect();
            let best = suggest::closest(&key, longs.iter().copied()).map(|l| format!("--{l}"));
            (
                String::new(),
                suggest::unknown(&key, best, &format!("{} --help", cmd.get_name())),
            )
        }
        ErrorKind::InvalidValue => {
            let given = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            let valid = match e.get(ContextKind::ValidValue) {
                Some(ContextValue::Strings(v)) => v
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            let msg = if given.is_empty() {
                format!("Not enough arguments following: {key}")
            } else if valid.is_empty() {
                format!("Option \"--{key}\" has incorrect value \"{given}\".")
            } else {
                format!("Invalid values:\n  Argument: {key}, Given: \"{given}\", Choices: {valid}")
            };
            (help(&cmd), msg)
        }
        _ => {
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            (help(&cmd), first.to_string())
        }
    };
    let ui = Ui::new(Mode::Default);
    ui.error(&ImptError::Usage {
        help: help_text,
        msg,
    });
    ui.fails();
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Arg;

    fn cmd() -> Command {
        Command::new("impt demo")
            .about("Does a demo.")
            .arg(Arg::new("dg").long("dg").short('g').help("Device Group."))
            .arg(
                Arg::new("quiet")
                    .long("quiet")
                    .action(ArgAction::SetTrue)
                    .help("Says less."),
            )
    }

    #[test]
    fn help_has_the_original_layout() {
        let mut c = cmd();
        c.build();
        let h = help(&c);
        assert!(
            h.starts_with(
                "\nUsage: impt demo [--dg <dg>] [--quiet] [--help]\n\nDoes a demo.\n\nOptions:\n"
            ),
            "{h}"
        );
        assert!(h.contains("--dg, -g"), "{h}");
        assert!(h.contains("Says less.  [boolean]"), "{h}");
    }
}
