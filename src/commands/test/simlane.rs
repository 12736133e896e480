//! `test run` against `impt sim`: how the runner knows it talks to the simulator (its
//! control endpoints answer), and the extra virtual devices that let test files run in
//! parallel (`--jobs`), each in a temporary Device Group, removed after the run.
//!
//! Against the real impCentral none of this applies: the runner keeps the original's
//! timing and runs the files one after another.

use std::time::Duration;

use serde_json::{json, Value};

use crate::api::{encode_segment, id_of, Client};
use crate::config::auth::DEFAULT_ENDPOINT;
use crate::error::{ImptError, Result};

/// The simulator's control endpoints (`/_sim/…`, next to the API's `/v5`).
#[derive(Clone, Debug)]
pub struct Sim {
    origin: String,
}

/// A parallel job's place to run: a temporary Device Group with one new virtual device.
#[derive(Clone, Debug)]
pub struct Lane {
    pub dg: Value,
    pub device: Value,
}

/// Passes holding virtual time, and whether the last to end switches it off.
static HOLDERS: tokio::sync::Mutex<(usize, bool)> = tokio::sync::Mutex::const_new((0, false));

/// The simulator behind the client's endpoint, if it is one: `GET /_sim/devices` answers
/// with a list. Never asked of Electric Imp's own service.
pub async fn detect(client: &Client) -> Option<Sim> {
    let endpoint = client.endpoint();
    if endpoint == DEFAULT_ENDPOINT || endpoint.contains("electricimp.com") {
        return None;
    }
    let origin = endpoint
        .trim_end_matches('/')
        .trim_end_matches("/v5")
        .to_string();
    let answer = client
        .http()
        .get(format!("{origin}/_sim/devices"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let v: Value = answer.json().await.ok()?;
    v.is_array().then_some(Sim { origin })
}

fn failed(what: &str, e: impl std::fmt::Display) -> ImptError {
    ImptError::msg(format!("Could not {what} on the simulator: {e}"))
}

impl Sim {
    /// Whether the simulator's virtual time is on (`GET /_sim/time`).
    pub async fn virtual_time(&self, client: &Client) -> Result<bool> {
        let answer = client
            .http()
            .get(format!("{}/_sim/time", self.origin))
            .send()
            .await
            .map_err(|e| failed("read the clock", e))?;
        if !answer.status().is_success() {
            return Err(failed("read the clock", answer.status()));
        }
        let v: Value = answer
            .json()
            .await
            .map_err(|e| failed("read the clock", e))?;
        Ok(v.get("virtual").and_then(Value::as_bool).unwrap_or(false))
    }

    /// Switches the simulator's virtual time on or off (`POST /_sim/time {virtual}`): when
    /// on, its clock jumps to the next timer whenever all device and agent code is idle.
    pub async fn set_virtual_time(&self, client: &Client, on: bool) -> Result<()> {
        let answer = client
            .http()
            .post(format!("{}/_sim/time", self.origin))
            .json(&json!({ "virtual": on }))
            .send()
            .await
            .map_err(|e| failed("switch virtual time", e))?;
        if !answer.status().is_success() {
            return Err(failed("switch virtual time", answer.status()));
        }
        Ok(())
    }

    /// Holds virtual time for a pass of `impt watch --test --virtual-time`: the first of
    /// the passes under way (a cancelled one may still be ending when the next starts)
    /// switches it on unless the simulator had it on; [`Sim::release_virtual_time`] by the
    /// last switches it back.
    pub async fn hold_virtual_time(&self, client: &Client) -> Result<()> {
        let mut h = HOLDERS.lock().await;
        if h.0 == 0 {
            let was = self.virtual_time(client).await?;
            if !was {
                self.set_virtual_time(client, true).await?;
            }
            h.1 = !was;
        }
        h.0 += 1;
        Ok(())
    }

    /// Gives back a hold of [`Sim::hold_virtual_time`].
    pub async fn release_virtual_time(&self, client: &Client) -> Result<()> {
        let mut h = HOLDERS.lock().await;
        h.0 = h.0.saturating_sub(1);
        if h.0 == 0 && std::mem::take(&mut h.1) {
            self.set_virtual_time(client, false).await?;
        }
        Ok(())
    }

    /// A Device Group like `model` (same product and type) named `name`, with a new virtual
    /// device of `account` assigned to it.
    pub async fn lane(
        &self,
        client: &Client,
        model: &Value,
        account: &str,
        name: &str,
    ) -> Result<Lane> {
        let product = crate::api::rel_id(model, "product").unwrap_or_default();
        let typ = model
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(impt_wire::types::DEVELOPMENT);
        let mut attributes = impt_wire::requests::Attributes::new();
        attributes.insert("name".into(), json!(name));
        attributes.insert(
            "description".into(),
            json!("impt test run --jobs (temporary)"),
        );
        let body =
            impt_wire::requests::create_device_group(typ, product, attributes, Default::default());
        let dg = client.post("/devicegroups", &body).await?;
        let dg = dg
            .and_then(|d| d.get("data").cloned())
            .unwrap_or(Value::Null);
        let lane = async {
            let answer = client
                .http()
                .post(format!("{}/_sim/devices", self.origin))
                .json(&json!({"account": account, "name": name}))
                .send()
                .await
                .map_err(|e| failed("add a virtual device", e))?;
            if !answer.status().is_success() {
                return Err(failed("add a virtual device", answer.status()));
            }
            let device: Value = answer
                .json()
                .await
                .map_err(|e| failed("add a virtual device", e))?;
            let device_id = device
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let link = impt_wire::requests::devices(&[&device_id]);
            let path = format!(
                "/devicegroups/{}/relationships/devices",
                encode_segment(id_of(&dg))
            );
            client.post(&path, &link).await?;
            let device = client
                .get(&format!("/devices/{}", encode_segment(&device_id)))
                .await?;
            Ok(Lane {
                dg: dg.clone(),
                device: device.get("data").cloned().unwrap_or(Value::Null),
            })
        }
        .await;
        if lane.is_err() {
            let _ = client
                .delete(&format!("/devicegroups/{}", encode_segment(id_of(&dg))))
                .await;
        }
        lane
    }

    /// Removes a lane: the device leaves its Device Group, then both are deleted.
    pub async fn remove(&self, client: &Client, lane: &Lane) {
        let link = impt_wire::requests::devices(&[id_of(&lane.device)]);
        let path = format!(
            "/devicegroups/{}/relationships/devices",
            encode_segment(id_of(&lane.dg))
        );
        let _ = client
            .request(reqwest::Method::DELETE, &path, &[], Some(&link), &[])
            .await;
        let _ = client
            .delete(&format!(
                "/devicegroups/{}",
                encode_segment(id_of(&lane.dg))
            ))
            .await;
        let _ = client
            .delete(&format!("/devices/{}", encode_segment(id_of(&lane.device))))
            .await;
    }
}
