//! `impt sim`: products, device groups, devices, deployments, webhooks and their rules.

use crate::support::{Api, Sim};
use serde_json::{json, Value};

const DEV: &str = "development_devicegroup";

async fn setup() -> (Sim, Api) {
    let sim = Sim::start(&[]);
    let api = Api::login(sim.url(), "user", "password").await;
    (sim, api)
}

#[tokio::test]
async fn products() {
    let (sim, api) = setup().await;
    let r = api
        .post(
            "/products",
            json!({"data": {"type": "product", "attributes": {"name": "P1", "description": "d"}}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.headers["content-type"], "application/vnd.api+json");
    let p1 = r.id();
    assert_eq!(p1.len(), 36);
    assert_eq!(
        r.body["data"]["links"]["self"],
        format!("{}/products/{p1}", sim.url())
    );
    assert_eq!(r.body["data"]["relationships"]["owner"]["type"], "account");
    let r = api
        .post(
            "/products",
            json!({"data": {"type": "product", "attributes": {"name": "P1"}}}),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.error(),
        "Duplicate Resource: Products must have unique names."
    );
    let p2 = api.product("P2").await;
    let r = api
        .patch(
            &format!("/products/{p2}"),
            json!({"data": {"type": "product", "id": p2, "attributes": {"name": "P1"}}}),
        )
        .await;
    assert_eq!(
        r.error(),
        "Duplicate Resource: Products must have unique names."
    );
    let r = api
        .patch(
            &format!("/products/{p2}"),
            json!({"data": {"type": "product", "id": p1, "attributes": {"name": "P3"}}}),
        )
        .await;
    assert_eq!(r.status, 409, "id mismatch");
    let r = api
        .patch(
            &format!("/products/{p2}"),
            json!({"data": {"type": "product", "id": p2, "attributes": {"description": "x"}}}),
        )
        .await;
    assert_eq!(r.body["data"]["attributes"]["description"], "x");
    assert_eq!(r.body["data"]["attributes"]["name"], "P2");
    let g = api.group(&p1, DEV, "g").await;
    let r = api.delete(&format!("/products/{p1}")).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.error(),
        "Dependent Devicegroups Exist: Cannot delete a product with associated devicegroups."
    );
    assert_eq!(api.delete(&format!("/devicegroups/{g}")).await.status, 204);
    assert_eq!(api.delete(&format!("/products/{p1}")).await.status, 204);
    assert_eq!(api.delete(&format!("/products/{p1}")).await.status, 404);
    // Type-strict ids.
    assert_eq!(api.get(&format!("/devicegroups/{p2}")).await.status, 404);
    assert_eq!(api.get(&format!("/deployments/{p2}")).await.status, 404);
    let me = api.get("/accounts/me").await.id();
    let r = api
        .get(&format!("/products?filter%5Bowner.id%5D={me}"))
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let r = api.get("/products?filter[owner.id]=nobody").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn pagination_filters_and_links() {
    let (sim, api) = setup().await;
    for i in 0..5 {
        api.product(&format!("p{i}")).await;
    }
    let r = api
        .get("/products?page%5Bnumber%5D=2&page%5Bsize%5D=2")
        .await;
    let data = r.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["attributes"]["name"], "p2");
    let links = &r.body["links"];
    assert!(links["self"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/products?", sim.url())));
    assert!(links["first"].as_str().unwrap().contains("page[number]=1"));
    assert!(links["next"].as_str().unwrap().contains("page[number]=3"));
    let r = api.get("/products?page[number]=3&page[size]=2").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert!(r.body["links"].get("next").is_none());
    let r = api.get("/products?page[number]=9&page[size]=2").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"], json!([]));
    let r = api.get("/products").await;
    assert!(r.body["links"].get("next").is_none());
    assert!(r.body["links"]["self"].is_string());
    for bad in [
        "page[size]=0",
        "page[size]=101",
        "page[number]=0",
        "page[number]=x",
        "page[size]=-1",
    ] {
        assert_eq!(
            api.get(&format!("/products?{bad}")).await.status,
            400,
            "{bad}"
        );
    }
    let r = api.get("/products?filter[name]=x").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["status"], "400");
    assert_eq!(
        api.get("/devicegroups?filter[type]=bogus").await.status,
        400
    );
    assert_eq!(
        api.get("/deployments?filter[flagged]=maybe").await.status,
        400
    );
    assert_eq!(api.get("/webhooks?filter[product.id]=x").await.status, 400);
}

#[tokio::test]
async fn device_groups() {
    let (_sim, api) = setup().await;
    let p = api.product("P").await;
    let q = api.product("Q").await;
    let g = api.group(&p, DEV, "G").await;
    let r = api
        .post("/devicegroups", json!({"data": {"type": DEV, "attributes": {"name": "G"}, "relationships": {"product": {"type": "product", "id": p}}}}))
        .await;
    assert_eq!(
        r.error(),
        "Duplicate Resource: Devicegroups must have unique names."
    );
    api.group(&q, DEV, "G").await;
    let types = [
        "pre_production_devicegroup",
        "production_devicegroup",
        "pre_dut_devicegroup",
        "dut_devicegroup",
    ];
    let mut ids = std::collections::HashMap::new();
    for t in types {
        ids.insert(t, api.group(&p, t, t).await);
    }
    let prod = api
        .get(&format!("/devicegroups/{}", ids["production_devicegroup"]))
        .await;
    assert_eq!(prod.body["data"]["type"], "production_devicegroup");
    assert_eq!(
        prod.body["data"]["attributes"]["load_code_after_blessing"],
        true
    );
    let dev = api.get(&format!("/devicegroups/{g}")).await;
    assert!(dev.body["data"]["attributes"]
        .get("load_code_after_blessing")
        .is_none());
    assert!(dev.body["data"]["relationships"]
        .get("current_deployment")
        .is_none());
    assert_eq!(
        dev.body["data"]["relationships"]["product"]["id"],
        p.as_str()
    );
    let r = api
        .post("/devicegroups", json!({"data": {"type": DEV, "attributes": {"name": "L", "load_code_after_blessing": false}, "relationships": {"product": {"type": "product", "id": p}}}}))
        .await;
    assert_eq!(r.status, 400);
    // Factory fixtures need a production_target; targets must have the right types.
    let ff = |pt: Option<(&str, &str)>, dt: Option<(&str, &str)>| {
        let mut rel = json!({"product": {"type": "product", "id": p}});
        if let Some((t, i)) = pt {
            rel["production_target"] = json!({"type": t, "id": i});
        }
        if let Some((t, i)) = dt {
            rel["dut_target"] = json!({"type": t, "id": i});
        }
        json!({"data": {"type": "factoryfixture_devicegroup", "attributes": {"name": "FF"}, "relationships": rel}})
    };
    let prod_id = ids["production_devicegroup"].clone();
    let dut_id = ids["dut_devicegroup"].clone();
    let predut = ids["pre_dut_devicegroup"].clone();
    assert_eq!(
        api.post(
            "/devicegroups",
            ff(None, Some(("dut_devicegroup", &dut_id)))
        )
        .await
        .status,
        400
    );
    // Only a production_target (the Development Guide's factory example): allowed.
    let mut only_target = ff(Some(("production_devicegroup", &prod_id)), None);
    only_target["data"]["attributes"]["name"] = json!("FF only target");
    let r = api.post("/devicegroups", only_target).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["data"]["relationships"]["production_target"]["id"],
        prod_id.as_str()
    );
    assert!(r.body["data"]["relationships"]["dut_target"]
        .get("id")
        .is_none_or(Value::is_null));
    assert_eq!(
        api.delete(&format!("/devicegroups/{}", r.id()))
            .await
            .status,
        204
    );
    assert_eq!(
        api.post(
            "/devicegroups",
            ff(
                Some(("production_devicegroup", &prod_id)),
                Some(("pre_dut_devicegroup", &predut))
            )
        )
        .await
        .status,
        400
    );
    let r = api
        .post(
            "/devicegroups",
            ff(
                Some(("production_devicegroup", &prod_id)),
                Some(("dut_devicegroup", &dut_id)),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["data"]["relationships"]["production_target"]["id"],
        prod_id.as_str()
    );
    assert_eq!(
        r.body["data"]["relationships"]["production_target"]["type"],
        "production_devicegroup"
    );
    assert_eq!(
        r.body["data"]["relationships"]["dut_target"]["id"],
        dut_id.as_str()
    );
    let ffid = r.id();
    // Targets can't be deleted while in use; the fixture first, then the targets.
    let r = api.delete(&format!("/devicegroups/{prod_id}")).await;
    assert_eq!(r.status, 409);
    assert!(r.error().starts_with("Dependent Devicegroups Exist"));
    assert_eq!(
        api.delete(&format!("/devicegroups/{ffid}")).await.status,
        204
    );
    assert_eq!(
        api.delete(&format!("/devicegroups/{prod_id}")).await.status,
        204
    );
    // Updates: type must match; env_vars round-trip; lcab only on production types.
    let r = api
        .patch(&format!("/devicegroups/{g}"), json!({"data": {"type": "production_devicegroup", "id": g, "attributes": {"name": "X"}}}))
        .await;
    assert_eq!(r.status, 409);
    let env = json!({"a": 1, "b": "two", "c": 3.5});
    let r = api
        .patch(&format!("/devicegroups/{g}"), json!({"data": {"type": DEV, "id": g, "attributes": {"env_vars": env, "description": "dd"}}}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["attributes"]["env_vars"], env);
    assert_eq!(r.body["data"]["attributes"]["description"], "dd");
    let r = api
        .patch(
            &format!("/devicegroups/{g}"),
            json!({"data": {"type": DEV, "id": g, "attributes": {"env_vars": {"1bad": 1}}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .patch(
            &format!("/devicegroups/{g}"),
            json!({"data": {"type": DEV, "id": g, "attributes": {"region": "eu"}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .get(&format!(
            "/devicegroups?filter[product.id]={p}&filter[type]=pre_dut_devicegroup"
        ))
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn devices_assignment_and_restart() {
    let (_sim, api) = setup().await;
    let ids = api.device_ids().await;
    assert_eq!(ids.len(), 3);
    let d0 = api.get(&format!("/devices/{}", ids[0])).await;
    let a = &d0.body["data"]["attributes"];
    assert_eq!(ids[0].len(), 16);
    assert_eq!(a["device_online"], true);
    assert!(a["agent_id"].is_null());
    assert!(d0.body["data"]["relationships"]
        .get("devicegroup")
        .is_none());
    let mac = a["mac_address"].as_str().unwrap().to_string();
    assert_eq!(api.get(&format!("/devices/{mac}")).await.id(), ids[0]);
    // Unassigned: cannot restart; can't be found by agent id.
    let r = api
        .post(&format!("/devices/{}/restart", ids[0]), Value::Null)
        .await;
    assert_eq!(r.status, 400);
    let p = api.product("P").await;
    let g = api.group(&p, DEV, "G").await;
    let g2 = api.group(&p, DEV, "G2").await;
    let r = api.assign(&g, &[&ids[0], &mac, "ffffffffffffffff"]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["errors"][0]["status"], "404");
    let d0 = api.get(&format!("/devices/{}", ids[0])).await;
    assert_eq!(
        d0.body["data"]["relationships"]["devicegroup"]["id"],
        g.as_str()
    );
    assert_eq!(d0.body["data"]["relationships"]["devicegroup"]["type"], DEV);
    let agent = d0.body["data"]["attributes"]["agent_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(agent.len(), 12);
    assert_eq!(api.get(&format!("/devices/{agent}")).await.id(), ids[0]);
    // Moves directly into another development group, by agent id.
    assert_eq!(api.assign(&g2, &[&agent]).await.status, 204);
    let r = api
        .get(&format!("/devices?filter[devicegroup.id]={g2}"))
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    let r = api.get("/devices?filter[devicegroup.owner.id]=null").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    let r = api.get(&format!("/devices?filter[product.id]={p}")).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    // Rename by MAC, data.id may be any identifier of the device.
    let r = api
        .patch(
            &format!("/devices/{mac}"),
            json!({"data": {"type": "device", "id": agent, "attributes": {"name": "renamed"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["attributes"]["name"], "renamed");
    let r = api
        .patch(
            &format!("/devices/{mac}"),
            json!({"data": {"type": "device", "id": ids[1], "attributes": {"name": "x"}}}),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = api
        .patch(
            &format!("/devices/{mac}"),
            json!({"data": {"type": "device", "id": ids[0], "attributes": {"mac_address": "x"}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        api.post(&format!("/devices/{}/restart", ids[0]), Value::Null)
            .await
            .status,
        204
    );
    assert_eq!(
        api.post(
            &format!("/devices/{}/conditional_restart", ids[0]),
            Value::Null
        )
        .await
        .status,
        204
    );
    assert_eq!(
        api.post(&format!("/devicegroups/{g2}/restart"), Value::Null)
            .await
            .status,
        204
    );
    assert_eq!(
        api.post(
            &format!("/devicegroups/{g2}/conditional_restart"),
            Value::Null
        )
        .await
        .status,
        204
    );
    // Delete refused while assigned; group delete refused while it has devices.
    assert_eq!(
        api.delete(&format!("/devices/{}", ids[0])).await.status,
        409
    );
    let r = api.delete(&format!("/devicegroups/{g2}")).await;
    assert_eq!(r.status, 409);
    assert!(r.error().starts_with("Dependent Devices Exist"));
    let body =
        json!({"data": [{"type": "device", "id": ids[0]}, {"type": "device", "id": ids[1]}]});
    let r = api
        .send(
            "DELETE",
            &format!("/devicegroups/{g2}/relationships/devices"),
            Some(body),
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "device 1 was not in the group");
    assert_eq!(r.body["errors"][0]["status"], "404");
    assert!(
        api.get(&format!("/devices/{}", ids[0])).await.body["data"]["attributes"]["agent_id"]
            .is_null()
    );
    assert_eq!(api.get(&format!("/devices/{agent}")).await.status, 404);
    assert_eq!(
        api.delete(&format!("/devices/{}", ids[0])).await.status,
        204
    );
    assert_eq!(api.get(&format!("/devices/{}", ids[0])).await.status, 404);
    // Production groups refuse manual assignment and need the unbond key to unassign.
    let prod = api.group(&p, "production_devicegroup", "PR").await;
    let r = api.assign(&prod, &[&ids[1]]).await;
    assert_eq!(r.status, 400);
    let r = api
        .send(
            "DELETE",
            &format!("/devicegroups/{prod}/relationships/devices"),
            Some(json!({"data": []})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn deployments() {
    let (_sim, api) = setup().await;
    let p = api.product("P").await;
    let g = api.group(&p, DEV, "G").await;
    let r = api
        .post("/deployments", json!({"data": {"type": "deployment", "attributes": {"device_code": "x"}, "relationships": {"devicegroup": {"type": DEV, "id": g}}}}))
        .await;
    assert_eq!(r.status, 400, "agent_code required");
    let r = api
        .post("/deployments", json!({"data": {"type": "deployment",
            "attributes": {"device_code": "d", "agent_code": "a", "description": "one", "origin": "test", "flagged": true, "tags": ["b", "a"]},
            "relationships": {"devicegroup": {"type": DEV, "id": g}}}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d1 = r.id();
    let a = &r.body["data"]["attributes"];
    let sha = a["sha"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    assert!(sha
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(a["tags"], json!(["b", "a"]));
    assert_eq!(a["origin"], "test");
    assert_eq!(
        r.body["data"]["relationships"]["devicegroup"]["id"],
        g.as_str()
    );
    assert_eq!(r.body["data"]["relationships"]["product"]["id"], p.as_str());
    let r = api.deploy(&g, "production_devicegroup", "d", "a").await;
    assert_eq!(r.status, 409, "group type must match");
    let d2 = api.deploy(&g, DEV, "d", "a").await;
    assert_eq!(d2.body["data"]["attributes"]["sha"], sha.as_str());
    let d2 = d2.id();
    let grp = api.get(&format!("/devicegroups/{g}")).await;
    assert_eq!(
        grp.body["data"]["relationships"]["current_deployment"]["id"],
        d2.as_str()
    );
    assert_eq!(
        grp.body["data"]["relationships"]["min_supported_deployment"]["id"],
        d1.as_str()
    );
    // Filters.
    let n = |r: crate::support::http::Resp| r.body["data"].as_array().unwrap().len();
    assert_eq!(n(api.get("/deployments?filter[flagged]=true").await), 1);
    assert_eq!(n(api.get("/deployments?filter[flagged]=false").await), 1);
    assert_eq!(n(api.get("/deployments?filter[flagged]=any").await), 2);
    assert_eq!(n(api.get("/deployments?filter[tags]=a,b").await), 1);
    assert_eq!(n(api.get("/deployments?filter[tags]=a,c").await), 0);
    assert_eq!(
        n(api.get(&format!("/deployments?filter[sha]={sha}")).await),
        2
    );
    assert_eq!(
        n(api
            .get(&format!("/deployments?filter[devicegroup.id]={g}"))
            .await),
        2
    );
    // Update: origin is create-only.
    let r = api
        .patch(
            &format!("/deployments/{d1}"),
            json!({"data": {"type": "deployment", "id": d1, "attributes": {"origin": "x"}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api.delete(&format!("/deployments/{d1}")).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.error(),
        "Resource Flagged: You cannot delete flagged deployments; set the flagged attribute to false and try again."
    );
    let r = api.delete(&format!("/devicegroups/{g}")).await;
    assert_eq!(
        r.error(),
        "Flagged Deployments Exist: Cannot delete a devicegroup with flagged deployments; delete those first."
    );
    let r = api
        .patch(&format!("/deployments/{d1}"), json!({"data": {"type": "deployment", "id": d1, "attributes": {"flagged": false, "description": "upd", "tags": ["z"]}}}))
        .await;
    assert_eq!(r.body["data"]["attributes"]["flagged"], false);
    assert_eq!(r.body["data"]["attributes"]["tags"], json!(["z"]));
    assert_eq!(r.body["data"]["attributes"]["description"], "upd");
    // min supported (d1) and newer can't be deleted; move min to d2, then d1 can.
    assert_eq!(api.delete(&format!("/deployments/{d1}")).await.status, 409);
    let min = |id: &str| json!({"data": {"type": "deployment", "id": id}});
    let path = format!("/devicegroups/{g}/relationships/min_supported_deployment");
    assert_eq!(
        api.send("PUT", &path, Some(min(&d2)), &[]).await.status,
        200
    );
    assert_eq!(
        api.send("PUT", &path, Some(min(&d1)), &[]).await.status,
        400,
        "older than current min"
    );
    assert_eq!(api.delete(&format!("/deployments/{d2}")).await.status, 409);
    assert_eq!(api.delete(&format!("/deployments/{d1}")).await.status, 204);
    assert_eq!(api.delete(&format!("/deployments/{d1}")).await.status, 404);
    // Deleting the group turns its deployments into zombies.
    assert_eq!(api.delete(&format!("/devicegroups/{g}")).await.status, 204);
    let z = api.get(&format!("/deployments/{d2}")).await;
    assert!(z.body["data"]["relationships"].get("devicegroup").is_none());
    assert_eq!(z.body["data"]["relationships"]["product"]["id"], p.as_str());
    assert_eq!(
        n(api
            .get(&format!("/deployments?filter[product.id]={p}"))
            .await),
        1
    );
    assert_eq!(api.delete(&format!("/deployments/{d2}")).await.status, 204);
}

#[tokio::test]
async fn compile_errors() {
    let (_sim, api) = setup().await;
    let p = api.product("P").await;
    let g = api.group(&p, DEV, "G").await;
    for (dc, ac, file, row) in [
        ("/", "", "device_code", 1),
        ("function f() {\n  x(;\n}", "", "device_code", 2),
        (
            "",
            "local a = 1;\n//#sim-compile-error boom here",
            "agent_code",
            2,
        ),
    ] {
        let r = api.deploy(&g, DEV, dc, ac).await;
        assert_eq!(r.status, 400, "{dc:?}");
        let e = &r.body["errors"][0];
        assert_eq!(e["code"], "CX005");
        assert_eq!(e["title"], "Compilation Error");
        let m = &e["meta"][0];
        assert_eq!(m["file"], file);
        assert_eq!(m["row"], row);
        assert!(m["column"].as_u64().unwrap() >= 1);
        assert_eq!(m["type"], "error");
        assert!(m["text"].is_string());
    }
    let r = api.get("/deployments").await;
    assert_eq!(r.body["data"], json!([]), "nothing created");
}

#[tokio::test]
async fn webhooks() {
    let (_sim, api) = setup().await;
    let p = api.product("P").await;
    let g = api.group(&p, DEV, "G").await;
    let prod = api.group(&p, "production_devicegroup", "PR").await;
    let wh = |url: &str, event: &str, ct: &str, gt: &str, gid: &str| {
        json!({"data": {"type": "webhook", "attributes": {"url": url, "event": event, "content_type": ct},
            "relationships": {"devicegroup": {"type": gt, "id": gid}}}})
    };
    let r = api
        .post(
            "/webhooks",
            wh("not a url", "deployment", "application/json", DEV, &g),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error(), "Invalid URL: The provided URL is invalid.");
    assert_eq!(
        api.post(
            "/webhooks",
            wh("http://x.test", "bogus", "application/json", DEV, &g)
        )
        .await
        .status,
        400
    );
    assert_eq!(
        api.post(
            "/webhooks",
            wh("http://x.test", "deployment", "text/plain", DEV, &g)
        )
        .await
        .status,
        400
    );
    assert_eq!(
        api.post(
            "/webhooks",
            wh("http://x.test", "blessing", "application/json", DEV, &g)
        )
        .await
        .status,
        400
    );
    let r = api
        .post(
            "/webhooks",
            wh(
                "http://x.test",
                "blessing",
                "application/json",
                "production_devicegroup",
                &prod,
            ),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = api
        .post(
            "/webhooks",
            wh("http://x.test/h", "deployment", "application/json", DEV, &g),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        r.body["data"]["relationships"]["devicegroup"]["id"],
        g.as_str()
    );
    let id = r.id();
    let r = api
        .patch(
            &format!("/webhooks/{id}"),
            json!({"data": {"type": "webhook", "id": id, "attributes": {"event": "blinkup"}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .patch(&format!("/webhooks/{id}"), json!({"data": {"type": "webhook", "id": id, "attributes": {"url": "https://y.test", "content_type": "application/x-www-form-urlencoded"}}}))
        .await;
    assert_eq!(r.body["data"]["attributes"]["url"], "https://y.test");
    let r = api
        .get(&format!("/webhooks?filter[devicegroup.id]={g}"))
        .await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(api.delete(&format!("/webhooks/{id}")).await.status, 204);
    assert_eq!(api.delete(&format!("/webhooks/{id}")).await.status, 404);
}
