//! Filtered lists: identifiers of filter options are resolved leniently to ids, server-side
//! filters are sent as the cartesian product of their values (one list request each).

use serde_json::Value;

use super::display::list_attrs;
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
/// left means an empty result. Results are concatenated without de-duplication. For a list
/// command: of the items' attributes only those its list shows are kept.
pub async fn list(ctx: &CommandCtx, entity: Entity, filters: &[Filter]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    list_each(ctx, entity, filters, &mut |items| out.extend(items)).await?;
    Ok(out)
}

/// [`list`] given to `each` page by page as the pages arrive (see
/// [`CommandCtx::list_shown`]).
pub async fn list_each(
    ctx: &CommandCtx,
    entity: Entity,
    filters: &[Filter],
    each: &mut (dyn FnMut(Vec<Value>) + Send),
) -> Result<()> {
    if filters.iter().any(|f| f.values.is_empty()) {
        return Ok(());
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
    for c in combos {
        ctx.list_shown(entity, &c, list_attrs(entity), each).await?;
    }
    Ok(())
}

/// Adds a filter when the option was given.
async fn add_filter(
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

/// The `--owner`, `--product` and `--dg` filters of the builds' and the devices' lists.
pub async fn owner_product_dg(
    ctx: &CommandCtx,
    owner: &[String],
    product: &[String],
    dg: &[String],
) -> Result<Vec<Filter>> {
    id_filters(
        ctx,
        &[
            (owner, "owner.id", Entity::Account),
            (product, "product.id", Entity::Product),
            (dg, "devicegroup.id", Entity::DeviceGroup),
        ],
    )
    .await
}

/// A pair of opposite flags (`--assigned`/`--unassigned`): `Some(true)` when only the first
/// is given, `Some(false)` when only the second, `None` for neither or both (no filter).
pub fn either(first: bool, second: bool) -> Option<bool> {
    (first != second).then_some(first)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_of_opposite_flags_filters_only_when_one_is_given() {
        assert_eq!(either(true, false), Some(true));
        assert_eq!(either(false, true), Some(false));
        assert_eq!(either(false, false), None);
        assert_eq!(either(true, true), None);
    }

    #[test]
    fn dg_types_are_sent_as_api_types() {
        let f = dg_type_filter(&["pre-factory".into(), "development".into()], "type").unwrap();
        assert_eq!(f.name, "type");
        assert_eq!(
            f.values,
            ["pre_factoryfixture_devicegroup", "development_devicegroup"]
        );
        assert!(dg_type_filter(&[], "type").is_none());
    }
}
