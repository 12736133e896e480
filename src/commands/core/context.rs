//! The context of one command run: the output, the impCentral client (connected lazily,
//! from the execution context of `config::auth`), and a per-run cache of entities.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::api::{self, Client, Hooks, Renewal, Session};
use crate::config::auth::{self, AuthSource};
use crate::config::project::ProjectFile;
use crate::error::{ConfigKind, Entity, ImptError, Result};
use crate::output::Ui;
use crate::sync::lock;

/// Lets the client print debug traces and run the spinner through the output layer.
pub struct UiHooks(pub Arc<Ui>);

impl Hooks for UiHooks {
    fn tracing(&self) -> bool {
        self.0.mode() == crate::output::Mode::Debug
    }
    fn debug(&self, text: &str) {
        self.0.debug(text);
    }
    fn busy(&self, on: bool) {
        if on {
            self.0.start_spinner();
        } else {
            self.0.stop_spinner();
        }
    }
}

/// What a command works with: the output, the impCentral client and the per-run cache.
/// (Not to be confused with the simulator's request context or the preprocessor's.)
pub struct CommandCtx {
    pub ui: Arc<Ui>,
    client: tokio::sync::OnceCell<Client>,
    cache: Mutex<HashMap<(Entity, String), Value>>,
    lists: Mutex<HashMap<Entity, Vec<Value>>>,
    me: tokio::sync::OnceCell<Value>,
}

impl CommandCtx {
    pub fn new(ui: Arc<Ui>) -> CommandCtx {
        CommandCtx {
            ui,
            client: Default::default(),
            cache: Default::default(),
            lists: Default::default(),
            me: Default::default(),
        }
    }

    /// A context whose client is `client` (a login made elsewhere, e.g. on `impt watch
    /// --sim`'s simulator) instead of the auth file's.
    pub fn with_client(ui: Arc<Ui>, client: Client) -> CommandCtx {
        let ctx = CommandCtx::new(ui);
        let _ = ctx.client.set(client);
        ctx
    }

    pub fn hooks(&self) -> Arc<dyn Hooks> {
        Arc::new(UiHooks(self.ui.clone()))
    }

    /// The connected client (logs in first in the environment-variables context).
    pub async fn client(&self) -> Result<&Client> {
        self.client
            .get_or_try_init(|| async { connect(self, auth::resolve()?).await })
            .await
    }

    /// Reads the auth file again; when it holds another access token than the client's (a
    /// login since), the client takes it. True when it did.
    pub async fn reload_auth(&self) -> Result<bool> {
        let AuthSource::File { path, kind, file } = auth::resolve()? else {
            return Ok(false);
        };
        let session = file_session(path, kind, &file);
        Ok(self.client().await?.replace_session(session).await)
    }

    /// A client that is not logged in, for the auth endpoints.
    pub fn anonymous_client(&self, endpoint: &str) -> Client {
        Client::new(endpoint, Session::anonymous(), self.hooks())
    }

    /// `GET <collection>/<id>` with a per-run cache; `None` on 404.
    pub async fn get(&self, entity: Entity, id: &str) -> Result<Option<Value>> {
        if let Some(v) = lock(&self.cache).get(&(entity, id.to_string())) {
            return Ok(Some(v.clone()));
        }
        let v = self.client().await?.get_entity(entity, id).await?;
        if let Some(v) = &v {
            self.remember(entity, v);
        }
        Ok(v)
    }

    /// Entity `id`, which must exist: `NotFound` naming the id otherwise.
    pub async fn get_existing(&self, entity: Entity, id: &str) -> Result<Value> {
        self.get(entity, id)
            .await?
            .ok_or_else(|| ImptError::NotFound {
                entity,
                ident: id.to_string(),
            })
    }

    /// Forgets cached entities after a change.
    pub fn invalidate(&self) {
        lock(&self.cache).clear();
        lock(&self.lists).clear();
    }

    pub fn remember(&self, entity: Entity, v: &Value) {
        let id = api::id_of(v).to_string();
        if !id.is_empty() {
            lock(&self.cache).insert((entity, id), v.clone());
        }
    }

    /// The unfiltered list of an entity kind, cached per run.
    pub async fn list_all(&self, entity: Entity) -> Result<Vec<Value>> {
        if let Some(v) = lock(&self.lists).get(&entity) {
            return Ok(v.clone());
        }
        let items = self.client().await?.list(entity.collection(), &[]).await?;
        lock(&self.lists).insert(entity, items.clone());
        Ok(items)
    }

    /// A list for a list command, which only prints it, given page by page to `each`
    /// (see [`api::Client::list_shown`]): without filters the run's cached list when there
    /// is one (all at once), else fetched and not cached (nothing looks a list command's own
    /// list up again), keeping of the items' attributes only `attrs`.
    pub async fn list_shown(
        &self,
        entity: Entity,
        filters: &[(&str, String)],
        attrs: &[&str],
        each: &mut (dyn FnMut(Vec<Value>) + Send),
    ) -> Result<()> {
        if filters.is_empty() {
            let cached = lock(&self.lists).get(&entity).cloned();
            if let Some(v) = cached {
                each(v);
                return Ok(());
            }
        }
        self.client()
            .await?
            .list_shown(entity.collection(), filters, attrs, each)
            .await
    }

    /// A filtered list (not cached).
    pub async fn list(&self, entity: Entity, filters: &[(&str, String)]) -> Result<Vec<Value>> {
        self.client()
            .await?
            .list(entity.collection(), filters)
            .await
    }

    /// The current account (`GET /accounts/me`).
    pub async fn me(&self) -> Result<&Value> {
        self.me
            .get_or_try_init(|| async {
                let doc = self.client().await?.get("/accounts/me").await?;
                Ok::<_, ImptError>(doc.get("data").cloned().unwrap_or(Value::Null))
            })
            .await
    }

    pub async fn me_id(&self) -> Result<String> {
        Ok(api::id_of(self.me().await?).to_string())
    }

    /// `./.impt.project`, if any (corrupt → error).
    pub fn project(&self) -> Result<Option<ProjectFile>> {
        ProjectFile::load()
    }
}

/// The session an auth file holds.
fn file_session(path: std::path::PathBuf, kind: ConfigKind, file: &auth::AuthFile) -> Session {
    let renewal = match (file.refresh_token(), file.login_key()) {
        (Some(t), _) => Renewal::RefreshToken(t.to_string()),
        (None, Some(k)) => Renewal::LoginKey(k.to_string()),
        _ => Renewal::None,
    };
    Session {
        access_token: file.access_token().into(),
        expires_at: file.expires_at().into(),
        renewal,
        file: Some((path, file.clone())),
        kind,
    }
}

async fn connect(ctx: &CommandCtx, source: AuthSource) -> Result<Client> {
    match source {
        AuthSource::File { path, kind, file } => {
            let session = file_session(path, kind, &file);
            Ok(Client::new(file.endpoint(), session, ctx.hooks()))
        }
        AuthSource::Env {
            endpoint,
            login_key,
            user,
            password,
        } => {
            api::endpoint::check(&endpoint)?;
            let anon = ctx.anonymous_client(&endpoint);
            let (tokens, renewal) = if let Some(key) = login_key {
                (
                    api::auth::token_from_key(&anon, &key).await?,
                    Renewal::LoginKey(key),
                )
            } else {
                let user = user.unwrap_or_default();
                let password = match password {
                    Some(p) => p,
                    None => ctx.ui.prompt("password", true)?,
                };
                let tokens = password_login(ctx, &anon, &user, &password).await?;
                let renewal = tokens
                    .refresh_token
                    .clone()
                    .map(Renewal::RefreshToken)
                    .unwrap_or(Renewal::None);
                (tokens, renewal)
            };
            let session = Session {
                access_token: tokens.access_token,
                expires_at: tokens.expires_at,
                renewal,
                file: None,
                kind: ConfigKind::GlobalAuth,
            };
            Ok(Client::new(&endpoint, session, ctx.hooks()))
        }
    }
}

/// `POST /auth`, with the one-time password step when the account has MFA on.
pub async fn password_login(
    ctx: &CommandCtx,
    anon: &Client,
    user: &str,
    password: &str,
) -> Result<api::auth::Tokens> {
    match api::auth::login(anon, user, password).await? {
        api::auth::Login::Tokens(t) => Ok(t),
        api::auth::Login::OtpRequired { login_token } => {
            let otp = ctx.ui.prompt("one-time password", true)?;
            api::auth::login_otp(anon, &login_token, &otp).await
        }
    }
}
