//! Scriptable results (issue #17): `-z json` of commands that create or change entities
//! carries them; the text output stays the original's.

use crate::support::*;

#[test]
fn json_results_name_what_changed() {
    let env = Env::start(&[]);
    let out = env.impt(&["project", "create", "-p", "P", "-c", "-n", "DG", "-q"]);
    out.ok();
    let dg = out.id_after("Device Group: ");
    env.impt(&["dg", "create", "-n", "DG2", "-p", "P"]).ok();
    let dev = env.device_ids()[0].clone();
    // device assign: the device and the group
    let j = env
        .impt(&[
            "device", "assign", "-d", &dev, "-g", "DG", "-q", "-z", "json",
        ])
        .ok()
        .json();
    assert_eq!(j["Device"]["id"], dev.as_str());
    assert_eq!(j["Device Group"]["id"], dg.as_str());
    // build run: the new deployment, its group, the restarted devices
    let run = env.impt(&["build", "run", "-z", "json"]).ok().json();
    let build = run["Deployment"]["id"].as_str().unwrap().to_string();
    let (_, doc) = env.http("GET", &format!("/devicegroups/{dg}"), None);
    assert_eq!(
        doc["data"]["relationships"]["current_deployment"]["id"],
        build.as_str()
    );
    assert_eq!(run["Devices"], serde_json::json!([dev]));
    // build copy: the copy, not the source
    let copy = env
        .impt(&["build", "copy", "-b", &build, "-g", "DG2", "-z", "json"])
        .ok()
        .json();
    let copied = copy["Deployment"]["id"].as_str().unwrap();
    assert_ne!(copied, build);
    // dg reassign: the receiving group and the moved devices
    let j = env
        .impt(&[
            "dg", "reassign", "--from", "DG", "--to", "DG2", "-z", "json",
        ])
        .ok()
        .json();
    assert_eq!(j["Device Group"]["name"], "DG2");
    assert_eq!(j["Devices"], serde_json::json!([dev]));
    // device unassign: the device
    let j = env
        .impt(&["device", "unassign", "-d", &dev, "-z", "json"])
        .ok()
        .json();
    assert_eq!(j["Device"]["id"], dev.as_str());
    // the text output is unchanged: no JSON, the original's lines
    env.impt(&["device", "assign", "-d", &dev, "-g", "DG", "-q"])
        .ok()
        .has(&format!(
            "Device \"{dev}\" is assigned successfully to Device Group \"DG\"."
        ))
        .lacks("{");
}
