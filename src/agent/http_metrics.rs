//! REST request metrics labelled by route template (`/v1/vfs/{id}/components`), never
//! by raw path, so label values stay bounded.
//!
//! Two layers: one inside routing (it sees `MatchedPath`) marks what it counted; one
//! outside counts the rest (404 fallbacks) as `unmatched`.

use crate::metrics::AgentMetrics;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Copy)]
struct Counted;

/// Wraps `router` (all routes already added) with both layers.
pub(crate) fn track(router: axum::Router, metrics: Arc<AgentMetrics>) -> axum::Router {
    router
        .route_layer(middleware::from_fn_with_state(metrics.clone(), matched))
        .layer(middleware::from_fn_with_state(metrics, unmatched))
}

async fn matched(State(metrics): State<Arc<AgentMetrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    crate::http_server::trace::record_route(&route);
    let mut response = observe(&metrics, &route, request, next).await;
    response.extensions_mut().insert(Counted);
    response
}

async fn unmatched(State(metrics): State<Arc<AgentMetrics>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    if response.extensions().get::<Counted>().is_none() {
        record(&metrics, "unmatched", &method, &response, started);
    }
    response
}

async fn observe(metrics: &AgentMetrics, route: &str, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    record(metrics, route, &method, &response, started);
    response
}

fn record(metrics: &AgentMetrics, route: &str, method: &Method, response: &Response, started: Instant) {
    let method = method_label(method);
    let code = response.status().as_str().to_owned();
    metrics.http_requests.with_label_values(&[route, method, &code]).inc();
    metrics.http_duration.with_label_values(&[route, method]).observe(started.elapsed().as_secs_f64());
}

/// Methods outside the standard set share one label value.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
