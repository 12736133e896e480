//! auth login/logout/info, the execution context, token refresh and file safety.

use crate::support::*;

#[test]
fn global_login_writes_private_file_and_info_reports_it() {
    let env = Env::start_no_login(&[]);
    env.impt(&["auth", "login", "-u", USER, "-w", PASSWORD, "-e", &env.url])
        .ok()
        .has("Global login is successful.");
    let path = env.home.path().join(".impt.auth");
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["endpoint"], env.url.as_str());
    assert!(v["refreshToken"].is_string() && v.get("loginKey").is_none());
    assert!(
        !text.ends_with('\n'),
        "written like JSON.stringify: no trailing newline"
    );
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["endpoint", "accessToken", "expiresAt", "refreshToken"]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let info = env.impt(&["auth", "info"]);
    info.ok()
        .has("Global Auth file")
        .has("Login method:              User/Password")
        .has("Username:                  user");
    // A second login asks before overwriting; 'n' cancels and keeps the file.
    let out = env.impt_input(
        &["auth", "login", "-u", USER, "-w", PASSWORD, "-e", &env.url],
        "n\n",
    );
    out.failed()
        .has("The Global Auth File already exists. It will be overwritten.")
        .has("Operation is canceled.");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    env.impt(&["auth", "logout"])
        .ok()
        .has("Global logout is successful.");
    assert!(!path.exists());
    env.impt(&["auth", "logout"])
        .failed()
        .has("Error: Global Auth File is not found.");
    env.impt(&["product", "list"])
        .failed()
        .has("Error: You are not logged in.");
}

#[test]
fn wrong_password_and_option_checks() {
    let env = Env::start_no_login(&[]);
    env.impt(&["auth", "login", "-u", USER, "-w", "nope", "-e", &env.url])
        .failed()
        .has("Error: Invalid Credentials:");
    assert!(!env.home.path().join(".impt.auth").exists());
    let out = env.impt(&["auth", "login", "-u", USER, "-k", "x", "-e", &env.url]);
    out.failed()
        .has("Options \"--user\" and \"--lk\" are mutually exclusive.");
    let out = env.impt(&["auth", "login", "--bogus"]);
    out.failed()
        .lacks("Usage: impt auth login")
        .has("Error: Unknown argument: bogus")
        .has("Run `impt auth login --help` for usage.");
    env.impt(&["auth", "login", "-e"])
        .failed()
        .has("Error: Not enough arguments following: e");
}

#[test]
fn local_login_wins_and_temp_saves_no_refresh_token() {
    let env = Env::start(&[]);
    env.impt(&[
        "auth", "login", "-l", "-t", "-u", USER, "-w", PASSWORD, "-e", &env.url,
    ])
    .ok()
    .has("Local login is successful.");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path(".impt.auth")).unwrap()).unwrap();
    assert!(v.get("refreshToken").is_none());
    let info = env.impt(&["auth", "info"]);
    info.ok()
        .has("Local Auth file")
        .has("Access token auto refresh: false")
        .has("expires in");
    env.impt(&["auth", "logout", "-l"])
        .ok()
        .has("Local logout is successful.");
    env.impt(&["auth", "info"]).ok().has("Global Auth file");
}

#[test]
fn corrupt_auth_file_is_reported_with_relogin_hint() {
    let env = Env::start(&[]);
    std::fs::write(env.home.path().join(".impt.auth"), "{ broken").unwrap();
    env.impt(&["product", "list"])
        .failed()
        .has("Error: Global Auth File is corrupted.")
        .has("Please relogin using \"impt auth login\" command and then try again.");
}

#[test]
fn expired_token_is_refreshed_and_saved() {
    let env = Env::start(&["--token-ttl", "1"]);
    let path = env.home.path().join(".impt.auth");
    let before: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1200));
    env.impt(&["product", "list"]).ok();
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_ne!(
        before["accessToken"], after["accessToken"],
        "token refreshed"
    );
    assert_eq!(
        before["refreshToken"], after["refreshToken"],
        "refresh token kept"
    );
}

#[test]
fn environment_variables_context_and_auth_file_path() {
    let env = Env::start_no_login(&[]);
    let dir = env.dir.path();
    let vars = [
        ("IMPT_USER", USER),
        ("IMPT_PASSWORD", PASSWORD),
        ("IMPT_ENDPOINT", env.url.as_str()),
    ];
    let out = env.impt_at(dir, &["auth", "info"], None, &vars);
    out.ok()
        .has("Environment variables")
        .has("Username:                  user");
    env.impt_at(dir, &["product", "create", "-n", "EnvP"], None, &vars)
        .ok();
    assert!(
        !env.home.path().join(".impt.auth").exists(),
        "nothing saved in the env context"
    );
    let missing = tempfile::tempdir().unwrap();
    let out = env.impt_at(
        dir,
        &["product", "list"],
        None,
        &[("IMPT_AUTH_FILE_PATH", missing.path().to_str().unwrap())],
    );
    out.failed().has("Error: Auth File is not found.");
}

#[test]
fn debug_output_hides_secrets() {
    let secret = "s3cr3t-Pa55";
    let env = Env::start_no_login(&["--password", secret]);
    let out = env.impt(&[
        "auth", "login", "-u", USER, "-w", secret, "-e", &env.url, "-z", "debug",
    ]);
    out.ok()
        .has("Doing the request with options:")
        .has("[hidden]")
        .lacks(secret);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.home.path().join(".impt.auth")).unwrap())
            .unwrap();
    out.lacks(saved["accessToken"].as_str().unwrap())
        .lacks(saved["refreshToken"].as_str().unwrap());
    let out = env.impt(&["product", "list", "-z", "debug"]);
    out.ok()
        .has("Response code: 200")
        .lacks(saved["accessToken"].as_str().unwrap());
}
