//! The `-z json` result of a command that created or changed entities: one key per kind
//! (`"Deployment"`, `"Device"`, `"Device Group"`, …) with the entity's short data, and
//! `"Devices"` with the ids of the devices a command restarted or moved. Text output is not
//! affected: the result is printed in json mode only.

use serde_json::{json, Map, Value};

use super::display::short_body;
use super::CommandCtx;
use crate::api::id_of;
use crate::error::Entity;

/// A result being put together; [`Changed::print`] prints it.
#[derive(Default)]
pub struct Changed(Map<String, Value>);

impl Changed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `v` (an API entity object) under its kind's label.
    pub fn entity(mut self, entity: Entity, v: &Value) -> Self {
        if !id_of(v).is_empty() {
            self.0
                .insert(entity.label().into(), Value::Object(short_body(entity, v)));
        }
        self
    }

    /// Adds the ids of `devices` (API entity objects) under `"Devices"`.
    pub fn devices(mut self, devices: &[Value]) -> Self {
        let ids: Vec<&str> = devices.iter().map(id_of).collect();
        self.0.insert("Devices".into(), json!(ids));
        self
    }

    /// Prints the result in json mode (`{}` when nothing was added).
    pub fn print(self, ctx: &CommandCtx) {
        if ctx.ui.is_json() {
            ctx.ui.result(&Value::Object(self.0));
        }
    }
}

/// The entity in a PATCH/POST response body (`{"data": {...}}`), or `fallback` without one.
pub fn response_entity(body: Option<Value>, fallback: &Value) -> Value {
    body.and_then(|mut b| b.get_mut("data").map(Value::take))
        .filter(|d| d.is_object())
        .unwrap_or_else(|| fallback.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Mode, Ui};
    use std::sync::Arc;

    #[test]
    fn json_mode_prints_each_kind_and_text_mode_nothing() {
        let dep = json!({"id": "d1", "type": "deployment", "attributes": {"sha": "abc"}});
        let dev = json!({"id": "x1", "type": "device", "attributes": {"name": "n"}});
        let (ui, out) = Ui::buffered(Mode::Json, "");
        let ctx = CommandCtx::new(Arc::new(ui));
        Changed::new()
            .entity(Entity::Deployment, &dep)
            .devices(std::slice::from_ref(&dev))
            .print(&ctx);
        let v: Value = serde_json::from_str(&out.stdout()).unwrap();
        assert_eq!(v["Deployment"]["id"], "d1");
        assert_eq!(v["Devices"], json!(["x1"]));
        let (ui, out) = Ui::buffered(Mode::Default, "");
        let ctx = CommandCtx::new(Arc::new(ui));
        Changed::new().entity(Entity::Deployment, &dep).print(&ctx);
        assert_eq!(out.stdout(), "");
    }

    #[test]
    fn the_response_entity_wins_over_the_fallback() {
        let old = json!({"id": "p", "attributes": {"name": "old"}});
        let body = json!({"data": {"id": "p", "attributes": {"name": "new"}}});
        assert_eq!(
            response_entity(Some(body), &old)["attributes"]["name"],
            "new"
        );
        assert_eq!(response_entity(None, &old)["attributes"]["name"], "old");
    }
}
