//! `account info|list`.

use super::core::ident::find_full;
use super::core::{display, print_list, Args, Ctx};
use crate::error::{Entity, Result};

pub async fn info(ctx: &Ctx, args: &Args) -> Result<()> {
    let ident = args
        .str("user")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "me".into());
    let account = find_full(ctx, Entity::Account, &ident).await?;
    let data = display::info(ctx, Entity::Account, &account).await?;
    ctx.ui.result(&data);
    Ok(())
}

pub async fn list(ctx: &Ctx, _args: &Args) -> Result<()> {
    let items = ctx.list_all(Entity::Account).await?;
    print_list(ctx, Entity::Account, &items).await
}
