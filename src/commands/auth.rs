//! `auth login`, `auth logout`, `auth info`.

use serde_json::json;

use super::core::auth_info::info_data;
use super::core::{Args, Ctx};
use crate::api::auth::{token_from_key, Tokens};
use crate::config::auth::{self as authcfg, AuthFile, DEFAULT_ENDPOINT};
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
            super::core::context::password_login(ctx, &anon, &user, &pwd).await?,
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

pub async fn info(ctx: &Ctx) -> Result<()> {
    let data = info_data(ctx).await?;
    ctx.ui.result(&json!({ "Auth": data }));
    Ok(())
}
