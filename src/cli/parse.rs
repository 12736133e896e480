//! From a [`CmdSpec`] to clap, and from clap's findings to the original's messages.

use clap::{Arg, ArgAction, Command};

use super::spec::{output_opt, CmdSpec, GroupSpec, Kind, Opt};
use crate::commands::Args;
use crate::output::Mode;

/// All options of a command, `--output` included.
fn all_opts(spec: &CmdSpec) -> Vec<Opt> {
    let mut v = spec.opts.clone();
    v.push(output_opt());
    v
}

fn clap_arg(o: &Opt) -> Arg {
    let mut a = Arg::new(o.long)
        .long(o.long)
        .action(ArgAction::Append)
        .hide(o.hidden);
    if let Some(s) = o.short {
        a = a.short(s);
    }
    if let Some(c) = o.alias {
        a = a.short_alias(c);
    }
    a = match o.kind {
        Kind::Flag | Kind::OptBool | Kind::OptStr => a.num_args(0..=1),
        _ => a.num_args(o.nargs.max(1)),
    };
    if o.kind == Kind::Flag {
        a = a.require_equals(true);
    }
    if matches!(
        o.kind,
        Kind::PosInt | Kind::StrEmpty | Kind::Str | Kind::Array
    ) {
        a = a.allow_negative_numbers(true);
    }
    if o.kind == Kind::OptBool {
        a = a.value_parser(["true", "false"]);
    }
    a
}

/// The clap command of one impt command (used for parsing and completions).
pub fn clap_command(spec: &CmdSpec) -> Command {
    let mut c = Command::new(spec.name)
        .about(spec.about)
        .disable_help_flag(true)
        .disable_version_flag(true);
    for o in all_opts(spec) {
        c = c.arg(clap_arg(&o));
    }
    c.arg(
        Arg::new("help")
            .long("help")
            .short('h')
            .action(ArgAction::Count),
    )
    .arg(
        Arg::new("__extra")
            .num_args(0..)
            .action(ArgAction::Append)
            .hide(true)
            .allow_hyphen_values(false),
    )
}

/// The whole tree of the groups, for shell completions: option values too (the choices of
/// an option; files only for options that name a file or directory).
pub fn clap_tree(groups: &[GroupSpec]) -> Command {
    let mut root = Command::new("impt")
        .about("Electric Imp impCentral command-line tool")
        .disable_help_subcommand(true);
    for g in groups {
        root = root.subcommand(clap_group(g));
    }
    root
}

/// One group for shell completions: its commands with their options and values.
pub fn clap_group(g: &GroupSpec) -> Command {
    let mut gc = Command::new(g.name).about(g.about);
    for c in &g.commands {
        let mut cc = clap_command(c);
        for o in all_opts(c) {
            cc = cc.mut_arg(o.long, |a| completed_values(a, &o));
        }
        gc = gc.subcommand(cc);
    }
    gc
}

/// What a shell offers after an option: its choices, files for a file option, nothing
/// for a flag, otherwise no files (an identifier or a name).
fn completed_values(a: Arg, o: &Opt) -> Arg {
    use clap::builder::PossibleValuesParser;
    use clap::ValueHint;
    if !o.choices.is_empty() {
        return a.value_parser(PossibleValuesParser::new(o.choices.iter().copied()));
    }
    match o.kind {
        Kind::Flag | Kind::OptBool => a,
        _ if o.long.ends_with("file") || o.long.contains("file-") => {
            a.value_hint(ValueHint::FilePath)
        }
        _ if o.long.ends_with("dir") || o.long == "config" => a.value_hint(ValueHint::AnyPath),
        _ => a.value_hint(ValueHint::Other),
    }
}

fn tag(o: &Opt) -> String {
    let t = match o.kind {
        Kind::Flag | Kind::OptBool => "[boolean]",
        Kind::Array => "[array]",
        Kind::PosInt => "[number]",
        _ => "[string]",
    };
    let mut s = t.to_string();
    if o.required {
        s.push_str(" [required]");
    }
    if !o.choices.is_empty() {
        s.push_str(&format!(
            " [choices: {}]",
            o.choices
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(d) = &o.default {
        if o.kind == Kind::PosInt {
            s.push_str(&format!(" [default: {d}]"));
        } else {
            s.push_str(&format!(" [default: \"{d}\"]"));
        }
    }
    s
}

fn usage_line(spec: &CmdSpec) -> String {
    if let Some(u) = spec.usage {
        return u.to_string();
    }
    let mut parts = vec![format!("impt {} {}", spec.group, spec.name)];
    parts.extend(spec.positional.map(|p| format!("<{p}>")));
    for o in all_opts(spec).iter().filter(|o| !o.hidden) {
        let mut p = format!("--{}", o.long);
        if o.takes_value() && o.kind != Kind::OptBool && !o.value_name.is_empty() {
            p.push_str(&format!(" <{}>", o.value_name));
        }
        parts.push(if o.required { p } else { format!("[{p}]") });
    }
    parts.push("[--help]".into());
    parts.join(" ")
}

fn options_table(rows: &[(String, String, String)]) -> String {
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(l, d, t)| format!("  {l:w$}  {d}  {t}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Help of one command, in the original's structure.
pub fn command_help(spec: &CmdSpec) -> String {
    let mut rows = vec![(
        "--help, -h".to_string(),
        "Displays description of the command. Ignores any other options.".to_string(),
        "[boolean]".to_string(),
    )];
    for o in all_opts(spec).iter().filter(|o| !o.hidden) {
        let names = match o.short {
            Some(s) => format!("--{}, -{s}", o.long),
            None => format!("--{}", o.long),
        };
        rows.push((names, o.desc.to_string(), tag(o)));
    }
    format!(
        "\nUsage: {}\n\n{}\n\nOptions:\n{}\n",
        usage_line(spec),
        spec.long_about,
        options_table(&rows)
    )
}

pub fn group_help(g: &GroupSpec) -> String {
    let rows: Vec<(String, String, String)> = g
        .commands
        .iter()
        .map(|c| {
            (
                format!("impt {} {}", g.name, c.name),
                c.about.to_string(),
                String::new(),
            )
        })
        .collect();
    format!(
        "\nUsage: impt {} <command> [options]\n\n{}\n\nCommands:\n{}\n\nOptions:\n{}\n",
        g.name,
        g.about,
        options_table(&rows),
        options_table(&[(
            "--help, -h".into(),
            "Displays description of the command. Ignores any other options.".into(),
            "[boolean]".into()
        )])
    )
}

pub fn root_help(groups: &[GroupSpec], extra: &[(&str, &str)]) -> String {
    let mut rows: Vec<(String, String, String)> = groups
        .iter()
        .map(|g| {
            (
                format!("impt {}", g.name),
                g.about.to_string(),
                String::new(),
            )
        })
        .collect();
    rows.extend(
        extra
            .iter()
            .map(|(n, d)| (format!("impt {n}"), d.to_string(), String::new())),
    );
    format!(
        "\nUsage: impt <command> [options]\n\nCommands:\n{}\n\nOptions:\n{}\n",
        options_table(&rows),
        options_table(&[
            (
                "--version, -v".into(),
                "Shows the version of the tool.".into(),
                "[boolean]".into()
            ),
            (
                "--help, -h".into(),
                "Displays description of the command. Ignores any other options.".into(),
                "[boolean]".into()
            ),
        ])
    )
}

fn strip_dashes(s: &str) -> String {
    let s = s.split('=').next().unwrap_or(s);
    s.trim_start_matches('-')
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Parses the words after `impt <group> <command>`. `Err(message)` carries the original's
/// validation message; the caller prints it after the help.
pub fn parse(spec: &CmdSpec, words: &[String]) -> Result<Args, String> {
    let cmd = clap_command(spec);
    let argv = std::iter::once(spec.name.to_string()).chain(words.iter().cloned());
    let m = match cmd.try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => return Err(map_clap_error(&e, spec, words)),
    };
    let opts = all_opts(spec);
    let mut args = Args::default();
    for o in &opts {
        if let Some(raw) = m.get_raw_occurrences(o.long) {
            let vals: Vec<Option<String>> = if o.nargs > 1 {
                raw.flat_map(|occ| occ.map(|v| Some(v.to_string_lossy().into_owned())))
                    .collect()
            } else {
                raw.map(|mut occ| occ.next_back().map(|v| v.to_string_lossy().into_owned()))
                    .collect()
            };
            args.values.insert(o.long.to_string(), vals);
        }
    }
    // 2. required options
    let missing: Vec<&str> = opts
        .iter()
        .filter(|o| o.required && !args.has(o.long))
        .map(|o| o.long)
        .collect();
    match missing.len() {
        0 => {}
        1 => return Err(format!("Missing required argument: {}", missing[0])),
        _ => {
            return Err(format!(
                "Missing required arguments: {}",
                missing.join(", ")
            ))
        }
    }
    // 4. command-specific checks, then extra positionals and generic checks
    if let Some(check) = spec.check {
        check(&args)?;
    }
    let mut extra: Vec<String> = m
        .get_many::<String>("__extra")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    if let Some(name) = spec.positional {
        if extra.is_empty() {
            return Err(format!("Missing required argument: {name}"));
        }
        args.positional = Some(extra.remove(0));
    }
    if !extra.is_empty() {
        return Err(format!("Unknown arguments: {}.", extra.join(", ")));
    }
    for o in &opts {
        let Some(vals) = args.values.get(o.long) else {
            continue;
        };
        if !matches!(o.kind, Kind::Array | Kind::Flag) && vals.len() > 1 {
            return Err(format!(
                "Option \"--{}\" must not be specified multiple times.",
                o.long
            ));
        }
        for v in vals {
            match (o.kind, v.as_deref()) {
                (Kind::Str, Some("")) => {
                    return Err(format!("Option \"--{}\" must not be empty.", o.long))
                }
                (Kind::Str | Kind::StrEmpty | Kind::Array | Kind::PosInt, None) => {
                    return Err(format!("Not enough arguments following: {}", o.long))
                }
                (Kind::Flag, Some(x)) if x != "true" => {
                    return Err(format!(
                        "Option \"--{}\" has incorrect value \"{x}\".",
                        o.long
                    ))
                }
                (Kind::PosInt, Some(x)) => match x.parse::<f64>() {
                    Err(_) => return Err(format!("Option \"--{}\" must be a number.", o.long)),
                    Ok(n) if n < 1.0 || n.fract() != 0.0 => {
                        return Err(format!(
                            "Option \"--{}\" must have a positive integer value.",
                            o.long
                        ))
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    // 5. choices
    for o in opts.iter().filter(|o| !o.choices.is_empty()) {
        for v in args.strs(o.long) {
            if !o.choices.contains(&v.as_str()) {
                return Err(format!(
                    "Invalid values:\n  Argument: {}, Given: \"{v}\", Choices: {}",
                    o.long,
                    o.choices
                        .iter()
                        .map(|c| format!("\"{c}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    args.output = args
        .str("output")
        .and_then(|s| Mode::parse(&s))
        .unwrap_or_default();
    Ok(args)
}

/// The option key as the user typed it (`x` for `-x`, `device-file` for `--device-file`)
/// where an option of `long` stands without a value.
fn typed_key(spec: &CmdSpec, words: &[String], long: &str) -> Option<String> {
    let opts = all_opts(spec);
    let opt = opts.iter().find(|o| o.long == long)?;
    let is_it = |w: &str| {
        w == format!("--{}", opt.long)
            || opt.short.is_some_and(|c| w == format!("-{c}"))
            || opt.alias.is_some_and(|c| w == format!("-{c}"))
    };
    let looks_like_option = |w: &str| w.starts_with('-') && w.parse::<f64>().is_err();
    (0..words.len())
        .rev()
        .find(|&i| is_it(&words[i]) && words.get(i + 1).is_none_or(|n| looks_like_option(n)))
        .map(|i| words[i].trim_start_matches('-').to_string())
}

fn map_clap_error(e: &clap::Error, spec: &CmdSpec, words: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = || match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => strip_dashes(s),
        Some(ContextValue::Strings(v)) => v
            .iter()
            .map(|s| strip_dashes(s))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    match e.kind() {
        ErrorKind::UnknownArgument => format!("Unknown argument: {}", arg()),
        ErrorKind::InvalidValue
        | ErrorKind::NoEquals
        | ErrorKind::WrongNumberOfValues
        | ErrorKind::TooFewValues => {
            let given = match e.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            if given.is_empty() {
                let long = arg();
                format!(
                    "Not enough arguments following: {}",
                    typed_key(spec, words, &long).unwrap_or(long)
                )
            } else {
                format!("Option \"--{}\" has incorrect value \"{given}\".", arg())
            }
        }
        _ => {
            let text = e.to_string();
            text.lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string()
        }
    }
}
