//! The authentication layer of the `/v1` routes: a valid bearer token with the scope the
//! method needs, and a `hosts` claim that covers the host in the path. The caller's
//! `Principal` goes into the request for the handlers (fan-out filtering, audit).

use crate::auth::{AuthError, Principal};
use crate::gateway::Gateway;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tracing::warn;

pub async fn guard(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    let principal = match &gateway.verifier {
        None => Principal::anonymous(),
        Some(verifier) => {
            match admit(verifier, &request.headers().clone(), request.method(), request.uri().path()).await {
                Ok(principal) => principal,
                Err(error) => {
                    gateway.metrics.auth_failures.with_label_values(&[error.reason()]).inc();
                    // The reason only: tokens are never logged.
                    warn!(reason = error.reason(), method = %request.method(), path = %request.uri().path(), "request refused");
                    return error.into_response();
                }
            }
        }
    };
    request.extensions_mut().insert(principal);
    next.run(request).await
}

async fn admit(
    verifier: &crate::auth::Verifier,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Principal, AuthError> {
    let principal = verifier.verify(headers.get(header::AUTHORIZATION)).await?;
    principal.authorize_method(method)?;
    if let Some(host) = host_in_path(path) {
        principal.authorize_host(host)?;
    }
    Ok(principal)
}

/// `{host}` of `/v1/hosts/{host}[/...]`.
fn host_in_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/hosts/")?;
    rest.split('/').next().filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_in_paths() {
        assert_eq!(super::host_in_path("/v1/hosts/h1/nfvs/1"), Some("h1"));
        assert_eq!(super::host_in_path("/v1/hosts/h1"), Some("h1"));
        assert_eq!(super::host_in_path("/v1/hosts"), None);
        assert_eq!(super::host_in_path("/v1/cluster/processes"), None);
    }
}
