//! The authentication check of the gateway's `/v1` routes (`auth::guard` does the
//! checks) on the host `host_path` decoded; refusals are counted by reason. The router
//! runs it as a layer; the proxied route, served without the router, calls `check`.

use crate::audit::Note;
use crate::auth::Principal;
use crate::auth::guard::{admit, credentials};
use crate::gateway::Gateway;
use crate::gateway::error::GatewayError;
use crate::gateway::host_path::host_in_path;
use crate::http_server::trace;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The validated `{host}` of a request to `/v1/hosts/{host}`, for the handlers.
#[derive(Clone, Debug)]
pub(crate) struct RequestHost(pub String);

/// The caller of a request with these parts, or the refusal to answer with.
pub(crate) async fn check(
    gateway: &Gateway,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    host: Option<&str>,
) -> Result<Principal, Response> {
    let Some(verifier) = &gateway.verifier else { return Ok(Principal::anonymous()) };
    admit(verifier, headers, method, host).await.map_err(|refusal| {
        gateway.metrics.auth_failures.with_label_values(&[refusal.error.reason()]).inc();
        refusal.into_response_for(method, path, host)
    })
}

/// The 400 of a `{host}` that is not a host name: nothing else is looked at.
pub(crate) fn refuse_host_name(error: GatewayError, method: &Method) -> Response {
    let mut response = error.into_response();
    Note { sub: None, host: None, reason: "bad_host_name" }.attach(method, &mut response);
    response
}

/// The layer: the caller's `Principal` and the validated host go into the request for
/// the handlers (fan-out filtering, host lookup).
pub(crate) async fn guard(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let host = match host_in_path(request.uri().path()) {
        Ok(host) => host,
        Err(error) => return refuse_host_name(error, &method),
    };
    let headers = credentials(request.headers());
    let path = request.uri().path().to_owned();
    let principal = match check(&gateway, &headers, &method, &path, host.as_deref()).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let sub = principal.sub.clone();
    request.extensions_mut().insert(principal);
    if let Some(host) = &host {
        trace::record_host(host);
        request.extensions_mut().insert(RequestHost(host.clone()));
    }
    let mut response = next.run(request).await;
    Note { sub: Some(sub), host, reason: Note::ALLOWED }.attach(&method, &mut response);
    response
}
