//! The impCentral client of the watch loop: the command context's (auth files, environment
//! variables) or one made in memory (`--sim`).

use std::sync::Arc;

use serde_json::Value;

use crate::api::Client;
use crate::commands::core::CommandCtx;
use crate::error::Result;

pub enum Api {
    /// The command context's client (auth files, environment variables).
    Command(Arc<CommandCtx>),
    /// A client made in memory (`--sim`).
    Client(Arc<Client>),
}

impl Api {
    pub async fn client(&self) -> Result<&Client> {
        match self {
            Api::Command(c) => c.client().await,
            Api::Client(c) => Ok(c),
        }
    }

    /// Reads the auth file again and takes its token when it is a new one (a login in
    /// another terminal); true when it did.
    pub async fn reload_auth(&self) -> Result<bool> {
        match self {
            Api::Command(c) => c.reload_auth().await,
            Api::Client(_) => Ok(false),
        }
    }

    /// Devices of a Device Group.
    pub async fn group_devices(&self, dg_id: &str) -> Result<Vec<Value>> {
        self.client()
            .await?
            .list("/devices", &[("devicegroup.id", dg_id.to_string())])
            .await
    }

    /// A deployment (`data`), `None` when it does not exist.
    pub async fn deployment(&self, id: &str) -> Result<Option<Value>> {
        self.client()
            .await?
            .get_entity(crate::error::Entity::Deployment, id)
            .await
    }

    /// The `{ts, type, msg}` entries of a device's log history, newest first.
    pub async fn device_logs(&self, device_id: &str) -> Result<Vec<Value>> {
        self.client().await?.device_logs(device_id, 1, 100).await
    }
}
