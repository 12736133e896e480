//! Install anywhere (issue #17): `.ci/install-deps.sh` finds what is present, uses the
//! platform's package manager only for what is missing, and says what to install when it
//! cannot. Run with a PATH of stub commands, so nothing is installed for real.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn stub(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the script with only `bin` on PATH; (exit code, stderr).
fn run(bin: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/install-deps.sh");
    let out = Command::new("/bin/sh")
        .arg(script)
        .env_clear()
        .env("PATH", bin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn base(uid: u32) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    stub(bin.path(), "cargo", "exit 0");
    stub(bin.path(), "uname", "echo Linux");
    stub(bin.path(), "id", &format!("echo {uid}"));
    bin
}

#[test]
fn present_compilers_need_nothing() {
    let bin = base(1000);
    stub(bin.path(), "c++", "exit 0");
    stub(bin.path(), "cc", "exit 0");
    // a package manager that would fail the test if it ran
    stub(bin.path(), "apt-get", "echo apt-get ran >&2; exit 3");
    assert_eq!(run(bin.path()), (0, String::new()));
}

#[test]
fn missing_compilers_are_installed_with_the_platform_tool_as_root() {
    let bin = base(0);
    let log = bin.path().join("calls");
    let log_s = log.display().to_string();
    // dnf "installs" by creating the compilers
    let dir = bin.path().display().to_string();
    stub(
        bin.path(),
        "dnf",
        &format!("echo \"dnf $*\" >> {log_s}; printf '#!/bin/sh\\n' > {dir}/c++; /bin/chmod +x {dir}/c++; /bin/cp {dir}/c++ {dir}/cc"),
    );
    let (code, err) = run(bin.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "dnf install -y gcc gcc-c++\n"
    );
}

#[test]
fn without_root_or_sudo_it_says_what_to_run() {
    let bin = base(1000);
    stub(bin.path(), "apk", "echo apk ran >&2; exit 3");
    let (code, err) = run(bin.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("as root run: apk add --no-cache build-base"),
        "{err}"
    );
    assert!(!err.contains("apk ran"), "{err}");
}

#[test]
fn without_a_package_manager_or_cargo_it_names_the_missing_piece() {
    let bin = base(1000);
    let (code, err) = run(bin.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("install a C++ compiler (g++ or clang++)"),
        "{err}"
    );
    std::fs::remove_file(bin.path().join("cargo")).unwrap();
    let (code, err) = run(bin.path());
    assert_eq!(code, 1);
    assert!(err.contains("cargo not found; install Rust first"), "{err}");
}
