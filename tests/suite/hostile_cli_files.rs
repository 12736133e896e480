//! The CLI on odd configuration files: a FIFO, a link to `/dev/zero` or an oversized file in
//! place of `.impt.auth`, `.impt.project`, `.impt.test` or `impt.toml` is a clear error (not
//! a hang or a read without end), and the temp file of an interrupted atomic write is
//! removed by the next write. Runs the real binary, each command with a deadline.

use crate::support::{impt_bin, Env, PASSWORD, USER};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs impt in `dir` with `home`; kills it after 20 s. `(code, stdout)`; code -1 on a hang.
fn run(dir: &Path, home: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(impt_bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run impt");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            use std::io::Read;
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return (status.code().unwrap_or(-1), out);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (-1, "(killed after 20 s)".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn mkfifo(p: &Path) {
    let made = std::process::Command::new("mkfifo").arg(p).status();
    assert!(made.unwrap().success(), "mkfifo");
}

enum Odd {
    Fifo,
    DevZero,
    Huge,
}

fn make(p: &Path, odd: &Odd) {
    let _ = std::fs::remove_file(p);
    match odd {
        Odd::Fifo => mkfifo(p),
        Odd::DevZero => std::os::unix::fs::symlink("/dev/zero", p).unwrap(),
        Odd::Huge => std::fs::write(p, format!("{{\"a\": \"{}\"}}", "x".repeat(2 << 20))).unwrap(),
    }
}

#[test]
fn odd_config_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("device.nut"), "server.log(1);").unwrap();
    let cases: [(&str, &[&str], bool); 5] = [
        (".impt.auth", &["product", "list"], false),
        (".impt.project", &["project", "info"], false),
        (".impt.test", &["test", "info"], false),
        ("impt.toml", &["watch", "--sim", "."], false),
        // The global auth file, in HOME.
        (".impt.auth", &["product", "list"], true),
    ];
    for (file, args, global) in cases {
        for odd in [Odd::Fifo, Odd::DevZero, Odd::Huge] {
            let p = if global { home.path() } else { d }.join(file);
            make(&p, &odd);
            let (code, out) = run(d, home.path(), args);
            let want = match odd {
                Odd::Huge => "larger than 1024 KiB",
                _ => "not a regular file",
            };
            assert_eq!(code, 1, "{file} {args:?}: {out}");
            assert!(
                out.contains(file) && out.contains(want),
                "{file} {args:?}: {out}"
            );
            std::fs::remove_file(&p).unwrap();
        }
    }
}

#[test]
fn leftover_temp_file_is_removed_by_the_next_write() {
    let env = Env::start_no_login(&[]);
    // The pid of a process that has ended: its temp file is a leftover.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let left = env.path(&format!(".impt.auth.tmp.{}.x1Yz2W", gone.id()));
    std::fs::write(&left, "{\"half\": ").unwrap();
    // A temp file of a live process (this one) is another write in progress: kept.
    let live = env.path(&format!(".impt.auth.tmp.{}.aBcDeF", std::process::id()));
    std::fs::write(&live, "{").unwrap();
    env.impt(&[
        "auth", "login", "--local", "-u", USER, "-w", PASSWORD, "-e", &env.url, "-q",
    ])
    .ok();
    assert!(!left.exists(), "leftover temp file still there");
    assert!(live.exists(), "a live writer's temp file was removed");
    let auth = env.path(".impt.auth");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&auth).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}
