//! The two answer shapes of both roles: Python-identical JSON (`pyjson`) and a plain
//! text line, each with exactly the content type the original sent (axum's own `Json`
//! and `String` answers would add `; charset=utf-8`).

use crate::pyjson;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// 200 with `value` as Python's `json.dumps` writes it, `Content-Type: application/json`.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Response {
    with_type(StatusCode::OK, pyjson::to_string(value).into(), "application/json")
}

/// `status` with `body`, `Content-Type: text/plain`.
pub(crate) fn text(status: StatusCode, body: impl Into<Body>) -> Response {
    with_type(status, body.into(), "text/plain")
}

fn with_type(status: StatusCode, body: Body, content_type: &'static str) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
