//! `ANY /v1/hosts/{host}/{rest...}` → the agent's `/v1/{rest...}`: method, query, body
//! and content type go through; the agent's status, content type and body come back
//! unchanged. A host that is down fails at once with its last error.

use crate::gateway::error::GatewayError;
use crate::gateway::hosts::{Host, State as HostState, is_host_name};
use crate::gateway::{Gateway, upstream};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;
use std::time::Instant;
use tracing::info;

/// Resolves a host name from a path to a usable host.
pub fn usable_host(gateway: &Gateway, name: &str) -> Result<Arc<Host>, GatewayError> {
    if !is_host_name(name) {
        return Err(GatewayError::BadHostName(name.to_owned()));
    }
    let host = gateway.hosts.get(name).ok_or_else(|| GatewayError::UnknownHost(name.to_owned()))?;
    if host.state() == HostState::Down {
        return Err(GatewayError::HostDown { host: name.to_owned(), error: host.last_error() });
    }
    Ok(host)
}

pub async fn proxy(
    State(gateway): State<Arc<Gateway>>,
    Path((name, rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let sub = request.extensions().get::<crate::auth::Principal>().map(|p| p.sub.clone()).unwrap_or_default();
    let client =
        request.extensions().get::<crate::http_server::Peer>().map(|p| p.0.to_string()).unwrap_or_default();
    let response = match forward(&gateway, &name, &rest, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    let label = if gateway.hosts.get(&name).is_some() { name.as_str() } else { "unknown" };
    gateway.metrics.observe_request(label, &method, response.status(), started.elapsed());
    if !matches!(method, axum::http::Method::GET | axum::http::Method::HEAD) {
        info!(target: "audit", sub = %sub, host = %name, method = %method, path = %path, status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64, client = %client, "mutating request");
    }
    response
}

async fn forward(
    gateway: &Gateway,
    name: &str,
    rest: &str,
    request: Request,
) -> Result<Response, GatewayError> {
    let host = usable_host(gateway, name)?;
    let (parts, body) = request.into_parts();
    let body = read_body(body, gateway.config.body_limit).await?;
    let query = parts.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    // The agent's metrics live at /metrics, not under /v1: let Prometheus scrape agents
    // it cannot reach directly through the gateway.
    let target = if rest == "metrics" { format!("/metrics{query}") } else { format!("/v1/{rest}{query}") };
    let deadline = gateway.config.request_timeout;
    let answer =
        upstream::send(&gateway.client, &host, &parts.method, &target, &parts.headers, body, deadline)
            .await
            .map_err(|source| GatewayError::Upstream { host: name.to_owned(), source })?;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    for name in [header::CONTENT_TYPE, header::ALLOW] {
        if let Some(value) = answer.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    Ok(response)
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(GatewayError::PayloadTooLarge),
        Err(_) => Ok(Bytes::new()),
    }
}
