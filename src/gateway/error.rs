//! The gateway's own error answers: one line of `text/plain` naming the host and the
//! cause. Whatever an agent answers is passed through untouched and is not an error here.

use crate::gateway::upstream::UpstreamError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The raw segment as `echo` quotes it.
    #[error(
        "invalid host name \"{0}\": expected dot-separated labels of [A-Za-z0-9_-]{{1,63}}, at most 253 bytes"
    )]
    BadHostName(String),
    #[error("unknown host {0}")]
    UnknownHost(String),
    #[error("host {host} is down: {error}")]
    HostDown { host: String, error: String },
    #[error("host {host}: {source}")]
    Upstream { host: String, source: UpstreamError },
    #[error("Request entity too large.")]
    PayloadTooLarge,
    #[error("invalid request body: {0}")]
    BrokenBody(String),
    /// `routes`: the router's own list (`routes::api_routes`).
    #[error("Not found: {path} (routes: {routes})")]
    NoRoute { path: String, routes: std::sync::Arc<str> },
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::BadHostName(_) | GatewayError::BrokenBody(_) => StatusCode::BAD_REQUEST,
            GatewayError::UnknownHost(_) | GatewayError::NoRoute { .. } => StatusCode::NOT_FOUND,
            GatewayError::HostDown { .. } => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::Upstream { source, .. } => source.status(),
            GatewayError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        crate::respond::text(self.status(), self.to_string())
    }
}
