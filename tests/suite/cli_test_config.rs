//! test create/info/update/github/delete: messages, `.impt.test` content and failures.

use crate::support::*;

fn test_file(env: &Env) -> serde_json::Value {
    let text = std::fs::read_to_string(env.path(".impt.test")).expect(".impt.test");
    assert!(!text.ends_with('\n'));
    serde_json::from_str(&text).unwrap()
}

fn product_and_dg(env: &Env) -> String {
    env.impt(&["product", "create", "-n", "P"]).ok();
    let out = env.impt(&["dg", "create", "-n", "DG", "-p", "P"]);
    out.ok();
    out.id_after("Device Group")
}

#[test]
fn create_info_update_delete() {
    let env = Env::start(&[]);
    let dg = product_and_dg(&env);
    std::fs::create_dir(env.path(".builder-cache")).unwrap();

    // missing source file: no file written
    env.impt(&["test", "create", "-g", "DG", "-x", "nope.nut"])
        .failed()
        .has("Error: Device file \"nope.nut\" is not found.")
        .has("IMPT COMMAND FAILS");
    assert!(!env.path(".impt.test").exists());
    assert!(
        !env.path(".builder-cache").exists(),
        "create cleans the cache"
    );

    std::fs::write(env.path("dev.nut"), "// device\n").unwrap();
    let out = env.impt(&[
        "test", "create", "-g", "DG", "-x", "dev.nut", "-t", "12", "-s", "-i", "gh.json",
    ]);
    out.ok()
        .has("GitHub credentials Configuration File gh.json is not found.")
        .has("Test Configuration is created successfully.")
        .has("Test Configuration: \n")
        .has("Test files:       *.test.nut, tests/**/*.test.nut");
    let text = std::fs::read_to_string(env.path(".impt.test")).unwrap();
    assert_eq!(
        text,
        format!(
            "{{\n  \"deviceGroupId\": \"{dg}\",\n  \"timeout\": 12,\n  \"stopOnFail\": true,\n  \"allowDisconnect\": false,\n  \"builderCache\": false,\n  \"testFiles\": [\n    \"*.test.nut\",\n    \"tests/**/*.test.nut\"\n  ],\n  \"deviceFile\": \"dev.nut\",\n  \"githubConfig\": \"gh.json\"\n}}"
        )
    );

    // info (json): keys, DG with its product
    let info = env.impt(&["test", "info", "-z", "json"]).ok().json();
    let t = &info["Test Configuration"];
    assert_eq!(t["Timeout"], 12);
    assert_eq!(t["Stop on failure"], true);
    assert_eq!(t["Device file"], "dev.nut");
    assert_eq!(t["Github config"], "gh.json");
    assert!(t.get("Agent file").is_none());
    assert_eq!(t["Device Group"]["id"], dg.as_str());
    assert_eq!(t["Device Group"]["Product"]["name"], "P");

    // overwrite refused without confirmation
    env.impt_input(&["test", "create", "-g", "DG"], "n\n")
        .failed()
        .has("The current directory already contains Test Configuration File. It will be overwritten.");

    // update: remove device file and github config, replace test files, builder cache off
    std::fs::create_dir(env.path(".builder-cache")).unwrap();
    env.impt(&[
        "test", "update", "-x", "-i", "-f", "a.nut", "-f", "b/*.nut", "-e", "false", "-a",
    ])
    .ok()
    .has("Builder cache .builder-cache directory is deleted successfully.")
    .has("Test Configuration is updated successfully.");
    let j = test_file(&env);
    assert!(j.get("deviceFile").is_none() && j.get("githubConfig").is_none());
    assert_eq!(j["testFiles"], serde_json::json!(["a.nut", "b/*.nut"]));
    assert_eq!(j["allowDisconnect"], true);
    assert_eq!(j["timeout"], 12);

    // update failures
    env.impt(&["test", "update", "-y", "missing.nut"])
        .failed()
        .has("Error: Agent file \"missing.nut\" is not found.");
    env.impt(&["test", "update", "-g", "NOPE"])
        .failed()
        .has("Device Group \"NOPE\" is not found.");
    env.impt(&["test", "update", "-t", "0"])
        .failed()
        .has("must have a positive integer value");

    // delete with entities: DG and its only-child product go too
    std::fs::create_dir(env.path(".build")).unwrap();
    let out = env.impt_input(&["test", "delete", "-e"], "y\n");
    out.ok()
        .has("The following entities will be deleted:")
        .has("Debug mode temporary .build directory will be deleted.")
        .has("Test Configuration File in the current directory will be deleted.")
        .has(&format!("Device Group \"{dg}\" is deleted successfully."))
        .has("Debug mode temporary .build directory is deleted successfully.")
        .has("Test Configuration is deleted successfully.");
    assert!(out.stdout.contains("Product \"") && out.stdout.contains("is deleted successfully."));
    assert!(!env.path(".impt.test").exists() && !env.path(".build").exists());
    let (_, dgs) = env.http("GET", "/devicegroups", None);
    assert_eq!(dgs["data"].as_array().unwrap().len(), 0);

    // nothing left to delete; info/update/run need the file
    env.impt(&["test", "delete"])
        .ok()
        .has("There is no Test Configuration File in the current directory.");
    env.impt(&["test", "info"])
        .failed()
        .has("Test Configuration File is not found in the current directory.");
    env.impt(&["test", "run"])
        .failed()
        .has("Test Configuration File is not found in the current directory.");
}

#[test]
fn github_file_and_delete_of_referenced_files() {
    let env = Env::start(&[]);
    product_and_dg(&env);
    env.impt(&["test", "github", "-i", "gh.json", "-w", "x"])
        .failed()
        .has("Options \"--pwd\" and \"--user\" must be specified together.");
    env.impt(&["test", "github", "-i", "gh.json", "-u", "me", "-w", "tok"])
        .ok()
        .has("GitHub credentials Configuration is created successfully.");
    let gh: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("gh.json")).unwrap()).unwrap();
    assert_eq!(
        gh,
        serde_json::json!({"githubUser": "me", "githubToken": "tok"})
    );
    // existing: asks; prompts for what is missing
    env.impt_input(&["test", "github", "-i", "gh.json"], "n\n")
        .failed()
        .has(
            "GitHub credentials Configuration File gh.json already exists. It will be overwritten.",
        );
    env.impt_input(&["test", "github", "-i", "gh.json", "-q"], "you\nsecret\n")
        .ok()
        .has("Enter GitHub username: ")
        .has("GitHub credentials Configuration is updated successfully.");
    let gh: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("gh.json")).unwrap()).unwrap();
    assert_eq!(gh["githubToken"], "secret");
    assert!(
        !env.path(".impt.test").exists(),
        "github does not touch .impt.test"
    );

    std::fs::write(env.path("vars.json"), "{\"A\": 1}").unwrap();
    env.impt(&[
        "test",
        "create",
        "-g",
        "DG",
        "-i",
        "gh.json",
        "-j",
        "vars.json",
    ])
    .ok()
    .lacks("is not found");
    std::fs::remove_file(env.path("vars.json")).unwrap();
    env.impt_input(&["test", "delete", "-a"], "y\n")
        .ok()
        .has("GitHub credentials Configuration File gh.json will be deleted.")
        .has("Builder Configuration File vars.json is not found.")
        .has("GitHub credentials Configuration is deleted successfully.")
        .has("Test Configuration is deleted successfully.");
    assert!(!env.path("gh.json").exists());
}
