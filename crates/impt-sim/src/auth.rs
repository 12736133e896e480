//! Authentication (`/auth`, `/auth/token`), accounts, login keys and refresh tokens.

use super::app::{no_content, ok, Ctx};
use super::error::{ApiError, ApiResult};
use super::jsonapi::{list, parse_doc, resource};
use super::model::{AccessToken, Account, Db, LoginKey, LoginToken, RefreshToken};
use super::util::{iso_from_ms, new_access_token, new_id, new_secret_hex, now_iso, now_ms};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// Refresh tokens kept per account; a new login drops the oldest.
pub const MAX_REFRESH_TOKENS: usize = 5;
/// Login keys allowed per account.
pub const MAX_LOGIN_KEYS: usize = 10;
/// Live access tokens per account; a new one drops the oldest.
pub const MAX_ACCESS_TOKENS: usize = 1000;
/// Pending multi-factor login tokens per account; a new one drops the oldest.
pub const MAX_LOGIN_TOKENS: usize = 5;
/// Lifetime of a multi-factor login token.
pub const LOGIN_TOKEN_TTL_MS: i64 = 5 * 60 * 1000;

fn token_response(body: Value) -> ApiResult<Response> {
    let mut r = super::error::json_response(StatusCode::OK, &body);
    r.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

fn issue_access(db: &mut Db, account: &str, ttl: u64) -> Value {
    let token = new_access_token();
    let expires_ms = now_ms() + (ttl as i64) * 1000;
    let now = now_ms();
    db.access_tokens.retain(|t| t.expires_ms > now);
    while db
        .access_tokens
        .iter()
        .filter(|t| t.account == account)
        .count()
        >= MAX_ACCESS_TOKENS
    {
        if let Some(i) = db.access_tokens.iter().position(|t| t.account == account) {
            db.access_tokens.remove(i);
        }
    }
    db.access_tokens.push(AccessToken {
        token: super::secrets::token_digest(&token),
        account: account.to_string(),
        expires_ms,
    });
    json!({"access_token": token, "expires_in": ttl, "expires_at": iso_from_ms(expires_ms)})
}

fn issue_refresh(db: &mut Db, account: &str) -> String {
    let token = new_secret_hex(32);
    db.refresh_tokens.push(RefreshToken {
        id: new_id(),
        token: super::secrets::token_digest(&token),
        account: account.to_string(),
        created_at: now_iso(),
    });
    while db
        .refresh_tokens
        .iter()
        .filter(|t| t.account == account)
        .count()
        > MAX_REFRESH_TOKENS
    {
        if let Some(i) = db.refresh_tokens.iter().position(|t| t.account == account) {
            db.refresh_tokens.remove(i);
        }
    }
    token
}

fn full_login(db: &mut Db, account: &str, ttl: u64) -> Value {
    let mut v = issue_access(db, account, ttl);
    v["refresh_token"] = issue_refresh(db, account).into();
    v
}

fn body_obj(ctx: &Ctx) -> ApiResult<serde_json::Map<String, Value>> {
    match ctx.json()? {
        Some(Value::Object(o)) => Ok(o),
        _ => Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        )),
    }
}

/// `POST /auth`
pub fn login(ctx: &Ctx) -> ApiResult<Response> {
    let body = body_obj(ctx)?;
    let ttl = ctx.app.cfg.token_ttl;
    let mut w = ctx.app.world();
    if let Some(lt) = body.get("login_token") {
        let lt = lt
            .as_str()
            .ok_or_else(|| ApiError::bad_request("\"login_token\" must be a string."))?;
        let otp = ctx.header("x-electricimp-otp-token").unwrap_or("");
        let now = now_ms();
        w.db.login_tokens.retain(|t| t.expires_ms > now);
        let acc =
            w.db.login_tokens
                .iter()
                .find(|t| t.token == super::secrets::token_digest(lt) && t.expires_ms > now)
                .map(|t| t.account.clone())
                .ok_or_else(ApiError::invalid_credentials)?;
        let good =
            w.db.account(&acc)
                .and_then(|a| a.otp.clone())
                .is_some_and(|o| super::secrets::password_ok(&o, otp));
        if !good {
            return Err(ApiError::new(
                401,
                "PX100",
                "Invalid Credentials",
                "The one-time password is invalid.",
            ));
        }
        let lt = super::secrets::token_digest(lt);
        w.db.login_tokens.retain(|t| t.token != lt);
        return token_response(full_login(&mut w.db, &acc, ttl));
    }
    let id = body.get("id").and_then(Value::as_str).unwrap_or("");
    let password = body.get("password").and_then(Value::as_str);
    if id.is_empty() || password.is_none() {
        return Err(ApiError::bad_request(
            "Both \"id\" and \"password\" are required.",
        ));
    }
    let password = password.unwrap_or("");
    let hash =
        w.db.accounts
            .iter()
            .find(|a| a.username == id || a.email.eq_ignore_ascii_case(id))
            .map(|a| a.password_hash.clone())
            .ok_or_else(ApiError::invalid_credentials)?;
    // A hash check takes time: not under the world lock.
    drop(w);
    if !super::secrets::password_ok(&hash, password) {
        return Err(ApiError::invalid_credentials());
    }
    let mut w = ctx.app.world();
    let acc =
        w.db.accounts
            .iter()
            .find(|a| a.password_hash == hash)
            .cloned()
            .ok_or_else(ApiError::invalid_credentials)?;
    if acc.otp.is_some() {
        let token = new_secret_hex(24);
        let now = now_ms();
        let expires_ms = now + LOGIN_TOKEN_TTL_MS;
        // Expired login tokens go; an account keeps only its newest few.
        w.db.login_tokens.retain(|t| t.expires_ms > now);
        while w
            .db
            .login_tokens
            .iter()
            .filter(|t| t.account == acc.id)
            .count()
            >= MAX_LOGIN_TOKENS
        {
            if let Some(i) = w.db.login_tokens.iter().position(|t| t.account == acc.id) {
                w.db.login_tokens.remove(i);
            }
        }
        w.db.login_tokens.push(LoginToken {
            token: super::secrets::token_digest(&token),
            account: acc.id.clone(),
            expires_ms,
        });
        return Err(ApiError::new(
            403,
            "PX200",
            "Multi-Factor Authentication Required",
            "A one-time password is required to complete login.",
        )
        .with_meta(json!({"login_token": token, "expires_at": iso_from_ms(expires_ms)})));
    }
    token_response(full_login(&mut w.db, &acc.id, ttl))
}

/// `POST /auth/token`
pub fn token(ctx: &Ctx) -> ApiResult<Response> {
    let body = body_obj(ctx)?;
    let ttl = ctx.app.cfg.token_ttl;
    let mut w = ctx.app.world();
    if let Some(key) = body.get("key") {
        let key = key.as_str().unwrap_or("");
        let k =
            w.db.login_keys
                .iter_mut()
                .find(|k| k.id == key)
                .ok_or_else(|| ApiError::not_found("login key"))?;
        k.usages += 1;
        let acc = k.account.clone();
        return token_response(full_login(&mut w.db, &acc, ttl));
    }
    if let Some(tok) = body.get("token") {
        let tok = tok.as_str().unwrap_or("");
        let tok = super::secrets::token_digest(tok);
        let acc =
            w.db.refresh_tokens
                .iter()
                .find(|t| t.token == tok)
                .map(|t| t.account.clone())
                .ok_or_else(|| ApiError::not_found("refresh token"))?;
        return token_response(issue_access(&mut w.db, &acc, ttl));
    }
    Err(ApiError::bad_request(
        "Either \"key\" or \"token\" is required.",
    ))
}

fn account_doc(ctx: &Ctx, a: &Account) -> Value {
    resource(
        ctx,
        "account",
        &a.id,
        "accounts",
        json!({"username": a.username, "email": a.email, "created_at": a.created_at, "updated_at": a.updated_at}),
        &[],
    )
}

/// `GET /accounts/{id|me}`
pub fn get_account(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    let id = ctx.seg(1);
    if id != "me" && id != me {
        return Err(ApiError::not_found("account"));
    }
    let w = ctx.app.world();
    let a =
        w.db.account(&me)
            .ok_or_else(|| ApiError::not_found("account"))?;
    ok(200, json!({"data": account_doc(ctx, a)}))
}

/// `GET /accounts`
pub fn list_accounts(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    super::jsonapi::filters(ctx, &[])?;
    let items = {
        let w = ctx.app.world();
        w.db.account(&me)
            .map(|a| vec![account_doc(ctx, a)])
            .unwrap_or_default()
    };
    list(ctx, items)
}

fn check_password(ctx: &Ctx, me: &str) -> ApiResult<()> {
    let given = ctx.header("x-electricimp-password");
    let hash = {
        let w = ctx.app.world();
        w.db.account(me).map(|a| a.password_hash.clone())
    };
    let good = match (hash, given) {
        (Some(h), Some(g)) => super::secrets::password_ok(&h, g),
        _ => false,
    };
    if good {
        Ok(())
    } else {
        Err(ApiError::new(
            401,
            "PX100",
            "Invalid Credentials",
            "The X-Electricimp-Password header is missing or wrong.",
        ))
    }
}

fn key_doc(ctx: &Ctx, k: &LoginKey) -> Value {
    let mut v = resource(
        ctx,
        "login_key",
        &k.id,
        "accounts/me/login_keys",
        json!({"description": k.description, "usages": k.usages, "created_at": k.created_at, "updated_at": k.updated_at}),
        &[],
    );
    v["relationships"] = json!({"owner": {"type": "account", "id": k.account}});
    v
}

/// `/accounts/me/login_keys[/{id}]`
pub fn login_keys(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    let key_id = ctx.segs.get(3).cloned();
    match (ctx.method.as_str(), key_id) {
        ("GET", None) => {
            let items: Vec<Value> = {
                let w = ctx.app.world();
                w.db.login_keys
                    .iter()
                    .filter(|k| k.account == me)
                    .map(|k| key_doc(ctx, k))
                    .collect()
            };
            list(ctx, items)
        }
        ("POST", None) => {
            check_password(ctx, &me)?;
            let doc = parse_doc(ctx)?;
            if doc.typ.as_deref() != Some("login_key") {
                return Err(ApiError::type_mismatch());
            }
            doc.only(&["description"])?;
            let mut w = ctx.app.world();
            if w.db.login_keys.iter().filter(|k| k.account == me).count() >= MAX_LOGIN_KEYS {
                return Err(ApiError::new(
                    400,
                    "VX020",
                    "Account Limit Reached",
                    "The account has the maximum number of login keys.",
                ));
            }
            let now = now_iso();
            let k = LoginKey {
                id: new_secret_hex(8),
                account: me,
                description: doc.str("description")?.unwrap_or_default(),
                usages: 0,
                created_at: now.clone(),
                updated_at: now,
            };
            w.db.login_keys.push(k.clone());
            ok(201, json!({"data": key_doc(ctx, &k)}))
        }
        ("GET", Some(id)) => {
            let w = ctx.app.world();
            let k =
                w.db.login_keys
                    .iter()
                    .find(|k| k.id == id && k.account == me)
                    .ok_or_else(|| ApiError::not_found("login key"))?;
            ok(200, json!({"data": key_doc(ctx, k)}))
        }
        ("PATCH", Some(id)) => {
            check_password(ctx, &me)?;
            let doc = parse_doc(ctx)?;
            {
                let w = ctx.app.world();
                if !w
                    .db
                    .login_keys
                    .iter()
                    .any(|k| k.id == id && k.account == me)
                {
                    return Err(ApiError::not_found("login key"));
                }
            }
            doc.check_type_id("login_key", |i| i == id)?;
            doc.only(&["description"])?;
            let descr = doc.str("description")?;
            let mut w = ctx.app.world();
            let k =
                w.db.login_keys
                    .iter_mut()
                    .find(|k| k.id == id && k.account == me)
                    .ok_or_else(|| ApiError::not_found("login key"))?;
            if let Some(d) = descr {
                k.description = d;
            }
            k.updated_at = now_iso();
            let k = k.clone();
            ok(200, json!({"data": key_doc(ctx, &k)}))
        }
        ("DELETE", Some(id)) => {
            check_password(ctx, &me)?;
            let mut w = ctx.app.world();
            let before = w.db.login_keys.len();
            w.db.login_keys.retain(|k| !(k.id == id && k.account == me));
            if w.db.login_keys.len() == before {
                return Err(ApiError::not_found("login key"));
            }
            no_content()
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `/accounts/me/refresh_tokens[/{id}]`
pub fn refresh_tokens(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    match (ctx.method.as_str(), ctx.segs.get(3)) {
        ("GET", None) => {
            let items: Vec<Value> = {
                let w = ctx.app.world();
                w.db.refresh_tokens
                    .iter()
                    .filter(|t| t.account == me)
                    .map(|t| {
                        let mut v = resource(
                            ctx,
                            "refresh_token",
                            &t.id,
                            "accounts/me/refresh_tokens",
                            json!({"created_at": t.created_at}),
                            &[],
                        );
                        v["relationships"] = json!({"owner": {"type": "account", "id": t.account}});
                        v
                    })
                    .collect()
            };
            list(ctx, items)
        }
        ("DELETE", Some(id)) => {
            let mut w = ctx.app.world();
            let before = w.db.refresh_tokens.len();
            w.db.refresh_tokens
                .retain(|t| !(t.account == me && &t.id == id));
            if w.db.refresh_tokens.len() == before {
                return Err(ApiError::not_found("refresh token"));
            }
            no_content()
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
