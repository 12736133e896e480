//! product create/info/list/update/delete in every output mode, and their failures.

use crate::support::*;

#[test]
fn product_lifecycle_in_all_modes() {
    let env = Env::start(&[]);
    let out = env.impt(&["product", "create", "-n", "P1", "-s", "first product"]);
    out.ok().has("Product \"P1\" is created successfully.");
    let id = out.id_after("Product: ");
    let json = env
        .impt(&["product", "create", "-n", "P2", "-z", "json"])
        .ok()
        .json();
    assert_eq!(json["Product"]["name"], "P2");
    let minimal = env.impt(&["product", "list", "-z", "minimal"]);
    assert_eq!(minimal.code, 0);
    assert!(!minimal.stdout.contains("IMPT COMMAND") && !minimal.stdout.contains("list ("));
    assert_eq!(minimal.stdout.matches("Product: ").count(), 2);
    env.impt(&["product", "list"])
        .ok()
        .has("Product list (2 items):");
    let list = env.impt(&["product", "list", "-z", "json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let info = env.impt(&["product", "info", "-p", "P1"]);
    info.ok()
        .has(&format!("id:          {id}"))
        .has("description: first product");
    env.impt(&["product", "info", "-p", &id, "-z", "json"]).ok();
    env.impt(&["product", "update", "-p", "P1", "-n", "P1b", "-s", ""])
        .ok()
        .has("Product \"P1\" is updated successfully.");
    let (_, doc) = env.http("GET", &format!("/products/{id}"), None);
    assert_eq!(doc["data"]["attributes"]["name"], "P1b");
    assert_eq!(doc["data"]["attributes"]["description"], "");
    assert_eq!(
        env.impt(&["product", "update", "-p", "P2", "-s", "x", "-z", "json"])
            .ok()
            .json()["Product"]["name"],
        "P2"
    );
    env.impt(&["product", "delete", "-p", "P1b", "-q"])
        .ok()
        .has("Product \"P1b\" is deleted successfully.");
    let (status, _) = env.http("GET", &format!("/products/{id}"), None);
    assert_eq!(status, 404);
}

#[test]
fn product_failures() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "Dup"]).ok();
    env.impt(&["product", "create", "-n", "Dup"])
        .failed()
        .has("Error: Duplicate Resource: Products must have unique names.");
    env.impt(&["product", "info", "-p", "nope"])
        .failed()
        .has("Error: Product \"nope\" is not found.");
    env.impt(&["product", "info"])
        .failed()
        .has("Error: No Product Identifier is specified.");
    env.impt(&["product", "create"])
        .failed()
        .has("Error: Missing required argument: name");
    env.impt(&["product", "create", "-n", ""])
        .failed()
        .has("Error: Option \"--name\" must not be empty.");
    env.impt(&["product", "create", "-n", "a", "-n", "b"])
        .failed()
        .has("must not be specified multiple times.");
    env.impt(&["product", "list", "extra"])
        .failed()
        .has("Error: Unknown arguments: extra.");
    env.impt(&["product"])
        .failed()
        .has("Error: Please specify a valid command.");
    env.impt(&["nosuch"])
        .failed()
        .has("Error: Unknown argument: nosuch");
    // A product with a device group is refused by the server, and the product stays.
    let (_, p) = env.http("GET", "/products", None);
    let pid = p["data"][0]["id"].as_str().unwrap().to_string();
    env.http("POST", "/devicegroups", Some(serde_json::json!({"data": {"type": "development_devicegroup", "attributes": {"name": "G"}, "relationships": {"product": {"type": "product", "id": pid}}}})));
    env.impt(&["product", "delete", "-p", "Dup", "-q"])
        .failed()
        .has("Dependent Devicegroups Exist: Cannot delete a product with associated devicegroups.");
    // Without -q the summary is shown and 'n' cancels.
    let out = env.impt_input(&["product", "delete", "-p", "Dup", "--force"], "n\n");
    out.failed()
        .has("The following entities will be deleted:")
        .has("Device Group: ")
        .has("Operation is canceled.");
    // --force deletes the group first.
    let out = env.impt_input(&["product", "delete", "-p", "Dup", "--force"], "y\n");
    out.ok().has("is deleted successfully.");
    let (_, p) = env.http("GET", "/products", None);
    assert_eq!(p["data"].as_array().unwrap().len(), 0);
}

#[test]
fn identifiers_ambiguous_and_hierarchical() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "Same"]).ok();
    // A hierarchical identifier names the owner's product.
    env.impt(&["product", "info", "-p", "{user}{Same}"])
        .ok()
        .has("name:        Same");
    env.impt(&["product", "info", "-p", "{nobody}{Same}"])
        .failed()
        .has("Error: Account \"nobody\" is not found.");
    let help = env.impt(&["product", "create", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--name, -n") && !help.stdout.contains("IMPT COMMAND"));
}
