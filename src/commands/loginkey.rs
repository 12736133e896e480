//! `loginkey create|delete|info|list|update`: keys under `/accounts/me/login_keys`; every
//! change needs the account password (header `X-Electricimp-Password`).

use serde_json::{json, Map};

use super::core::delete::{DeletePlan, Doomed};
use super::core::{print_created, print_list, print_updated, Args, Ctx};
use crate::api::encode_segment;
use crate::error::{Entity, ImptError, Result};

const PASSWORD_HEADER: &str = "X-Electricimp-Password";

fn password(ctx: &Ctx, args: &Args) -> Result<String> {
    match args.str("pwd") {
        Some(p) => Ok(p),
        None => ctx.ui.prompt("password", true),
    }
}

fn key_path(id: &str) -> String {
    format!("{}/{}", Entity::LoginKey.collection(), encode_segment(id))
}

/// A login key by id (login keys are identified by id only).
async fn find_key(ctx: &Ctx, id: &str) -> Result<serde_json::Value> {
    ctx.get(Entity::LoginKey, id)
        .await?
        .ok_or_else(|| ImptError::NotFound {
            entity: Entity::LoginKey,
            ident: id.to_string(),
        })
}

pub async fn create(ctx: &Ctx, args: &Args) -> Result<()> {
    let pwd = password(ctx, args)?;
    let mut attrs = Map::new();
    if let Some(d) = args.str("descr") {
        attrs.insert("description".into(), json!(d));
    }
    let body = json!({"data": {"type": "login_key", "attributes": attrs}});
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

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let key = find_key(ctx, &args.str("lk").unwrap_or_default()).await?;
    ctx.ui
        .result(&super::core::display::info(ctx, Entity::LoginKey, &key).await?);
    Ok(())
}

pub async fn list_cmd(ctx: &Ctx) -> Result<()> {
    let items = ctx.list_all(Entity::LoginKey).await?;
    print_list(ctx, Entity::LoginKey, &items).await
}

pub async fn update(ctx: &Ctx, args: &Args) -> Result<()> {
    let id = args.str("lk").unwrap_or_default();
    find_key(ctx, &id).await?;
    let pwd = password(ctx, args)?;
    let body = json!({"data": {"type": "login_key", "id": id, "attributes": {"description": args.str("descr").unwrap_or_default()}}});
    ctx.client()
        .await?
        .request(
            reqwest::Method::PATCH,
            &key_path(&id),
            &[],
            Some(&body),
            &[(PASSWORD_HEADER, pwd)],
        )
        .await?;
    print_updated(ctx, Entity::LoginKey, &id);
    Ok(())
}

pub async fn delete(ctx: &Ctx, args: &Args) -> Result<()> {
    let id = args.str("lk").unwrap_or_default();
    let key = find_key(ctx, &id).await?;
    let mut plan = DeletePlan::default();
    plan.entities.push(Doomed {
        entity: Entity::LoginKey,
        data: key,
        ident: id,
        headers: vec![],
    });
    // The password is asked after the confirmation, as the original does.
    plan.confirm(ctx, args.flag("confirmed"))?;
    let pwd = password(ctx, args)?;
    plan.entities[0].headers.push((PASSWORD_HEADER, pwd));
    plan.execute(ctx).await?;
    ctx.ui.json_empty();
    Ok(())
}
