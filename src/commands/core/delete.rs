//! The delete flow shared by every delete: collect, summarize and confirm, then execute in
//! the original's order (unassign devices, unflag builds, delete entities by type, remove
//! devices, delete files, directories and config files).

use std::path::PathBuf;

use serde_json::{json, Value};

use super::display::{short, truncated};
use super::CommandCtx;
use crate::api::{encode_segment, id_of, rel_id};
use crate::error::{Entity, ImptError, Result};

/// One entity to delete.
pub struct Doomed {
    pub entity: Entity,
    pub data: Value,
    /// How messages name it.
    pub ident: String,
    /// Extra request headers (the password of login keys).
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Default)]
pub struct DeletePlan {
    pub entities: Vec<Doomed>,
    pub unassign: Vec<Value>,
    pub remove: Vec<(Value, String)>,
    pub unflag: Vec<Value>,
    /// How messages name builds to unflag, when not by id: (id, identifier).
    pub unflag_idents: Vec<(String, String)>,
    pub files: Vec<String>,
    /// (label, directory), e.g. ("Builder cache", ".builder-cache").
    pub dirs: Vec<(String, String)>,
    /// (summary line, done message, path).
    pub configs: Vec<(String, String, PathBuf)>,
}

const ORDER: [Entity; 7] = [
    Entity::Product,
    Entity::DeviceGroup,
    Entity::Device,
    Entity::Deployment,
    Entity::LoginKey,
    Entity::Account,
    Entity::Webhook,
];
const EXEC_ORDER: [Entity; 7] = [
    Entity::DeviceGroup,
    Entity::Product,
    Entity::Device,
    Entity::Deployment,
    Entity::LoginKey,
    Entity::Account,
    Entity::Webhook,
];

fn push_unique(list: &mut Vec<Value>, v: Value) {
    if !list.iter().any(|x| id_of(x) == id_of(&v)) {
        list.push(v);
    }
}

impl DeletePlan {
    pub fn entity(&mut self, entity: Entity, data: Value, ident: impl Into<String>) {
        if self
            .entities
            .iter()
            .any(|d| d.entity == entity && id_of(&d.data) == id_of(&data))
        {
            return;
        }
        self.entities.push(Doomed {
            entity,
            data,
            ident: ident.into(),
            headers: vec![],
        });
    }
    pub fn unassign(&mut self, device: Value) {
        push_unique(&mut self.unassign, device);
    }
    pub fn unflag(&mut self, build: Value) {
        push_unique(&mut self.unflag, build);
    }
    /// Like [`unflag`](Self::unflag), naming the build by the identifier the user gave.
    pub fn unflag_named(&mut self, build: Value, ident: &str) {
        self.unflag_idents
            .push((id_of(&build).to_string(), ident.to_string()));
        self.unflag(build);
    }

    /// Adds a Device Group with what `--force` deletion needs: its devices to unassign and
    /// its flagged builds to unflag; with `builds`, all its builds are deleted too.
    pub async fn add_dg_forced(
        &mut self,
        ctx: &CommandCtx,
        dg: &Value,
        ident: &str,
        builds: bool,
    ) -> Result<()> {
        self.entity(Entity::DeviceGroup, dg.clone(), ident);
        let id = id_of(dg).to_string();
        for d in ctx
            .list(Entity::Device, &[("devicegroup.id", id.clone())])
            .await?
        {
            self.unassign(d);
        }
        let deps = ctx
            .list(Entity::Deployment, &[("devicegroup.id", id)])
            .await?;
        for b in deps {
            if crate::api::attr(&b, "flagged").and_then(Value::as_bool) == Some(true) {
                self.unflag(b.clone());
            }
            if builds {
                let bid = id_of(&b).to_string();
                self.entity(Entity::Deployment, b, bid);
            }
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.entities.is_empty()
            && self.unassign.is_empty()
            && self.remove.is_empty()
            && self.unflag.is_empty()
            && self.files.is_empty()
            && self.dirs.is_empty()
            && self.configs.is_empty()
    }

    fn print_list(ctx: &CommandCtx, entity: Entity, items: &[Value]) {
        let shown: Vec<Value> = items.iter().map(|v| short(entity, v)).collect();
        let (head, more) = truncated(&shown, entity.label());
        ctx.ui.dialog_value(&head);
        if let Some(m) = more {
            ctx.ui.dialog(&m);
        }
    }

    /// Prints the summary and asks (unless confirmed).
    pub fn confirm(&self, ctx: &CommandCtx, confirmed: bool) -> Result<()> {
        if confirmed || self.is_empty() {
            return Ok(());
        }
        if !self.entities.is_empty() {
            ctx.ui.dialog("The following entities will be deleted:");
            for kind in ORDER {
                let items: Vec<Value> = self
                    .entities
                    .iter()
                    .filter(|d| d.entity == kind)
                    .map(|d| d.data.clone())
                    .collect();
                if !items.is_empty() {
                    Self::print_list(ctx, kind, &items);
                }
            }
            ctx.ui.dialog("");
        }
        if !self.unassign.is_empty() {
            ctx.ui
                .dialog("The following Devices will be unassigned from Device Groups:");
            Self::print_list(ctx, Entity::Device, &self.unassign);
            ctx.ui.dialog("");
        }
        if !self.remove.is_empty() {
            ctx.ui
                .dialog("The following Devices will be removed from the account:");
            let items: Vec<Value> = self.remove.iter().map(|(d, _)| d.clone()).collect();
            Self::print_list(ctx, Entity::Device, &items);
            ctx.ui.dialog("");
        }
        if !self.unflag.is_empty() {
            ctx.ui.dialog("The following Deployments are marked \"flagged\" to prevent deleting. They will be modified by setting \"flagged\" attribute to false:");
            Self::print_list(ctx, Entity::Deployment, &self.unflag);
            ctx.ui.dialog("");
        }
        if !self.files.is_empty() {
            ctx.ui.dialog("The following files will be deleted:");
            ctx.ui
                .dialog_value(&json!({ "Device/agent source files": self.files }));
            ctx.ui.dialog("");
        }
        for (label, dir) in &self.dirs {
            ctx.ui
                .dialog(&format!("{label} {dir} directory will be deleted."));
        }
        for (line, _, _) in &self.configs {
            ctx.ui.dialog(line);
        }
        ctx.ui.confirm(None)
    }

    /// Runs the plan.
    pub async fn execute(&self, ctx: &CommandCtx) -> Result<()> {
        let client = ctx.client().await?;
        for d in &self.unassign {
            let id = id_of(d);
            let Some(dg) = rel_id(d, "devicegroup") else {
                ctx.ui
                    .info(&format!("Device \"{id}\" is already unassigned."));
                continue;
            };
            let body = impt_wire::requests::devices(&[id]);
            match client
                .request(
                    reqwest::Method::DELETE,
                    &format!("/devicegroups/{}/relationships/devices", encode_segment(dg)),
                    &[],
                    Some(&body),
                    &[],
                )
                .await
            {
                Ok(_) => ctx
                    .ui
                    .info(&format!("Device \"{id}\" is unassigned successfully.")),
                Err(ImptError::Api(e)) if e.all_items_not_found() || e.status == 404 => ctx
                    .ui
                    .info(&format!("Device \"{id}\" is already unassigned.")),
                Err(e) => return Err(e),
            }
        }
        for b in &self.unflag {
            let id = id_of(b);
            let body = impt_wire::requests::unflag_deployment(id);
            client
                .patch(&format!("/deployments/{}", encode_segment(id)), &body)
                .await?;
            let shown = self
                .unflag_idents
                .iter()
                .find(|(i, _)| i == id)
                .map_or(id, |(_, n)| n.as_str());
            ctx.ui
                .info(&format!("Deployment \"{shown}\" is updated successfully."));
        }
        // Device groups that have targets go first, so their targets can be deleted after.
        let mut doomed: Vec<&Doomed> = Vec::new();
        for kind in EXEC_ORDER {
            let mut of_kind: Vec<&Doomed> =
                self.entities.iter().filter(|d| d.entity == kind).collect();
            if kind == Entity::DeviceGroup {
                of_kind.sort_by_key(|d| {
                    !(rel_id(&d.data, "production_target").is_some()
                        || rel_id(&d.data, "dut_target").is_some())
                });
            }
            doomed.extend(of_kind);
        }
        for d in doomed {
            let path = format!(
                "{}/{}",
                d.entity.collection(),
                encode_segment(id_of(&d.data))
            );
            let headers: Vec<(&str, String)> =
                d.headers.iter().map(|(k, v)| (*k, v.clone())).collect();
            match client
                .request(reqwest::Method::DELETE, &path, &[], None, &headers)
                .await
            {
                Ok(_) => ctx.ui.info(&format!(
                    "{} \"{}\" is deleted successfully.",
                    d.entity.label(),
                    d.ident
                )),
                Err(ImptError::Api(e)) if e.status == 404 => ctx.ui.info(&format!(
                    "{} \"{}\" is already deleted.",
                    d.entity.label(),
                    d.ident
                )),
                Err(e) => return Err(e),
            }
        }
        for (d, ident) in &self.remove {
            client
                .delete(&format!("/devices/{}", encode_segment(id_of(d))))
                .await?;
            ctx.ui
                .info(&format!("Device \"{ident}\" is removed successfully."));
        }
        ctx.invalidate();
        if !self.files.is_empty() {
            for f in &self.files {
                std::fs::remove_file(f).map_err(|e| ImptError::File {
                    file: f.clone(),
                    msg: e.to_string(),
                })?;
            }
            let names: Vec<String> = self.files.iter().map(|f| format!("\"{f}\"")).collect();
            ctx.ui.info(&format!(
                "Device/agent source files {} are deleted successfully.",
                names.join(", ")
            ));
        }
        for (label, dir) in &self.dirs {
            std::fs::remove_dir_all(dir).map_err(|e| ImptError::File {
                file: dir.clone(),
                msg: e.to_string(),
            })?;
            ctx.ui
                .info(&format!("{label} {dir} directory is deleted successfully."));
        }
        for (_, done, path) in &self.configs {
            // A referenced file that is already gone was reported as "not found".
            if !path.exists() {
                continue;
            }
            std::fs::remove_file(path).map_err(|e| ImptError::File {
                file: path.display().to_string(),
                msg: e.to_string(),
            })?;
            ctx.ui.info(done);
        }
        Ok(())
    }

    /// Confirm then execute; prints `{}` in json mode.
    pub async fn run(&self, ctx: &CommandCtx, confirmed: bool) -> Result<()> {
        self.confirm(ctx, confirmed)?;
        self.execute(ctx).await?;
        ctx.ui.json_empty();
        Ok(())
    }
}
