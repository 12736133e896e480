//! The `Auth` block that `auth info` and `project info` show: where the credentials come
//! from and whose they are.

use serde_json::{json, Map, Value};

use super::CommandCtx;
use crate::config::auth::{self as authcfg, AuthSource};
use crate::error::{ConfigKind, Result};

/// The `Auth` block of `auth info` and `project info --full`. Partial data is printed before
/// an error when the context is a concrete file.
pub async fn info_data(ctx: &CommandCtx) -> Result<Value> {
    let source = authcfg::resolve()?;
    let mut m = Map::new();
    let (auth_type, endpoint, refreshable, login_key, expires_at) = match &source {
        AuthSource::File { kind, file, path } => {
            let t = match kind {
                ConfigKind::LocalAuth => "Local Auth file".to_string(),
                ConfigKind::Auth => format!(
                    "Auth file path: {}",
                    path.parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
                _ => "Global Auth file".to_string(),
            };
            (
                t,
                file.endpoint().to_string(),
                file.login_key().is_some() || file.refresh_token().is_some(),
                file.login_key().is_some(),
                Some(file.expires_at().to_string()),
            )
        }
        AuthSource::Env {
            endpoint,
            login_key,
            ..
        } => (
            "Environment variables".to_string(),
            endpoint.clone(),
            true,
            login_key.is_some(),
            None,
        ),
    };
    m.insert("Auth type".into(), json!(auth_type));
    m.insert("impCentral API endpoint".into(), json!(endpoint));
    m.insert("Access token auto refresh".into(), json!(refreshable));
    let mut expired = false;
    if refreshable {
        m.insert(
            "Login method".into(),
            json!(if login_key {
                "Login Key"
            } else {
                "User/Password"
            }),
        );
    } else if let Some(at) = expires_at {
        let left = chrono::DateTime::parse_from_rfc3339(&at)
            .map(|t| (t.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds())
            .unwrap_or(-1);
        expired = chrono::DateTime::parse_from_rfc3339(&at).map_or(true, |t| {
            t.with_timezone(&chrono::Utc) <= chrono::Utc::now()
        });
        m.insert(
            "Access token".into(),
            json!(if expired {
                "expired".to_string()
            } else {
                format!("expires in {} minutes", left / 60)
            }),
        );
    }
    if !expired {
        match ctx.me().await {
            Ok(me) => {
                let a = |k: &str| {
                    me.pointer(&format!("/attributes/{k}"))
                        .cloned()
                        .unwrap_or(json!(""))
                };
                m.insert("Username".into(), a("username"));
                m.insert("Email".into(), a("email"));
                m.insert("Account id".into(), json!(crate::api::id_of(me)));
            }
            Err(e) => {
                if matches!(source, AuthSource::File { .. }) {
                    ctx.ui.result(&json!({ "Auth": m }));
                }
                return Err(e);
            }
        }
    }
    Ok(Value::Object(m))
}
