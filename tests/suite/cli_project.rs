//! project create/link/info/update/delete: messages, `.impt.project` content and server state.

use crate::support::*;

fn project_file(env: &Env) -> serde_json::Value {
    let text = std::fs::read_to_string(env.path(".impt.project")).expect(".impt.project");
    assert!(!text.ends_with('\n'), "no trailing newline expected");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn project_create_info_update_delete() {
    let env = Env::start(&[]);
    let out = env.impt(&[
        "project",
        "create",
        "-p",
        "P",
        "-i",
        "-n",
        "DG",
        "-s",
        "app",
        "--create-files",
    ]);
    out.ok()
        .has("Product \"P\" is created successfully.")
        .has("Device Group \"DG\" is created successfully.")
        .has("Device source file \"device.nut\" is created successfully.")
        .has("Agent source file \"agent.nut\" is created successfully.")
        .has("Project is created successfully.\n");
    let text = plain(&out.stdout);
    assert!(text.contains(
        "Project: \n  Device file:  device.nut\n  Agent file:   agent.nut\n  Device Group: \n"
    ));
    let dg = out.id_after("Device Group: ");
    let text = std::fs::read_to_string(env.path(".impt.project")).unwrap();
    assert_eq!(
        text,
        format!("{{\n  \"deviceGroupId\": \"{dg}\",\n  \"deviceFile\": \"device.nut\",\n  \"agentFile\": \"agent.nut\"\n}}")
    );
    assert!(env.path("device.nut").exists() && env.path("agent.nut").exists());

    // info in every mode
    let info = env.impt(&["project", "info", "-z", "json"]).ok().json();
    assert_eq!(info["Project"]["Device file"], "device.nut");
    assert_eq!(info["Project"]["Device Group"]["id"], dg.as_str());
    assert_eq!(info["Project"]["Device Group"]["Product"]["name"], "P");
    let min = env.impt(&["project", "info", "-z", "minimal"]);
    assert_eq!(min.code, 0);
    assert!(min.stdout.starts_with("Project: \n") && !min.stdout.contains("IMPT COMMAND"));
    env.impt(&["project", "info", "-u"])
        .ok()
        .has("Auth: ")
        .has("Username:");

    // overwrite refused
    env.impt_input(&["project", "create", "-p", "P", "-n", "DG2"], "n\n")
        .failed()
        .has("The current directory already contains Project File. It will be overwritten.")
        .has("Operation is canceled.");
    assert_eq!(project_file(&env)["deviceGroupId"], dg.as_str());

    // update: empty --descr does not touch the group; rename of the device file
    env.impt(&["project", "update", "-s", ""])
        .ok()
        .lacks("Device Group \"")
        .has("Project is updated successfully.");
    std::fs::write(env.path("device.nut"), "// code").unwrap();
    env.impt(&[
        "project",
        "update",
        "-n",
        "DGX",
        "-s",
        "descr",
        "-x",
        "device1.nut",
        "-r",
    ])
    .ok()
    .has(&format!("Device Group \"{dg}\" is updated successfully."))
    .has("Device source file \"device.nut\" is renamed successfully to \"device1.nut\".")
    .has("Device file:  device1.nut");
    assert_eq!(
        std::fs::read_to_string(env.path("device1.nut")).unwrap(),
        "// code"
    );
    assert!(!env.path("device.nut").exists());
    let (_, doc) = env.http("GET", &format!("/devicegroups/{dg}"), None);
    assert_eq!(doc["data"]["attributes"]["name"], "DGX");
    assert_eq!(doc["data"]["attributes"]["description"], "descr");
    env.impt(&["project", "update", "-y", "a2.nut", "-z", "json"])
        .ok();
    assert_eq!(project_file(&env)["agentFile"], "a2.nut");
    assert!(env.path("a2.nut").exists());

    // delete everything
    let out = env.impt_input(&["project", "delete", "-a"], "y\n");
    out.ok()
        .has("The following entities will be deleted:")
        .has("Project File in the current directory will be deleted.")
        .has(&format!("Device Group \"{dg}\" is deleted successfully."))
        .has("Product \"")
        .has("Project is deleted successfully.");
    assert!(!env.path(".impt.project").exists() && !env.path("device1.nut").exists());
    assert!(env.path("agent.nut").exists(), "files not linked are kept");
    assert_eq!(env.http("GET", &format!("/devicegroups/{dg}"), None).0, 404);
    env.impt(&["project", "delete"])
        .ok()
        .has("There is no Project File in the current directory.");
    env.impt(&["project", "info"])
        .failed()
        .has("Error: Project File is not found in the current directory.");
}

#[test]
fn project_link_and_failures() {
    let env = Env::start(&[]);
    env.impt(&["project", "create", "-p", "nope", "-n", "DG"])
        .failed()
        .has("Error: Product \"nope\" is not found.");
    assert!(!env.path(".impt.project").exists() && !env.path("device.nut").exists());
    env.impt(&["project", "create", "-p", "P", "-n", "DG", "-f"])
        .failed()
        .has("Usage: impt project create")
        .has("Error: Options \"--pre-factory\" and \"--target\" must be specified together.");
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&["project", "create", "-p", "P", "-n", "DG", "-z", "minimal"])
        .ok()
        .lacks("created successfully");
    env.impt(&[
        "project", "create", "-p", "P", "-n", "F", "-f", "-t", "PP", "-j", "-u", "PD", "-w", "-q",
    ])
    .ok()
    .has("Device Group \"PP\" is created successfully.")
    .has("Device Group \"PD\" is created successfully.")
    .has("type:              pre-factory")
    .has("Production Target: ");
    // a wrong link keeps the old file
    let before = std::fs::read_to_string(env.path(".impt.project")).unwrap();
    env.impt(&["project", "link", "-g", "PP", "-q"])
        .failed()
        .has("Error: Project can not be linked to Device Group of the type \"pre-production\". Only \"development\" or \"pre-factory\" Device Groups are allowed.");
    assert_eq!(
        std::fs::read_to_string(env.path(".impt.project")).unwrap(),
        before
    );
    let out = env.impt(&[
        "project", "link", "-g", "DG", "-x", "d.nut", "-y", "a.nut", "-c", "-q",
    ]);
    out.ok()
        .has("Device source file \"d.nut\" is created successfully.")
        .has("Project is linked successfully.");
    assert_eq!(project_file(&env)["deviceFile"], "d.nut");
    let json = env
        .impt(&["project", "link", "-g", "DG", "-q", "-z", "json"])
        .ok()
        .json();
    assert_eq!(json["Project"]["Device file"], "device.nut");
    // the Project's group gone
    let dg = project_file(&env)["deviceGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    env.http("DELETE", &format!("/devicegroups/{dg}"), None);
    env.impt(&["project", "info"])
        .failed()
        .has(&format!(
            "Error: Device Group \"{dg}\", saved in Project File, does not exist anymore."
        ))
        .has("Use \"impt project delete\" command to delete the outdated Project.");
    env.impt(&["project", "delete", "-e", "-q"])
        .ok()
        .has("Project is deleted successfully.");
}

#[test]
fn pre_factory_project_with_only_a_production_target() {
    // The Development Guide's factory example: a pre-factory project with only a target.
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    env.impt(&[
        "project", "create", "-p", "P", "-n", "F", "-f", "-t", "PP", "-j", "-q",
    ])
    .ok()
    .has("Device Group \"PP\" is created successfully.")
    .has("type:              pre-factory")
    .has("Production Target: ");
    let (_, doc) = env.http(
        "GET",
        "/devicegroups?filter[type]=pre_factoryfixture_devicegroup",
        None,
    );
    let g = &doc["data"][0];
    assert_eq!(g["attributes"]["name"], "F");
    assert!(g["relationships"]["production_target"]["id"].is_string());
    assert!(g["relationships"]["dut_target"]["id"].is_null());
}
