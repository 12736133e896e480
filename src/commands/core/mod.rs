//! What the command groups share: the run context, parsed arguments, identification of
//! entities, listing filters, display data, the delete flow, Device Group creation and
//! targets, device changes, restarts, log streaming and the common result lines. A group
//! file (`commands/<group>.rs`) imports only this module, never a sibling; so do `watch` and
//! `test`.

pub mod args;
pub mod auth_info;
pub mod changed;
pub mod context;
pub mod delete;
pub mod devices;
pub mod display;
pub mod errmap;
pub mod ident;
pub mod interrupt;
pub mod js_json;
pub mod listing;
pub mod options;
pub mod precheck;
pub mod restart;
pub mod seen;
pub mod stream;
pub mod targets;

pub use args::Args;
pub use changed::{response_entity, Changed};
pub use context::CommandCtx;

use serde_json::Value;

use crate::error::{Entity, Result};

/// Prints a list result: header (or "No …s are found.") and the items' list data.
/// The items are given up: their shown attributes are moved into the list data.
pub async fn print_list(ctx: &CommandCtx, entity: Entity, items: Vec<Value>) -> Result<()> {
    let mut rows = display::Rows::new(entity);
    rows.take(items);
    print_rows(ctx, rows).await
}

/// [`print_list`] of rows made as the list arrived (see [`listing::list_each`]).
pub async fn print_rows(ctx: &CommandCtx, rows: display::Rows) -> Result<()> {
    let entity = rows.entity();
    let count = rows.count();
    let data = rows.data(ctx).await?;
    if count == 0 {
        ctx.ui.info(&format!("No {}s are found.", entity.label()));
    } else {
        ctx.ui
            .info(&format!("{} list ({count} items):", entity.label()));
    }
    if ctx.ui.is_json() || count != 0 {
        ctx.ui.result(&data);
    }
    Ok(())
}

/// Prints an entity's info data (`<group> info`).
pub async fn print_info(ctx: &CommandCtx, entity: Entity, item: &Value) -> Result<()> {
    ctx.ui.result(&display::info(ctx, entity, item).await?);
    Ok(())
}

/// `<Type> "<ident>" is created successfully.` then the short data.
pub fn print_created(ctx: &CommandCtx, entity: Entity, ident: &str, data: &Value) {
    ctx.ui.info(&format!(
        "{} \"{ident}\" is created successfully.",
        entity.label()
    ));
    ctx.ui.result(&display::short(entity, data));
}

/// Updates entity `old` with `body` (an update document of `impt_wire::requests`), forgets
/// what the context cached, and prints [`print_updated`] with the entity the server answers.
pub async fn update_entity(
    ctx: &CommandCtx,
    entity: Entity,
    old: &Value,
    ident: &str,
    body: &Value,
) -> Result<()> {
    let changed = ctx
        .client()
        .await?
        .patch_entity(entity, crate::api::id_of(old), body)
        .await?;
    ctx.invalidate();
    print_updated(ctx, entity, ident, &response_entity(changed, old));
    Ok(())
}

/// `<Type> "<ident>" is updated successfully.` (json: the updated entity's short data).
pub fn print_updated(ctx: &CommandCtx, entity: Entity, ident: &str, updated: &Value) {
    ctx.ui.info(&format!(
        "{} \"{ident}\" is updated successfully.",
        entity.label()
    ));
    Changed::new().entity(entity, updated).print(ctx);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::output::{Captured, Mode, Ui};

    fn ctx(mode: Mode, input: &str) -> (CommandCtx, Captured) {
        let (ui, out) = Ui::buffered(mode, input);
        (CommandCtx::new(Arc::new(ui)), out)
    }

    fn run<F: std::future::Future>(f: F) -> F::Output {
        crate::sync::runtime(Some(1)).unwrap().block_on(f)
    }

    #[test]
    fn an_empty_list_says_so_in_text_and_is_an_empty_array_in_json() {
        let (c, out) = ctx(Mode::Default, "");
        run(print_list(&c, Entity::Product, vec![])).unwrap();
        assert_eq!(out.stdout(), "No Products are found.\n");
        let (c, out) = ctx(Mode::Json, "");
        run(print_list(&c, Entity::Webhook, vec![])).unwrap();
        assert_eq!(out.stdout(), "[]\n");
        let (c, out) = ctx(Mode::Minimal, "");
        run(print_list(&c, Entity::Device, vec![])).unwrap();
        assert_eq!(out.stdout(), "");
    }

    #[test]
    fn rows_made_page_by_page_print_as_the_whole_list_does() {
        let items: Vec<serde_json::Value> = (0..7)
            .map(|i| {
                json!({"type": "device", "id": format!("d{i}"), "attributes": {
                    "name": if i % 2 == 0 { json!(format!("n{i}")) } else { json!(null) },
                    "agent_id": "", "mac_address": format!("m{i}"), "device_online": i % 3 == 0,
                    "swversion": "not shown"}})
            })
            .collect();
        let (c, whole) = ctx(Mode::Default, "");
        run(print_list(&c, Entity::Device, items.clone())).unwrap();
        let (c, paged) = ctx(Mode::Default, "");
        let mut rows = display::Rows::new(Entity::Device);
        let mut items = items;
        let rest = items.split_off(3);
        rows.take(items);
        rows.take(rest);
        run(print_rows(&c, rows)).unwrap();
        assert_eq!(paged.stdout(), whole.stdout());
        assert!(
            whole.stdout().contains("Device list (7 items):"),
            "{}",
            whole.stdout()
        );
        assert!(whole.stdout().contains("d6") && whole.stdout().contains("m6"));
        assert!(!whole.stdout().contains("swversion"));
        assert!(!whole.stdout().contains("agent_id"));
    }

    /// What `print` writes in json mode, parsed.
    fn json_printed(print: impl FnOnce(&CommandCtx)) -> serde_json::Value {
        let (c, out) = ctx(Mode::Json, "");
        print(&c);
        serde_json::from_str(&out.stdout()).unwrap()
    }

    #[test]
    fn created_prints_the_message_then_the_short_data() {
        let product = json!({"type": "product", "id": "p-1",
            "attributes": {"name": "lamp", "description": "", "created_at": "x"}});
        let (c, out) = ctx(Mode::Default, "");
        print_created(&c, Entity::Product, "lamp", &product);
        let text = out.stdout();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("Product \"lamp\" is created successfully.")
        );
        assert!(text.contains("p-1"), "{text}");
        assert!(text.contains("lamp"), "{text}");
        let doc = json_printed(|c| print_created(c, Entity::Product, "lamp", &product));
        assert_eq!(doc["Product"]["id"], "p-1");
    }

    #[test]
    fn updated_is_a_line_in_text_and_the_entity_in_json() {
        let dg = serde_json::json!({"id": "dg-1", "type": "development_devicegroup", "attributes": {"name": "dg"}});
        let (c, out) = ctx(Mode::Default, "");
        print_updated(&c, Entity::DeviceGroup, "dg", &dg);
        assert_eq!(
            out.stdout(),
            "Device Group \"dg\" is updated successfully.\n"
        );
        let doc = json_printed(|c| print_updated(c, Entity::DeviceGroup, "dg", &dg));
        assert_eq!(doc["Device Group"]["id"], "dg-1");
    }

    #[test]
    fn confirmation_asks_again_until_y_or_n() {
        let (c, out) = ctx(Mode::Default, "maybe\ny\n");
        c.ui.confirm(Some("Device Group \"dg\" will be deleted."))
            .unwrap();
        assert_eq!(
            out.stdout(),
            "Device Group \"dg\" will be deleted.\nAre you sure you want to continue?\n\
             Enter 'y' (yes) or 'n' (no): Invalid value!\nEnter 'y' (yes) or 'n' (no): \n"
        );
        let (c, _) = ctx(Mode::Default, "n\n");
        assert!(matches!(
            c.ui.confirm(None),
            Err(crate::error::ImptError::Canceled)
        ));
        // No answer at all (end of input) cancels too.
        let (c, _) = ctx(Mode::Default, "");
        assert!(c.ui.confirm(None).is_err());
    }

    #[test]
    fn errors_are_printed_with_the_failure_line() {
        let (c, out) = ctx(Mode::Default, "");
        c.ui.error(&crate::error::ImptError::NoIdentifier(Entity::Device));
        c.ui.fails();
        let text = out.stdout();
        assert!(text.starts_with("Error: "), "{text}");
        assert!(text.ends_with("IMPT COMMAND FAILS\n"), "{text}");
        let (c, out) = ctx(Mode::Json, "");
        c.ui.error(&crate::error::ImptError::msg("boom"));
        c.ui.fails();
        assert_eq!(out.stdout(), "{\n  \"Error\": \"boom\"\n}\n");
    }
}
