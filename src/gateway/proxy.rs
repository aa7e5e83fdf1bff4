//! `ANY /v1/hosts/{host}/{rest...}` → the agent's `/v1/{rest...}`: method, query, body,
//! content type and credentials go through; the agent's status, content type and body
//! come back unchanged. A host that is down fails at once with its last error.
//!
//! This route carries nearly all the traffic, so it is served ahead of the router
//! (`routes::app`): matching, extractors and boxed layers cost more than the rest of the
//! gateway's own work per request. `{host}` is decoded once (`host_path`); `{rest}` goes
//! to the agent as it came, undecoded.

use crate::audit::{Note, is_mutating};
use crate::echo::echo;
use crate::gateway::error::GatewayError;
use crate::gateway::host_path::decode_host;
use crate::gateway::hosts::{Host, State as HostState};
use crate::gateway::{Gateway, guard, upstream};
use crate::http_server::trace;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::request;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;
use std::time::Instant;

/// The proxied route, as the 404 list and the request span name it.
pub const ROUTE: &str = "/v1/hosts/{host}/...";

/// The raw `{host}` and `{rest}` of `/v1/hosts/{host}/{rest}`; `{rest}` may be empty (the agent's `/v1/`).
fn split_path(path: &str) -> Option<(&str, &str)> {
    let (host, rest) = path.strip_prefix("/v1/hosts/")?.split_once('/')?;
    (!host.is_empty()).then_some((host, rest))
}

/// Resolves a validated host name to a usable host.
fn usable_host(gateway: &Gateway, name: &str) -> Result<Arc<Host>, GatewayError> {
    let host = gateway.hosts.get(name).ok_or_else(|| GatewayError::UnknownHost(echo(name)))?;
    if host.state() == HostState::Down {
        return Err(GatewayError::HostDown { host: name.to_owned(), error: host.last_error() });
    }
    Ok(host)
}

/// Serves a request for `/v1/hosts/{host}/{rest}`; any other request comes back, unserved.
pub async fn serve(gateway: Arc<Gateway>, request: Request) -> Result<Response, Request> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let Some((raw_host, rest)) = split_path(path) else { return Err(Request::from_parts(parts, body)) };
    trace::record_route(ROUTE);
    let name = match decode_host(raw_host) {
        Ok(name) => {
            trace::record_host(&name);
            name
        }
        Err(error) => {
            let response = guard::refuse_host_name(error, &parts.method);
            gateway.metrics.observe_request("unknown", &parts.method, response.status(), started.elapsed());
            return Ok(response);
        }
    };
    let principal = match guard::check(&gateway, &parts.headers, &parts.method, path, Some(&name)).await {
        Ok(principal) => principal,
        Err(refusal) => return Ok(refusal),
    };
    let (mut response, label) = match forward(&gateway, &name, rest, &parts, body).await {
        Ok(response) => (response, &*name),
        Err(error @ GatewayError::UnknownHost(_)) => (error.into_response(), "unknown"),
        Err(error) => (error.into_response(), &*name),
    };
    gateway.metrics.observe_request(label, &parts.method, response.status(), started.elapsed());
    if is_mutating(&parts.method) {
        let host = Some(name.into_owned());
        Note { sub: Some(principal.sub), host, reason: Note::ALLOWED }.attach(&parts.method, &mut response);
    }
    Ok(response)
}

async fn forward(
    gateway: &Gateway,
    name: &str,
    rest: &str,
    parts: &request::Parts,
    body: Body,
) -> Result<Response, GatewayError> {
    let host = usable_host(gateway, name)?;
    let body = read_body(body, gateway.config.body_limit).await?;
    let target = target(rest, parts.uri.query());
    let deadline = gateway.config.request_timeout;
    let pool = gateway.clients.here();
    let answer = upstream::send(pool, &host, &parts.method, &target, &parts.headers, body, deadline)
        .await
        .map_err(|source| GatewayError::Upstream { host: name.to_owned(), source })?;
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    Ok(response)
}

/// The agent's path for `{rest}`. Its metrics live at /metrics, not under /v1: this lets
/// Prometheus scrape agents it cannot reach directly through the gateway.
fn target(rest: &str, query: Option<&str>) -> String {
    let mut target = String::with_capacity(rest.len() + query.map_or(0, |q| q.len() + 1) + 4);
    if rest == "metrics" {
        target.push_str("/metrics");
    } else {
        target.push_str("/v1/");
        target.push_str(rest);
    }
    if let Some(query) = query {
        target.push('?');
        target.push_str(query);
    }
    target
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(GatewayError::PayloadTooLarge),
        // A malformed or cut-off body is not the body the client sent: nothing goes to
        // the agent. A client that is gone never reads the answer.
        Err(e) => Err(GatewayError::BrokenBody(body_error(&*e))),
    }
}

/// Why a request body could not be read: the HTTP decoder's reason for a malformed one.
fn body_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut causes = std::iter::successors(Some(error), |e| e.source());
    match causes.find_map(|e| e.downcast_ref::<std::io::Error>()) {
        Some(io) if io.kind() != std::io::ErrorKind::UnexpectedEof => io.to_string(),
        _ => "the client stopped sending it midway".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{split_path, target};

    #[test]
    fn proxied_paths() {
        assert_eq!(split_path("/v1/hosts/h1/nfvs/1"), Some(("h1", "nfvs/1")));
        assert_eq!(split_path("/v1/hosts/h1/processes"), Some(("h1", "processes")));
        assert_eq!(split_path("/v1/hosts/h1/"), Some(("h1", "")));
        for other in ["/v1/hosts", "/v1/hosts/h1", "/v1/hosts//processes", "/v1/cluster/processes"] {
            assert_eq!(split_path(other), None, "{other}");
        }
    }

    #[test]
    fn agent_paths() {
        assert_eq!(target("nfvs/1", None), "/v1/nfvs/1");
        assert_eq!(target("nfvs/1", Some("a=b")), "/v1/nfvs/1?a=b");
        assert_eq!(target("", None), "/v1/");
        assert_eq!(target("metrics", Some("x")), "/metrics?x");
    }
}
