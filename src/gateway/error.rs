//! The gateway's own error answers: one line of `text/plain` naming the host and the
//! cause. Whatever an agent answers is passed through untouched and is not an error here.

use crate::gateway::upstream::UpstreamError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum GatewayError {
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
    #[error("invalid Idempotency-Key: expected 1 to 128 visible ASCII characters")]
    BadIdempotencyKey,
    #[error("Idempotency-Key reused with a different request")]
    IdempotencyMismatch,
    #[error("request with this Idempotency-Key is in progress")]
    IdempotencyInProgress,
    #[error("too many requests with an Idempotency-Key in progress")]
    IdempotencyFull,
    #[error("invalid plan: {0}")]
    BadPlan(#[from] crate::gateway::plan::PlanError),
    #[error("the token allows none of the selected hosts")]
    NoAllowedHost,
    #[error("token does not allow host {0}")]
    HostNotAllowed(String),
    #[error("{0}")]
    Internal(String),
    /// `routes`: the router's own list (`routes::api_routes`).
    #[error("Not found: {path} (routes: {routes})")]
    NoRoute { path: String, routes: std::sync::Arc<str> },
}

impl GatewayError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            GatewayError::BadHostName(_)
            | GatewayError::BrokenBody(_)
            | GatewayError::BadIdempotencyKey
            | GatewayError::BadPlan(_) => StatusCode::BAD_REQUEST,
            GatewayError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            GatewayError::IdempotencyInProgress => StatusCode::CONFLICT,
            GatewayError::IdempotencyFull => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::NoAllowedHost | GatewayError::HostNotAllowed(_) => StatusCode::FORBIDDEN,
            GatewayError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
