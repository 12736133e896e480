//! Fuzz the readers of the CLI's configuration files: `.impt.auth`, `.impt.project`,
//! `.impt.test` (and the GitHub and Builder files it names) and `impt.toml`. Any content
//! must give a value or an error, never a panic; a file that loads must survive a save and
//! reload unchanged.
#![no_main]

use impt::config::{auth, project::ProjectFile, test as testcfg};
use impt::error::ConfigKind;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A private working directory (the project and test files are read from the current one).
fn dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let d = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    std::env::set_current_dir(d.path()).unwrap();
    d.path()
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    let auth_path = d.join(auth::AUTH_FILE);
    std::fs::write(&auth_path, data).unwrap();
    if let Ok(Some(f)) = auth::load(&auth_path, ConfigKind::LocalAuth) {
        let _ = (
            f.endpoint(),
            f.access_token(),
            f.login_key(),
            f.refresh_token(),
        );
        auth::save(&auth_path, &f).unwrap();
        assert_eq!(
            auth::load(&auth_path, ConfigKind::LocalAuth).unwrap(),
            Some(f)
        );
    }
    std::fs::write(d.join(".impt.project"), data).unwrap();
    if let Ok(Some(p)) = ProjectFile::load() {
        let _ = (p.device_group_id(), p.device_file(), p.agent_file());
        p.save().unwrap();
        assert_eq!(ProjectFile::load().unwrap(), Some(p));
    }
    std::fs::write(d.join(".impt.test"), data).unwrap();
    if let Ok(Some(t)) = testcfg::TestFile::load() {
        let _ = (
            t.timeout(),
            t.test_files(),
            t.bool("stopOnFail"),
            t.github_config(),
        );
        t.save().unwrap();
        assert_eq!(testcfg::TestFile::load().unwrap(), Some(t));
    }
    let other = d.join("other.json");
    std::fs::write(&other, data).unwrap();
    let _ = testcfg::GithubFile::load(&other).map(|g| g.valid());
    let _ = testcfg::load_builder_vars(&other);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = impt::watch::settings::parse_file(text);
    }
});
