//! One iteration of the loop, as three stages: [`build`] the code, skip it when it equals
//! what is deployed ([`needs_deploy`]), otherwise [`deploy`] it and [`restart`] the devices.
//! Two API requests when something changed, none when nothing did.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::api::Api;
use super::settings::RestartMode;
use super::source::{self, Code, Sources};
use crate::api::{attr_str, deployments, id_of, Client};
use crate::commands::core::errmap::LineMaps;
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
    /// Compile with the embedded compiler before any request (off: `--no-local-check`).
    pub local_check: bool,
    /// The line maps of each deployed sha (this iteration adds its own before the restart).
    pub maps: LineMapsBySha,
}

/// The preprocessor's line maps of the deployments, by sha: runtime errors are mapped
/// through the map of the code that logged them.
pub type LineMapsBySha = Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<LineMaps>>>>;

/// The line maps of built code.
pub fn line_maps(code: &Code) -> LineMaps {
    LineMaps {
        device: code.device.line_map.clone(),
        agent: code.agent.line_map.clone(),
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// Files to watch from now on.
    pub files: Vec<PathBuf>,
    /// Hash of the deployed code after this iteration.
    pub deployed: Option<String>,
    pub sha: Option<String>,
    /// The deployment failed in a way that passes: the save stays pending.
    pub hold: Option<Hold>,
    /// The code could not be built (preprocessor error, missing file): every change below
    /// the project's directory is worth a new try, not only those of the files known.
    pub broken: bool,
}

/// Why a save was not deployed but stays pending.
#[derive(Clone, Debug, PartialEq)]
pub enum Hold {
    /// Network, 5xx, 429, or a token refresh that failed so: retry with backoff.
    Transient(String),
    /// The token cannot be renewed (refused, or no way to renew): wait for a new login.
    Login(String),
}

/// Whether a failed deployment stays pending, and why.
pub fn hold_for(e: &ImptError) -> Option<Hold> {
    match e {
        ImptError::RefreshFailed(_)
        | ImptError::TokenExpired(_)
        | ImptError::NotLoggedIn
        | ImptError::AuthFileNotFound(_) => Some(Hold::Login(format!(
            "{e} Log in again with impt auth login (another terminal will do): the change is deployed once it works."
        ))),
        ImptError::Api(a) if a.status == 429 => Some(Hold::Transient(error_text(e))),
        _ if transient(e) => Some(Hold::Transient(error_text(e))),
        _ => None,
    }
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

/// One iteration: the build, deploy and restart stages in a row. Events go to `tx`.
pub async fn run(job: Job, tx: UnboundedSender<Event>) -> Outcome {
    let mut out = Outcome {
        deployed: job.deployed.clone(),
        ..Default::default()
    };
    let code = match build(&job.sources).await {
        Ok(c) => c,
        Err(f) => {
            out.files = f.files;
            out.broken = true;
            let _ = tx.send(match f.diagnostic {
                Some(d) => Event::CompileError { errors: vec![*d] },
                None => Event::Error { message: f.message },
            });
            return out;
        }
    };
    out.files = code.files();
    if job.local_check {
        let errors = local_check(&code, &job.sources).await;
        if !errors.is_empty() {
            let _ = tx.send(Event::CompileError { errors });
            return out;
        }
    }
    if !needs_deploy(job.force, job.deployed.as_deref(), &code.hash) {
        let _ = tx.send(Event::Skipped { sha: code.hash });
        return out;
    }
    let sha = match deploy(&job, &code, &tx).await {
        Ok(sha) => sha,
        Err(hold) => {
            out.hold = hold;
            return out;
        }
    };
    crate::sync::lock(&job.maps).insert(sha.clone(), Arc::new(line_maps(&code)));
    out.deployed = Some(code.hash.clone());
    out.sha = Some(sha);
    restart(&job, &tx).await;
    out
}

/// The build stage: reads and preprocesses the sources (on a blocking thread). The error
/// carries its message, its place and the files to keep watching.
pub async fn build(sources: &Sources) -> Result<Code, source::Failure> {
    let sources = sources.clone();
    tokio::task::spawn_blocking(move || source::load(&sources))
        .await
        .unwrap_or_else(|e| {
            Err(source::Failure {
                message: e.to_string(),
                ..Default::default()
            })
        })
}

/// The local compile check: the built code's compile errors at the user's files and lines
/// (empty: it compiles).
pub async fn local_check(code: &Code, sources: &Sources) -> Vec<crate::output::watch::Diagnostic> {
    let (device, agent) = (code.device.code.clone(), code.agent.code.clone());
    let meta = tokio::task::spawn_blocking(move || {
        crate::commands::core::precheck::compile_errors(&device, &agent)
    })
    .await
    .unwrap_or_default();
    if meta.is_empty() {
        return Vec::new();
    }
    source::diagnostics(code, sources, &meta)
}

/// Whether built code with hash `built` is deployed: when forced (the `r` key) or when it
/// differs from the deployed code.
pub fn needs_deploy(force: bool, deployed: Option<&str>, built: &str) -> bool {
    force || deployed != Some(built)
}

/// The attributes of the deployment of `code`: description naming the changed files,
/// origin and tags.
pub fn deployment_attributes(
    code: &Code,
    changed: &[String],
    tags: &[String],
) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert("device_code".into(), json!(code.device.code));
    attrs.insert("agent_code".into(), json!(code.agent.code));
    attrs.insert(
        "description".into(),
        json!(if changed.is_empty() {
            "Deployed by impt watch".to_string()
        } else {
            format!("Deployed by impt watch: {} changed", changed.join(", "))
        }),
    );
    attrs.insert("origin".into(), json!("impt watch"));
    if !tags.is_empty() {
        attrs.insert("tags".into(), json!(tags));
    }
    attrs
}

/// The deploy stage: creates the deployment (retrying transient failures). Returns the
/// server's sha; after reporting a compile error or a failure, why the save stays pending
/// (`None`: it does not).
pub async fn deploy(
    job: &Job,
    code: &Code,
    tx: &UnboundedSender<Event>,
) -> Result<String, Option<Hold>> {
    let _ = tx.send(Event::DeployStarted {
        hash: code.hash.clone(),
    });
    let attrs = deployment_attributes(code, &job.changed, &job.tags);
    let (dg_type, dg_id) = (&job.target.dg_type, &job.target.dg_id);
    let created = retrying(&job.api, tx, "Deployment", |c| {
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
            let errors = source::diagnostics(code, &job.sources, &meta);
            let _ = tx.send(Event::CompileError { errors });
            return Err(None);
        }
        Err(e) => {
            let hold = hold_for(&e);
            if hold.is_none() {
                let _ = tx.send(Event::Error {
                    message: format!("Deployment failed: {}", error_text(&e)),
                });
            }
            return Err(hold);
        }
    };
    let data = doc.get("data").cloned().unwrap_or(Value::Null);
    let sha = attr_str(&data, "sha").unwrap_or(&code.hash).to_string();
    let _ = tx.send(Event::Deployed {
        id: id_of(&data).to_string(),
        sha: sha.clone(),
        ms: job.since.elapsed().as_millis() as u64,
    });
    Ok(sha)
}

/// The restart stage: restarts the group's devices as the settings say (retrying transient
/// failures).
pub async fn restart(job: &Job, tx: &UnboundedSender<Event>) {
    let conditional = match job.restart {
        RestartMode::None => return,
        RestartMode::Always => false,
        RestartMode::Conditional => true,
    };
    let dg_id = &job.target.dg_id;
    let restarted = retrying(&job.api, tx, "Restart", |c| {
        crate::api::restart(c, Entity::DeviceGroup, dg_id, conditional)
    })
    .await;
    match restarted {
        Ok(()) => {
            let _ = tx.send(Event::Restarted {
                conditional,
                devices: job.devices,
            });
        }
        Err(e) => {
            let _ = tx.send(Event::Error {
                message: format!("Restart failed: {}", error_text(&e)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[test]
    fn deploys_only_changed_code_unless_forced() {
        assert!(needs_deploy(false, None, "h1"));
        assert!(needs_deploy(false, Some("h0"), "h1"));
        assert!(!needs_deploy(false, Some("h1"), "h1"));
        assert!(needs_deploy(true, Some("h1"), "h1"));
    }

    #[test]
    fn deployment_attributes_name_the_changes_and_tags() {
        let mut code = Code::default();
        code.device.code = "server.log(1);".into();
        code.agent.code = "".into();
        let a = deployment_attributes(&code, &[], &[]);
        assert_eq!(
            Value::Object(a),
            json!({"device_code": "server.log(1);", "agent_code": "",
                   "description": "Deployed by impt watch", "origin": "impt watch"})
        );
        let a = deployment_attributes(&code, &["a.nut".into(), "b.nut".into()], &["t".into()]);
        assert_eq!(
            a["description"],
            "Deployed by impt watch: a.nut, b.nut changed"
        );
        assert_eq!(a["tags"], json!(["t"]));
    }

    fn drain(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Vec<Value> {
        let mut v = Vec::new();
        while let Ok(e) = rx.try_recv() {
            v.push(e.to_json());
        }
        v
    }

    /// The build, deploy and restart stages one by one, against the in-process simulator.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stages_build_deploy_and_restart_on_the_simulator() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("device.nut"), "server.log(\"hi\");\n").unwrap();
        let setup = super::super::sim::setup(dir.path(), None, false, |_| {})
            .await
            .unwrap();
        let code = build(&setup.sources).await.ok().unwrap();
        assert_eq!(code.files(), vec![dir.path().join("device.nut")]);
        let mut job = Job {
            api: setup.api.clone(),
            target: setup.target.clone(),
            sources: setup.sources.clone(),
            tags: vec![],
            restart: RestartMode::Conditional,
            deployed: None,
            force: false,
            since: Instant::now(),
            changed: vec!["device.nut".into()],
            devices: setup.devices.len(),
            local_check: false,
            maps: Default::default(),
        };
        let (tx, mut rx) = unbounded_channel();
        let sha = deploy(&job, &code, &tx).await.expect("deployed");
        let events = drain(&mut rx);
        assert_eq!(events[0]["event"], "deploy_started");
        assert_eq!(events[1]["event"], "deployed");
        assert_eq!(events[1]["sha"], json!(sha));
        restart(&job, &tx).await;
        assert_eq!(
            drain(&mut rx),
            vec![json!({"event": "restarted", "conditional": true, "devices": 1})]
        );
        job.restart = RestartMode::None;
        restart(&job, &tx).await;
        assert!(
            drain(&mut rx).is_empty(),
            "no restart when the settings say none"
        );

        // A compile error of the server is mapped to the user's file.
        std::fs::write(dir.path().join("device.nut"), "local x = ;\n").unwrap();
        let code = build(&setup.sources).await.ok().unwrap();
        assert_eq!(deploy(&job, &code, &tx).await, Err(None));
        let events = drain(&mut rx);
        let last = events.last().unwrap();
        assert_eq!(last["event"], "compile_error", "{events:?}");
        let file = last["errors"][0]["file"].as_str().unwrap();
        assert!(file.ends_with("device.nut"), "{file}");
        assert_eq!(last["errors"][0]["line"], 1);
    }
}
