//! `loginkey create|delete|info|list|update`: keys under `/accounts/me/login_keys`; every
//! change needs the account password (header `X-Electricimp-Password`).

use impt_wire::requests;
use serde_json::{json, Map};

use super::core::delete::{DeletePlan, Doomed};
use super::core::options::{options, Opt};
use super::core::{print_created, print_info, print_list, print_updated, CommandCtx};
use crate::error::{Entity, Result};

fn pwd() -> Opt {
    Opt::s0(
        "pwd",
        'w',
        "password",
        "The account password. Asked for (without echo) when not given.",
    )
}

const PASSWORD_HEADER: &str = "X-Electricimp-Password";

fn password(ctx: &CommandCtx, pwd: &Option<String>) -> Result<String> {
    match pwd.clone() {
        Some(p) => Ok(p),
        None => ctx.ui.prompt("password", true),
    }
}

fn key_path(id: &str) -> String {
    crate::api::entity_path(Entity::LoginKey, id)
}

/// A login key by id (login keys are identified by id only).
async fn find_key(ctx: &CommandCtx, id: &str) -> Result<serde_json::Value> {
    ctx.get_existing(Entity::LoginKey, id).await
}

options! {
    /// Options of `loginkey create`.
    pub struct CreateOpts {
        pwd: str = pwd(),
        descr: str = Opt::s0("descr", 's', "login_key_description", "Description of the login key."),
    }
}

options! {
    /// Options of `loginkey list`.
    pub struct ListOpts {
    }
}

pub async fn create(ctx: &CommandCtx, o: &CreateOpts) -> Result<()> {
    let pwd = password(ctx, &o.pwd)?;
    let mut attrs = Map::new();
    if let Some(d) = o.descr.clone() {
        attrs.insert("description".into(), json!(d));
    }
    let body = requests::create_login_key(attrs);
    let doc = ctx
        .client()
        .await?
        .request(
            reqwest::Method::POST,
            Entity::LoginKey.collection(),
            &[],
            Some(&body),
            &[(PASSWORD_HEADER, pwd)],
        )
        .await?
        .unwrap_or_default();
    let data = &doc["data"];
    print_created(ctx, Entity::LoginKey, crate::api::id_of(data), data);
    Ok(())
}

options! {
    /// Options of `loginkey info`.
    pub struct InfoOpts {
        lk: str = Opt::s("lk", 'k', "LOGIN_KEY_ID", "The login key.").req(),
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let key = find_key(ctx, &o.lk.clone().unwrap_or_default()).await?;
    print_info(ctx, Entity::LoginKey, &key).await
}

pub async fn list_cmd(ctx: &CommandCtx) -> Result<()> {
    let items = ctx.list_all(Entity::LoginKey).await?;
    print_list(ctx, Entity::LoginKey, items).await
}

options! {
    /// Options of `loginkey update`.
    pub struct UpdateOpts {
        lk: str = Opt::s("lk", 'k', "LOGIN_KEY_ID", "The login key to update.").req(),
        pwd: str = pwd(),
        descr: str = Opt::s0("descr", 's', "login_key_description", "New description of the login key.") .req(),
    }
}

pub async fn update(ctx: &CommandCtx, o: &UpdateOpts) -> Result<()> {
    let id = o.lk.clone().unwrap_or_default();
    let old = find_key(ctx, &id).await?;
    let pwd = password(ctx, &o.pwd)?;
    let body = requests::update_login_key(&id, &o.descr.clone().unwrap_or_default());
    let changed = ctx
        .client()
        .await?
        .request(
            reqwest::Method::PATCH,
            &key_path(&id),
            &[],
            Some(&body),
            &[(PASSWORD_HEADER, pwd)],
        )
        .await?;
    print_updated(
        ctx,
        Entity::LoginKey,
        &id,
        &super::core::response_entity(changed, &old),
    );
    Ok(())
}

options! {
    /// Options of `loginkey delete`.
    pub struct DeleteOpts {
        lk: str = Opt::s("lk", 'k', "LOGIN_KEY_ID", "The login key to delete.").req(),
        pwd: str = pwd(),
        confirmed: flag = Opt::f("confirmed", 'q', "Executes the operation without asking for confirmation."),
    }
}

pub async fn delete(ctx: &CommandCtx, o: &DeleteOpts) -> Result<()> {
    let id = o.lk.clone().unwrap_or_default();
    let key = find_key(ctx, &id).await?;
    let mut plan = DeletePlan::default();
    plan.entities.push(Doomed {
        entity: Entity::LoginKey,
        data: key,
        ident: id,
        headers: vec![],
    });
    // The password is asked after the confirmation, as the original does.
    plan.confirm(ctx, o.confirmed)?;
    let pwd = password(ctx, &o.pwd)?;
    plan.entities[0].headers.push((PASSWORD_HEADER, pwd));
    plan.execute(ctx).await?;
    ctx.ui.json_empty();
    Ok(())
}
