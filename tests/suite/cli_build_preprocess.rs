//! `build preprocess`, and compile errors of preprocessed code mapped back to the user's files.

use crate::support::*;

#[test]
fn preprocess_prints_the_expanded_code() {
    let env = Env::start_no_login(&[]);
    std::fs::write(env.path("lib.nut"), "server.log(\"from lib\");\n").unwrap();
    std::fs::write(
        env.path("main.nut"),
        "@set GREETING = \"hi\"\n@include \"lib.nut\"\nserver.log(\"@{GREETING} @{WHO}\");\n@if WHO == \"you\"\nserver.log(\"you\");\n@endif\n",
    )
    .unwrap();
    let out = env.impt(&["build", "preprocess", "main.nut", "-D", "WHO=you"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        out.stdout,
        "server.log(\"from lib\");\nserver.log(\"hi you\");\nserver.log(\"you\");\n"
    );
    let out = env.impt(&["build", "preprocess", "main.nut", "--lines", "-D", "WHO=me"]);
    assert!(
        out.stdout.contains("#line 1 ")
            && out.stdout.contains("lib.nut\"")
            && !out.stdout.contains("\"you\""),
        "{}",
        out.stdout
    );
    let json = env
        .impt(&["build", "preprocess", "main.nut", "-z", "json"])
        .json();
    assert!(json["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f.as_str().unwrap().ends_with("lib.nut")));
    env.impt(&["build", "preprocess"])
        .failed()
        .has("Error: Missing required argument: FILE");
    env.impt(&["build", "preprocess", "main.nut", "-D", "novalue"])
        .failed()
        .has("must be NAME=VALUE");
    std::fs::write(env.path("bad.nut"), "@include \"missing.nut\"\n").unwrap();
    env.impt(&["build", "preprocess", "bad.nut"])
        .failed()
        .has("missing.nut");
}

#[test]
fn compile_errors_name_the_included_file_and_line() {
    let env = Env::start(&[]);
    env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"])
        .ok();
    std::fs::write(env.path("util.nut"), "local ok = 1;\nlocal broken = ;\n").unwrap();
    std::fs::write(
        env.path("device.nut"),
        "server.log(\"start\");\n@include \"util.nut\"\n",
    )
    .unwrap();
    let out = env.impt(&["build", "deploy"]);
    out.failed()
        .has("Error: Compilation Error:")
        .has("device_code error (line 3,")
        .has("util.nut:2:");
    let (_, deps) = env.http("GET", "/deployments", None);
    assert_eq!(
        deps["data"].as_array().unwrap().len(),
        0,
        "nothing deployed"
    );
    // Fixed, it deploys the expanded code.
    std::fs::write(env.path("util.nut"), "local ok = 1;\n").unwrap();
    env.impt(&["build", "deploy"]).ok();
    let (_, deps) = env.http("GET", "/deployments", None);
    let id = deps["data"][0]["id"].as_str().unwrap();
    let (_, dep) = env.http("GET", &format!("/deployments/{id}"), None);
    assert_eq!(
        dep["data"]["attributes"]["device_code"],
        "server.log(\"start\");\nlocal ok = 1;\n"
    );
}
