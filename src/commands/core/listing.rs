//! Filtered lists: identifiers of filter options are resolved leniently to ids, server-side
//! filters are sent as the cartesian product of their values (one list request each).

use serde_json::Value;

use super::ident::find_all;
use super::CommandCtx;
use crate::api::id_of;
use crate::error::{Entity, ImptError, Result};

/// A server-side filter: the `filter[...]` name and its candidate values.
pub struct Filter {
    pub name: &'static str,
    pub values: Vec<String>,
}

/// Resolves each identifier to the ids of every matching entity. An empty identifier falls
/// back to the Project file (`fallback`) or fails with "No … Identifier is specified.".
pub async fn resolve_ids(
    ctx: &CommandCtx,
    entity: Entity,
    idents: &[String],
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for i in idents {
        if i.is_empty() {
            let id = match entity {
                Entity::DeviceGroup if ctx.project()?.is_some() => {
                    id_of(&super::ident::dg_or_project(ctx, None).await?.0).to_string()
                }
                Entity::Product if ctx.project()?.is_some() => {
                    id_of(&super::ident::product_or_project(ctx, None, false).await?.0).to_string()
                }
                _ => return Err(ImptError::NoIdentifier(entity)),
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
            continue;
        }
        for v in find_all(ctx, entity, i).await? {
            let id = id_of(&v).to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Lists `entity` with every combination of the filters' values; a filter with no value
/// left means an empty result. Results are concatenated without de-duplication.
pub async fn list(ctx: &CommandCtx, entity: Entity, filters: &[Filter]) -> Result<Vec<Value>> {
    if filters.iter().any(|f| f.values.is_empty()) {
        return Ok(vec![]);
    }
    let mut combos: Vec<Vec<(&str, String)>> = vec![vec![]];
    for f in filters {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                f.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((f.name, v.clone()));
                    c
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for c in combos {
        if c.is_empty() {
            out.extend(ctx.list_all(entity).await?);
        } else {
            out.extend(ctx.list(entity, &c).await?);
        }
    }
    Ok(out)
}

/// Adds a filter when the option was given.
pub async fn add_filter(
    ctx: &CommandCtx,
    filters: &mut Vec<Filter>,
    name: &'static str,
    entity: Entity,
    idents: Vec<String>,
) -> Result<()> {
    if !idents.is_empty() {
        filters.push(Filter {
            name,
            values: resolve_ids(ctx, entity, &idents).await?,
        });
    }
    Ok(())
}

/// The identifier filters of a list command: `(option values, filter name, entity)` for
/// each option the command has; options not given add nothing.
pub async fn id_filters(
    ctx: &CommandCtx,
    specs: &[(&[String], &'static str, Entity)],
) -> Result<Vec<Filter>> {
    let mut filters = Vec::new();
    for (values, name, entity) in specs {
        add_filter(ctx, &mut filters, name, *entity, values.to_vec()).await?;
    }
    Ok(filters)
}

/// The API types of the `--dg-type` values.
pub fn dg_types(dg_type: &[String]) -> Vec<String> {
    dg_type
        .iter()
        .filter_map(|t| impt_wire::types::dg_api_type(t))
        .map(str::to_string)
        .collect()
}

/// `--dg-type` as a server-side filter named `name`, when given.
pub fn dg_type_filter(dg_type: &[String], name: &'static str) -> Option<Filter> {
    (!dg_type.is_empty()).then(|| Filter {
        name,
        values: dg_types(dg_type),
    })
}
