//! `/v1/primary/flow_rules/...`: rte_flow rules on the primary's phy ports. The primary's
//! reply (`success` or `error`) is returned unchanged with 200, as the original did.

use crate::agent::api::body::Fields;
use crate::agent::api::exec;
use crate::agent::api::path::{Num, Params};
use crate::agent::api::validate::{int_at_most, is_printable};
use crate::agent::api::{AppState, reply};
use crate::agent::command::{self, Command, Verb};
use crate::agent::error::ApiError;
use crate::agent::process::ProcessHandle;
use crate::proc_type::ProcType;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{delete, post};
use serde_json::{Map, Value};

pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new()
        .route("/v1/primary/flow_rules/port_id/{port_id}/validate", post(validate_post))
        .route("/v1/primary/flow_rules/port_id/{port_id}", post(create_post).delete(destroy_all));
    // The published docs spell the two DELETE routes `flow_rule`; both spellings work.
    for base in ["/v1/primary/flow_rules", "/v1/primary/flow_rule"] {
        router = router.route(&format!("{base}/{{rule_id}}/port_id/{{port_id}}"), delete(destroy_one));
    }
    router.route("/v1/primary/flow_rule/port_id/{port_id}", delete(destroy_all))
}

async fn validate_post(
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    rule_request(&state, &params, body, "validate").await
}

async fn create_post(
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    rule_request(&state, &params, body, "create").await
}

async fn rule_request(
    state: &AppState,
    params: &Params,
    body: Body,
    verb: &str,
) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.primary(), body).await?;
    let port = port_id(&params.num("port_id"))?;
    passthrough(&handle, rule_command(verb, port, &fields)?).await
}

async fn destroy_all(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let handle = state.primary()?;
    let port = port_id(&params.num("port_id"))?;
    let command = Command::new(ProcType::Primary, Verb::Flow, &format!("destroy phy:{port} ALL"))
        .map_err(|_| invalid_num("port_id", &params.num("port_id")))?;
    passthrough(&handle, command).await
}

async fn destroy_one(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let handle = state.primary()?;
    let port = port_id(&params.num("port_id"))?;
    let rule = params.num("rule_id");
    let rule_id =
        rule.as_u64().filter(|r| *r <= u64::from(u32::MAX)).ok_or_else(|| invalid_num("rule_id", &rule))?;
    let command = Command::new(ProcType::Primary, Verb::Flow, &format!("destroy phy:{port} {rule_id}"))
        .map_err(|_| invalid_num("rule_id", &rule))?;
    passthrough(&handle, command).await
}

/// Port ids are ethdev ids: small and never negative (the primary would wrap them).
fn port_id(num: &Num) -> Result<u16, ApiError> {
    num.0.parse().map_err(|_| invalid_num("port_id", num))
}

fn invalid_num(key: &str, num: &Num) -> ApiError {
    ApiError::invalid(key, &Value::String(num.0.clone()))
}

async fn passthrough(handle: &ProcessHandle, command: Command) -> Result<Response, ApiError> {
    let answer = exec::send(handle, command).await?;
    let value = reply::expect_json(handle, answer)?;
    if value.get("result").is_none() {
        return Err(reply::unusable(handle, "a flow reply without \"result\""));
    }
    Ok(reply::json(&value))
}

/// `flow {validate|create} phy:{port} [group G ][priority P ][transfer ]{dir} pattern … / end actions … / end`.
pub(crate) fn rule_command(verb: &str, port: u16, fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["rule"])?;
    let rule =
        fields.value("rule").as_object().ok_or_else(|| ApiError::invalid("rule", fields.value("rule")))?;
    let group = optional_u32(rule, "group")?;
    let priority = optional_u32(rule, "priority")?;
    let direction = rule.get("direction").ok_or_else(|| ApiError::required("direction"))?;
    let direction = direction.as_str().ok_or_else(|| ApiError::invalid("direction", direction))?;
    let transfer = match rule.get("transfer") {
        None => false,
        Some(value) => value.as_bool().ok_or_else(|| ApiError::invalid("transfer", value))?,
    };
    let pattern = array(rule, "pattern")?;
    let actions = array(rule, "actions")?;
    if !["ingress", "egress"].contains(&direction) {
        return Err(ApiError::invalid("direction", &Value::String(direction.to_owned())));
    }
    let pattern_items = strings(rule, "pattern", pattern)?;
    let action_items = strings(rule, "actions", actions)?;
    let mut head = format!("{verb} phy:{port} ");
    if let Some(g) = group {
        head.push_str(&format!("group {g} "));
    }
    if let Some(p) = priority {
        head.push_str(&format!("priority {p} "));
    }
    if transfer {
        head.push_str("transfer ");
    }
    let with_pattern = format!("{head}{direction} pattern {} / end", pattern_items.join(" / "));
    let args = format!("{with_pattern} actions {} / end", action_items.join(" / "));
    // Blame the part that pushes the command over the primary's limits.
    command::check(ProcType::Primary, &format!("flow {with_pattern}"))
        .map_err(|_| ApiError::invalid("pattern", &rule["pattern"]))?;
    Command::new(ProcType::Primary, Verb::Flow, &args)
        .map_err(|_| ApiError::invalid("actions", &rule["actions"]))
}

fn optional_u32(rule: &Map<String, Value>, key: &str) -> Result<Option<u64>, ApiError> {
    match rule.get(key) {
        None => Ok(None),
        Some(value) => {
            int_at_most(value, u64::from(u32::MAX)).map(Some).ok_or_else(|| ApiError::invalid(key, value))
        }
    }
}

fn array<'a>(rule: &'a Map<String, Value>, key: &str) -> Result<&'a Vec<Value>, ApiError> {
    let value = rule.get(key).ok_or_else(|| ApiError::required(key))?;
    value.as_array().ok_or_else(|| ApiError::invalid(key, value))
}

fn strings<'a>(rule: &Map<String, Value>, key: &str, items: &'a [Value]) -> Result<Vec<&'a str>, ApiError> {
    items
        .iter()
        .map(|item| item.as_str().filter(|s| is_printable(s)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::invalid(key, &rule[key]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(verb: &str, body: &str) -> Result<String, String> {
        rule_command(verb, 0, &Fields::from_json(body)).map(String::from).map_err(|e| e.to_string())
    }

    #[test]
    fn the_spec_examples_byte_for_byte() {
        let full = r#"{"rule": {"group": 0, "priority": 0, "direction": "ingress", "transfer": true, "pattern": ["eth dst is 11:22:33:44:55:66 type mask 0xffff", "vlan vid is 100"], "actions": ["queue index 1", "of_pop_vlan"]}}"#;
        assert_eq!(
            flow("validate", full),
            Ok("flow validate phy:0 group 0 priority 0 transfer ingress pattern eth dst is 11:22:33:44:55:66 type mask 0xffff / vlan vid is 100 / end actions queue index 1 / of_pop_vlan / end".into())
        );
        let small = r#"{"rule": {"direction": "ingress", "pattern": ["eth"], "actions": ["queue index 1"]}}"#;
        assert_eq!(
            flow("create", small),
            Ok("flow create phy:0 ingress pattern eth / end actions queue index 1 / end".into())
        );
        let empty = r#"{"rule": {"direction": "egress", "transfer": false, "pattern": [], "actions": []}}"#;
        assert_eq!(
            flow("create", empty),
            Ok("flow create phy:0 egress pattern  / end actions  / end".into())
        );
    }

    #[test]
    fn validation_order_and_texts() {
        for (body, error) in [
            (r#"{}"#, "key(rule) required."),
            (r#"{"rule": []}"#, "invalid key(rule): []."),
            (r#"{"rule": {"group": -1}}"#, "invalid key(group): -1."),
            (r#"{"rule": {"group": true}}"#, "invalid key(group): true."),
            (r#"{"rule": {"priority": 4294967296}}"#, "invalid key(priority): 4294967296."),
            (r#"{"rule": {"pattern": []}}"#, "key(direction) required."),
            (r#"{"rule": {"direction": 1}}"#, "invalid key(direction): 1."),
            (r#"{"rule": {"direction": "in", "transfer": 1}}"#, "invalid key(transfer): 1."),
            (r#"{"rule": {"direction": "in"}}"#, "key(pattern) required."),
            (r#"{"rule": {"direction": "in", "pattern": "eth"}}"#, "invalid key(pattern): eth."),
            (r#"{"rule": {"direction": "in", "pattern": []}}"#, "key(actions) required."),
            (r#"{"rule": {"direction": "in", "pattern": [], "actions": []}}"#, "invalid key(direction): in."),
            (
                r#"{"rule": {"direction": "ingress", "pattern": [1], "actions": []}}"#,
                "invalid key(pattern): [1].",
            ),
            (
                r#"{"rule": {"direction": "ingress", "pattern": [], "actions": ["a\tb"]}}"#,
                "invalid key(actions): [\"a\\tb\"].",
            ),
        ] {
            assert_eq!(flow("create", body), Err(error.into()), "{body}");
        }
    }

    #[test]
    fn more_than_47_tokens_are_refused() {
        let items = vec!["eth"; 30].join("\", \"");
        let body =
            format!(r#"{{"rule": {{"direction": "ingress", "pattern": ["{items}"], "actions": ["drop"]}}}}"#);
        assert!(flow("create", &body).unwrap_err().starts_with("invalid key(pattern): "));
        let body =
            format!(r#"{{"rule": {{"direction": "ingress", "pattern": ["eth"], "actions": ["{items}"]}}}}"#);
        assert!(flow("create", &body).unwrap_err().starts_with("invalid key(actions): "));
    }
}
