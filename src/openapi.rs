//! The OpenAPI 3.1 documents of the agent API v1 and of the gateway, kept in
//! `docs/openapi/` (written by its `generate.py`) and served verbatim at
//! `GET /openapi.json` by each role, outside authentication. Route coverage is checked by
//! `tests/openapi.rs`.

use axum::Router;
use axum::http::header;
use axum::routing::get;

pub const AGENT: &str = include_str!("../docs/openapi/agent.json");
pub const GATEWAY: &str = include_str!("../docs/openapi/gateway.json");

/// `GET /openapi.json` answering `document`.
fn route<S: Clone + Send + Sync + 'static>(document: &'static str) -> Router<S> {
    Router::new().route(
        "/openapi.json",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
    )
}

/// The agent's document route.
pub(crate) fn agent<S: Clone + Send + Sync + 'static>() -> Router<S> {
    route(AGENT)
}

/// The gateway's document route.
pub(crate) fn gateway<S: Clone + Send + Sync + 'static>() -> Router<S> {
    route(GATEWAY)
}
