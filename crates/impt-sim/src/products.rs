//! `/products`

use super::app::{no_content, ok, Ctx};
use super::error::{ApiError, ApiResult};
use super::jsonapi::{filter, filters, link, list_doc, page_of, parse_doc, resource};
use super::model::Product;
use super::util::{new_id, now_iso};
use axum::response::Response;
use serde_json::{json, Value};

pub fn doc(ctx: &Ctx, p: &Product) -> Value {
    resource(
        ctx,
        "product",
        &p.id,
        "products",
        json!({"name": p.name, "description": p.description, "created_at": p.created_at, "updated_at": p.updated_at}),
        &[
            ("owner", link("account", &p.owner)),
            ("creator", link("account", &p.creator)),
        ],
    )
}

fn duplicate() -> ApiError {
    ApiError::conflict(
        "CX001",
        "Duplicate Resource",
        "Products must have unique names.",
    )
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > 80 {
        return Err(ApiError::invalid_attr(
            "The attribute \"name\" must be 1 to 80 characters long.",
        ));
    }
    Ok(())
}

fn check_descr(d: &Option<String>) -> ApiResult<()> {
    if d.as_ref().is_some_and(|d| d.chars().count() > 255) {
        return Err(ApiError::invalid_attr(
            "The attribute \"description\" must be at most 255 characters long.",
        ));
    }
    Ok(())
}

pub fn handle(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    let id = ctx.segs.get(1).cloned();
    match (ctx.method.as_str(), id) {
        ("GET", None) => {
            let f = filters(ctx, &["owner.id"])?;
            let owner = filter(&f, "owner.id");
            let (page, links) = {
                let w = ctx.app.world();
                let mine: Vec<&Product> =
                    w.db.products
                        .iter()
                        .filter(|p| p.owner == me && owner.is_none_or(|o| o == p.owner))
                        .collect();
                let (page, links) = page_of(ctx, mine)?;
                (page.into_iter().cloned().collect::<Vec<_>>(), links)
            };
            list_doc(page.iter().map(|p| doc(ctx, p)).collect(), links)
        }
        ("POST", None) => {
            let d = parse_doc(ctx)?;
            if d.typ.as_deref() != Some("product") {
                return Err(ApiError::type_mismatch());
            }
            d.only(&["name", "description"])?;
            d.only_rels(&["owner"])?;
            if let Some((_, owner)) = d.rel("owner")? {
                if owner != me {
                    return Err(ApiError::not_found("account"));
                }
            }
            let name = d
                .str("name")?
                .ok_or_else(|| ApiError::invalid_attr("The attribute \"name\" is required."))?;
            check_name(&name)?;
            let descr = d.str("description")?;
            check_descr(&descr)?;
            let mut w = ctx.app.world();
            if w.db
                .products
                .iter()
                .any(|p| p.owner == me && p.name == name)
            {
                return Err(duplicate());
            }
            let now = now_iso();
            let p = Product {
                id: new_id(),
                owner: me.clone(),
                creator: me,
                name,
                description: descr.unwrap_or_default(),
                created_at: now.clone(),
                updated_at: now,
            };
            w.db.products.push(p.clone());
            ok(201, json!({"data": doc(ctx, &p)}))
        }
        ("GET", Some(id)) => {
            let w = ctx.app.world();
            let p =
                w.db.product(&me, &id)
                    .ok_or_else(|| ApiError::not_found("product"))?;
            ok(200, json!({"data": doc(ctx, p)}))
        }
        ("PATCH", Some(id)) => {
            let d = parse_doc(ctx)?;
            let mut w = ctx.app.world();
            if w.db.product(&me, &id).is_none() {
                return Err(ApiError::not_found("product"));
            }
            d.check_type_id("product", |i| i == id)?;
            d.only(&["name", "description"])?;
            let name = d.str("name")?;
            if let Some(n) = &name {
                check_name(n)?;
                if w.db
                    .products
                    .iter()
                    .any(|p| p.owner == me && &p.name == n && p.id != id)
                {
                    return Err(duplicate());
                }
            }
            let descr = d.str("description")?;
            check_descr(&descr)?;
            let p =
                w.db.products
                    .iter_mut()
                    .find(|p| p.id == id)
                    .ok_or_else(|| ApiError::not_found("product"))?;
            if let Some(n) = name {
                p.name = n;
            }
            if let Some(ds) = descr {
                p.description = ds;
            }
            p.updated_at = now_iso();
            let p = p.clone();
            ok(200, json!({"data": doc(ctx, &p)}))
        }
        ("DELETE", Some(id)) => {
            let mut w = ctx.app.world();
            if w.db.product(&me, &id).is_none() {
                return Err(ApiError::not_found("product"));
            }
            if w.db.groups.iter().any(|g| g.product == id) {
                return Err(ApiError::conflict(
                    "CX002",
                    "Dependent Devicegroups Exist",
                    "Cannot delete a product with associated devicegroups.",
                ));
            }
            w.db.products.retain(|p| p.id != id);
            no_content()
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
