//! `impt dg …` against the simulator.

use crate::support::*;
use serde_json::{json, Value};

fn dg_json(env: &Env, ident: &str) -> Value {
    let (code, doc) = env.http("GET", &format!("/devicegroups/{ident}"), None);
    assert_eq!(code, 200, "{doc}");
    doc["data"].clone()
}

fn created_id(out: &Out) -> String {
    out.ok();
    out.id_after("Device Group: ")
}

/// Creates a deployment of the group through the API; returns its id.
fn deploy(env: &Env, dg: &Value, flagged: bool) -> String {
    std::thread::sleep(std::time::Duration::from_millis(15));
    let body = json!({"data": {"type": "deployment",
        "attributes": {"device_code": "server.log(1);", "agent_code": "", "flagged": flagged},
        "relationships": {"devicegroup": {"type": dg["type"], "id": dg["id"]}}}});
    let (code, doc) = env.http("POST", "/deployments", Some(body));
    assert_eq!(code, 201, "{doc}");
    doc["data"]["id"].as_str().unwrap().to_string()
}

fn deployment(env: &Env, id: &str) -> (u16, Value) {
    env.http("GET", &format!("/deployments/{id}"), None)
}

fn write_project(env: &Env, dg_id: &str) {
    std::fs::write(
        env.path(".impt.project"),
        format!("{{\"deviceGroupId\": \"{dg_id}\", \"deviceFile\": \"device.nut\", \"agentFile\": \"agent.nut\"}}"),
    )
    .unwrap();
}

#[test]
fn dg_create_info_list_update() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P1"]).ok();
    env.impt(&["product", "create", "-n", "P2"]).ok();

    // default type, description; output in three modes
    let out = env.impt(&["dg", "create", "-n", "DG1", "-p", "P1", "-s", "first"]);
    out.has("Device Group \"DG1\" is created successfully.")
        .has("type: development")
        .has("name: DG1");
    let dg1 = created_id(&out);
    let d = dg_json(&env, &dg1);
    assert_eq!(d["type"], "development_devicegroup");
    assert_eq!(d["attributes"]["description"], "first");
    let out = env.impt(&["dg", "create", "-n", "DG2", "-p", "P1", "-z", "json"]);
    out.ok();
    let j = out.json();
    assert_eq!(j["Device Group"]["name"], "DG2");
    assert_eq!(j["Device Group"]["type"], "development");
    let dg2 = j["Device Group"]["id"].as_str().unwrap().to_string();
    let out = env.impt(&["dg", "create", "-n", "DG3", "-p", "P2", "-z", "minimal"]);
    out.ok()
        .lacks("is created successfully")
        .has("Device Group: ");

    // duplicate name: the API's error
    let out = env.impt(&["dg", "create", "-n", "DG1", "-p", "P1"]);
    out.failed()
        .has("Error: Duplicate Resource: Devicegroups must have unique names.");
    // no product
    let out = env.impt(&["dg", "create", "-n", "DGx"]);
    out.failed()
        .has("Error: No Product Identifier is specified.");
    let out = env.impt(&["dg", "create", "-n", "DGx", "-p", "nope"]);
    out.failed().has("Error: Product \"nope\" is not found.");
    // parser checks, with help
    let out = env.impt(&[
        "dg", "create", "-n", "F", "-p", "P1", "-y", "factory", "-t", "x",
    ]);
    out.failed()
        .has("Usage: impt dg create")
        .has("Error: Option \"--dut\" must be specified for Device Group of type \"factory\".");
    let out = env.impt(&[
        "dg",
        "create",
        "-n",
        "F",
        "-p",
        "P1",
        "-y",
        "pre-factory",
        "-u",
        "x",
        "-z",
        "json",
    ]);
    out.failed().has(
        "Error: Option \"--target\" must be specified for Device Group of type \"pre-factory\".",
    );
    let out = env.impt(&["dg", "create", "-n", "F", "-p", "P1", "-r", "eu"]);
    out.failed().has("Error: Invalid option \"--region\" for Device Group of the type \"development\". It may be specified for \"pre-production\" or \"production\" Device Groups only.");
    let out = env.impt(&["dg", "create", "-n", "F", "-p", "P1", "-y", "bad"]);
    out.failed().has("Error: Invalid values:").has("Argument: dg-type, Given: \"bad\", Choices: \"development\", \"pre-factory\", \"pre-dut\", \"pre-production\", \"factory\", \"dut\", \"production\"");

    // every type; region and env variables
    let out = env.impt(&[
        "dg",
        "create",
        "-n",
        "PR",
        "-p",
        "P1",
        "-y",
        "production",
        "-r",
        "eu",
        "-e",
        "{\"k\": \"v\"}",
    ]);
    let pr = created_id(&out);
    let d = dg_json(&env, &pr);
    assert_eq!(d["type"], "production_devicegroup");
    assert_eq!(d["attributes"]["region"], "eu");
    assert_eq!(d["attributes"]["env_vars"]["k"], "v");
    let dut = created_id(&env.impt(&["dg", "create", "-n", "DUT", "-p", "P1", "-y", "dut"]));
    let ppr = created_id(&env.impt(&[
        "dg",
        "create",
        "-n",
        "PPR",
        "-p",
        "P1",
        "-y",
        "pre-production",
    ]));
    let pdut = created_id(&env.impt(&["dg", "create", "-n", "PDUT", "-p", "P1", "-y", "pre-dut"]));
    created_id(&env.impt(&["dg", "create", "-n", "PDUT2", "-p", "P1", "-y", "pre-dut"]));
    env.impt(&["dg", "create", "-n", "PR2", "-p", "P2", "-y", "production"])
        .ok();
    let out = env.impt(&[
        "dg", "create", "-n", "FX", "-p", "P1", "-y", "factory", "-t", "PR", "-u", "DUT",
    ]);
    out.has("type: factory");
    let fx = created_id(&out);
    let d = dg_json(&env, &fx);
    assert_eq!(d["type"], "factoryfixture_devicegroup");
    assert_eq!(d["relationships"]["production_target"]["id"], pr.as_str());
    assert_eq!(d["relationships"]["dut_target"]["id"], dut.as_str());
    let pfx = created_id(&env.impt(&[
        "dg",
        "create",
        "-n",
        "PFX",
        "-p",
        "P1",
        "-y",
        "pre-factory",
        "-t",
        &ppr,
        "-u",
        "PDUT",
    ]));
    assert_eq!(
        dg_json(&env, &pfx)["type"],
        "pre_factoryfixture_devicegroup"
    );
    // target errors
    let out = env.impt(&[
        "dg", "create", "-n", "F", "-p", "P1", "-y", "factory", "-t", "DG1", "-u", "DUT",
    ]);
    out.failed().has("Error: Production Target Device Group \"DG1\" is of the type \"development\" but must be of the type \"production\".");
    let out = env.impt(&[
        "dg",
        "create",
        "-n",
        "F",
        "-p",
        "P1",
        "-y",
        "pre-factory",
        "-t",
        "PPR",
        "-u",
        "DUT",
    ]);
    out.failed().has("Error: DUT Target Device Group \"DUT\" is of the type \"dut\" but must be of the type \"pre-dut\".");
    let out = env.impt(&[
        "dg", "create", "-n", "F", "-p", "P1", "-y", "factory", "-t", "PR2", "-u", "DUT",
    ]);
    out.failed()
        .has("Error: Production Target Device Group must be from the same Product.");
    let out = env.impt(&[
        "dg", "create", "-n", "F", "-p", "P1", "-y", "factory", "-t", "none", "-u", "DUT",
    ]);
    out.failed()
        .has("Error: Production Target Device Group \"none\" is not found.");
    let out = env.impt(&[
        "dg", "create", "-n", "F", "-p", "P1", "-y", "factory", "-t", "PR", "-u", "nodut",
    ]);
    out.failed()
        .has("Error: DUT Target Device Group \"nodut\" is not found.");
    // invalid env JSON: stderr line and the parser's message
    let out = env.impt(&["dg", "create", "-n", "F", "-p", "P1", "-e", "{bad"]);
    out.failed()
        .has("Error: Expected property name or '}' in JSON at position 1");
    assert!(
        out.stderr.contains("Invalid JSON string: {bad"),
        "{}",
        out.stderr
    );
    let (_, doc) = env.http("GET", "/devicegroups", None);
    assert!(!doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["attributes"]["name"] == "F"));

    // info: by name, id, hierarchical, from the project
    let out = env.impt(&["dg", "info", "-g", "DG1"]);
    out.ok()
        .has("Device Group: ")
        .has("description: first")
        .has("  Product: ")
        .has("    name: P1");
    let j = env.impt(&["dg", "info", "-g", &dg1, "-z", "json"]).json();
    assert_eq!(j["Device Group"]["name"], "DG1");
    assert_eq!(j["Device Group"]["region"], "");
    let j = env
        .impt(&["dg", "info", "-g", "{user}{P1}{DG1}", "-z", "json"])
        .json();
    assert_eq!(j["Device Group"]["id"], dg1.as_str());
    let out = env.impt(&["dg", "info", "-g", "{nobody}{P1}{DG1}"]);
    out.failed().has("Error: Account \"nobody\" is not found.");
    let j = env.impt(&["dg", "info", "-g", "FX", "-z", "json"]).json();
    assert_eq!(j["Device Group"]["Production Target"]["id"], pr.as_str());
    assert_eq!(j["Device Group"]["DUT Target"]["name"], "DUT");
    let j = env
        .impt(&["dg", "info", "-g", "PR", "--full", "-z", "json"])
        .json();
    assert_eq!(
        j["Device Group"]["Production Target for"][0]["Device Group"]["id"],
        fx.as_str()
    );
    let out = env.impt(&["dg", "info", "-g", "PDUT", "-u"]);
    out.ok().has("DUT Target for: ").has("name: PFX");
    let out = env.impt(&["dg", "info"]);
    out.failed()
        .has("Error: No Device Group Identifier is specified.");
    write_project(&env, &dg2);
    let j = env.impt(&["dg", "info", "-z", "json"]).json();
    assert_eq!(j["Device Group"]["name"], "DG2");
    // create in the project's product
    let out = env.impt(&["dg", "create", "-n", "DG4", "-z", "json"]);
    out.ok();
    let dg4 = out.json()["Device Group"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        dg_json(&env, &dg4)["relationships"]["product"]["id"],
        dg_json(&env, &dg2)["relationships"]["product"]["id"]
    );
    env.impt(&["dg", "delete", "-g", &dg4, "-q"])
        .ok()
        .has(&format!("Device Group \"{dg4}\" is deleted successfully."));
    // ambiguous name across products
    env.impt(&["dg", "create", "-n", "DG1", "-p", "P2"]).ok();
    let out = env.impt(&["dg", "info", "-g", "DG1"]);
    out.failed()
        .has("Error: Multiple Device Groups \"DG1\" are found:")
        .has(&dg1)
        .has("Impossible to execute the command.");
    let out = env.impt(&["dg", "info", "-g", "nope"]);
    out.failed()
        .has("Error: Device Group \"nope\" is not found.");

    // list and its filters
    let out = env.impt(&["dg", "list"]);
    out.ok()
        .has("Device Group list (12 items):")
        .has("  Product: ");
    let count = |args: &[&str]| {
        let mut a = vec!["dg", "list", "-z", "json"];
        a.extend_from_slice(args);
        env.impt(&a).json().as_array().unwrap().len()
    };
    assert_eq!(count(&["-p", "P2"]), 3);
    assert_eq!(count(&["-p", "P1", "-y", "pre-dut"]), 2);
    assert_eq!(count(&["-y", "production", "-y", "dut"]), 3);
    assert_eq!(count(&["-y", "production", "-p", "P2"]), 1);
    assert_eq!(count(&["-o", "me", "-p", "P1", "-p", "P2"]), 12);
    assert_eq!(count(&["-p", "nope"]), 0);
    assert_eq!(count(&["--product", ""]), 9); // the project's product
    env.impt(&["dg", "list", "-p", "nope"])
        .ok()
        .has("No Device Groups are found.");
    let out = env.impt(&["dg", "list", "-y", "factory", "-z", "minimal"]);
    out.ok().lacks("list (").has("name:    FX");

    // update: name, description, identifier kept in the message
    env.impt(&["dg", "update", "-g", &dg1, "-n", "DG1b", "-s", "new"])
        .ok()
        .has(&format!("Device Group \"{dg1}\" is updated successfully."));
    let d = dg_json(&env, &dg1);
    assert_eq!(d["attributes"]["name"], "DG1b");
    assert_eq!(d["attributes"]["description"], "new");
    env.impt(&["dg", "update", "-g", "DG1b", "-s", ""])
        .ok()
        .has("Device Group \"DG1b\" is updated successfully.");
    assert_eq!(dg_json(&env, &dg1)["attributes"]["description"], "");
    // from the project file: identified by id; json {}
    let out = env.impt(&["dg", "update", "-s", "proj", "-z", "json"]);
    out.ok();
    assert_eq!(out.json()["Device Group"]["id"], dg2.as_str());
    assert_eq!(dg_json(&env, &dg2)["attributes"]["description"], "proj");
    env.impt(&["dg", "update", "-e", "{\"a\": 1}"])
        .ok()
        .has(&format!("Device Group \"{dg2}\" is updated successfully."));
    assert_eq!(dg_json(&env, &dg2)["attributes"]["env_vars"]["a"], 1);
    // load-code-after-blessing
    env.impt(&["dg", "update", "-g", "PR", "-l"]).ok();
    assert_eq!(
        dg_json(&env, &pr)["attributes"]["load_code_after_blessing"],
        true
    );
    env.impt(&["dg", "update", "-g", "PR", "-l", "false"]).ok();
    assert_eq!(
        dg_json(&env, &pr)["attributes"]["load_code_after_blessing"],
        false
    );
    let out = env.impt(&["dg", "update", "-g", "DG1b", "-l"]);
    out.failed().has("Error: Invalid option \"--load-code-after-blessing\" for Device Group of the type \"development\". It may be specified for \"pre-production\" or \"production\" Device Groups only.");
    // targets
    let pr3 = created_id(&env.impt(&["dg", "create", "-n", "PR3", "-p", "P1", "-y", "production"]));
    env.impt(&["dg", "update", "-g", "FX", "-t", "PR3"]).ok();
    assert_eq!(
        dg_json(&env, &fx)["relationships"]["production_target"]["id"],
        pr3.as_str()
    );
    env.impt(&["dg", "update", "-g", "PFX", "--dut", "PDUT2"])
        .ok();
    let out = env.impt(&["dg", "update", "-g", "PFX", "--dut", "DUT"]);
    out.failed().has("Error: DUT Target Device Group \"DUT\" is of the type \"dut\" but must be of the type \"pre-dut\".");
    let out = env.impt(&["dg", "update", "-g", "DG1b", "-t", "PR"]);
    out.failed().has("Error: Invalid option \"--target\" for Device Group of the type \"development\". It may be specified for \"pre-factory\" or \"factory\" Device Groups only.");
    assert_ne!(dg_json(&env, &pdut)["id"], Value::Null);
    // duplicate name
    let out = env.impt(&["dg", "update", "-g", "DG1b", "-n", "DG2"]);
    out.failed()
        .has("Error: Duplicate Resource: Devicegroups must have unique names.");
    let out = env.impt(&["dg", "update", "-g", "DG1b", "-n", ""]);
    out.failed()
        .has("Error: Option \"--name\" must not be empty.");

    // the project's group is deleted
    env.impt(&["dg", "delete", "-q"])
        .ok()
        .has(&format!("Device Group \"{dg2}\" is deleted successfully."));
    for args in [
        &["dg", "info"][..],
        &["dg", "update", "-s", "x"],
        &["dg", "delete", "-q"],
        &["dg", "restart"],
    ] {
        let out = env.impt(args);
        out.failed()
            .has(&format!(
                "Error: Device Group \"{dg2}\", saved in Project File, does not exist anymore."
            ))
            .has("Impossible to execute the command.");
    }
}

#[test]
fn dg_min_supported_and_builds() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P1"]).ok();
    let dg1 = created_id(&env.impt(&["dg", "create", "-n", "DG1", "-p", "P1"]));
    let dg2 = created_id(&env.impt(&["dg", "create", "-n", "DG2", "-p", "P1"]));
    let g1 = dg_json(&env, &dg1);
    let g2 = dg_json(&env, &dg2);
    let b1 = deploy(&env, &g1, true);
    let b2 = deploy(&env, &g1, false);
    let b3 = deploy(&env, &g1, true);
    let b4 = deploy(&env, &g1, false);
    let other = deploy(&env, &g2, false);
    assert_eq!(
        dg_json(&env, &dg1)["relationships"]["min_supported_deployment"]["id"],
        b1.as_str()
    );

    // min supported deployment
    let out = env.impt(&["dg", "update", "-g", "DG1", "-m", &other]);
    out.failed().has(&format!("Error: Deployment \"{other}\" does not belong to Device Group \"DG1\". Impossible to set it as Min supported Deployment."));
    env.impt(&["dg", "update", "-g", "DG1", "-m", &b3])
        .ok()
        .has("Min supported Deployment for Device Group \"DG1\" is updated successfully.")
        .has("Device Group \"DG1\" is updated successfully.");
    assert_eq!(
        dg_json(&env, &dg1)["relationships"]["min_supported_deployment"]["id"],
        b3.as_str()
    );
    let out = env.impt(&["dg", "update", "-g", "DG1", "-m", &b2]);
    out.failed().has("Error: Min supported Deployment cannot be set to an earlier Deployment than the current Min supported Deployment.");
    let out = env.impt(&["dg", "update", "-g", "DG1", "-m", "nope"]);
    out.failed().has("Error: Deployment \"nope\" is not found.");
    let j = env.impt(&["dg", "info", "-g", "DG1", "-z", "json"]).json();
    assert_eq!(
        j["Device Group"]["Min supported Deployment"]["id"],
        b3.as_str()
    );
    assert_eq!(j["Device Group"]["Current Deployment"]["id"], b4.as_str());

    // builds: list only
    let out = env.impt(&["dg", "builds", "-g", "DG1"]);
    out.ok()
        .has("Deployment list (4 items):")
        .has(&b1)
        .has(&b4)
        .lacks(&other);
    assert_eq!(
        env.impt(&["dg", "builds", "-g", "DG1", "-z", "json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // remove: unflagged builds older than min supported (b2 only), with confirmation
    let out = env.impt_input(&["dg", "builds", "-g", "DG1", "-r"], "y\n");
    out.ok()
        .has("The following entities will be deleted:")
        .has(&format!("Deployment \"{b2}\" is deleted successfully."))
        .has("Deployment list (3 items):");
    assert_eq!(deployment(&env, &b2).0, 404);
    assert_eq!(deployment(&env, &b4).0, 200);
    env.impt(&["dg", "builds", "-g", "DG1", "-r", "-q"])
        .ok()
        .has("No Deployments that can be deleted are found for Device Group \"DG1\".");
    // unflag-old: flagged builds older than min supported (b1), not b3
    env.impt(&["dg", "builds", "-g", "DG1", "-o"])
        .ok()
        .has(&format!("Deployment \"{b1}\" is updated successfully."))
        .lacks(&format!("Deployment \"{b3}\" is updated"));
    assert_eq!(
        deployment(&env, &b1).1["data"]["attributes"]["flagged"],
        false
    );
    assert_eq!(
        deployment(&env, &b3).1["data"]["attributes"]["flagged"],
        true
    );
    // unflag + unflag-old = unflag all
    write_project(&env, &dg1);
    let out = env.impt(&["dg", "builds", "-u", "-o", "-z", "json"]);
    out.ok();
    assert_eq!(out.json().as_array().unwrap().len(), 3);
    assert_eq!(
        deployment(&env, &b3).1["data"]["attributes"]["flagged"],
        false
    );
    env.impt(&["dg", "builds", "-u"]).ok().has(&format!(
        "No \"flagged\" Deployments are found for Device Group \"{dg1}\"."
    ));
    // now b1 can be removed
    env.impt(&["dg", "builds", "-r", "-q"])
        .ok()
        .has(&format!("Deployment \"{b1}\" is deleted successfully."));
    assert_eq!(deployment(&env, &b1).0, 404);
    assert_eq!(deployment(&env, &b3).0, 200);
    env.impt(&["dg", "builds", "-g", "DG2", "-z", "minimal"])
        .ok()
        .has(&other)
        .lacks("Deployment list");
}

#[test]
fn dg_devices_restart_unassign_reassign_delete() {
    let env = Env::start(&["--devices", "7"]);
    env.impt(&["product", "create", "-n", "P1"]).ok();
    let dg1 = created_id(&env.impt(&["dg", "create", "-n", "DG1", "-p", "P1"]));
    let dg2 = created_id(&env.impt(&["dg", "create", "-n", "DG2", "-p", "P1"]));
    let dev = env.device_ids();
    assert_eq!(dev.len(), 7);
    let in_group = |g: &str| {
        let (_, doc) = env.http("GET", &format!("/devices?filter[devicegroup.id]={g}"), None);
        doc["data"].as_array().unwrap().len()
    };

    // no devices yet
    env.impt(&["dg", "restart", "-g", "DG1"])
        .ok()
        .has("Device Group \"DG1\" does not have assigned Devices.");
    env.impt(&["dg", "unassign", "-g", "DG1"])
        .ok()
        .has("Device Group \"DG1\" does not have assigned Devices.");
    env.impt(&["dg", "reassign", "--from", "DG1", "--to", "DG2"])
        .ok()
        .has("Device Group \"DG1\" does not have assigned Devices.");

    for d in &dev {
        env.impt(&["device", "assign", "-d", d, "-g", "DG1"]).ok();
    }
    assert_eq!(in_group(&dg1), 7);
    let out = env.impt(&["dg", "info", "-g", "DG1", "--full"]);
    out.ok().has("Devices: ").has("... 2 more Device(s)");
    let j = env
        .impt(&["dg", "info", "-g", "DG1", "--full", "-z", "json"])
        .json();
    assert_eq!(j["Device Group"]["Devices"].as_array().unwrap().len(), 7);

    // restart: list cut to 5 in text mode
    let out = env.impt(&["dg", "restart", "-g", "DG1"]);
    out.ok()
        .has("Restart request for Devices assigned to Device Group \"DG1\" is successful:")
        .has("And 2 more Device(s).");
    let out = env.impt(&["dg", "restart", "-g", "DG1", "-c"]);
    out.ok().has(
        "Conditional restart request for Devices assigned to Device Group \"DG1\" is successful:",
    );
    let out = env.impt(&["dg", "restart", "-g", "DG1", "-z", "json"]);
    out.ok();
    assert_eq!(out.json()["Device Group"]["name"], "DG1");
    assert!(!out.json()["Devices"].as_array().unwrap().is_empty());

    // delete refused by the server while devices are assigned
    let out = env.impt(&["dg", "delete", "-g", "DG1", "-q"]);
    out.failed().has("Error: Dependent Devices Exist");
    assert_eq!(dg_json(&env, &dg1)["id"], dg1.as_str());

    // reassign to the project's group
    write_project(&env, &dg2);
    let out = env.impt(&["dg", "reassign", "-f", "DG1"]);
    out.ok().has(&format!("The following Devices assigned to Device Group \"DG1\" are reassigned successfully to Device Group \"{dg2}\":"));
    assert_eq!((in_group(&dg1), in_group(&dg2)), (0, 7));
    let out = env.impt(&["dg", "reassign", "-f", "nope"]);
    out.failed()
        .has("Error: Device Group \"nope\" is not found.");
    let out = env.impt(&["dg", "reassign", "-t", "DG1"]);
    out.failed().has("Error: Missing required argument: from");

    // unassign, with an unbond key
    let out = env.impt(&["dg", "unassign", "-u", "key"]);
    out.ok()
        .has(&format!(
            "The following Devices are unassigned successfully from Device Group \"{dg2}\":"
        ))
        .has("And 2 more Device(s).");
    assert_eq!(in_group(&dg2), 0);
    let out = env.impt(&["dg", "unassign", "-g", "DG2", "-z", "minimal"]);
    out.ok().lacks("does not have");

    // delete --force: unassigns and unflags, with a summary
    env.impt(&["device", "assign", "-d", &dev[0], "-g", "DG2"])
        .ok();
    let b = deploy(&env, &dg_json(&env, &dg2), true);
    let out = env.impt_input(&["dg", "delete", "-g", "DG2", "--force"], "n\n");
    out.failed()
        .has("The following entities will be deleted:")
        .has("The following Devices will be unassigned from Device Groups:")
        .has("The following Deployments are marked \"flagged\" to prevent deleting.")
        .has("Operation is canceled.");
    assert_eq!(dg_json(&env, &dg2)["id"], dg2.as_str());
    let out = env.impt_input(&["dg", "delete", "-g", "DG2", "--force"], "y\n");
    out.ok()
        .has(&format!(
            "Device \"{}\" is unassigned successfully.",
            dev[0]
        ))
        .has(&format!("Deployment \"{b}\" is updated successfully."))
        .has("Device Group \"DG2\" is deleted successfully.");
    assert_eq!(
        env.http("GET", &format!("/devicegroups/{dg2}"), None).0,
        404
    );
    // plain delete, json
    let out = env.impt(&["dg", "delete", "-g", "DG1", "-q", "-z", "json"]);
    out.ok();
    assert_eq!(out.json(), json!({}));
    assert_eq!(
        env.http("GET", &format!("/devicegroups/{dg1}"), None).0,
        404
    );
    let out = env.impt(&["dg", "delete", "-g", "DG1", "-q"]);
    out.failed()
        .has("Error: Device Group \"DG1\" is not found.");
}

#[test]
fn dg_unassign_production_needs_unbond_key() {
    let state_dir = tempfile::tempdir().unwrap();
    let state = state_dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let pr = {
        let env = Env::start(&["--state", state_arg]);
        env.impt(&["product", "create", "-n", "P1"]).ok();
        let pr =
            created_id(&env.impt(&["dg", "create", "-n", "PR", "-p", "P1", "-y", "production"]));
        std::thread::sleep(std::time::Duration::from_millis(600));
        pr
    };
    // put a device into the production group (the API has no manual way: blessing does it)
    let mut db: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    db["devices"][0]["group"] = json!(pr);
    let dev = db["devices"][0]["id"].as_str().unwrap().to_string();
    std::fs::write(&state, serde_json::to_vec(&db).unwrap()).unwrap();

    let env = Env::start(&["--state", state_arg]);
    assert_eq!(dg_json(&env, &pr)["id"], pr.as_str());
    // device unassign never sends the key (as impt 2.6.1): the server refuses
    let out = env.impt(&["device", "unassign", "-d", &dev, "-u", "secret"]);
    out.failed().has("Error: Invalid Permission");
    let out = env.impt(&["dg", "unassign", "-g", "PR"]);
    out.failed().has("Error: Invalid Permission");
    let out = env.impt(&["dg", "unassign", "-g", "PR", "--unbond", "secret"]);
    out.ok()
        .has("The following Devices are unassigned successfully from Device Group \"PR\":")
        .has(&dev);
    let (_, doc) = env.http("GET", &format!("/devices/{dev}"), None);
    assert!(doc["data"]["relationships"]["devicegroup"]["id"].is_null());
}

#[test]
fn restart_with_log() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P1"]).ok();
    env.impt(&["dg", "create", "-n", "DG1", "-p", "P1"]).ok();
    let dev = env.device_ids();
    env.impt(&["device", "assign", "-d", &dev[0], "-g", "DG1"])
        .ok();
    for (args, first) in [
        (
            vec!["dg", "restart", "-g", "DG1", "--log"],
            "Restart request for Devices assigned to Device Group \"DG1\" is successful:"
                .to_string(),
        ),
        (
            vec!["device", "restart", "-d", dev[0].as_str(), "-l", "-c"],
            format!(
                "Conditional restart request for Device \"{}\" is successful.",
                dev[0]
            ),
        ),
    ] {
        let mut run = env.spawn(&args);
        run.wait_for(&first);
        run.wait_for(&format!("Log stream for Device(s) {} is opened.", dev[0]));
        env.http(
            "POST",
            &format!("/_sim/devices/{}/logs", dev[0]),
            Some(json!({"count": 1, "message": "Hello #{i}#"})),
        );
        run.wait_for("Hello #1#");
        assert_eq!(run.interrupt().0, 0);
    }
    // no devices: no stream, just the message
    env.impt(&["dg", "create", "-n", "DG2", "-p", "P1"]).ok();
    env.impt(&["dg", "restart", "-g", "DG2", "-l"])
        .ok()
        .has("Device Group \"DG2\" does not have assigned Devices.")
        .lacks("Log stream");
}
