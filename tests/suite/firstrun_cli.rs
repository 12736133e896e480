//! One CLI (issue #17): short errors with the closest match for unknown commands and options,
//! `impt help [group [command]]`, watch and sim in the common help layout and FAILS line,
//! endpoint checks, and a closed stdout pipe ending every command quietly.

use crate::support::*;

use std::process::{Command, Stdio};

/// `impt <args>` in a fresh HOME and directory, without a sim.
fn bare(args: &[&str]) -> Out {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(impt_bin())
        .args(args)
        .current_dir(home.path())
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .expect("run impt");
    Out {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

#[test]
fn mistyped_commands_and_options_get_the_closest_match_not_the_help() {
    let out = bare(&["prodcut", "list"]);
    out.failed()
        .has("Error: Unknown argument: prodcut")
        .has("Did you mean `product`?")
        .has("Run `impt --help` for usage.")
        .lacks("Usage:");
    assert!(out.stdout.trim_end().ends_with("IMPT COMMAND FAILS"));
    bare(&["product", "lsit"])
        .failed()
        .has("Did you mean `list`?")
        .has("Run `impt product --help` for usage.")
        .lacks("Usage:");
    bare(&["product", "list", "--ouptut", "json"])
        .failed()
        .has("Error: Unknown argument: ouptut")
        .has("Did you mean `--output`?")
        .lacks("Usage:");
    // nothing close: no guess
    bare(&["zzzzzz"]).failed().lacks("Did you mean");
    // no command at all keeps the original's help page and message
    bare(&["product"])
        .failed()
        .has("Usage: impt product <command>")
        .has("Error: Please specify a valid command.");
}

#[test]
fn help_command_shows_the_pages_of_what_it_names() {
    let root = bare(&["help"]);
    assert_eq!(root.code, 0);
    assert!(root.stdout.contains("Usage: impt <command> [options]"));
    assert_eq!(root.stdout, bare(&["--help"]).stdout);
    let page = bare(&["help", "product", "list"]);
    assert_eq!(page.code, 0);
    assert!(page.stdout.contains("Usage: impt product list"));
    assert_eq!(page.stdout, bare(&["product", "list", "--help"]).stdout);
    let group = bare(&["help", "dg"]);
    assert!(group.stdout.contains("Usage: impt dg <command>"));
    assert!(bare(&["help", "watch"])
        .stdout
        .contains("Usage: impt watch"));
    bare(&["help", "prodcut"])
        .failed()
        .has("Did you mean `product`?");
    bare(&["help", "product", "lst"])
        .failed()
        .has("Did you mean `list`?");
}

#[test]
fn watch_and_sim_speak_like_every_other_command() {
    for (cmd, opt) in [("watch", "--dg, -g"), ("sim", "--state")] {
        let h = bare(&[cmd, "--help"]);
        assert_eq!(h.code, 0);
        assert!(
            h.stdout.starts_with(&format!("\nUsage: impt {cmd} ")),
            "{}",
            h.stdout
        );
        assert!(
            h.stdout.contains("\nOptions:\n  --help, -h"),
            "{}",
            h.stdout
        );
        assert!(h.stdout.contains(opt), "{}", h.stdout);
        assert!(!h.stdout.contains("Print help"), "{}", h.stdout);
    }
    bare(&["watch", "--debunce", "5"])
        .failed()
        .has("Error: Unknown argument: debunce")
        .has("Did you mean `--debounce`?")
        .has("IMPT COMMAND FAILS");
    bare(&["sim", "--prot", "1"])
        .failed()
        .has("Did you mean `--port`?");
    bare(&["watch", "-z", "yaml"])
        .failed()
        .has("Usage: impt watch")
        .has("Choices: \"text\", \"minimal\", \"json\", \"debug\"")
        .has("IMPT COMMAND FAILS");
    // -z minimal is accepted; outside a project the error ends with the FAILS line
    let out = bare(&["watch", "-z", "minimal"]);
    out.failed().has("Nothing to watch");
    assert!(
        out.stdout.trim_end().ends_with("IMPT COMMAND FAILS"),
        "{}",
        out.stdout
    );
    // json mode has no status line
    bare(&["watch", "-z", "json"])
        .failed()
        .lacks("IMPT COMMAND");
}

#[test]
fn endpoints_are_checked_before_any_request() {
    let env = Env::start_no_login(&[]);
    let no_scheme = env.url.trim_start_matches("http://").to_string();
    env.impt(&["auth", "login", "-e", &no_scheme, "-u", USER, "-w", PASSWORD])
        .failed()
        .has(&format!("Error: Invalid endpoint \"{no_scheme}\": it must be a URL starting with https:// or http://"));
    let no_v5 = env.url.trim_end_matches("/v5").to_string();
    env.impt(&["auth", "login", "-e", &no_v5, "-u", USER, "-w", PASSWORD])
        .failed()
        .has("the impCentral API path /v5 is missing");
    assert!(!env.home.path().join(".impt.auth").exists());
    // IMPT_ENDPOINT of an environment login is checked the same way
    let out = env.impt_at(
        env.dir.path(),
        &["product", "list"],
        None,
        &[
            ("IMPT_USER", USER),
            ("IMPT_PASSWORD", PASSWORD),
            ("IMPT_ENDPOINT", &no_v5),
        ],
    );
    out.failed().has("the impCentral API path /v5 is missing");
    // the sim's own URL (with a trailing slash too) is fine
    env.impt(&[
        "auth",
        "login",
        "-e",
        &format!("{}/", env.url),
        "-u",
        USER,
        "-w",
        PASSWORD,
    ])
    .ok();
}

/// Runs `impt <args>` with stdout's reader gone before it starts (stdout is one end of a
/// socket pair whose other end is already closed): exit 141 (128 + SIGPIPE), no panic.
fn closed_pipe(home: &std::path::Path, args: &[&str]) {
    let (out, reader) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(reader);
    let child = Command::new(impt_bin())
        .args(args)
        .current_dir(home)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(out)))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

#[test]
fn a_closed_pipe_ends_every_kind_of_command_quietly() {
    let env = Env::start(&[]);
    closed_pipe(env.home.path(), &["completions", "bash"]);
    closed_pipe(env.home.path(), &["help"]);
    closed_pipe(env.home.path(), &["product", "list"]);
    closed_pipe(env.home.path(), &["account", "list", "-z", "json"]);
}
