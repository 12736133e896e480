//! `impt watch --sim [DIR]`: the whole loop against an in-process simulator with one
//! virtual device. Needs no account and touches no auth file: it logs in in memory, creates
//! a product and a development Device Group, assigns the device and deploys DIR's
//! `device.nut`/`agent.nut` (or, for factory firmware, see `factory::sim_groups`).

use std::path::Path;
use std::sync::Arc;

use impt_wire::requests;
use serde_json::{json, Value};

use super::api::Api;
use super::setup::{self, Setup};
use super::source::Sources;
use super::testpass::SimTarget;
use crate::api::simctl::SimControl;
use crate::api::{self, id_of, Client, Renewal, Session};
use crate::error::{ConfigKind, ImptError, Result};
use crate::output::watch::Event;

const USER: &str = "user";
const PASSWORD: &str = "password";

fn data(doc: Option<Value>) -> Value {
    doc.and_then(|d| d.get("data").cloned())
        .unwrap_or(Value::Null)
}

/// Starts the simulator (`cfg`, or one with a single device) and sets the loop up on it.
pub async fn setup(
    dir: &Path,
    cfg: Option<impt_sim::SimConfig>,
    tests: bool,
    mut emit: impl FnMut(Event),
) -> Result<Setup> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let factory = super::factory::sim_files(&dir);
    let (device, agent) = factory
        .clone()
        .unwrap_or_else(|| (dir.join("device.nut"), dir.join("agent.nut")));
    if !device.is_file() && !agent.is_file() {
        return Err(ImptError::msg(format!(
            "{}: no device.nut or agent.nut to deploy.",
            dir.display()
        )));
    }
    let cfg = cfg.unwrap_or_else(|| impt_sim::SimConfig {
        devices: 1,
        keepalive_ms: 5_000,
        ..Default::default()
    });
    let handle = impt_sim::start(cfg.clone())
        .await
        .map_err(|e| ImptError::msg(format!("cannot start the simulator: {e}")))?;
    let base = handle.base_url();
    let hooks: Arc<dyn api::Hooks> = Arc::new(api::Quiet);
    let anon = Client::new(&base, Session::anonymous(), hooks.clone());
    // The first account of the simulator's options (the default one otherwise).
    let (user, password) = cfg
        .accounts
        .iter()
        .find(|a| a.otp.is_none())
        .map(|a| (a.username.clone(), a.password.clone()))
        .unwrap_or((USER.into(), PASSWORD.into()));
    let tokens = match api::auth::login(&anon, &user, &password).await? {
        api::auth::Login::Tokens(t) => t,
        api::auth::Login::OtpRequired { .. } => {
            return Err(ImptError::Internal("the simulator asked for an OTP".into()))
        }
    };
    let session = Session {
        access_token: tokens.access_token,
        expires_at: tokens.expires_at,
        renewal: tokens
            .refresh_token
            .map(Renewal::RefreshToken)
            .unwrap_or(Renewal::None),
        file: None,
        kind: ConfigKind::GlobalAuth,
    };
    let client = Client::new(&base, session.clone(), hooks);
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "watch".into());
    let product = data(
        client
            .post("/products", &requests::create_product(&name, None, None))
            .await?,
    );
    let dg = if factory.is_some() {
        super::factory::sim_groups(&client, id_of(&product), &name, &dir).await?
    } else {
        data(
            client
                .post(
                    "/devicegroups",
                    &requests::create_device_group(
                        impt_wire::types::DEVELOPMENT,
                        id_of(&product),
                        [("name".to_string(), json!(format!("{name}-dev")))]
                            .into_iter()
                            .collect(),
                        requests::Relationships::new(),
                    ),
                )
                .await?,
        )
    };
    let devices = client.list("/devices", &[]).await?;
    let ids: Vec<&str> = devices.iter().map(id_of).collect();
    client
        .post(
            &format!("/devicegroups/{}/relationships/devices", id_of(&dg)),
            &requests::devices(&ids),
        )
        .await?;
    emit(Event::Info {
        message: format!(
            "Simulator at {base} (control endpoints under /_sim/); product \"{name}\", Device Group \"{}\", {} virtual device(s).",
            crate::api::attr_str(&dg, "name").unwrap_or_default(),
            devices.len()
        ),
    });
    let test_target = if tests {
        Some(test_group(&client, &base, session, id_of(&product), &name, &mut emit).await?)
    } else {
        None
    };
    let sources = Sources {
        root: dir.clone(),
        device: Some(device),
        agent: Some(agent).filter(|a| a.is_file()),
    };
    let mut setup = setup::finish_setup(
        Arc::new(Api::Client(Arc::new(client))),
        dg,
        dir,
        sources,
        true,
        Some(handle),
    )
    .await?;
    setup.test_target = test_target;
    Ok(setup)
}

/// `--test`: a Device Group of the product for the tests, with a virtual device of its own
/// (the watched device keeps its logs).
async fn test_group(
    client: &Client,
    base: &str,
    session: Session,
    product: &str,
    name: &str,
    emit: &mut impl FnMut(Event),
) -> Result<SimTarget> {
    let device = SimControl::new(base).add_device().await?;
    let dg = data(
        client
            .post(
                "/devicegroups",
                &requests::create_device_group(
                    impt_wire::types::DEVELOPMENT,
                    product,
                    [("name".to_string(), json!(format!("{name}-tests")))]
                        .into_iter()
                        .collect(),
                    requests::Relationships::new(),
                ),
            )
            .await?,
    );
    client
        .post(
            &format!("/devicegroups/{}/relationships/devices", id_of(&dg)),
            &requests::devices(&[device.as_str()]),
        )
        .await?;
    emit(Event::Info {
        message: format!("Tests run on virtual device {device} of Device Group \"{name}-tests\"."),
    });
    Ok(SimTarget {
        endpoint: base.to_string(),
        session,
        dg_id: id_of(&dg).to_string(),
    })
}
