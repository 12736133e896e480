//! `auth login`, `auth logout`, `auth info`.

use serde_json::json;

use super::core::auth_info::info_data;
use super::core::options::{options, Opt};
use super::core::CommandCtx;
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

options! {
    /// Options of `auth info`.
    pub struct InfoOpts {
    }
}

options! {
    /// Options of `auth login`.
    pub struct LoginOpts {
        local: flag = Opt::f("local", 'l', "Writes the Local Auth File in the current directory instead of the Global Auth File."),
        endpoint: str = Opt::s("endpoint", 'e', "endpoint_url", "The impCentral API endpoint; https://api.electricimp.com/v5 when not given."),
        user: str = Opt::s("user", 'u', "user_id", "The account's user name or email address."),
        pwd: str = Opt::s0("pwd", 'w', "password", "The account's password. Asked for when --user is given without it."),
        lk: str = Opt::s("lk", 'k', "login_key_id", "A login key to log in with."),
        temp: flag = Opt::f("temp", 't', "Saves neither the login key nor the refresh token: the login ends when the access token expires."),
        confirmed: flag = Opt::f("confirmed", 'q', "Overwrites an existing Auth File without asking."),
    }
}

pub async fn login(ctx: &CommandCtx, o: &LoginOpts) -> Result<()> {
    if o.user.is_some() && o.lk.is_some() {
        return Err(ImptError::msg(
            "Options \"--user\" and \"--lk\" are mutually exclusive.",
        ));
    }
    if o.pwd.is_some() && o.user.is_none() {
        return Err(ImptError::msg(
            "Options \"--pwd\" and \"--user\" must be specified together.",
        ));
    }
    if let Some(e) = &o.endpoint {
        crate::api::endpoint::check(e)?;
    }
    let (path, _kind, label) = target(o.local)?;
    if path.exists() && !o.confirmed {
        ctx.ui.confirm(Some(&format!(
            "The {label} Auth File already exists. It will be overwritten."
        )))?;
    }
    let endpoint = o
        .endpoint
        .clone()
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let anon = ctx.anonymous_client(&endpoint);
    let (tokens, login_key): (Tokens, Option<String>) = if let Some(key) = o.lk.clone() {
        (token_from_key(&anon, &key).await?, Some(key))
    } else {
        let (user, pwd) = match o.user.clone() {
            Some(u) => (u, o.pwd.clone()),
            None => match ctx.ui.choose(
                "Choose authentication method:",
                &["User/Password", "Login Key"],
            )? {
                1 => (ctx.ui.prompt("username or email address", false)?, None),
                _ => {
                    let key = ctx.ui.prompt("Login Key", true)?;
                    let t = token_from_key(&anon, &key).await?;
                    return finish(ctx, o, &path, label, &endpoint, t, Some(key));
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
    finish(ctx, o, &path, label, &endpoint, tokens, login_key)
}

fn finish(
    ctx: &CommandCtx,
    o: &LoginOpts,
    path: &std::path::Path,
    label: &str,
    endpoint: &str,
    t: Tokens,
    key: Option<String>,
) -> Result<()> {
    let temp = o.temp;
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

options! {
    /// Options of `auth logout`.
    pub struct LogoutOpts {
        local: flag = Opt::f("local", 'l', "Deletes the Local Auth File instead of the Global Auth File."),
    }
}

pub async fn logout(ctx: &CommandCtx, o: &LogoutOpts) -> Result<()> {
    let (path, kind, label) = target(o.local)?;
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

pub async fn info(ctx: &CommandCtx) -> Result<()> {
    let data = info_data(ctx).await?;
    ctx.ui.result(&json!({ "Auth": data }));
    Ok(())
}
