//! One iteration of the loop: build the code, skip it when it equals what is deployed,
//! otherwise create a deployment and restart the devices. Two API requests when something
//! changed, none when nothing did.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::api::Api;
use super::settings::RestartMode;
use super::source::{self, Sources};
use crate::api::{attr_str, deployments, id_of, Client};
use crate::error::{Entity, ImptError};
use crate::output::watch::Event;

/// Tries of a request that fails with a network error or a 5xx.
const ATTEMPTS: u32 = 5;

/// The Device Group deployed to.
#[derive(Clone, Debug)]
pub struct Target {
    pub dg_id: String,
    /// API type, e.g. `development_devicegroup` or `pre_factoryfixture_devicegroup`.
    pub dg_type: String,
}

pub struct Job {
    pub api: Arc<Api>,
    pub target: Target,
    pub sources: Sources,
    pub tags: Vec<String>,
    pub restart: RestartMode,
    /// Hash of the deployed code.
    pub deployed: Option<String>,
    /// Deploy even when unchanged (the `r` key).
    pub force: bool,
    /// The change that started this iteration.
    pub since: Instant,
    pub changed: Vec<String>,
    pub devices: usize,
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Files to watch from now on.
    pub files: Vec<PathBuf>,
    /// Hash of the deployed code after this iteration.
    pub deployed: Option<String>,
    pub sha: Option<String>,
}

fn transient(e: &ImptError) -> bool {
    match e {
        ImptError::Network(_) => true,
        ImptError::Api(a) => a.status >= 500 || a.status == 408,
        _ => false,
    }
}

/// Runs one API call, retrying transient failures with backoff.
async fn retrying<'a, T, F, Fut>(
    api: &'a Api,
    tx: &UnboundedSender<Event>,
    what: &str,
    call: F,
) -> crate::error::Result<T>
where
    F: Fn(&'a Client) -> Fut,
    Fut: std::future::Future<Output = crate::error::Result<T>>,
{
    let mut delay = Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        let r = match api.client().await {
            Ok(c) => call(c).await,
            Err(e) => Err(e),
        };
        match r {
            Err(e) if transient(&e) && attempt < ATTEMPTS => {
                let _ = tx.send(Event::Retry {
                    what: what.to_string(),
                    attempt,
                    delay_ms: delay.as_millis() as u64,
                    reason: e.to_string(),
                });
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Text of an API error for the event stream.
pub fn error_text(e: &ImptError) -> String {
    match e {
        ImptError::Api(a) => {
            let items: Vec<String> = a
                .errors
                .iter()
                .map(|i| {
                    [i.title.as_str(), i.detail.as_str()]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(": ")
                })
                .filter(|s| !s.is_empty())
                .collect();
            if items.is_empty() {
                e.to_string()
            } else {
                format!("{e}: {}", items.join("; "))
            }
        }
        other => other.to_string(),
    }
}

pub async fn run(job: Job, tx: UnboundedSender<Event>) -> Outcome {
    let mut out = Outcome {
        deployed: job.deployed.clone(),
        ..Default::default()
    };
    let sources = job.sources.clone();
    let loaded = tokio::task::spawn_blocking(move || source::load(&sources))
        .await
        .unwrap_or_else(|e| Err((e.to_string(), vec![])));
    let code = match loaded {
        Ok(c) => c,
        Err((msg, files)) => {
            out.files = files;
            let _ = tx.send(Event::Error { message: msg });
            return out;
        }
    };
    out.files = code.files();
    if !job.force && job.deployed.as_deref() == Some(code.hash.as_str()) {
        let _ = tx.send(Event::Skipped { sha: code.hash });
        return out;
    }
    let _ = tx.send(Event::DeployStarted {
        hash: code.hash.clone(),
    });
    let mut attrs = json!({
        "device_code": code.device.code,
        "agent_code": code.agent.code,
        "description": if job.changed.is_empty() {
            "Deployed by impt watch".to_string()
        } else {
            format!("Deployed by impt watch: {} changed", job.changed.join(", "))
        },
        "origin": "impt watch",
    });
    if !job.tags.is_empty() {
        attrs["tags"] = json!(job.tags);
    }
    let Value::Object(attrs) = attrs else {
        unreachable!("deployment attributes are an object")
    };
    let (dg_type, dg_id) = (&job.target.dg_type, &job.target.dg_id);
    let created = retrying(&job.api, &tx, "Deployment", |c| {
        deployments::create(c, dg_type, dg_id, attrs.clone())
    })
    .await;
    let doc = match created {
        Ok(d) => d,
        Err(ImptError::Api(a)) if a.status == 400 && a.errors.iter().any(|i| i.meta.is_array()) => {
            let meta: Vec<Value> = a
                .errors
                .iter()
                .filter_map(|i| i.meta.as_array())
                .flatten()
                .cloned()
                .collect();
            let errors = source::diagnostics(&code, &job.sources, &meta);
            let _ = tx.send(Event::CompileError { errors });
            return out;
        }
        Err(e) => {
            let _ = tx.send(Event::Error {
                message: format!("Deployment failed: {}", error_text(&e)),
            });
            return out;
        }
    };
    let data = doc.get("data").cloned().unwrap_or(Value::Null);
    let sha = attr_str(&data, "sha").unwrap_or(&code.hash).to_string();
    out.deployed = Some(code.hash.clone());
    out.sha = Some(sha.clone());
    let _ = tx.send(Event::Deployed {
        id: id_of(&data).to_string(),
        sha,
        ms: job.since.elapsed().as_millis() as u64,
    });
    let conditional = match job.restart {
        RestartMode::None => return out,
        RestartMode::Always => false,
        RestartMode::Conditional => true,
    };
    let restarted = retrying(&job.api, &tx, "Restart", |c| {
        crate::api::restart(c, Entity::DeviceGroup, dg_id, conditional)
    })
    .await;
    match restarted {
        Ok(_) => {
            let _ = tx.send(Event::Restarted {
                conditional: job.restart == RestartMode::Conditional,
                devices: job.devices,
            });
        }
        Err(e) => {
            let _ = tx.send(Event::Error {
                message: format!("Restart failed: {}", error_text(&e)),
            });
        }
    }
    out
}
