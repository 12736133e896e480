//! `impt sim`: authentication, accounts, login keys, refresh tokens, isolation.

use crate::support::{Api, Sim};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn login_start_line_and_token_document() {
    let sim = Sim::start(&[]);
    assert!(sim.url().starts_with("http://127.0.0.1:"));
    assert!(sim.url().ends_with("/v5"));
    let anon = Api::anonymous(sim.url());
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"id": "user", "password": "password"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body["expires_in"], 3600);
    let at = r.body["expires_at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.len() == 24, "{at}");
    assert_eq!(r.body["refresh_token"].as_str().unwrap().len(), 64);
    // Email works as identifier too; the wrong password does not.
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"id": "user@example.com", "password": "password"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"id": "user", "password": "nope"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["errors"][0]["status"], "401");
    assert_eq!(r.body["errors"][0]["code"], "PX100");
    assert_eq!(r.body["errors"][0]["title"], "Invalid Credentials");
    let r = anon
        .send("POST", "/auth", Some(json!({"id": ""})), &[])
        .await;
    assert_eq!(r.status, 400);
    // Protected routes need a valid bearer token.
    assert_eq!(anon.get("/products").await.status, 401);
    let mut bad = Api::anonymous(sim.url());
    bad.token = Some("garbage".into());
    let r = bad.get("/accounts/me").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["errors"][0]["status"], "401");
}

#[tokio::test]
async fn token_expiry_and_refresh() {
    let sim = Sim::start(&["--token-ttl", "1"]);
    let anon = Api::anonymous(sim.url());
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"id": "user", "password": "password"})),
            &[],
        )
        .await;
    assert_eq!(r.body["expires_in"], 1);
    let refresh = r.body["refresh_token"].as_str().unwrap().to_string();
    let mut api = Api::anonymous(sim.url());
    api.token = Some(r.body["access_token"].as_str().unwrap().to_string());
    assert_eq!(api.get("/accounts/me").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(api.get("/accounts/me").await.status, 401);
    let r = anon
        .send("POST", "/auth/token", Some(json!({"token": refresh})), &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("refresh_token").is_none());
    api.token = Some(r.body["access_token"].as_str().unwrap().to_string());
    assert_eq!(api.get("/accounts/me").await.status, 200);
    let r = anon
        .send("POST", "/auth/token", Some(json!({"token": "0000"})), &[])
        .await;
    assert_eq!(r.status, 404);
    let r = anon.send("POST", "/auth/token", Some(json!({})), &[]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn refresh_tokens_are_capped_listed_and_deletable() {
    let sim = Sim::start(&[]);
    let mut last = String::new();
    let anon = Api::anonymous(sim.url());
    for _ in 0..7 {
        let r = anon
            .send(
                "POST",
                "/auth",
                Some(json!({"id": "user", "password": "password"})),
                &[],
            )
            .await;
        last = r.body["refresh_token"].as_str().unwrap().to_string();
    }
    let api = Api::login(sim.url(), "user", "password").await;
    let r = api.get("/accounts/me/refresh_tokens").await;
    let list = r.body["data"].as_array().unwrap().clone();
    assert_eq!(list.len(), 5);
    assert_eq!(list[0]["type"], "refresh_token");
    for t in &list {
        assert_eq!(
            api.delete(&format!(
                "/accounts/me/refresh_tokens/{}",
                t["id"].as_str().unwrap()
            ))
            .await
            .status,
            204
        );
    }
    assert_eq!(
        api.get("/accounts/me/refresh_tokens").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The deleted token no longer refreshes, but the access token still works.
    let r = anon
        .send("POST", "/auth/token", Some(json!({"token": last})), &[])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(api.get("/accounts/me").await.status, 200);
    assert_eq!(
        api.delete("/accounts/me/refresh_tokens/nope").await.status,
        404
    );
}

#[tokio::test]
async fn mfa_login() {
    let sim = Sim::start(&["--mfa-account", "mfa:pw:mfa@example.com:123456"]);
    let anon = Api::anonymous(sim.url());
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"id": "mfa@example.com", "password": "pw"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let e = &r.body["errors"][0];
    assert_eq!(e["status"], "403");
    assert_eq!(e["code"], "PX200");
    let lt = e["meta"]["login_token"].as_str().unwrap().to_string();
    assert!(e["meta"]["expires_at"].is_string());
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"login_token": lt})),
            &[("X-Electricimp-OTP-Token", "000000")],
        )
        .await;
    assert_eq!(r.status, 401);
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"login_token": lt})),
            &[("X-Electricimp-OTP-Token", "123456")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["access_token"].is_string() && r.body["refresh_token"].is_string());
    // A login token is single-use.
    let r = anon
        .send(
            "POST",
            "/auth",
            Some(json!({"login_token": lt})),
            &[("X-Electricimp-OTP-Token", "123456")],
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn accounts_and_login_keys() {
    let sim = Sim::start(&["--account", "alice:secret:alice@corp.test"]);
    let api = Api::login(sim.url(), "alice", "secret").await;
    let me = api.get("/accounts/me").await;
    assert_eq!(me.body["data"]["type"], "account");
    assert_eq!(me.body["data"]["attributes"]["email"], "alice@corp.test");
    assert_eq!(me.body["data"]["attributes"]["username"], "alice");
    let id = me.id();
    assert_eq!(api.get(&format!("/accounts/{id}")).await.id(), id);
    assert_eq!(api.get("/accounts/wrong-id").await.status, 404);
    assert_eq!(
        api.get("/accounts").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let body = json!({"data": {"type": "login_key", "attributes": {"description": "ci"}}});
    let r = api
        .send("POST", "/accounts/me/login_keys", Some(body.clone()), &[])
        .await;
    assert_eq!(r.status, 401, "password header is required");
    let r = api
        .send(
            "POST",
            "/accounts/me/login_keys",
            Some(body),
            &[("X-Electricimp-Password", "secret")],
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["data"]["type"], "login_key");
    assert_eq!(r.body["data"]["attributes"]["description"], "ci");
    let key = r.id();
    assert_eq!(key.len(), 16);
    assert!(key
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
    assert_eq!(
        api.get(&format!("/accounts/me/login_keys/{key}"))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get(&format!("/accounts/me/login_keys/{id}"))
            .await
            .status,
        404
    );
    let r = api
        .send(
            "PATCH",
            &format!("/accounts/me/login_keys/{key}"),
            Some(json!({"data": {"type": "login_key", "id": key, "attributes": {"name": "x"}}})),
            &[("X-Electricimp-Password", "secret")],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .send(
            "PATCH",
            &format!("/accounts/me/login_keys/{key}"),
            Some(json!({"data": {"type": "login_key", "id": key, "attributes": {"description": "new"}}})),
            &[("X-Electricimp-Password", "secret")],
        )
        .await;
    assert_eq!(r.body["data"]["attributes"]["description"], "new");
    // The key logs in; its usages count.
    let anon = Api::anonymous(sim.url());
    let r = anon
        .send("POST", "/auth/token", Some(json!({"key": key})), &[])
        .await;
    assert_eq!(r.status, 200);
    let mut by_key = Api::anonymous(sim.url());
    by_key.token = Some(r.body["access_token"].as_str().unwrap().into());
    assert_eq!(by_key.get("/accounts/me").await.id(), id);
    let r = api.get(&format!("/accounts/me/login_keys/{key}")).await;
    assert_eq!(r.body["data"]["attributes"]["usages"], 1);
    let r = api
        .get("/accounts/me/login_keys?page[number]=1&page[size]=1")
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let del = |api: Api, key: String| async move {
        api.send(
            "DELETE",
            &format!("/accounts/me/login_keys/{key}"),
            None,
            &[("X-Electricimp-Password", "secret")],
        )
        .await
        .status
    };
    assert_eq!(del(by_key.clone(), key.clone()).await, 204);
    assert_eq!(del(api.clone(), key.clone()).await, 404);
    let r = anon
        .send("POST", "/auth/token", Some(json!({"key": key})), &[])
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn accounts_are_isolated() {
    let sim = Sim::start(&["--account", "a:pa", "--account", "b:pb", "--devices", "2"]);
    let a = Api::login(sim.url(), "a", "pa").await;
    let b = Api::login(sim.url(), "b", "pb").await;
    let pa = a.product("shared-name").await;
    // Same name in another account is fine; the other account's ids are invisible.
    b.product("shared-name").await;
    assert_eq!(b.get(&format!("/products/{pa}")).await.status, 404);
    assert_eq!(b.delete(&format!("/products/{pa}")).await.status, 404);
    assert_eq!(
        b.get("/products").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let da = a.device_ids().await;
    let db = b.device_ids().await;
    assert_eq!(da.len(), 2);
    assert_eq!(db.len(), 2);
    assert!(da.iter().all(|d| !db.contains(d)));
    assert_eq!(b.get(&format!("/devices/{}", da[0])).await.status, 404);
    let a_id = a.get("/accounts/me").await.id();
    assert_eq!(b.get(&format!("/accounts/{a_id}")).await.status, 404);
    let ga = a.group(&pa, "development_devicegroup", "g").await;
    assert_eq!(b.get(&format!("/devicegroups/{ga}")).await.status, 404);
    let r = b.assign(&ga, &[&db[0]]).await;
    assert_eq!(r.status, 404);
    let r = a.assign(&ga, &[&db[0]]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["status"], "404");
}
