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
use crate::gateway::idempotency::{self, Outcome, Slot, Stored};
use crate::gateway::pool::Answer;
use crate::gateway::upstream::UpstreamError;
use crate::gateway::{Gateway, events, guard, upstream};
use crate::http_server::trace;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header, request};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The agent's own wait limits (`?wait_for=...&timeout=`), and the time its answer may
/// take beyond the wait.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);
const MAX_WAIT: Duration = Duration::from_secs(300);
const WAIT_MARGIN: Duration = Duration::from_secs(5);

/// The proxied route, as the 404 list and the request span name it.
pub(crate) const ROUTE: &str = "/v1/hosts/{host}/...";

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
pub(crate) async fn serve(gateway: Arc<Gateway>, request: Request) -> Result<Response, Request> {
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
    let (mut response, label) = match forward(&gateway, &name, rest, &parts, body, &principal.sub).await {
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
    gateway: &Arc<Gateway>,
    name: &str,
    rest: &str,
    parts: &request::Parts,
    body: Body,
    sub: &Arc<str>,
) -> Result<Response, GatewayError> {
    let host = usable_host(gateway, name)?;
    if parts.method == Method::GET && rest == "events" {
        let target = target(rest, parts.uri.query());
        return events::host_stream(gateway, &host, &target, &parts.headers).await;
    }
    let key = idempotency::key_of(&parts.method, &parts.headers)?;
    let body = read_body(body, gateway.config.body_limit).await?;
    let target = target(rest, parts.uri.query());
    let deadline = deadline(gateway.config.request_timeout, parts.uri.query());
    let Some(key) = key else {
        let answer = send(gateway, &host, &parts.method, &target, &parts.headers, body, deadline).await?;
        return Ok(answer_response(answer));
    };
    let store = gateway.idempotency.clone();
    let fingerprint = store.fingerprint(&parts.method, &target, &body);
    let slot = Slot { sub: sub.clone(), key, scope: name.to_owned() };
    let (gateway, method, headers) = (gateway.clone(), parts.method.clone(), parts.headers.clone());
    let work = async move {
        let result = send(&gateway, &host, &method, &target, &headers, body, deadline).await;
        keyed_outcome(result)
    };
    Ok(idempotency::once(store, slot, fingerprint, work).await)
}

async fn send(
    gateway: &Gateway,
    host: &Host,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: Bytes,
    deadline: Duration,
) -> Result<Answer, GatewayError> {
    let pool = gateway.clients.here();
    upstream::send(pool, host, method, target, headers, body, deadline)
        .await
        .map_err(|source| GatewayError::Upstream { host: host.name.clone(), source })
}

fn answer_response(answer: Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}

/// A keyed request's answer, kept unless nothing of the request reached the agent.
fn keyed_outcome(result: Result<Answer, GatewayError>) -> Outcome {
    match result {
        Ok(answer) => {
            let content_type = answer.headers.get(header::CONTENT_TYPE).cloned();
            let kept = Stored { status: answer.status, content_type, body: answer.body.clone() };
            Outcome { response: answer_response(answer), keep: Some(kept) }
        }
        Err(error) => {
            let unsent = matches!(error, GatewayError::Upstream { source: UpstreamError::Connect(_), .. });
            let text = HeaderValue::from_static("text/plain");
            let stored =
                Stored { status: error.status(), content_type: Some(text), body: error.to_string().into() };
            Outcome { response: stored.clone().into_response(), keep: (!unsent).then_some(stored) }
        }
    }
}

/// A `wait_for` request waits at the agent up to its `timeout` (30 s by default, 300 s
/// at most): the deadline for its answer is that and 5 s more.
fn deadline(usual: Duration, query: Option<&str>) -> Duration {
    let Some(query) = query else { return usual };
    let (mut waits, mut timeout) = (false, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("wait_for", _)) => waits = true,
            Some(("timeout", value)) => timeout = humantime::parse_duration(value).ok(),
            _ => {}
        }
    }
    if !waits {
        return usual;
    }
    usual.max(timeout.unwrap_or(DEFAULT_WAIT).min(MAX_WAIT) + WAIT_MARGIN)
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

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, GatewayError> {
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
    use super::{deadline, split_path, target};
    use std::time::Duration;

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

    #[test]
    fn a_wait_gets_its_timeout_and_five_seconds() {
        let usual = Duration::from_secs(15);
        let secs = |query: Option<&str>| deadline(usual, query).as_secs_f64();
        assert_eq!(secs(None), 15.0);
        assert_eq!(secs(Some("timeout=60s")), 15.0);
        assert_eq!(secs(Some("wait_for=nfv:1")), 35.0);
        assert_eq!(secs(Some("wait_for=nfv:1,vf:2&timeout=100s")), 105.0);
        assert_eq!(secs(Some("timeout=500ms&wait_for=nfv:1")), 15.0);
        assert_eq!(secs(Some("wait_for=nfv:1&timeout=1h")), 305.0);
        assert_eq!(secs(Some("wait_for=nfv:1&timeout=soon")), 35.0);
    }
}
