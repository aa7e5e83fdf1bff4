//! The errors the REST API answers with: each variant's `Display` is the exact body
//! text of `docs/compatibility.md` §1 and `status()` sits beside it.
//!
//! Handlers return `Result<_, ApiError>`; turning an error into a response has no side
//! effects (`http_server::trace` logs each request with its status).

use crate::agent::process::ProcessError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("key({0}) required.")]
    KeyRequired(String),
    /// `value` is already rendered: a string verbatim, anything else as compact JSON.
    #[error("invalid key({key}): {value}.")]
    InvalidKey { key: String, value: String },
    #[error("Not in json format.")]
    NotJson,
    #[error("Request entity too large.")]
    PayloadTooLarge,
    #[error("command error: {0}")]
    Command(String),
    /// The id exactly as the original printed it: the parsed integer (`01` → `1`).
    #[error("sec_id {0} not found.")]
    SecondaryNotFound(String),
    #[error("primary not found.")]
    PrimaryNotFound,
    /// The path relative to the original's mount point, already quoted like Python.
    #[error("Not found: {0}")]
    RouteNotFound(String),
    /// Carries the `Allow` header value.
    #[error("Method not allowed.")]
    MethodNotAllowed(String),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("Internal Server Error")]
    Internal,
    /// A query parameter that is not valid: the whole one-line body.
    #[error("{0}")]
    BadQuery(String),
    /// `GET /v1/processes?wait_for=`: the processes still missing at the timeout.
    #[error("timed out waiting for {0}")]
    WaitTimedOut(String),
    #[error("the agent is shutting down")]
    ShuttingDown,
    /// Not an error: a dry run stops where the command would be sent (204, no body).
    #[error("")]
    DryRun,
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::KeyRequired(_)
            | ApiError::InvalidKey { .. }
            | ApiError::NotJson
            | ApiError::Command(_)
            | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::SecondaryNotFound(_) | ApiError::PrimaryNotFound | ApiError::RouteNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Process(e) => e.status(),
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::WaitTimedOut(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::DryRun => StatusCode::NO_CONTENT,
        }
    }

    /// `invalid key(<key>): <value>.` with the value rendered as the spec says.
    pub(crate) fn invalid(key: &str, value: &serde_json::Value) -> Self {
        let value = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        ApiError::InvalidKey { key: key.to_owned(), value }
    }

    pub(crate) fn required(key: &str) -> Self {
        ApiError::KeyRequired(key.to_owned())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::DryRun = self {
            return StatusCode::NO_CONTENT.into_response();
        }
        let mut response = crate::respond::text(self.status(), self.to_string());
        if let ApiError::MethodNotAllowed(allow) = &self
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    }
}
