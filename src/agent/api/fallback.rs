//! Answers for requests no route takes: the original's 404 (`not_found.rs` words it) and
//! `405 Method not allowed.` with a sorted `Allow` that does not list HEAD.

use crate::agent::api::not_found::route_not_found;
use crate::agent::api::path::parse_num;
use crate::agent::error::ApiError;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub(crate) async fn not_found(request: Request) -> ApiError {
    route_not_found(request.uri().path())
}

/// Turns axum's 405 into the original's, or into a 404 when a numeric parameter does not
/// match `-?[0-9]+` (for the original such a path matched no route at all).
pub(crate) async fn fix_method_not_allowed(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    if !numeric_segments_ok(&path) {
        return route_not_found(&path).into_response();
    }
    let allow = response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut methods: Vec<&str> =
        allow.split(',').map(str::trim).filter(|m| !m.is_empty() && *m != "HEAD").collect();
    methods.sort_unstable();
    methods.dedup();
    ApiError::MethodNotAllowed(methods.join(",")).into_response()
}

/// Where the routes have numeric parameters, they must look like integers.
fn numeric_segments_ok(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let numeric = |i: usize| segments.get(i).is_none_or(|s| parse_num(s).is_some());
    match segments.as_slice() {
        ["v1", "nfvs" | "vfs" | "mirrors" | "pcaps", ..] => numeric(2),
        ["v1", "primary", "flow_rules" | "flow_rule", "port_id", ..] => numeric(4),
        ["v1", "primary", "flow_rules" | "flow_rule", _, "port_id", ..] => numeric(3) && numeric(5),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_parameters_are_checked_by_position() {
        assert!(numeric_segments_ok("/v1/nfvs/01/forward"));
        assert!(!numeric_segments_ok("/v1/nfvs/abc"));
        assert!(!numeric_segments_ok("/v1/primary/flow_rules/x/port_id/0"));
        assert!(numeric_segments_ok("/v1/primary/flow_rules/-3/port_id/0"));
        assert!(numeric_segments_ok("/v1/processes"));
    }
}
