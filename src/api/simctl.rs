//! A client of the simulator's control endpoints (`/_sim/`, not part of impCentral; see
//! `impt_sim`'s control module): `impt sim device …` and the keys of `impt watch --sim`
//! drive a running simulator with it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::error::{ImptError, Result};

/// A running simulator, by its base URL (`http://127.0.0.1:PORT`).
#[derive(Clone, Debug)]
pub struct SimControl {
    base: String,
    http: reqwest::Client,
}

impl SimControl {
    /// The simulator serving `url`: its base URL or its API endpoint (`…/v5`).
    pub fn new(url: &str) -> SimControl {
        let base = url.trim_end_matches('/');
        let base = base.strip_suffix("/v5").unwrap_or(base);
        SimControl {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .user_agent(concat!("impt-rs/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        }
    }

    /// The simulator on this port of 127.0.0.1.
    pub fn on_port(port: u16) -> SimControl {
        SimControl::new(&format!("http://127.0.0.1:{port}"))
    }

    /// The simulator of an API endpoint, when the endpoint is on this machine (a simulator
    /// only listens on loopback).
    pub fn of_endpoint(endpoint: &str) -> Option<SimControl> {
        let url = reqwest::Url::parse(endpoint).ok()?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let local = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
        (local && url.scheme() == "http").then(|| SimControl::new(endpoint))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/_sim{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_connect() || e.is_timeout() {
                ImptError::msg(format!(
                    "No simulator answers at {}: start one with impt sim (or impt watch --sim), or name its port with --port.",
                    self.base
                ))
            } else {
                ImptError::Network(e.to_string())
            }
        })?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| ImptError::Network(e.to_string()))?;
        if status >= 400 {
            return Err(ImptError::Api(super::api_error(status, &text)));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every virtual device: `[{id, mac_address, account, online, devicegroup, imp_type}]`.
    pub async fn devices(&self) -> Result<Vec<Value>> {
        match self.call(Method::GET, "/devices", None).await? {
            Value::Array(a) => Ok(a),
            _ => Err(ImptError::msg(format!(
                "{} does not answer as an impt simulator.",
                self.base
            ))),
        }
    }

    /// Adds a virtual device (to the first account); its id.
    pub async fn add_device(&self) -> Result<String> {
        let v = self.call(Method::POST, "/devices", Some(json!({}))).await?;
        v.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ImptError::msg(format!("{} added no device.", self.base)))
    }

    /// Cuts the device's network for `secs` seconds, or until [`SimControl::reconnect`];
    /// `reason`: what its failed connection attempts report (the sim's default: NO_WIFI).
    pub async fn disconnect(
        &self,
        device: &str,
        secs: Option<u64>,
        reason: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({});
        if let Some(s) = secs {
            body["secs"] = json!(s);
        }
        if let Some(r) = reason {
            body["reason"] = json!(r);
        }
        self.device_call(device, "disconnect", Some(body)).await
    }

    /// The device's network is back.
    pub async fn reconnect(&self, device: &str) -> Result<()> {
        self.device_call(device, "reconnect", None).await
    }

    /// Power off and on: the code restarts with `WAKEREASON_POWER_ON`, `nv` is lost.
    pub async fn power_cycle(&self, device: &str) -> Result<()> {
        self.device_call(device, "power-cycle", None).await
    }

    /// Drives an input pin: 0/1 (or true/false), or a level from 0.0 to 1.0 (analog).
    pub async fn pin(&self, device: &str, pin: &str, value: Value) -> Result<()> {
        let body = json!({"pin": pin, "value": value});
        self.device_call(device, "pins", Some(body)).await
    }

    async fn device_call(&self, device: &str, action: &str, body: Option<Value>) -> Result<()> {
        let path = format!("/devices/{}/{action}", super::encode_segment(device));
        self.call(Method::POST, &path, Some(body.unwrap_or_else(|| json!({}))))
            .await
            .map(|_| ())
    }
}

/// A pin value as typed: `0`, `1`, `true`, `false` or a level such as `0.25`.
pub fn pin_value(text: &str) -> Option<Value> {
    match text {
        "true" | "high" => Some(json!(1)),
        "false" | "low" => Some(json!(0)),
        _ => text
            .parse::<f64>()
            .ok()
            .filter(|v| (0.0..=1.0).contains(v))
            .map(|v| {
                if v.fract() == 0.0 {
                    json!(v as u8)
                } else {
                    json!(v)
                }
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_found_from_an_endpoint_on_this_machine_only() {
        let s = SimControl::of_endpoint("http://127.0.0.1:4321/v5").unwrap();
        assert_eq!(s.base(), "http://127.0.0.1:4321");
        assert!(SimControl::of_endpoint("http://localhost:9/v5/").is_some());
        assert!(SimControl::of_endpoint("https://api.electricimp.com/v5").is_none());
        assert!(SimControl::of_endpoint("not a url").is_none());
    }

    #[test]
    fn pin_values_are_levels_from_0_to_1() {
        assert_eq!(pin_value("1"), Some(json!(1)));
        assert_eq!(pin_value("low"), Some(json!(0)));
        assert_eq!(pin_value("0.25"), Some(json!(0.25)));
        assert_eq!(pin_value("2"), None);
        assert_eq!(pin_value("x"), None);
    }
}
