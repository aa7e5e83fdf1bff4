//! The request span of both roles (`request`: method, matched route, host, status,
//! latency) and the access log line at debug level. The server opens the span around
//! each request; the layers that know the matched route (`route_layer`) and the gateway
//! code that decodes `{host}` record them into it.
//!
//! Both are at debug level: when that is not enabled, a request pays one disabled span.

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::{Level, Span, debug, debug_span, field};

/// The span of one request; `route`, `host`, `status` and `latency_ms` come later.
pub(super) fn request_span(method: &Method) -> Span {
    debug_span!(
        "request",
        %method,
        route = field::Empty,
        host = field::Empty,
        status = field::Empty,
        latency_ms = field::Empty,
    )
}

/// Records the outcome into `span` and writes the access log line.
pub(super) fn finish(span: &Span, status: u16, started: Option<Instant>) {
    if let Some(started) = started {
        span.record("status", status);
        span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
        debug!(parent: span, "request served");
    }
}

/// Records the route template the request matched (`/v1/nfvs/{id}`) into its span.
pub(crate) fn record_route(route: &str) {
    record("route", route);
}

/// Records the host a gateway request is for into its span.
pub(crate) fn record_host(host: &str) {
    record("host", host);
}

/// Looking up the current span costs a little on every request: not when debug is off.
fn record(field: &str, value: &str) {
    if tracing::level_enabled!(Level::DEBUG) {
        Span::current().record(field, value);
    }
}

/// A `route_layer` that records the matched route of every request it sees.
pub(crate) async fn matched_route(request: Request, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        record_route(path.as_str());
    }
    next.run(request).await
}
