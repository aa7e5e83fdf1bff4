//! `GET /healthz` (alive), `GET /readyz` (serving, not shutting down) and `GET /info`
//! (what the gateway's DNS discovery asks an agent for its name).

use crate::agent::api::{AppState, reply};
use crate::respond::text;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

pub(crate) fn routes() -> Router<AppState> {
    probes().route("/info", get(info))
}

pub(crate) fn probes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Response {
    text(StatusCode::OK, "ok")
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.is_cancelled() {
        text(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        text(StatusCode::OK, "ready")
    }
}

async fn info(State(state): State<AppState>) -> Response {
    reply::json(&json!({
        "host": state.config.host_name,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
        "processes": state.registry.len(),
    }))
}
