//! Entity identification as the original does it: `GET <collection>/<value>` first, then on a
//! 404 a search of the full list by the entity's identifying attributes (first attribute with
//! a match wins); `{account}{product}` and `{account}{product}{dg}` hierarchical forms; and
//! the Project file as the default source of the Device Group.

use serde_json::Value;

use super::CommandCtx;
use crate::api::{attr, id_of, rel_id};
use crate::error::{ConfigKind, Entity, ImptError, Result};

/// Attributes searched, in order, after a 404 on the id.
pub fn search_attrs(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Account => &["email", "username"],
        Entity::Product | Entity::DeviceGroup => &["name"],
        Entity::Device => &["mac_address", "agent_id", "name"],
        Entity::Deployment => &["sha", "tags", "origin"],
        Entity::LoginKey | Entity::Webhook => &[],
    }
}

fn matches_attr(v: &Value, name: &str, ident: &str) -> bool {
    match attr(v, name) {
        Some(Value::String(s)) => s == ident,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(ident)),
        _ => false,
    }
}

/// Splits `{a}{b}{c}` into its parts when it has `n` of them.
fn hierarchical(ident: &str, n: usize) -> Option<Vec<String>> {
    if !(ident.starts_with('{') && ident.ends_with('}')) || ident.len() < 2 {
        return None;
    }
    let parts: Vec<String> = ident[1..ident.len() - 1]
        .split("}{")
        .map(str::to_string)
        .collect();
    (parts.len() == n).then_some(parts)
}

/// Every entity the identifier names (no uniqueness check), from the listed data.
/// `scope` restricts to entities whose relationship `(name, id)` matches.
async fn search(
    ctx: &CommandCtx,
    entity: Entity,
    ident: &str,
    scope: Option<(&str, &str)>,
) -> Result<Vec<Value>> {
    let in_scope = |v: &Value| scope.is_none_or(|(rel, id)| rel_id(v, rel) == Some(id));
    if !ident.is_empty() {
        if let Some(v) = ctx.get(entity, ident).await? {
            if in_scope(&v) {
                return Ok(vec![v]);
            }
        }
    }
    let attrs = search_attrs(entity);
    if attrs.is_empty() || ident.is_empty() {
        return Ok(vec![]);
    }
    let all = match scope {
        Some((rel, id)) if entity != Entity::Account => {
            let filter = match rel {
                "owner" => "owner.id",
                "product" => "product.id",
                _ => rel,
            };
            ctx.list(entity, &[(filter, id.to_string())]).await?
        }
        _ => ctx.list_all(entity).await?,
    };
    for a in attrs {
        let found: Vec<Value> = all
            .iter()
            .filter(|v| in_scope(v) && matches_attr(v, a, ident))
            .cloned()
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(vec![])
}

fn unique(entity: Entity, ident: &str, mut found: Vec<Value>) -> Result<Value> {
    match found.len() {
        0 => Err(ImptError::NotFound {
            entity,
            ident: ident.to_string(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(ImptError::Multiple {
            entity,
            ident: Some(ident.to_string()),
            matches: found
                .iter()
                .map(|v| super::display::short(entity, v))
                .collect(),
        }),
    }
}

/// Resolves a hierarchical identifier level by level; `Ok(None)` when `ident` is not one.
async fn find_hierarchical(ctx: &CommandCtx, entity: Entity, ident: &str) -> Result<Option<Value>> {
    let n = match entity {
        Entity::Product => 2,
        Entity::DeviceGroup => 3,
        _ => return Ok(None),
    };
    let Some(parts) = hierarchical(ident, n) else {
        return Ok(None);
    };
    let levels = [Entity::Account, Entity::Product, Entity::DeviceGroup];
    if let Some(i) = parts.iter().position(String::is_empty) {
        return Err(ImptError::NoIdentifier(levels[i]));
    }
    // each level is looked for among the children of the one above it
    let parent_rel = [None, Some("owner"), Some("product")];
    let mut found: Option<Value> = None;
    for (i, part) in parts.iter().enumerate() {
        let scope = parent_rel[i].zip(found.as_ref().map(id_of));
        let v = unique(levels[i], part, search(ctx, levels[i], part, scope).await?)?;
        found = Some(v);
    }
    Ok(found)
}

/// Finds exactly one entity by identifier (not found / multiple are errors).
pub async fn find(ctx: &CommandCtx, entity: Entity, ident: &str) -> Result<Value> {
    match find_hierarchical(ctx, entity, ident).await {
        Ok(Some(v)) => return Ok(v),
        Ok(None) => {}
        // A failing hierarchical lookup is retried as a plain identifier; if that finds
        // nothing the level's error stands.
        Err(level_err) => {
            let found = search(ctx, entity, ident, None).await?;
            return if found.is_empty() {
                Err(level_err)
            } else {
                unique(entity, ident, found)
            };
        }
    }
    unique(entity, ident, search(ctx, entity, ident, None).await?)
}

/// Finds one entity and re-reads it with `GET` (for info-type commands that need all data).
pub async fn find_full(ctx: &CommandCtx, entity: Entity, ident: &str) -> Result<Value> {
    let v = find(ctx, entity, ident).await?;
    Ok(ctx.get(entity, id_of(&v)).await?.unwrap_or(v))
}

/// [`find_full`] when `full` (info-type commands), else [`find`].
pub async fn find_as(ctx: &CommandCtx, entity: Entity, ident: &str, full: bool) -> Result<Value> {
    if full {
        find_full(ctx, entity, ident).await
    } else {
        find(ctx, entity, ident).await
    }
}

/// Every entity an identifier names (filters of list commands): never a uniqueness error.
pub async fn find_all(ctx: &CommandCtx, entity: Entity, ident: &str) -> Result<Vec<Value>> {
    if hierarchical(ident, if entity == Entity::Product { 2 } else { 3 }).is_some()
        && matches!(entity, Entity::Product | Entity::DeviceGroup)
    {
        return Ok(vec![find(ctx, entity, ident).await?]);
    }
    search(ctx, entity, ident, None).await
}

/// The Device Group of a command: the option's value, or the Project file's group.
/// Returns the entity and the identifier to show in messages.
pub async fn dg_or_project(ctx: &CommandCtx, option: Option<String>) -> Result<(Value, String)> {
    if let Some(ident) = option.filter(|s| !s.is_empty()) {
        let v = find_full(ctx, Entity::DeviceGroup, &ident).await?;
        return Ok((v, ident));
    }
    let project = ctx
        .project()?
        .ok_or(ImptError::NoIdentifier(Entity::DeviceGroup))?;
    let id = project.device_group_id().unwrap_or_default().to_string();
    project_dg(ctx, &id).await.map(|v| (v, id))
}

/// The Device Group saved in the Project file (gone → the "does not exist anymore" error).
pub async fn project_dg(ctx: &CommandCtx, id: &str) -> Result<Value> {
    ctx.get(Entity::DeviceGroup, id)
        .await?
        .ok_or(ImptError::Outdated {
            entity: Entity::DeviceGroup,
            id: id.to_string(),
            config: ConfigKind::Project,
        })
}

/// The product of the option, else the product of the Project's Device Group.
pub async fn product_or_project(
    ctx: &CommandCtx,
    option: Option<String>,
    full: bool,
) -> Result<(Value, String)> {
    if let Some(ident) = option.filter(|s| !s.is_empty()) {
        let v = find_as(ctx, Entity::Product, &ident, full).await?;
        return Ok((v, ident));
    }
    if ctx.project()?.is_none() {
        return Err(ImptError::NoIdentifier(Entity::Product));
    }
    let (dg, _) = dg_or_project(ctx, None).await?;
    let pid = rel_id(&dg, "product").unwrap_or_default().to_string();
    Ok((ctx.get_existing(Entity::Product, &pid).await?, pid))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hierarchical_parts() {
        assert_eq!(
            hierarchical("{a}{b}", 2),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(hierarchical("{a}{b}", 3), None);
        assert_eq!(hierarchical("a}{b", 2), None);
        assert_eq!(hierarchical("{a}{b}{c}", 3).unwrap().len(), 3);
    }
}
