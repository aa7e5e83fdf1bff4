//! Answers for requests no route takes: the original's `404 Not found: '<rel>'` (the path
//! relative to bottle's mount points, quoted like a Python string) and `405 Method not
//! allowed.` with a sorted `Allow` that does not list HEAD.

use crate::agent::api::path::parse_num;
use crate::agent::error::ApiError;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

pub async fn not_found(request: Request) -> ApiError {
    route_not_found(request.uri().path())
}

/// The 404 for `path` (still percent-encoded), as the original printed it.
pub fn route_not_found(path: &str) -> ApiError {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    ApiError::RouteNotFound(python_repr(relative_to_mount(&decoded)))
}

/// Turns axum's 405 into the original's, or into a 404 when a numeric parameter does not
/// match `-?[0-9]+` (for the original such a path matched no route at all).
pub async fn fix_method_not_allowed(request: Request, next: Next) -> Response {
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

/// Strips `/v1`, then one sub-application mount, then `/flow_rules` under `/primary`.
fn relative_to_mount(path: &str) -> &str {
    fn strip<'a>(p: &'a str, mount: &str) -> Option<&'a str> {
        let rest = p.strip_prefix(mount)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }
    let mut rel = path;
    if let Some(rest) = strip(rel, "/v1") {
        rel = rest;
        if let Some(rest) = ["/vfs", "/mirrors", "/nfvs", "/pcaps"].iter().find_map(|m| strip(rel, m)) {
            rel = rest;
        } else if let Some(rest) = strip(rel, "/primary") {
            rel = strip(rest, "/flow_rules").unwrap_or(rest);
        }
    }
    if rel.is_empty() { "/" } else { rel }
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

/// `repr()` of a Python 3 string.
fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_original_mounts() {
        for (path, rel) in [
            ("/", "/"),
            ("/v2/x", "/v2/x"),
            ("/v1", "/"),
            ("/v1/nothing", "/nothing"),
            ("/v1/nfvs/abc", "/abc"),
            ("/v1/vfs", "/"),
            ("/v1/vfs/2/foo", "/2/foo"),
            ("/v1/primary/flows", "/flows"),
            ("/v1/primary/flow_rules/x", "/x"),
            ("/v1/processes/", "/processes/"),
            ("/v1x", "/v1x"),
            ("/v1/vfsx", "/vfsx"),
        ] {
            assert_eq!(relative_to_mount(path), rel, "{path}");
        }
    }

    #[test]
    fn quoting_matches_python_repr() {
        assert_eq!(python_repr("/abc"), "'/abc'");
        assert_eq!(python_repr("/it's"), "\"/it's\"");
        assert_eq!(python_repr("/'\""), "'/\\'\"'");
        assert_eq!(python_repr("/a\\b\tc\u{1}é"), "'/a\\\\b\\tc\\x01é'");
        assert_eq!(route_not_found("/v1/a%20b").to_string(), "Not found: '/a b'");
    }

    #[test]
    fn numeric_parameters_are_checked_by_position() {
        assert!(numeric_segments_ok("/v1/nfvs/01/forward"));
        assert!(!numeric_segments_ok("/v1/nfvs/abc"));
        assert!(!numeric_segments_ok("/v1/primary/flow_rules/x/port_id/0"));
        assert!(numeric_segments_ok("/v1/primary/flow_rules/-3/port_id/0"));
        assert!(numeric_segments_ok("/v1/processes"));
    }
}
