//! The gateway's router: inventory, proxy, cluster views, health and metrics.

use crate::audit;
use crate::auth::Principal;
use crate::echo::echo;
use crate::gateway::error::GatewayError;
use crate::gateway::guard::RequestHost;
use crate::gateway::{Gateway, apply, events, fanout, guard, health, proxy};
use crate::metrics;
use crate::pyjson;
use axum::Router;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use tower::{Service, ServiceExt};

/// The gateway's service: proxied requests go straight to `proxy::serve`, the rest to
/// the router; mutating requests of either kind are audited.
pub fn app(
    gateway: Arc<Gateway>,
    with_metrics: bool,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static {
    let router = router(gateway.clone(), with_metrics);
    tower::service_fn(move |request: Request| {
        let (gateway, router) = (gateway.clone(), router.clone());
        async move {
            let pending = audit::Pending::start(&request);
            let response = match proxy::serve(gateway, request).await {
                Ok(response) => response,
                Err(request) => router.oneshot(request).await?,
            };
            if let Some(pending) = pending {
                pending.finish(&response);
            }
            Ok(response)
        }
    })
}

/// The routes behind `app` (the proxy aside); `tests/openapi.rs` reads their table.
pub fn router(gateway: Arc<Gateway>, with_metrics: bool) -> Router {
    let api = Router::new()
        .route("/v1/hosts", get(hosts_list))
        .route("/v1/hosts/{host}", get(host_get))
        .route("/v1/cluster/processes", get(fanout::processes))
        .route("/v1/cluster/cpu_usage", get(fanout::cpu_usage))
        .route("/v1/cluster/events", get(events::cluster_events))
        .route("/v1/cluster/apply", post(apply::cluster_apply))
        .route_layer(axum::middleware::from_fn_with_state(gateway.clone(), guard::guard));
    let router = api.merge(probes()).merge(crate::openapi::gateway()).fallback(no_route);
    let router = if with_metrics { router.merge(metrics_router()) } else { router };
    router.with_state(gateway)
}

/// `/metrics` and the probes, for the separate metrics listener (no auth there).
pub fn metrics_only(gateway: Arc<Gateway>) -> Router {
    metrics_router().merge(probes()).with_state(gateway)
}

fn probes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/healthz", get(|| async { text(StatusCode::OK, "ok") }))
        .route("/readyz", get(readyz))
}

fn metrics_router() -> Router<Arc<Gateway>> {
    Router::new().route("/metrics", get(metrics_get))
}

fn text(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

fn json(value: &Value) -> Response {
    let mut response = pyjson::to_string(value).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn readyz(State(gateway): State<Arc<Gateway>>) -> Response {
    if gateway.draining.is_cancelled() {
        text(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        text(StatusCode::OK, "ready")
    }
}

/// The hosts the caller's token may reach.
async fn hosts_list(
    State(gateway): State<Arc<Gateway>>,
    Extension(principal): Extension<Principal>,
) -> Response {
    let visible = gateway.hosts.all().into_iter().filter(|h| principal.allows_host(&h.name));
    json(&Value::Array(visible.map(|h| h.to_json()).collect()))
}

/// One host's entry; the guard layer has decoded and validated its name.
async fn host_get(
    State(gateway): State<Arc<Gateway>>,
    Extension(RequestHost(name)): Extension<RequestHost>,
) -> Result<Response, GatewayError> {
    let host = gateway.hosts.get(&name).ok_or_else(|| GatewayError::UnknownHost(echo(&name)))?;
    Ok(json(&host.to_json()))
}

async fn metrics_get(State(gateway): State<Arc<Gateway>>) -> Response {
    health::publish_states(&gateway);
    let body = metrics::encode(gateway.metrics.registry.gather());
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}

async fn no_route(request: Request) -> GatewayError {
    GatewayError::NoRoute(echo(request.uri().path()))
}
