//! `auth login`, `auth logout`, `auth info`.

use serde_json::{json, Map, Value};

use super::{Args, Ctx};
use crate::api::auth::{token_from_key, Tokens};
use crate::config::auth::{self as authcfg, AuthFile, AuthSource, DEFAULT_ENDPOINT};
use crate::error::{ConfigKind, ImptError, Result};

fn target(local: bool) -> Result<(std::path::PathBuf, ConfigKind, &'static str)> {
    if local {
        Ok((authcfg::local_path(), ConfigKind::LocalAuth, "Local"))
    } else {
        let path = authcfg::global_path()
            .ok_or_else(|| ImptError::msg("HOME is not set: the Global Auth File has no place."))?;
        Ok((path, ConfigKind::GlobalAuth, "Global"))
    }
}

pub async fn login(ctx: &Ctx, args: &Args) -> Result<()> {
    if args.has("user") && args.has("lk") {
        return Err(ImptError::msg(
            "Options \"--user\" and \"--lk\" are mutually exclusive.",
        ));
    }
    if args.has("pwd") && !args.has("user") {
        return Err(ImptError::msg(
            "Options \"--pwd\" and \"--user\" must be specified together.",
        ));
    }
    let (path, _kind, label) = target(args.flag("local"))?;
    if path.exists() && !args.flag("confirmed") {
        ctx.ui.confirm(Some(&format!(
            "The {label} Auth File already exists. It will be overwritten."
        )))?;
    }
    let endpoint = args
        .str("endpoint")
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let anon = ctx.anonymous_client(&endpoint);
    let (tokens, login_key): (Tokens, Option<String>) = if let Some(key) = args.str("lk") {
        (token_from_key(&anon, &key).await?, Some(key))
    } else {
        let (user, pwd) = match args.str("user") {
            Some(u) => (u, args.str("pwd")),
            None => match ctx.ui.choose(
                "Choose authentication method:",
                &["User/Password", "Login Key"],
            )? {
                1 => (ctx.ui.prompt("username or email address", false)?, None),
                _ => {
                    let key = ctx.ui.prompt("Login Key", true)?;
                    let t = token_from_key(&anon, &key).await?;
                    return finish(ctx, args, &path, label, &endpoint, t, Some(key));
                }
            },
        };
        let pwd = match pwd {
            Some(p) => p,
            None => ctx.ui.prompt("password", true)?,
        };
        (
            super::context::password_login(ctx, &anon, &user, &pwd).await?,
            None,
        )
    };
    finish(ctx, args, &path, label, &endpoint, tokens, login_key)
}

fn finish(
    ctx: &Ctx,
    args: &Args,
    path: &std::path::Path,
    label: &str,
    endpoint: &str,
    t: Tokens,
    key: Option<String>,
) -> Result<()> {
    let temp = args.flag("temp");
    let file = AuthFile::new(
        endpoint,
        &t.access_token,
        &t.expires_at,
        key.as_deref().filter(|_| !temp),
        t.refresh_token.as_deref().filter(|_| !temp),
    );
    authcfg::save(path, &file)?;
    ctx.ui.info(&format!("{label} login is successful."));
    ctx.ui.json_empty();
    Ok(())
}

pub async fn logout(ctx: &Ctx, args: &Args) -> Result<()> {
    let (path, kind, label) = target(args.flag("local"))?;
    if !path.exists() {
        return Err(ImptError::AuthFileNotFound(kind));
    }
    std::fs::remove_file(&path).map_err(|e| ImptError::File {
        file: path.display().to_string(),
        msg: e.to_string(),
    })?;
    ctx.ui.info(&format!("{label} logout is successful."));
    ctx.ui.json_empty();
    Ok(())
}

/// The `Auth` block of `auth info` and `project info --full`. Partial data is printed before
/// an error when the context is a concrete file.
pub async fn info_data(ctx: &Ctx) -> Result<Value> {
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

pub async fn info(ctx: &Ctx) -> Result<()> {
    let data = info_data(ctx).await?;
    ctx.ui.result(&json!({ "Auth": data }));
    Ok(())
}
