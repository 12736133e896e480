//! `POST /deployments`: the one way a deployment is created (`build deploy|run`, `watch`,
//! `test run`).

use serde_json::{json, Map, Value};

use super::Client;
use crate::error::Result;

/// The request document of a new deployment of Device Group `dg_id` (API type `dg_type`).
pub fn request_body(dg_type: &str, dg_id: &str, attributes: Map<String, Value>) -> Value {
    json!({"data": {
        "type": "deployment",
        "attributes": attributes,
        "relationships": {"devicegroup": {"type": dg_type, "id": dg_id}}
    }})
}

/// Creates a deployment and returns impCentral's answer document (`data`, and `data.meta`
/// with compiler warnings; an empty answer gives `Null`).
pub async fn create(
    client: &Client,
    dg_type: &str,
    dg_id: &str,
    attributes: Map<String, Value>,
) -> Result<Value> {
    let body = request_body(dg_type, dg_id, attributes);
    Ok(client
        .post("/deployments", &body)
        .await?
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_names_the_group_as_a_relationship() {
        let mut attrs = Map::new();
        attrs.insert("device_code".into(), json!("d"));
        let b = request_body("development_devicegroup", "g1", attrs);
        assert_eq!(b["data"]["type"], "deployment");
        assert_eq!(b["data"]["attributes"]["device_code"], "d");
        assert_eq!(
            b["data"]["relationships"]["devicegroup"],
            json!({"type": "development_devicegroup", "id": "g1"})
        );
    }
}
