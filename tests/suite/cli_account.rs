//! `impt account info|list` against the simulator.

use crate::support::*;

#[test]
fn account_info_and_list() {
    let env = Env::start(&[
        "--account",
        "user:password",
        "--account",
        "other:pw:other@example.com",
    ]);

    // info: the current account by default
    let out = env.impt(&["account", "info"]);
    out.ok()
        .has("Account: ")
        .has("username")
        .has("user@example.com");
    let me = out.id_after("Account: ");

    // by email, by username, by id; all name the same account
    for ident in ["user@example.com", "user", me.as_str(), "me"] {
        let j = env
            .impt(&["account", "info", "-u", ident, "-z", "json"])
            .json();
        assert_eq!(j["Account"]["id"], me.as_str(), "{ident}");
        assert_eq!(j["Account"]["username"], "user");
    }

    // minimal: data without status lines
    let out = env.impt(&["account", "info", "-z", "minimal"]);
    out.ok().has("Account: ").lacks("IMPT COMMAND SUCCEEDS");

    // unknown account
    let out = env.impt(&["account", "info", "--user", "nobody"]);
    out.failed()
        .has("Error: Account \"nobody\" is not found.")
        .has("IMPT COMMAND FAILS");
    let out = env.impt(&["account", "info", "-u", "nobody", "-z", "json"]);
    out.failed();
    assert_eq!(out.json()["Error"], "Account \"nobody\" is not found.");

    // empty value is a parser error, printed with the help
    let out = env.impt(&["account", "info", "-u", ""]);
    out.failed()
        .has("Usage: impt account info")
        .has("Error: Option \"--user\" must not be empty.");

    // list: the current account (the sim's other account is not a collaborator)
    let out = env.impt(&["account", "list"]);
    out.ok()
        .has("Account list (")
        .has(&format!("id:       {me}"))
        .has("email:    user@example.com");
    let j = env.impt(&["account", "list", "-z", "json"]).json();
    let arr = j.as_array().unwrap();
    assert!(arr.iter().any(|a| a["Account"]["id"] == me.as_str()));
    assert!(arr.iter().all(|a| a["Account"].get("Owner").is_none()));
    let out = env.impt(&["account", "list", "-z", "minimal"]);
    out.ok().lacks("Account list").has("Account: ");

    // unknown option
    let out = env.impt(&["account", "list", "-x"]);
    out.failed().has("Error: Unknown argument: x");
}

#[test]
fn account_not_logged_in() {
    let env = Env::start_no_login(&[]);
    let out = env.impt(&["account", "list"]);
    out.failed().has("Error: You are not logged in.");
}
