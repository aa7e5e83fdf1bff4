//! `/v1/pcaps/{id}/...`: status (the `info` object), exit and capture start/stop.

use crate::agent::api::body::Fields;
use crate::agent::api::path::Params;
use crate::agent::api::{AppState, actions, exec, reply};
use crate::agent::command::{Command, Verb};
use crate::agent::error::ApiError;
use crate::proc_type::ProcType;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, put};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/pcaps/{id}", get(pcap_get).delete(pcap_delete))
        .route("/v1/pcaps/{id}/capture", put(capture_put))
}

async fn pcap_get(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let handle = state.secondary(ProcType::Pcap, &params.num("id"))?;
    let answer = exec::send(&handle, Command::status()).await?;
    let status = reply::expect_json(&handle, answer)?;
    match status.get("info") {
        Some(info) if info.is_object() => Ok(reply::json(info)),
        _ => Err(reply::unusable(&handle, "status lacks info")),
    }
}

async fn pcap_delete(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    actions::exit(&state.secondary(ProcType::Pcap, &params.num("id"))?).await
}

async fn capture_put(
    State(state): State<AppState>,
    params: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let (handle, fields) = state.with_body(state.secondary(ProcType::Pcap, &params.num("id")), body).await?;
    actions::run(&handle, capture_command(&fields)?).await
}

/// `{"action": "start"|"stop"}` → `start` | `stop`.
fn capture_command(fields: &Fields) -> Result<Command, ApiError> {
    fields.require(&["action"])?;
    let verb = if fields.choice("action", &["start", "stop"])? == "start" { Verb::Start } else { Verb::Stop };
    Ok(Command::bare(verb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_actions() {
        let capture =
            |b: &str| capture_command(&Fields::from_json(b)).map(String::from).map_err(|e| e.to_string());
        assert_eq!(capture(r#"{"action": "start"}"#), Ok("start".into()));
        assert_eq!(capture(r#"{"action": "stop"}"#), Ok("stop".into()));
        assert_eq!(capture(r#"{}"#), Err("key(action) required.".into()));
        assert_eq!(capture(r#"{"action": "pause"}"#), Err("invalid key(action): pause.".into()));
    }
}
