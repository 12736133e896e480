//! `POST /auth` and `POST /auth/token`: logging in with a password (and one-time password),
//! with a login key, and refreshing an access token.

use impt_wire::requests;
use reqwest::Method;
use serde_json::Value;

use super::{api_error, Client, Renewal, Session};
use crate::error::{ConfigKind, Entity, ImptError, Result};

/// Tokens answered by the auth endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Tokens {
    pub access_token: String,
    pub expires_at: String,
    pub refresh_token: Option<String>,
}

/// The result of a password login.
#[derive(Clone, Debug, PartialEq)]
pub enum Login {
    Tokens(Tokens),
    /// Multi-factor authentication is on: send the one-time password with this token.
    OtpRequired {
        login_token: String,
    },
}

impl Session {
    /// A session with no token, for the auth calls themselves.
    pub fn anonymous() -> Session {
        Session {
            access_token: String::new(),
            expires_at: "9999-12-31T00:00:00Z".into(),
            renewal: Renewal::None,
            file: None,
            kind: ConfigKind::GlobalAuth,
        }
    }
}

fn parse_tokens(body: &str) -> Result<Tokens> {
    let v: Value = serde_json::from_str(body)
        .map_err(|_| ImptError::Internal("Unexpected format of impCentral response".into()))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match (s("access_token"), s("expires_at")) {
        (Some(access_token), Some(expires_at)) => Ok(Tokens {
            access_token,
            expires_at,
            refresh_token: s("refresh_token"),
        }),
        _ => Err(ImptError::Internal(
            "Unexpected format of impCentral response".into(),
        )),
    }
}

async fn post_auth(
    client: &Client,
    path: &str,
    body: Value,
    headers: &[(&str, String)],
) -> Result<(u16, String)> {
    let url = format!("{}{}", client.endpoint(), path);
    let (status, _, text) = client
        .send_raw(
            Method::POST,
            &url,
            &[],
            Some(&body),
            headers,
            None,
            "application/json",
        )
        .await?;
    Ok((status, text))
}

/// `POST /auth {id, password}`.
pub async fn login(client: &Client, id: &str, password: &str) -> Result<Login> {
    let (status, text) = post_auth(client, "/auth", requests::login(id, password), &[]).await?;
    if (200..300).contains(&status) {
        return Ok(Login::Tokens(parse_tokens(&text)?));
    }
    let err = api_error(status, &text);
    if status == 403 {
        let token = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
            v.pointer("/errors/0/meta/login_token")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        return match token {
            Some(login_token) => Ok(Login::OtpRequired { login_token }),
            None if err.errors.is_empty() => Err(ImptError::Internal(
                "Unexpected format of impCentral response".into(),
            )),
            None => Err(ImptError::Api(err)),
        };
    }
    Err(ImptError::Api(err))
}

/// The tokens of a successful answer to an auth request, else its API error (`not_found`
/// instead for a 404, when given).
fn tokens_of(status: u16, text: &str, not_found: Option<ImptError>) -> Result<Tokens> {
    match (status, not_found) {
        (200..=299, _) => parse_tokens(text),
        (404, Some(e)) => Err(e),
        _ => Err(ImptError::Api(api_error(status, text))),
    }
}

/// Second step of a multi-factor login.
pub async fn login_otp(client: &Client, login_token: &str, otp: &str) -> Result<Tokens> {
    let (status, text) = post_auth(
        client,
        "/auth",
        requests::login_otp(login_token),
        &[("X-Electricimp-OTP-Token", otp.to_string())],
    )
    .await?;
    tokens_of(status, &text, None)
}

/// `POST /auth/token {key}`; a 404 means the login key does not exist.
pub async fn token_from_key(client: &Client, key: &str) -> Result<Tokens> {
    let (status, text) = post_auth(
        client,
        "/auth/token",
        requests::token_from_login_key(key),
        &[],
    )
    .await?;
    let missing = ImptError::NotFound {
        entity: Entity::LoginKey,
        ident: key.to_string(),
    };
    tokens_of(status, &text, Some(missing))
}

/// `POST /auth/token {token}` with a refresh token.
pub async fn refresh(client: &Client, refresh_token: &str) -> Result<Tokens> {
    let (status, text) = post_auth(
        client,
        "/auth/token",
        requests::refresh_token(refresh_token),
        &[],
    )
    .await?;
    tokens_of(status, &text, None)
}
