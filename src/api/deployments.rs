//! `POST /deployments`: the one way a deployment is created (`build deploy|run`, `watch`,
//! `test run`).

use serde_json::{Map, Value};

use super::Client;
use crate::error::Result;

/// Creates a deployment and returns impCentral's answer document (`data`, and `data.meta`
/// with compiler warnings; an empty answer gives `Null`).
pub async fn create(
    client: &Client,
    dg_type: &str,
    dg_id: &str,
    attributes: Map<String, Value>,
) -> Result<Value> {
    let body = impt_wire::requests::create_deployment(dg_type, dg_id, attributes);
    Ok(client
        .post("/deployments", &body)
        .await?
        .unwrap_or_default())
}
