//! `impt device …` against the simulator.

use crate::support::*;
use serde_json::Value;

fn setup(env: &Env) {
    env.impt(&["product", "create", "-n", "P1"]).ok();
    env.impt(&["dg", "create", "-n", "DG1", "-p", "P1"]).ok();
    env.impt(&[
        "dg",
        "create",
        "-n",
        "DG2",
        "-p",
        "P1",
        "-y",
        "pre-factory",
        "-t",
        "PP",
        "-u",
        "PD",
    ])
    .failed();
    env.impt(&["dg", "create", "-n", "DG2", "-p", "P1"]).ok();
}

fn device_group_of(env: &Env, id: &str) -> Option<String> {
    let (_, doc) = env.http("GET", &format!("/devices/{id}"), None);
    doc["data"]["relationships"]["devicegroup"]["id"]
        .as_str()
        .map(str::to_string)
}

fn dg_id(env: &Env, name: &str) -> String {
    env.impt(&["dg", "info", "-g", name, "-z", "json"]).json()["Device Group"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn ids(j: &Value) -> Vec<String> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|d| d["Device"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn device_assign_unassign_update_info() {
    let env = Env::start(&[]);
    setup(&env);
    let dev = env.device_ids();
    assert_eq!(dev.len(), 3);
    let (dg1, dg2) = (dg_id(&env, "DG1"), dg_id(&env, "DG2"));

    // assign by name
    env.impt(&["device", "assign", "-d", "device-1", "-g", "DG1"])
        .ok()
        .has("Device \"device-1\" is assigned successfully to Device Group \"DG1\".");
    assert_eq!(
        device_group_of(&env, &dev[0]).as_deref(),
        Some(dg1.as_str())
    );
    // again: nothing to do
    env.impt(&["device", "assign", "-d", "device-1", "-g", "DG1"])
        .ok()
        .has("Device \"device-1\" is already assigned to Device Group \"DG1\".");
    // to another group: asks; 'n' cancels
    let out = env.impt_input(&["device", "assign", "-d", "device-1", "-g", "DG2"], "n\n");
    out.failed()
        .has("Device \"device-1\" is assigned to another Device Group. It will be reassigned to Device Group \"DG2\".")
        .has("Are you sure you want to continue?")
        .has("Operation is canceled.");
    assert_eq!(
        device_group_of(&env, &dev[0]).as_deref(),
        Some(dg1.as_str())
    );
    // invalid answer, then yes
    let out = env.impt_input(
        &["device", "assign", "-d", &dev[0], "-g", "DG2"],
        "maybe\ny\n",
    );
    out.ok().has("Invalid value!").has(&format!(
        "Device \"{}\" is assigned successfully to Device Group \"DG2\".",
        dev[0]
    ));
    assert_eq!(
        device_group_of(&env, &dev[0]).as_deref(),
        Some(dg2.as_str())
    );
    // -q: no question; json prints {}
    let out = env.impt(&[
        "device", "assign", "-d", "device-1", "-g", "DG1", "-q", "-z", "json",
    ]);
    out.ok().lacks("Are you sure");
    assert_eq!(out.json()["Device"]["name"], "device-1");
    assert_eq!(out.json()["Device Group"]["name"], "DG1");
    assert_eq!(
        device_group_of(&env, &dev[0]).as_deref(),
        Some(dg1.as_str())
    );

    // the Project's Device Group by default
    std::fs::write(
        env.path(".impt.project"),
        format!("{{\"deviceGroupId\": \"{dg2}\", \"deviceFile\": \"device.nut\", \"agentFile\": \"agent.nut\"}}"),
    )
    .unwrap();
    env.impt(&["device", "assign", "-d", "device-2"])
        .ok()
        .has(&format!(
            "Device \"device-2\" is assigned successfully to Device Group \"{dg2}\"."
        ));
    assert_eq!(
        device_group_of(&env, &dev[1]).as_deref(),
        Some(dg2.as_str())
    );

    // info: the group with its data, the product
    let out = env.impt(&["device", "info", "-d", "device-2"]);
    out.ok()
        .has("Device: ")
        .has("name:")
        .has("device-2")
        .has("  Device Group: ")
        .has("    name: DG2")
        .has("  Product: ");
    let j = env
        .impt(&["device", "info", "-d", &dev[1], "-z", "json"])
        .json();
    assert_eq!(j["Device"]["id"], dev[1].as_str());
    assert_eq!(j["Device"]["Device Group"]["id"], dg2.as_str());
    assert_eq!(j["Device"]["Device Group"]["type"], "development");

    // update name: clear and set; ambiguous names
    env.impt(&["device", "update", "-d", "device-3", "-n", "twin"])
        .ok()
        .has("Device \"device-3\" is updated successfully.");
    env.impt(&["device", "update", "-d", "device-2", "--name", "twin"])
        .ok();
    let out = env.impt(&["device", "info", "-d", "twin"]);
    out.failed()
        .has("Error: Multiple Devices \"twin\" are found:")
        .has(&dev[1])
        .has(&dev[2])
        .has("Impossible to execute the command.");
    let out = env.impt(&["device", "update", "-d", &dev[2], "-n", "", "-z", "json"]);
    out.ok();
    assert_eq!(out.json()["Device"]["id"], dev[2].as_str());
    let (_, doc) = env.http("GET", &format!("/devices/{}", dev[2]), None);
    assert!(doc["data"]["attributes"]["name"]
        .as_str()
        .unwrap_or("")
        .is_empty());
    let out = env.impt(&["device", "update", "-d", "device-1"]);
    out.failed().has("Error: Missing required argument: name");

    // unassign
    env.impt(&["device", "unassign", "-d", "device-1"])
        .ok()
        .has("Device \"device-1\" is unassigned successfully.");
    assert_eq!(device_group_of(&env, &dev[0]), None);
    env.impt(&["device", "unassign", "-d", "device-1", "-u", "key"])
        .ok()
        .has("Device \"device-1\" is already unassigned.");

    // unknown device
    let out = env.impt(&["device", "info", "-d", "nope"]);
    out.failed().has("Error: Device \"nope\" is not found.");
    let out = env.impt(&["device", "assign", "-d", "nope", "-g", "DG1", "-z", "json"]);
    out.failed();
    assert_eq!(out.json()["Error"], "Device \"nope\" is not found.");
    // unknown group
    let out = env.impt(&["device", "assign", "-d", "device-1", "-g", "DGX"]);
    out.failed()
        .has("Error: Device Group \"DGX\" is not found.");

    // the project's group was deleted
    env.impt(&["dg", "delete", "-g", "DG2", "-f", "-q"]).ok();
    let out = env.impt(&["device", "assign", "-d", "device-1"]);
    out.failed()
        .has(&format!(
            "Error: Device Group \"{dg2}\", saved in Project File, does not exist anymore."
        ))
        .has("Use \"impt project delete\" command to delete the outdated Project.");
    std::fs::remove_file(env.path(".impt.project")).unwrap();
    let out = env.impt(&["device", "assign", "-d", "device-1"]);
    out.failed()
        .has("Error: No Device Group Identifier is specified.");
}

#[test]
fn device_list_filters() {
    let env = Env::start(&[]);
    setup(&env);
    let dev = env.device_ids();
    env.impt(&["device", "assign", "-d", &dev[0], "-g", "DG1"])
        .ok();
    env.impt(&["device", "assign", "-d", &dev[1], "-g", "DG2"])
        .ok();
    env.http("POST", &format!("/_sim/devices/{}/offline", dev[1]), None);
    env.http("POST", &format!("/_sim/devices/{}/offline", dev[2]), None);

    let out = env.impt(&["device", "list"]);
    out.ok()
        .has("Device list (3 items):")
        .has("device_online: true")
        .has("  Device Group: ");
    let all = |args: &[&str]| {
        let mut a = vec!["device", "list", "-z", "json"];
        a.extend_from_slice(args);
        let mut v = ids(&env.impt(&a).json());
        v.sort();
        v
    };
    let sorted = |v: &[&String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(all(&["-g", "DG1"]), sorted(&[&dev[0]]));
    assert_eq!(
        all(&["-g", "DG1", "-g", "DG2"]),
        sorted(&[&dev[0], &dev[1]])
    );
    assert_eq!(all(&["--assigned"]), sorted(&[&dev[0], &dev[1]]));
    assert_eq!(all(&["-u"]), sorted(&[&dev[2]]));
    assert_eq!(all(&["-a", "-u"]).len(), 3);
    assert_eq!(all(&["--online"]), sorted(&[&dev[0]]));
    assert_eq!(all(&["-f"]), sorted(&[&dev[1], &dev[2]]));
    assert_eq!(all(&["-f", "-a"]), sorted(&[&dev[1]]));
    assert_eq!(all(&["-p", "P1"]), sorted(&[&dev[0], &dev[1]]));
    assert_eq!(all(&["-y", "development"]), sorted(&[&dev[0], &dev[1]]));
    assert_eq!(all(&["-y", "production"]).len(), 0);
    assert_eq!(all(&["-o", "me", "-g", "DG2"]), sorted(&[&dev[1]]));
    // unknown identifiers in filters give empty results
    assert_eq!(all(&["-g", "nothing"]).len(), 0);
    env.impt(&["device", "list", "-g", "nothing"])
        .ok()
        .has("No Devices are found.");
    // minimal: the data only
    let out = env.impt(&["device", "list", "-f", "-z", "minimal"]);
    out.ok()
        .lacks("Device list")
        .lacks("device_online")
        .has("Device: ");
    // invalid dg type
    let out = env.impt(&["device", "list", "-y", "bad"]);
    out.failed()
        .has("Error: Invalid values:")
        .has("Argument: dg-type, Given: \"bad\"");
    // empty product identifier: no project file
    let out = env.impt(&["device", "list", "--product", ""]);
    out.failed()
        .has("Error: No Product Identifier is specified.");
    // with a project file, an empty identifier is the project's group (or its product)
    std::fs::write(
        env.path(".impt.project"),
        format!("{{\"deviceGroupId\": \"{}\"}}", dg_id(&env, "DG2")),
    )
    .unwrap();
    assert_eq!(all(&["-g", ""]), sorted(&[&dev[1]]));
    assert_eq!(all(&["-g", "", "-g", "DG1"]), sorted(&[&dev[0], &dev[1]]));
    assert_eq!(all(&["-p", ""]), sorted(&[&dev[0], &dev[1]]));
}

#[test]
fn device_restart_and_remove() {
    let env = Env::start(&[]);
    setup(&env);
    let dev = env.device_ids();
    env.impt(&["device", "assign", "-d", &dev[0], "-g", "DG1"])
        .ok();

    env.impt(&["device", "restart", "-d", "device-1"])
        .ok()
        .has("Restart request for Device \"device-1\" is successful.");
    let out = env.impt(&["device", "restart", "-d", &dev[0], "-c", "-z", "json"]);
    out.ok();
    assert_eq!(out.json()["Device"]["id"], dev[0].as_str());
    env.impt(&["device", "restart", "-d", &dev[0], "--conditional"])
        .ok()
        .has(&format!(
            "Conditional restart request for Device \"{}\" is successful.",
            dev[0]
        ));

    // remove an unassigned device: summary, confirmation
    let out = env.impt_input(&["device", "remove", "-d", "device-3"], "n\n");
    out.failed()
        .has("The following Devices will be removed from the account:")
        .has("Operation is canceled.");
    assert_eq!(env.device_ids().len(), 3);
    let out = env.impt_input(&["device", "remove", "-d", "device-3"], "y\n");
    out.ok().has("Device \"device-3\" is removed successfully.");
    assert_eq!(env.device_ids().len(), 2);

    // an assigned device: the server refuses without --force
    let out = env.impt(&["device", "remove", "-d", "device-1", "-q"]);
    out.failed().has("Error: ");
    assert_eq!(env.device_ids().len(), 2);
    let out = env.impt_input(&["device", "remove", "-d", "device-1", "-f"], "y\n");
    out.ok()
        .has("The following Devices will be unassigned from Device Groups:")
        .has("The following Devices will be removed from the account:")
        .has(&format!(
            "Device \"{}\" is unassigned successfully.",
            dev[0]
        ))
        .has("Device \"device-1\" is removed successfully.");
    assert!(!env.device_ids().contains(&dev[0]));
    let out = env.impt(&["device", "remove", "-d", "device-1", "-q"]);
    out.failed().has("Error: Device \"device-1\" is not found.");
}

/// A list of several pages (asked for a few at once) is shown in the API's order, with the
/// list attributes and relations of each device, and filtered as a short one is.
#[test]
fn a_list_of_many_pages_is_shown_in_the_api_order() {
    let env = Env::start(&["--devices", "250"]);
    setup(&env);
    let mut api: Vec<Value> = Vec::new();
    for n in 1..=3 {
        let (status, doc) = env.http(
            "GET",
            &format!("/devices?page[number]={n}&page[size]=100"),
            None,
        );
        assert_eq!(status, 200);
        api.extend(doc["data"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(api.len(), 250);
    let id = |i: usize| api[i]["id"].as_str().unwrap().to_string();
    env.assign(&dg_id(&env, "DG1"), &id(150));
    env.http("POST", &format!("/_sim/devices/{}/offline", id(201)), None);

    let rows = env.impt(&["device", "list", "-z", "json"]).ok().json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 250);
    for (row, d) in rows.iter().zip(&api) {
        let r = row["Device"].as_object().unwrap();
        assert_eq!(r["id"], d["id"]);
        assert_eq!(r["name"], d["attributes"]["name"]);
        assert_eq!(r["mac_address"], d["attributes"]["mac_address"]);
        assert!(!r.contains_key("swversion"), "{row}");
    }
    assert_eq!(rows[150]["Device"]["Device Group"]["name"], "DG1");
    assert!(rows[149]["Device"].get("Device Group").is_none());
    assert_eq!(rows[201]["Device"].get("device_online"), None);
    assert_eq!(rows[200]["Device"]["device_online"], true);
    let offline = env
        .impt(&["device", "list", "-f", "-z", "json"])
        .ok()
        .json();
    assert_eq!(ids(&offline), [id(201)]);
    let assigned = env
        .impt(&["device", "list", "-a", "-z", "json"])
        .ok()
        .json();
    assert_eq!(ids(&assigned), [id(150)]);
}
