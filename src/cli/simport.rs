//! `impt sim` keeps its place: with `--state FILE` and no `--port`, the port is remembered
//! next to the state (`FILE.port`) and reused on the next such start when it is free, so a
//! saved login keeps working; and the one line telling how to log in to the running sim.

use std::path::{Path, PathBuf};

use impt_sim::AccountSpec;

fn port_file(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".port");
    PathBuf::from(name)
}

/// The port the last run with this state listened on.
pub fn saved(state: &Path) -> Option<u16> {
    std::fs::read_to_string(port_file(state))
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|p| *p != 0)
}

/// Whether `port` can be bound on 127.0.0.1 right now.
pub fn is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Remembers `port` for the next start (written to a temporary file, then renamed).
pub fn save(state: &Path, port: u16) -> std::io::Result<()> {
    let path = port_file(state);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, format!("{port}\n").as_bytes())?;
    tmp.persist(&path).map(|_| ()).map_err(|e| e.error)
}

/// `To log in: impt auth login --endpoint URL --user USER --pwd PASSWORD` for the first
/// account; a password other than the sim's documented default is not printed.
pub fn login_hint(url: &str, accounts: &[AccountSpec]) -> String {
    let Some(a) = accounts.first() else {
        return format!("To log in: impt auth login --endpoint {url}");
    };
    let pwd = if a.password == "password" {
        a.password.as_str()
    } else {
        "<PASSWORD>"
    };
    format!(
        "To log in: impt auth login --endpoint {url} --user {} --pwd {pwd}",
        a.username
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_saved_next_to_the_state_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("sim.json");
        assert_eq!(saved(&state), None);
        save(&state, 40123).unwrap();
        assert_eq!(saved(&state), Some(40123));
        assert!(dir.path().join("sim.json.port").is_file());
    }

    #[test]
    fn the_hint_hides_a_chosen_password() {
        let url = "http://127.0.0.1:1/v5";
        let default = login_hint(url, &[AccountSpec::new("user", "password")]);
        assert_eq!(
            default,
            "To log in: impt auth login --endpoint http://127.0.0.1:1/v5 --user user --pwd password"
        );
        let own = login_hint(url, &[AccountSpec::new("me", "s3cret")]);
        assert!(own.ends_with("--user me --pwd <PASSWORD>") && !own.contains("s3cret"));
    }
}
