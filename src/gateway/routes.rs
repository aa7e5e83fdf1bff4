//! The gateway's router: inventory, proxy, cluster views, health and metrics.

use crate::audit;
use crate::auth::Principal;
use crate::echo::echo;
use crate::gateway::error::GatewayError;
use crate::gateway::guard::RequestHost;
use crate::gateway::{Gateway, apply, events, fanout, guard, health, proxy};
use crate::http_server::trace;
use crate::metrics;
use crate::respond::{json, text};
use axum::Router;
use axum::extract::{Extension, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use tower::{Service, ServiceExt};

/// The gateway's service: proxied requests go straight to `proxy::serve`, the rest to
/// the router; mutating requests of either kind are audited.
pub(crate) fn app(
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

/// The `/v1` routes, in the order a 404 lists them; the proxied one (`None`) is served
/// by `proxy::serve` ahead of the router.
fn api_routes() -> [(&'static str, Option<MethodRouter<Arc<Gateway>>>); 7] {
    [
        ("/v1/hosts", Some(get(hosts_list))),
        ("/v1/hosts/{host}", Some(get(host_get))),
        (proxy::ROUTE, None),
        ("/v1/cluster/processes", Some(get(fanout::processes))),
        ("/v1/cluster/cpu_usage", Some(get(fanout::cpu_usage))),
        ("/v1/cluster/events", Some(get(events::cluster_events))),
        ("/v1/cluster/apply", Some(post(apply::cluster_apply))),
    ]
}

/// The paths of `routes`, as a 404 lists them.
fn listed(routes: &[(&'static str, Option<MethodRouter<Arc<Gateway>>>)]) -> Arc<str> {
    routes.iter().map(|(path, _)| *path).collect::<Vec<_>>().join(", ").into()
}

/// The routes behind `app` (the proxy aside); `tests/openapi.rs` reads their table.
pub fn router(gateway: Arc<Gateway>, with_metrics: bool) -> Router {
    let routes = api_routes();
    let listed = listed(&routes);
    let api = routes
        .into_iter()
        .filter_map(|(path, handler)| Some((path, handler?)))
        .fold(Router::new(), |api, (path, handler)| api.route(path, handler))
        .route_layer(axum::middleware::from_fn_with_state(gateway.clone(), guard::guard));
    let no_route = move |request: Request| {
        let routes = listed.clone();
        async move { GatewayError::NoRoute { path: echo(request.uri().path()), routes } }
    };
    let router = api.merge(probes()).merge(crate::openapi::gateway()).fallback(no_route);
    let router = if with_metrics { router.merge(metrics_router()) } else { router };
    router.route_layer(axum::middleware::from_fn(trace::matched_route)).with_state(gateway)
}

/// `/metrics` and the probes, for the separate metrics listener (no auth there).
pub(crate) fn metrics_only(gateway: Arc<Gateway>) -> Router {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_404_lists_every_v1_route() {
        let error = super::GatewayError::NoRoute {
            path: "/v1/processes".to_owned(),
            routes: super::listed(&super::api_routes()),
        };
        assert_eq!(
            error.to_string(),
            "Not found: /v1/processes (routes: /v1/hosts, /v1/hosts/{host}, /v1/hosts/{host}/..., \
             /v1/cluster/processes, /v1/cluster/cpu_usage, /v1/cluster/events, /v1/cluster/apply)"
        );
    }
}
