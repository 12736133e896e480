//! `account info|list`.

use super::core::ident::find_full;
use super::core::options::{options, Opt};
use super::core::{print_info, print_list, CommandCtx};
use crate::error::{Entity, Result};

options! {
    /// Options of `account info`.
    pub struct InfoOpts {
        user: str = Opt::s("user", 'u', "ACCOUNT_IDENTIFIER", "The account (id, email or username). The current account when not given.").default("me"),
    }
}

options! {
    /// Options of `account list`.
    pub struct ListOpts {
    }
}

pub async fn info(ctx: &CommandCtx, o: &InfoOpts) -> Result<()> {
    let ident = o
        .user
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "me".into());
    let account = find_full(ctx, Entity::Account, &ident).await?;
    print_info(ctx, Entity::Account, &account).await
}

pub async fn list(ctx: &CommandCtx, _o: &ListOpts) -> Result<()> {
    let items = ctx.list_all(Entity::Account).await?;
    print_list(ctx, Entity::Account, items).await
}
