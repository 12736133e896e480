//! build deploy/run/get/info/list/update/copy/delete/cleanup against the simulator.

use crate::support::*;

/// A product "P" with a development group "DG" linked as the Project of the test directory.
fn project(env: &Env) -> String {
    let out = env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
    out.ok();
    out.id_after("Device Group: ")
}

#[test]
fn deploy_and_run() {
    let env = Env::start(&[]);
    // file checks come before anything else (no project, no DG)
    env.impt(&["build", "deploy", "-x", "nope.nut"])
        .failed()
        .has("Error: File with IMP device source code \"nope.nut\" is not found.");
    env.impt(&["build", "deploy"])
        .failed()
        .has("--device-file option is not specified, empty device code will be deployed.")
        .has("--agent-file option is not specified, empty agent code will be deployed.")
        .has("Error: No Device Group Identifier is specified.");
    let dg = project(&env);
    std::fs::write(env.path("device.nut"), "server.log(\"Device\");\n").unwrap();
    let out = env.impt(&["build", "deploy", "-s", "my new build", "-t", "TAG1", "-f"]);
    out.ok()
        .has("Deployment \"")
        .has("is created successfully.")
        .has("tags:    TAG1")
        .has("flagged: true");
    let b1 = out.id_after("Deployment: ");
    let (_, doc) = env.http("GET", &format!("/deployments/{b1}"), None);
    assert_eq!(
        doc["data"]["attributes"]["device_code"],
        "server.log(\"Device\");\n"
    );
    assert_eq!(doc["data"]["attributes"]["agent_code"], "");
    assert_eq!(doc["data"]["attributes"]["description"], "my new build");
    let json = env
        .impt(&["build", "deploy", "-g", "DG", "-o", "ci", "-z", "json"])
        .ok()
        .json();
    assert_eq!(json["Deployment"]["origin"], "ci");
    let min = env.impt(&["build", "deploy", "-z", "minimal"]);
    assert_eq!(min.code, 0);
    assert!(min.stdout.starts_with("Deployment: \n"), "{}", min.stdout);
    // Builder directives are preprocessed
    std::fs::write(env.path("lib.nut"), "server.log(\"lib\");\n").unwrap();
    std::fs::write(
        env.path("agent.nut"),
        "@include \"lib.nut\"\nserver.log(\"agent\");\n",
    )
    .unwrap();
    let id = env.impt(&["build", "deploy"]).id_after("Deployment: ");
    let (_, doc) = env.http("GET", &format!("/deployments/{id}"), None);
    let code = doc["data"]["attributes"]["agent_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        code.contains("server.log(\"lib\");")
            && code.contains("server.log(\"agent\");")
            && !code.contains("@include"),
        "{code}"
    );
    std::fs::write(env.path("agent.nut"), "@include \"missing.nut\"\n").unwrap();
    let out = env.impt(&["build", "deploy"]);
    out.failed()
        .has("missing.nut")
        .lacks("is created successfully");
    // Builder directives are left alone with --no-preprocess
    // (the sim compiles deployments, so the unprocessed code must still be Squirrel)
    let raw = "server.log(\"@{__FILE__}\");\n";
    std::fs::write(env.path("agent.nut"), raw).unwrap();
    let out = env.impt(&["build", "deploy", "--no-preprocess"]);
    let id = out.id_after("Deployment: ");
    let (_, doc) = env.http("GET", &format!("/deployments/{id}"), None);
    assert_eq!(doc["data"]["attributes"]["agent_code"], raw);
    std::fs::write(env.path("agent.nut"), "").unwrap();

    // run without devices
    let out = env.impt(&["build", "run", "-s", "run descr"]);
    out.ok()
        .has(&format!(
            "Min supported Deployment for Device Group \"{dg}\" is updated successfully."
        ))
        .has(&format!("Device Group \"{dg}\" is updated successfully."))
        .has(&format!(
            "Device Group \"{dg}\" does not have assigned Devices."
        ));
    let (_, g) = env.http("GET", &format!("/devicegroups/{dg}"), None);
    assert_eq!(g["data"]["attributes"]["description"], "run descr");
    let cur = g["data"]["relationships"]["current_deployment"]["id"].clone();
    assert_eq!(
        g["data"]["relationships"]["min_supported_deployment"]["id"],
        cur
    );
    // run with a device, conditional, named group
    let dev = env.device_ids()[0].clone();
    env.assign(&dg, &dev);
    env.impt(&["build", "run", "-g", "DG", "-c"])
        .ok()
        .has("Min supported Deployment for Device Group \"DG\" is updated successfully.")
        .has("Conditional restart request for Devices assigned to Device Group \"DG\" is successful:")
        .has(&format!("id:            {dev}"));
    // json: the new deployment, its Device Group and the restarted devices
    let run = env.impt(&["build", "run", "-z", "json"]).ok().json();
    assert!(run["Deployment"]["id"].is_string(), "{run}");
    assert_eq!(run["Device Group"]["name"], "DG");
    assert_eq!(run["Devices"], serde_json::json!([dev]));
    // compile errors are reported with their position
    std::fs::write(env.path("device.nut"), "local x = 1;\n/\n").unwrap();
    let out = env.impt(&["build", "run"]);
    out.failed();
    out.has("Error: Compilation Error: Device code compile failed\ndevice_code error (line 2, column 2): expression expected");
}

#[test]
fn get_info_update_copy_list() {
    let env = Env::start(&[]);
    let dg = project(&env);
    env.impt(&["build", "info"])
        .failed()
        .has("Error: No Deployment Identifier is specified.");
    std::fs::write(env.path("device.nut"), "// dev\n").unwrap();
    std::fs::write(env.path("agent.nut"), "// agent\n").unwrap();
    let b = env
        .impt(&["build", "deploy", "-t", "T1", "-t", "7"])
        .id_after("Deployment: ");
    // info, default from the Project
    let info = env.impt(&["build", "info", "-z", "json"]).ok().json();
    assert_eq!(info["Deployment"]["id"], b.as_str());
    assert_eq!(info["Deployment"]["Device Group"]["id"], dg.as_str());
    env.impt(&["build", "info", "-b", "T1"])
        .ok()
        .has("device_code: \n    \"\"\"\n      // dev\n");
    // get: overwrite dialog, then files written
    std::fs::write(env.path("device.nut"), "changed").unwrap();
    env.impt_input(&["build", "get"], "n\n")
        .failed()
        .has("Source file(s) device.nut, agent.nut already exist. They will be overwritten.");
    env.impt_input(&["build", "get", "-b", &b], "y\n")
        .ok()
        .has(&format!(
            "Deployment \"{b}\" source file(s) are downloaded successfully."
        ));
    assert_eq!(
        std::fs::read_to_string(env.path("device.nut")).unwrap(),
        "// dev\n"
    );
    env.impt(&["build", "get", "-x", "only.nut", "-i", "-q"])
        .ok();
    assert!(env.path("only.nut").exists());
    env.impt(&[
        "build",
        "get",
        "-x",
        "none.nut",
        "-y",
        "none2.nut",
        "-i",
        "-j",
    ])
    .ok();
    assert!(!env.path("none.nut").exists() && !env.path("none2.nut").exists());
    // update tags
    env.impt(&["build", "update", "-t", "T2", "-r", "7", "-s", "d", "-f"])
        .ok()
        .has("Deployment \"");
    let (_, doc) = env.http("GET", &format!("/deployments/{b}"), None);
    assert_eq!(
        doc["data"]["attributes"]["tags"],
        serde_json::json!(["T1", "T2"])
    );
    assert_eq!(doc["data"]["attributes"]["flagged"], true);
    assert_eq!(
        env.impt(&["build", "update", "-b", "T1", "-f", "false", "-z", "json"])
            .ok()
            .json()["Deployment"]["tags"],
        serde_json::json!(["T1", "T2"])
    );
    // copy
    env.impt(&["dg", "create", "-n", "DG2", "-p", "P"]);
    let dg2 = {
        let (_, l) = env.http("GET", "/devicegroups", None);
        let found = l["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["attributes"]["name"] == "DG2")
            .cloned();
        match found {
            Some(g) => g["id"].as_str().unwrap().to_string(),
            None => {
                let p = doc["data"]["relationships"]["product"]["id"].clone();
                let body = serde_json::json!({"data": {"type": "development_devicegroup", "attributes": {"name": "DG2"}, "relationships": {"product": {"type": "product", "id": p}}}});
                env.http("POST", "/devicegroups", Some(body)).1["data"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
        }
    };
    let out = env.impt(&["build", "copy", "-b", "T1", "-g", "DG2", "-a"]);
    out.ok()
        .has("Deployment \"T1\" is copied successfully to Deployment \"");
    let (_, copies) = env.http(
        "GET",
        &format!("/deployments?filter[devicegroup.id]={dg2}"),
        None,
    );
    let copy = &copies["data"][0];
    assert_eq!(copy["attributes"]["device_code"], "// dev\n");
    assert_eq!(copy["attributes"]["tags"], serde_json::json!(["T1", "T2"]));
    // list filters
    env.impt(&["build", "list", "-g", "DG2"])
        .ok()
        .has("Deployment list (1 items):");
    let dup = env
        .impt(&["build", "list", "-t", "T1", "-t", "T2", "-z", "json"])
        .ok()
        .json();
    assert_eq!(
        dup.as_array().unwrap().len(),
        4,
        "a build matching two tags is listed twice"
    );
    let dev = env
        .impt(&[
            "build",
            "list",
            "-y",
            "development",
            "-p",
            "P",
            "-z",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(dev.as_array().unwrap().len(), 2);
    env.impt(&["build", "list", "-m"])
        .ok()
        .has("No Deployments are found.");
    let unflagged = env.impt(&["build", "list", "-u", "-z", "json"]).ok().json();
    assert_eq!(unflagged.as_array().unwrap().len(), 2);
    env.impt(&["build", "list", "-y", "bad"])
        .failed()
        .has("Error: Invalid values:");
}

#[test]
fn delete_and_cleanup() {
    let env = Env::start(&[]);
    let dg = project(&env);
    let old = env
        .impt(&["build", "deploy", "-f", "-t", "OLD"])
        .id_after("Deployment: ");
    let plain_old = env.impt(&["build", "deploy"]).id_after("Deployment: ");
    env.impt(&["build", "run"]).ok();
    let (_, g) = env.http("GET", &format!("/devicegroups/{dg}"), None);
    let min = g["data"]["relationships"]["min_supported_deployment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.impt(&["build", "delete", "-b", &min, "-q"])
        .failed()
        .has(&format!("Error: Impossible to delete Deployment \"{min}\". It is the Min supported Deployment or newer for Device Group \"{dg}\"."));
    env.impt(&["build", "delete", "-b", "OLD", "-q"])
        .failed()
        .has("Error: Resource Flagged:");
    env.impt_input(&["build", "delete", "-b", "OLD", "-f"], "y\n")
        .ok()
        .has("The following Deployments are marked \"flagged\"")
        .has("Deployment \"OLD\" is updated successfully.")
        .has("Deployment \"OLD\" is deleted successfully.");
    assert_eq!(env.http("GET", &format!("/deployments/{old}"), None).0, 404);
    // zombies: delete the group (its builds survive)
    let flagged = env
        .impt(&["build", "deploy", "-g", "DG"])
        .id_after("Deployment: ");
    env.impt(&["build", "update", "-b", &flagged, "-f"]).ok();
    env.impt(&["build", "update", "-b", &flagged, "-f", "false"])
        .ok();
    assert_eq!(
        env.http("DELETE", &format!("/devicegroups/{dg}"), None).0,
        204
    );
    env.impt(&["build", "update", "-b", &plain_old, "-f"]).ok();
    let z = env.impt(&["build", "list", "-m", "-z", "json"]).ok().json();
    assert_eq!(z.as_array().unwrap().len(), 3);
    let out = env.impt(&["build", "cleanup", "-q"]);
    out.ok();
    assert_eq!(
        out.stdout.matches("is deleted successfully.").count(),
        2,
        "{}",
        out.stdout
    );
    env.impt(&["build", "cleanup", "-p", "P"])
        .ok()
        .has("No Deployments are found.");
    env.impt(&["build", "cleanup", "-u", "-q"])
        .ok()
        .has(&format!(
            "Deployment \"{plain_old}\" is updated successfully."
        ))
        .has(&format!(
            "Deployment \"{plain_old}\" is deleted successfully."
        ));
    assert_eq!(
        env.impt(&["build", "cleanup", "-z", "json"]).ok().json(),
        serde_json::json!({})
    );
}
