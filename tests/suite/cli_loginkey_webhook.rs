//! loginkey and webhook groups, and logging in with a login key made by `loginkey create`.

use crate::support::*;

#[test]
fn login_key_lifecycle_and_login_with_it() {
    let env = Env::start(&[]);
    env.impt(&["loginkey", "create", "-w", "wrong"])
        .failed()
        .has("Error: ");
    let out = env.impt(&["loginkey", "create", "-w", PASSWORD, "-s", "ci key"]);
    out.ok()
        .has("is created successfully.")
        .has("description: ci key");
    let key = out.id_after("Login Key: ");
    env.impt(&["loginkey", "list"])
        .ok()
        .has("Login Key list (1 items):")
        .has(&key);
    env.impt(&["loginkey", "info", "-k", &key])
        .ok()
        .has("description:");
    env.impt(&[
        "loginkey", "update", "-k", &key, "-w", PASSWORD, "-s", "renamed",
    ])
    .ok()
    .has(&format!("Login Key \"{key}\" is updated successfully."));
    env.impt(&["loginkey", "info", "-k", &key, "-z", "json"])
        .ok()
        .json()["Login Key"]["description"]
        .as_str()
        .map(|d| assert_eq!(d, "renamed"))
        .unwrap();
    env.impt(&["loginkey", "info", "-k", "nokey"])
        .failed()
        .has("Error: Login Key \"nokey\" is not found.");

    // auth login --lk with the new key, in a fresh directory (local auth file).
    let dir = tempfile::tempdir().unwrap();
    let out = env.impt_at(
        dir.path(),
        &["auth", "login", "-l", "--lk", &key, "-e", &env.url],
        None,
        &[],
    );
    out.ok().has("Local login is successful.");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(".impt.auth")).unwrap())
            .unwrap();
    assert_eq!(saved["loginKey"], key.as_str());
    env.impt_at(dir.path(), &["auth", "info"], None, &[])
        .ok()
        .has("Login method:              Login Key");
    // IMPT_LOGINKEY context.
    env.impt_at(
        env.dir.path(),
        &["product", "list"],
        None,
        &[("IMPT_LOGINKEY", &key), ("IMPT_ENDPOINT", &env.url)],
    )
    .ok();

    // Delete asks, then the password; the deleted key no longer logs in.
    env.impt_input(
        &["loginkey", "delete", "-k", &key],
        "y\n".to_string().as_str(),
    )
    .failed();
    env.impt(&["loginkey", "delete", "-k", &key, "-w", PASSWORD, "-q"])
        .ok()
        .has(&format!("Login Key \"{key}\" is deleted successfully."));
    let dir2 = tempfile::tempdir().unwrap();
    env.impt_at(
        dir2.path(),
        &["auth", "login", "-l", "--lk", &key, "-e", &env.url],
        None,
        &[],
    )
    .failed()
    .has(&format!("Error: Login Key \"{key}\" is not found."));
}

#[test]
fn webhooks() {
    let env = Env::start(&[]);
    env.impt(&["product", "create", "-n", "P"]).ok();
    let (_, p) = env.http("GET", "/products", None);
    let pid = p["data"][0]["id"].as_str().unwrap().to_string();
    for (name, t) in [
        ("Dev", "development_devicegroup"),
        ("Prod", "production_devicegroup"),
    ] {
        let (s, _) = env.http("POST", "/devicegroups", Some(serde_json::json!({"data": {"type": t, "attributes": {"name": name}, "relationships": {"product": {"type": "product", "id": pid}}}})));
        assert_eq!(s, 201);
    }
    let out = env.impt(&[
        "webhook",
        "create",
        "-g",
        "Dev",
        "-u",
        "http://example.test/hook",
        "-e",
        "deployment",
        "-m",
        "json",
    ]);
    out.ok()
        .has("is created successfully.")
        .has("event: deployment");
    let wh = out.id_after("Webhook: ");
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "Prod",
        "-u",
        "http://example.test/b",
        "-e",
        "blessing",
        "-m",
        "urlencoded",
    ])
    .ok();
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "Dev",
        "-u",
        "not a url",
        "-e",
        "deployment",
        "-m",
        "json",
    ])
    .failed()
    .has("Invalid URL: The provided URL is invalid.");
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "Dev",
        "-u",
        "http://x.test",
        "-e",
        "blessing",
        "-m",
        "json",
    ])
    .failed()
    .has("Error: ");
    env.impt(&[
        "webhook",
        "create",
        "-g",
        "Dev",
        "-u",
        "http://x.test",
        "-e",
        "bad",
        "-m",
        "json",
    ])
    .failed()
    .has("Invalid values:");
    env.impt(&["webhook", "info", "-w", &wh])
        .ok()
        .has("content_type: json")
        .has("url:          http://example.test/hook");
    env.impt(&["webhook", "list"])
        .ok()
        .has("Webhook list (2 items):");
    env.impt(&["webhook", "list", "-e", "blessing"])
        .ok()
        .has("Webhook list (1 items):")
        .has("http://example.test/b");
    env.impt(&["webhook", "list", "-y", "production"])
        .ok()
        .has("Webhook list (1 items):");
    env.impt(&["webhook", "list", "-g", "Dev", "-z", "json"])
        .ok()
        .json()
        .as_array()
        .map(|a| assert_eq!(a.len(), 1))
        .unwrap();
    env.impt(&["webhook", "list", "-u", "http://nowhere.test"])
        .ok()
        .has("No Webhooks are found.");
    env.impt(&[
        "webhook",
        "update",
        "-w",
        &wh,
        "-u",
        "https://example.test/new",
        "-m",
        "urlencoded",
    ])
    .ok()
    .has("is updated successfully.");
    let (_, doc) = env.http("GET", &format!("/webhooks/{wh}"), None);
    assert_eq!(
        doc["data"]["attributes"]["content_type"],
        "application/x-www-form-urlencoded"
    );
    env.impt(&["webhook", "delete", "-w", &wh, "-q"])
        .ok()
        .has(&format!("Webhook \"{wh}\" is deleted successfully."));
    env.impt(&["webhook", "info", "-w", &wh])
        .failed()
        .has("is not found.");
}
