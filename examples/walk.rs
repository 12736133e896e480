//! A short walk of the Development Guide's flow on an embedded `impt sim`:
//! `cargo run --release --example walk`. Runs every command in a temporary HOME and
//! project directory, so no auth file of yours is read or written.

#![forbid(unsafe_code)]

use std::path::Path;

/// `word` as a POSIX shell reads it back: as is when it is safe, else in single quotes.
fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn impt(args: &[&str]) {
    let words: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
    println!("\n> impt {}", words.join(" "));
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let code = impt::run_argv(&argv);
    if code != 0 {
        eprintln!("walk: command failed with exit code {code}");
        std::process::exit(code);
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(impt_sim::start(impt_sim::SimConfig::default()))
        .expect("start the simulator");
    let url = sim.base_url();
    println!("impCentral simulator listening on {url}");

    let home = tempfile::tempdir().expect("temp home");
    let project = tempfile::tempdir().expect("temp project dir");
    std::env::set_var("HOME", home.path());
    std::env::set_current_dir(project.path()).expect("cd");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello");

    impt(&[
        "auth",
        "login",
        "--user",
        "user",
        "--pwd",
        "password",
        "--endpoint",
        &url,
    ]);
    impt(&[
        "project",
        "create",
        "--product",
        "MyProduct",
        "--create-product",
        "--name",
        "MyDevDG",
        "--descr",
        "IMP Application",
        "--confirmed",
    ]);
    for f in ["device.nut", "agent.nut"] {
        std::fs::copy(example.join(f), f).expect("copy example source");
    }
    impt(&["device", "list", "--unassigned"]);
    let device = rt.block_on(first_device(&url));
    impt(&["device", "assign", "--device", &device, "--confirmed"]);
    impt(&["build", "run"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    impt(&["log", "get", "--page-size", "8", "--page-number", "1"]);
    impt(&[
        "build",
        "update",
        "--descr",
        "My Release Candidate 1",
        "--tag",
        "MyRC1",
        "--flagged",
    ]);
    impt(&["project", "info", "--full"]);
    impt(&["project", "delete", "--all", "--confirmed"]);
    impt(&["auth", "logout"]);
    drop(sim);
}

/// The first device of the account, read through the project's own API client.
async fn first_device(url: &str) -> String {
    use impt::api::{auth, id_of, Client, Quiet, Renewal, Session};
    let quiet = std::sync::Arc::new(Quiet);
    let anonymous = Client::new(url, Session::anonymous(), quiet.clone());
    let auth::Login::Tokens(tokens) = auth::login(&anonymous, "user", "password")
        .await
        .expect("log in")
    else {
        panic!("the simulator's default account has no one-time password");
    };
    let session = Session {
        access_token: tokens.access_token,
        expires_at: tokens.expires_at,
        renewal: Renewal::None,
        file: None,
        kind: impt::error::ConfigKind::GlobalAuth,
    };
    let devices = Client::new(url, session, quiet)
        .list("/devices", &[])
        .await
        .expect("list devices");
    id_of(&devices[0]).to_string()
}
