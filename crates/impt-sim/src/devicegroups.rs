//! `/devicegroups`, their restarts and relationship endpoints.

use super::app::{no_content, ok, Ctx, World};
use super::error::{error_object, ApiError, ApiResult};
use super::jsonapi::{
    filter, filters, link, list_doc, opt_link, page_of, parse_doc, resource, InDoc,
};
use super::model::{is_dg_type, is_production_type, target_types, Group};
use super::util::{new_id, now_iso};
use super::{runner, vdev};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

pub fn doc(ctx: &Ctx, w: &World, g: &Group) -> Value {
    let mut attrs = json!({
        "name": g.name,
        "description": g.description,
        "region": g.region,
        "env_vars": g.env_vars,
        "created_at": g.created_at,
        "updated_at": g.updated_at,
    });
    if is_production_type(&g.gtype) {
        attrs["load_code_after_blessing"] = g.load_code_after_blessing.unwrap_or(true).into();
    }
    let typed = |id: &Option<String>| {
        id.as_ref()
            .and_then(|i| w.db.group_type(i).map(|t| (t.to_string(), i.clone())))
    };
    resource(
        ctx,
        &g.gtype,
        &g.id,
        "devicegroups",
        attrs,
        &[
            ("product", link("product", &g.product)),
            ("owner", link("account", &g.owner)),
            ("creator", link("account", &g.creator)),
            (
                "current_deployment",
                opt_link("deployment", &g.current_deployment),
            ),
            (
                "min_supported_deployment",
                opt_link("deployment", &g.min_supported_deployment),
            ),
            ("production_target", typed(&g.production_target)),
            ("dut_target", typed(&g.dut_target)),
        ],
    )
}

fn duplicate() -> ApiError {
    ApiError::conflict(
        "CX001",
        "Duplicate Resource",
        "Devicegroups must have unique names.",
    )
}

fn check_env_vars(v: &Value) -> ApiResult<Map<String, Value>> {
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_attr("The attribute \"env_vars\" must be an object."))?;
    for (k, val) in o {
        let good_key = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !good_key {
            return Err(ApiError::invalid_attr(&format!(
                "The env_vars key \"{k}\" must be alphanumeric and start with a letter."
            )));
        }
        if !(val.is_string() || val.is_number()) {
            return Err(ApiError::invalid_attr(&format!(
                "The env_vars value of \"{k}\" must be a string or a number."
            )));
        }
    }
    Ok(o.clone())
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > 80 {
        return Err(ApiError::invalid_attr(
            "The attribute \"name\" must be 1 to 80 characters long.",
        ));
    }
    Ok(())
}

/// Validate `production_target`/`dut_target` of a fixture group of type `gtype`.
fn resolve_targets(
    w: &World,
    me: &str,
    d: &InDoc,
    gtype: &str,
    product: &str,
    required: bool,
) -> ApiResult<(Option<String>, Option<String>)> {
    let pt = d.rel("production_target")?;
    let dt = d.rel("dut_target")?;
    let Some((want_p, want_d)) = target_types(gtype) else {
        if pt.is_some() || dt.is_some() {
            return Err(ApiError::invalid_attr(
                "Only factory fixture device groups have production_target and dut_target.",
            ));
        }
        return Ok((None, None));
    };
    // A dut_target is optional: the Development Guide's factory example creates a
    // pre-factory group with only a production_target.
    if required && pt.is_none() {
        return Err(ApiError::invalid_attr(
            "Factory fixture device groups require a production_target.",
        ));
    }
    let check = |t: Option<(Option<String>, String)>,
                 want: &str,
                 what: &str|
     -> ApiResult<Option<String>> {
        let Some((typ, id)) = t else { return Ok(None) };
        let g =
            w.db.group(me, &id)
                .ok_or_else(|| ApiError::not_found("device group"))?;
        if g.gtype != want || typ.as_deref().is_some_and(|t| t != want) {
            return Err(ApiError::invalid_attr(&format!(
                "The {what} must be a {want}."
            )));
        }
        if g.product != product {
            return Err(ApiError::invalid_attr(&format!(
                "The {what} must belong to the same product."
            )));
        }
        Ok(Some(id))
    };
    Ok((
        check(pt, want_p, "production_target")?,
        check(dt, want_d, "dut_target")?,
    ))
}

pub fn handle(ctx: &Ctx) -> ApiResult<Response> {
    let me = ctx.account()?;
    let id = ctx.segs.get(1).cloned();
    match (ctx.method.as_str(), id, ctx.segs.len()) {
        ("GET", None, _) => list_groups(ctx, &me),
        ("POST", None, _) => create(ctx, &me),
        ("GET", Some(id), 2) => {
            let w = ctx.app.world();
            let g =
                w.db.group(&me, &id)
                    .ok_or_else(|| ApiError::not_found("device group"))?;
            ok(200, json!({"data": doc(ctx, &w, g)}))
        }
        ("PATCH", Some(id), 2) => update(ctx, &me, &id),
        ("DELETE", Some(id), 2) => delete(ctx, &me, &id),
        ("POST", Some(id), 3) => restart(ctx, &me, &id),
        (m, Some(id), 4) if ctx.seg(3) == "devices" => match m {
            "POST" => assign(ctx, &me, &id),
            "DELETE" => unassign(ctx, &me, &id),
            _ => Err(ApiError::method_not_allowed()),
        },
        ("PUT", Some(id), 4) => min_supported(ctx, &me, &id),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn list_groups(ctx: &Ctx, me: &str) -> ApiResult<Response> {
    let f = filters(ctx, &["owner.id", "product.id", "type"])?;
    if let Some(t) = filter(&f, "type") {
        if !is_dg_type(t) {
            return Err(ApiError::new(
                400,
                "VX003",
                "Invalid Filter",
                &format!("\"{t}\" is not a device group type."),
            ));
        }
    }
    let (data, links) = {
        let w = ctx.app.world();
        let mine: Vec<&Group> =
            w.db.groups
                .iter()
                .filter(|g| g.owner == me)
                .filter(|g| filter(&f, "owner.id").is_none_or(|v| v == g.owner))
                .filter(|g| filter(&f, "product.id").is_none_or(|v| v == g.product))
                .filter(|g| filter(&f, "type").is_none_or(|v| v == g.gtype))
                .collect();
        let (page, links) = page_of(ctx, mine)?;
        let data: Vec<Value> = page.into_iter().map(|g| doc(ctx, &w, g)).collect();
        (data, links)
    };
    list_doc(data, links)
}

fn create(ctx: &Ctx, me: &str) -> ApiResult<Response> {
    let d = parse_doc(ctx)?;
    let gtype = d.typ.clone().unwrap_or_default();
    if !is_dg_type(&gtype) {
        return Err(ApiError::invalid_attr(&format!(
            "\"{gtype}\" is not a device group type."
        )));
    }
    d.only(&[
        "name",
        "description",
        "env_vars",
        "region",
        "load_code_after_blessing",
    ])?;
    d.only_rels(&["product", "production_target", "dut_target", "owner"])?;
    let name = d
        .str("name")?
        .ok_or_else(|| ApiError::invalid_attr("The attribute \"name\" is required."))?;
    check_name(&name)?;
    let descr = d.str("description")?.unwrap_or_default();
    let region = d.str("region")?;
    let lcab = d.bool("load_code_after_blessing")?;
    if !is_production_type(&gtype) && (region.is_some() || lcab.is_some()) {
        return Err(ApiError::invalid_attr(
            "region and load_code_after_blessing apply only to production and pre-production device groups.",
        ));
    }
    let env_vars = match d.attrs.get("env_vars") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => check_env_vars(v)?,
    };
    let (_, product) = d
        .rel("product")?
        .ok_or_else(|| ApiError::invalid_attr("The relationship \"product\" is required."))?;
    let mut w = ctx.app.world();
    if w.db.product(me, &product).is_none() {
        return Err(ApiError::not_found("product"));
    }
    let (pt, dt) = resolve_targets(&w, me, &d, &gtype, &product, true)?;
    if w.db
        .groups
        .iter()
        .any(|g| g.product == product && g.name == name)
    {
        return Err(duplicate());
    }
    let now = now_iso();
    let g = Group {
        id: new_id(),
        gtype: gtype.clone(),
        product,
        owner: me.to_string(),
        creator: me.to_string(),
        name,
        description: descr,
        region,
        env_vars,
        load_code_after_blessing: if is_production_type(&gtype) {
            Some(lcab.unwrap_or(true))
        } else {
            None
        },
        current_deployment: None,
        min_supported_deployment: None,
        production_target: pt,
        dut_target: dt,
        created_at: now.clone(),
        updated_at: now,
    };
    w.db.groups.push(g.clone());
    ok(201, json!({"data": doc(ctx, &w, &g)}))
}

fn update(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let d = parse_doc(ctx)?;
    let mut w = ctx.app.world();
    let g =
        w.db.group(me, id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("device group"))?;
    d.check_type_id(&g.gtype, |i| i == id)?;
    d.only(&[
        "name",
        "description",
        "env_vars",
        "load_code_after_blessing",
    ])?;
    d.only_rels(&["production_target", "dut_target"])?;
    let name = d.str("name")?;
    if let Some(n) = &name {
        check_name(n)?;
        if w.db
            .groups
            .iter()
            .any(|o| o.product == g.product && &o.name == n && o.id != id)
        {
            return Err(duplicate());
        }
    }
    let descr = d.str("description")?;
    let lcab = d.bool("load_code_after_blessing")?;
    if lcab.is_some() && !is_production_type(&g.gtype) {
        return Err(ApiError::invalid_attr(
            "load_code_after_blessing applies only to production and pre-production device groups.",
        ));
    }
    let env_vars = match d.attrs.get("env_vars") {
        None | Some(Value::Null) => None,
        Some(v) => Some(check_env_vars(v)?),
    };
    let (pt, dt) = resolve_targets(&w, me, &d, &g.gtype, &g.product, false)?;
    let g =
        w.db.groups
            .iter_mut()
            .find(|x| x.id == id)
            .ok_or_else(|| ApiError::not_found("device group"))?;
    if let Some(n) = name {
        g.name = n;
    }
    if let Some(ds) = descr {
        g.description = ds;
    }
    if lcab.is_some() {
        g.load_code_after_blessing = lcab;
    }
    if let Some(e) = env_vars {
        g.env_vars = e;
    }
    if pt.is_some() {
        g.production_target = pt;
    }
    if dt.is_some() {
        g.dut_target = dt;
    }
    g.updated_at = now_iso();
    let g = g.clone();
    ok(200, json!({"data": doc(ctx, &w, &g)}))
}

fn delete(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let mut w = ctx.app.world();
    if w.db.group(me, id).is_none() {
        return Err(ApiError::not_found("device group"));
    }
    if w.db.devices.iter().any(|d| d.group.as_deref() == Some(id)) {
        return Err(ApiError::conflict(
            "CX003",
            "Dependent Devices Exist",
            "Cannot delete a devicegroup with assigned devices; unassign those first.",
        ));
    }
    if w.db
        .deployments
        .iter()
        .any(|d| d.group.as_deref() == Some(id) && d.flagged)
    {
        return Err(ApiError::conflict(
            "CX004",
            "Flagged Deployments Exist",
            "Cannot delete a devicegroup with flagged deployments; delete those first.",
        ));
    }
    if w.db
        .groups
        .iter()
        .any(|g| g.production_target.as_deref() == Some(id) || g.dut_target.as_deref() == Some(id))
    {
        return Err(ApiError::conflict(
            "CX002",
            "Dependent Devicegroups Exist",
            "Cannot delete a devicegroup that is the production_target or dut_target of another devicegroup.",
        ));
    }
    for d in w.db.deployments.iter_mut() {
        if d.group.as_deref() == Some(id) {
            d.group = None;
        }
    }
    w.db.webhooks.retain(|h| h.group != id);
    w.db.groups.retain(|g| g.id != id);
    no_content()
}

fn restart(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let devices: Vec<String> = {
        let w = ctx.app.world();
        if w.db.group(me, id).is_none() {
            return Err(ApiError::not_found("device group"));
        }
        w.db.devices
            .iter()
            .filter(|d| d.group.as_deref() == Some(id))
            .map(|d| d.id.clone())
            .collect()
    };
    let conditional = ctx.seg(2) == "conditional_restart";
    for d in devices {
        if conditional {
            vdev::boot_conditional(&ctx.app, d);
        } else {
            vdev::boot(&ctx.app, d);
        }
    }
    no_content()
}

/// Device identifiers of a `{"data":[{type,id},…]}` linkage body.
fn linkage_ids(ctx: &Ctx) -> ApiResult<Vec<String>> {
    let body = ctx
        .json()?
        .ok_or_else(|| ApiError::bad_request("A request body is required."))?;
    let arr = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("\"data\" must be an array of device linkages."))?;
    arr.iter()
        .map(|e| {
            if e.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t != "device")
            {
                return Err(ApiError::bad_request("Linkages must have type \"device\"."));
            }
            e.get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ApiError::bad_request("Every linkage needs an \"id\"."))
        })
        .collect()
}

fn batch_result(errors: Vec<Value>) -> ApiResult<Response> {
    if errors.is_empty() {
        no_content()
    } else {
        Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            errors,
        })
    }
}

fn device_not_found(ident: &str) -> Value {
    let mut e = error_object(
        404,
        "NF002",
        "Device Not Found",
        &format!("The device \"{ident}\" could not be found."),
    );
    e["meta"] = json!({"id": ident});
    e
}

fn assign(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let idents = linkage_ids(ctx)?;
    let mut errors = Vec::new();
    let mut boots = Vec::new();
    {
        let mut w = ctx.app.world();
        let g =
            w.db.group(me, id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("device group"))?;
        for ident in idents {
            let Some(i) = w.db.device_index(me, &ident) else {
                errors.push(device_not_found(&ident));
                continue;
            };
            let cur = w.db.devices[i].group.clone();
            if cur.as_deref() == Some(id) {
                // Re-assignment to the same group reloads the code (impt test run uses it).
                if g.current_deployment.is_some() {
                    boots.push(w.db.devices[i].id.clone());
                }
                continue;
            }
            let restricted = |t: &str| is_production_type(t) || impt_wire::types::is_dut_type(t);
            if restricted(&g.gtype) {
                let from = cur
                    .as_deref()
                    .and_then(|c| w.db.groups.iter().find(|x| x.id == c));
                let allowed = from.is_some_and(|f| {
                    f.product == g.product
                        && is_production_type(&f.gtype)
                        && is_production_type(&g.gtype)
                });
                if !allowed {
                    let mut e = error_object(
                        403,
                        "PX300",
                        "Invalid Permission",
                        "Devices cannot be assigned manually to production, pre-production or DUT device groups.",
                    );
                    e["meta"] = json!({"id": ident});
                    errors.push(e);
                    continue;
                }
            }
            if let Some(c) = &cur {
                if w.db.group_type(c).is_some_and(is_production_type)
                    && !is_production_type(&g.gtype)
                {
                    let mut e = error_object(
                        403,
                        "PX300",
                        "Invalid Permission",
                        "Production devices must be unassigned with the unbond key first.",
                    );
                    e["meta"] = json!({"id": ident});
                    errors.push(e);
                    continue;
                }
            }
            let d = &mut w.db.devices[i];
            d.group = Some(id.to_string());
            d.updated_at = now_iso();
            if g.current_deployment.is_some() {
                boots.push(d.id.clone());
            }
        }
    }
    for b in boots {
        vdev::boot(&ctx.app, b);
    }
    batch_result(errors)
}

fn unassign(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    let idents = linkage_ids(ctx)?;
    let mut errors = Vec::new();
    let mut w = ctx.app.world();
    let g =
        w.db.group(me, id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("device group"))?;
    if g.gtype == impt_wire::types::PRODUCTION
        && ctx
            .header("x-electricimp-key")
            .is_none_or(|k| k.trim().is_empty())
    {
        return Err(ApiError::new(
            403,
            "PX301",
            "Invalid Permission",
            "Unassigning production devices requires the X-Electricimp-Key unbond key.",
        ));
    }
    let mut stopped = Vec::new();
    for ident in idents {
        match w.db.device_index(me, &ident) {
            Some(i) if w.db.devices[i].group.as_deref() == Some(id) => {
                let d = &mut w.db.devices[i];
                d.group = None;
                d.updated_at = now_iso();
                stopped.push(d.id.clone());
            }
            _ => errors.push(device_not_found(&ident)),
        }
    }
    drop(w);
    for d in stopped {
        runner::notify(&ctx.app, &d, runner::Cmd::Stop);
    }
    batch_result(errors)
}

fn min_supported(ctx: &Ctx, me: &str, id: &str) -> ApiResult<Response> {
    if ctx.seg(3) != "min_supported_deployment" {
        return Err(ApiError::method_not_allowed());
    }
    let body = ctx
        .json()?
        .ok_or_else(|| ApiError::bad_request("A request body is required."))?;
    let data = body
        .get("data")
        .ok_or_else(|| ApiError::bad_request("\"data\" is required."))?;
    if data
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "deployment")
    {
        return Err(ApiError::bad_request(
            "The linkage must have type \"deployment\".",
        ));
    }
    let dep_id = data
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("The linkage needs an \"id\"."))?
        .to_string();
    let mut w = ctx.app.world();
    let g =
        w.db.group(me, id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("device group"))?;
    let dep =
        w.db.deployment(me, &dep_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("deployment"))?;
    if dep.group.as_deref() != Some(id) {
        return Err(ApiError::invalid_attr(
            "The deployment does not belong to this device group.",
        ));
    }
    if let Some(cur) = g
        .min_supported_deployment
        .as_deref()
        .and_then(|c| w.db.deployment(me, c))
    {
        if dep.seq < cur.seq {
            return Err(ApiError::invalid_attr(
                "The min_supported_deployment must not be older than the current one.",
            ));
        }
    }
    if let Some(g) = w.db.groups.iter_mut().find(|g| g.id == id) {
        g.min_supported_deployment = Some(dep_id.clone());
        g.updated_at = now_iso();
    }
    ok(200, json!({"data": {"type": "deployment", "id": dep_id}}))
}
