//! `/v1/vfs/{id}/...` and `/v1/mirrors/{id}/...`: status (converted), exit, components
//! and their ports, and the vf classifier table. spp_vf and spp_mirror share a command
//! set; the differences are the component types, VLAN options and the classifier.

use crate::agent::api::body::{self, Fields};
use crate::agent::api::path::Params;
use crate::agent::api::validate::{VF_PORTS, int_at_most, int_or_digits_at_most, is_mac, is_name, uid};
use crate::agent::api::{AppState, actions, exec, reply};
use crate::agent::command::{Command, Verb};
use crate::agent::error::ApiError;
use crate::proc_type::ProcType;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use serde_json::{Map, Value};

pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (ty, base) in [(ProcType::Vf, "/v1/vfs/{id}"), (ProcType::Mirror, "/v1/mirrors/{id}")] {
        router = router
            .route(
                base,
                get(move |s: State<AppState>, p: Params| status_get(ty, s, p))
                    .delete(move |s: State<AppState>, p: Params| process_delete(ty, s, p)),
            )
            .route(
                &format!("{base}/components"),
                post(move |s: State<AppState>, p: Params, b: Body| component_post(ty, s, p, b)),
            )
            .route(
                &format!("{base}/components/{{name}}"),
                delete(move |s: State<AppState>, p: Params| component_delete(ty, s, p)),
            )
            .route(
                &format!("{base}/components/{{name}}/ports"),
                put(move |s: State<AppState>, p: Params, b: Body| ports_put(ty, s, p, b)),
            );
    }
    router.route("/v1/vfs/{id}/classifier_table", put(classifier_put))
}

async fn status_get(
    ty: ProcType,
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let handle = state.secondary(ty, &params.num("id"))?;
    let answer = exec::send(&handle, Command::status()).await?;
    let status = reply::expect_json(&handle, answer)?;
    let converted =
        convert_status(&status).ok_or_else(|| reply::unusable(&handle, "status lacks info keys"))?;
    Ok(reply::json(&converted))
}

async fn process_delete(
    ty: ProcType,
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    actions::exit(&state.secondary(ty, &params.num("id"))?).await
}

async fn component_post(
    ty: ProcType,
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.secondary(ty, &params.num("id")), body).await?;
    actions::run(&handle, start_command(ty, &fields)?).await
}

async fn component_delete(
    ty: ProcType,
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let handle = state.secondary(ty, &params.num("id"))?;
    let name = component_name(&params)?;
    let command = Command::new(ty, Verb::Component, &format!("stop {name}"))
        .map_err(|_| ApiError::invalid("name", &Value::String(name.to_owned())))?;
    actions::run(&handle, command).await
}

async fn ports_put(
    ty: ProcType,
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let handle = state.secondary(ty, &params.num("id"))?;
    let fields = body::read(body, state.config.body_limit).await?;
    let name = component_name(&params)?;
    actions::run(&handle, port_command(ty, name, &fields)?).await
}

async fn classifier_put(
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.secondary(ProcType::Vf, &params.num("id")), body).await?;
    actions::run(&handle, classifier_command(&fields)?).await
}

fn component_name(params: &Params) -> Result<&str, ApiError> {
    let name = params.text("name");
    if is_name(name) { Ok(name) } else { Err(ApiError::invalid("name", &Value::String(name.to_owned()))) }
}

/// The `status` of spp_vf / spp_mirror converted as the original did (`docs/compatibility.md` §4).
pub(crate) fn convert_status(status: &Value) -> Option<Value> {
    let info = status.get("info")?;
    let mut ports = Vec::new();
    for kind in ["phy", "vhost", "ring"] {
        for index in info.get(kind)?.as_array()? {
            let index = match index {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            ports.push(Value::String(format!("{kind}:{index}")));
        }
    }
    let mut out = Map::new();
    out.insert("client-id".to_owned(), info.get("client-id")?.clone());
    out.insert("ports".to_owned(), Value::Array(ports));
    out.insert("master-lcore".to_owned(), info.get("master-lcore")?.clone());
    out.insert("components".to_owned(), info.get("core")?.clone());
    if let Some(table) = info.get("classifier_table") {
        out.insert("classifier_table".to_owned(), table.clone());
    }
    Some(Value::Object(out))
}

/// `{"name", "core", "type"}` → `component start {name} {core} {type}`.
pub(crate) fn start_command(ty: ProcType, fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["name", "core", "type"])?;
    let name = fields.str("name")?;
    if !is_name(name) {
        return Err(ApiError::invalid("name", fields.value("name")));
    }
    let core = int_at_most(fields.value("core"), 1023)
        .ok_or_else(|| ApiError::invalid("core", fields.value("core")))?;
    let types: &[&str] = if ty == ProcType::Vf { &["forward", "merge", "classifier"] } else { &["mirror"] };
    let kind = fields.choice("type", types)?;
    fields.command(ty, Verb::Component, &format!("start {name} {core} {kind}"), "name")
}

/// Attach/detach of a component port; spp_mirror ignores `vlan` entirely (KEEP).
pub(crate) fn port_command(ty: ProcType, name: &str, fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["action", "port", "dir"])?;
    let action = fields.choice("action", &["attach", "detach"])?;
    let dir = fields.choice("dir", &["rx", "tx"])?;
    let port = uid(fields, "port", VF_PORTS)?;
    if action == "detach" {
        return fields.command(ty, Verb::Port, &format!("del {port} {dir} {name}"), "port");
    }
    let vlan = if ty == ProcType::Vf { vlan_option(fields.get("vlan"))? } else { String::new() };
    fields.command(ty, Verb::Port, &format!("add {port} {dir} {name}{vlan}"), "port")
}

/// The VLAN suffix of `port add`: absent, `null`, `{}` and `none` mean no tag.
fn vlan_option(vlan: Option<&Value>) -> Result<String, ApiError> {
    let Some(value) = vlan.filter(|v| !v.is_null()) else { return Ok(String::new()) };
    let invalid = || ApiError::invalid("vlan", value);
    let object = value.as_object().ok_or_else(invalid)?;
    if object.is_empty() {
        return Ok(String::new());
    }
    match object.get("operation").and_then(Value::as_str) {
        Some("none") => Ok(String::new()),
        Some("del") => Ok(" del_vlantag".to_owned()),
        Some("add") => {
            let id = object.get("id").and_then(|v| int_at_most(v, 4095)).ok_or_else(invalid)?;
            let pcp = object.get("pcp").and_then(|v| int_at_most(v, 7)).ok_or_else(invalid)?;
            Ok(format!(" add_vlantag {id} {pcp}"))
        }
        _ => Err(invalid()),
    }
}

/// `classifier_table {add|del} mac {mac} {port}` or `… vlan {vid} {mac} {port}`.
pub(crate) fn classifier_command(fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["action", "type", "port", "mac_address"])?;
    let action = fields.choice("action", &["add", "del"])?;
    let kind = fields.choice("type", &["mac", "vlan"])?;
    let port = uid(fields, "port", VF_PORTS)?;
    let mac = fields.str("mac_address")?;
    if mac != "default" && !is_mac(mac) {
        return Err(ApiError::invalid("mac_address", fields.value("mac_address")));
    }
    if kind == "mac" {
        return fields.command(
            ProcType::Vf,
            Verb::ClassifierTable,
            &format!("{action} mac {mac} {port}"),
            "port",
        );
    }
    fields.require(&["vlan"])?;
    let vid = int_or_digits_at_most(fields.value("vlan"), 4095)
        .ok_or_else(|| ApiError::invalid("vlan", fields.value("vlan")))?;
    fields.command(ProcType::Vf, Verb::ClassifierTable, &format!("{action} vlan {vid} {mac} {port}"), "vlan")
}

#[cfg(test)]
#[path = "components_tests.rs"]
mod tests;
