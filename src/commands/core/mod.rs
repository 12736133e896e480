//! What the command groups share: the run context, parsed arguments, identification of
//! entities, listing filters, display data, the delete flow, Device Group creation and
//! targets, device changes, restarts, log streaming and the common result lines. A group
//! file (`commands/<group>.rs`) imports only this module, never a sibling; so do `watch` and
//! `test`.

pub mod args;
pub mod auth_info;
pub mod context;
pub mod delete;
pub mod devices;
pub mod display;
pub mod ident;
pub mod listing;
pub mod restart;
pub mod stream;
pub mod targets;

pub use args::Args;
pub use context::Ctx;

use serde_json::Value;

use crate::error::{Entity, Result};

/// Prints a list result: header (or "No …s are found.") and the items' list data.
pub async fn print_list(ctx: &Ctx, entity: Entity, items: &[Value]) -> Result<()> {
    let data = display::list_items(ctx, entity, items).await?;
    if items.is_empty() {
        ctx.ui.info(&format!("No {}s are found.", entity.label()));
    } else {
        ctx.ui
            .info(&format!("{} list ({} items):", entity.label(), items.len()));
    }
    if ctx.ui.is_json() || !items.is_empty() {
        ctx.ui.result(&data);
    }
    Ok(())
}

/// `<Type> "<ident>" is created successfully.` then the short data.
pub fn print_created(ctx: &Ctx, entity: Entity, ident: &str, data: &Value) {
    ctx.ui.info(&format!(
        "{} \"{ident}\" is created successfully.",
        entity.label()
    ));
    ctx.ui.result(&display::short(entity, data));
}

/// `<Type> "<ident>" is updated successfully.` (json: `{}`).
pub fn print_updated(ctx: &Ctx, entity: Entity, ident: &str) {
    ctx.ui.info(&format!(
        "{} \"{ident}\" is updated successfully.",
        entity.label()
    ));
    ctx.ui.json_empty();
}
