//! The JSON:API request documents of impCentral API v5: one function per request the client
//! sends with a body (the path and method stay with the caller). Nothing outside this module
//! builds a `{"data": …}` request body by hand.
//!
//! Documents keep JSON:API's member order: `type`, `id`, `attributes`, `relationships`.

use serde_json::{json, Map, Value};

/// Attributes of a resource (`data.attributes`).
pub type Attributes = Map<String, Value>;
/// Relationships of a resource (`data.relationships`), each a [`linkage`].
pub type Relationships = Map<String, Value>;

/// A resource identifier, the value of a to-one relationship: `{"type": …, "id": …}`.
pub fn linkage(typ: &str, id: &str) -> Value {
    json!({"type": typ, "id": id})
}

/// `{"data": {"type", "id"?, "attributes"?, "relationships"?}}`; empty relationships are left
/// out.
fn document(
    typ: &str,
    id: Option<&str>,
    attributes: Option<Attributes>,
    relationships: Relationships,
) -> Value {
    let mut data = Map::new();
    data.insert("type".into(), json!(typ));
    if let Some(id) = id {
        data.insert("id".into(), json!(id));
    }
    if let Some(a) = attributes {
        data.insert("attributes".into(), Value::Object(a));
    }
    if !relationships.is_empty() {
        data.insert("relationships".into(), Value::Object(relationships));
    }
    json!({ "data": data })
}

fn attrs(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Attributes {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `POST /products`: a product named `name`, with an optional description and owner account.
pub fn create_product(name: &str, description: Option<&str>, owner: Option<&str>) -> Value {
    let mut a = attrs([("name", json!(name))]);
    if let Some(d) = description {
        a.insert("description".into(), json!(d));
    }
    let mut rels = Relationships::new();
    if let Some(owner) = owner {
        rels.insert("owner".into(), linkage("account", owner));
    }
    document("product", None, Some(a), rels)
}

/// `PATCH /products/{id}`.
pub fn update_product(id: &str, attributes: Attributes) -> Value {
    document("product", Some(id), Some(attributes), Relationships::new())
}

/// `POST /devicegroups`: a Device Group of API type `dg_type` in product `product`; `rels`
/// holds its other relationships (`production_target`, `dut_target`), each a [`linkage`].
pub fn create_device_group(
    dg_type: &str,
    product: &str,
    attributes: Attributes,
    rels: Relationships,
) -> Value {
    let mut all = Relationships::new();
    all.insert("product".into(), linkage("product", product));
    all.extend(rels);
    document(dg_type, None, Some(attributes), all)
}

/// `PATCH /devicegroups/{id}`; `rels` (targets) only when not empty.
pub fn update_device_group(
    dg_type: &str,
    id: &str,
    attributes: Attributes,
    rels: Relationships,
) -> Value {
    document(dg_type, Some(id), Some(attributes), rels)
}

/// `PUT /devicegroups/{id}/relationships/min_supported_deployment`.
pub fn min_supported_deployment(deployment: &str) -> Value {
    json!({ "data": linkage("deployment", deployment) })
}

/// `POST` / `DELETE /devicegroups/{id}/relationships/devices`: the devices to add or remove.
pub fn devices<S: AsRef<str>>(ids: &[S]) -> Value {
    let list: Vec<Value> = ids
        .iter()
        .map(|id| linkage("device", id.as_ref()))
        .collect();
    json!({ "data": list })
}

/// `PATCH /devices/{id}`: a new name.
pub fn rename_device(id: &str, name: &str) -> Value {
    document(
        "device",
        Some(id),
        Some(attrs([("name", json!(name))])),
        Relationships::new(),
    )
}

/// `POST /deployments`: a deployment of Device Group `dg_id` (API type `dg_type`);
/// `attributes` hold `device_code`, `agent_code` and the optional ones.
pub fn create_deployment(dg_type: &str, dg_id: &str, attributes: Attributes) -> Value {
    let mut rels = Relationships::new();
    rels.insert("devicegroup".into(), linkage(dg_type, dg_id));
    document("deployment", None, Some(attributes), rels)
}

/// The attributes of a deployment of code alone (for [`create_deployment`]).
pub fn code_attributes(device_code: &str, agent_code: &str) -> Attributes {
    attrs([
        ("device_code", json!(device_code)),
        ("agent_code", json!(agent_code)),
    ])
}

/// `PATCH /deployments/{id}`.
pub fn update_deployment(id: &str, attributes: Attributes) -> Value {
    document(
        "deployment",
        Some(id),
        Some(attributes),
        Relationships::new(),
    )
}

/// `PATCH /deployments/{id}` clearing its `flagged` attribute (before a delete).
pub fn unflag_deployment(id: &str) -> Value {
    update_deployment(id, attrs([("flagged", json!(false))]))
}

/// `POST /webhooks`: a webhook of Device Group `dg_id` (API type `dg_type`).
pub fn create_webhook(
    dg_type: &Value,
    dg_id: &str,
    event: &str,
    url: &str,
    content_type: &str,
) -> Value {
    let a = attrs([
        ("event", json!(event)),
        ("url", json!(url)),
        ("content_type", json!(content_type)),
    ]);
    let mut rels = Relationships::new();
    rels.insert("devicegroup".into(), json!({"type": dg_type, "id": dg_id}));
    document("webhook", None, Some(a), rels)
}

/// `PATCH /webhooks/{id}`.
pub fn update_webhook(id: &str, attributes: Attributes) -> Value {
    document("webhook", Some(id), Some(attributes), Relationships::new())
}

/// `POST /accounts/{id}/login_keys`.
pub fn create_login_key(attributes: Attributes) -> Value {
    document("login_key", None, Some(attributes), Relationships::new())
}

/// `PATCH /accounts/{id}/login_keys/{key}`: a new description.
pub fn update_login_key(id: &str, description: &str) -> Value {
    document(
        "login_key",
        Some(id),
        Some(attrs([("description", json!(description))])),
        Relationships::new(),
    )
}

/// `POST /auth`: a login with an account's email or username and password.
pub fn login(id: &str, password: &str) -> Value {
    json!({"id": id, "password": password})
}

/// `POST /auth` (with the `X-Electricimp-OTP-Token` header): the second step of a
/// multi-factor login.
pub fn login_otp(login_token: &str) -> Value {
    json!({ "login_token": login_token })
}

/// `POST /auth/token`: an access token from a login key.
pub fn token_from_login_key(key: &str) -> Value {
    json!({ "key": key })
}

/// `POST /auth/token`: a new access token from a refresh token.
pub fn refresh_token(token: &str) -> Value {
    json!({ "token": token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_names_the_group_as_a_relationship() {
        let b = create_deployment("development_devicegroup", "g1", code_attributes("d", "a"));
        assert_eq!(
            b,
            json!({"data": {"type": "deployment",
                "attributes": {"device_code": "d", "agent_code": "a"},
                "relationships": {"devicegroup": {"type": "development_devicegroup", "id": "g1"}}}})
        );
    }

    #[test]
    fn members_keep_json_api_order_and_empty_relationships_are_left_out() {
        let b = update_deployment("x", attrs([("flagged", json!(false))]));
        let keys: Vec<&String> = b["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["type", "id", "attributes"]);
        let g = create_device_group(
            "pre_factoryfixture_devicegroup",
            "p",
            attrs([("name", json!("f"))]),
            [(
                "production_target".to_string(),
                linkage("pre_production_devicegroup", "t"),
            )]
            .into_iter()
            .collect(),
        );
        let rels: Vec<&String> = g["data"]["relationships"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(rels, ["product", "production_target"]);
    }

    #[test]
    fn devices_is_a_to_many_linkage() {
        assert_eq!(
            devices(&["a", "b"]),
            json!({"data": [{"type": "device", "id": "a"}, {"type": "device", "id": "b"}]})
        );
    }
}
