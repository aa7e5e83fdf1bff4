//! The authentication check of the gateway's `/v1` routes (`auth::guard` does the
//! checks); refusals are counted by reason. The router runs it as a layer; the proxied
//! route, served without the router, calls `check` itself.

use crate::auth::Principal;
use crate::auth::guard::admit;
use crate::gateway::Gateway;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tracing::warn;

/// The caller of a request with these parts, or the refusal to answer with.
pub async fn check(
    gateway: &Gateway,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Principal, Response> {
    let Some(verifier) = &gateway.verifier else { return Ok(Principal::anonymous()) };
    admit(verifier, headers, method, path).await.map_err(|error| {
        gateway.metrics.auth_failures.with_label_values(&[error.reason()]).inc();
        // The reason only: tokens are never logged.
        warn!(reason = error.reason(), %method, path, "request refused");
        error.into_response()
    })
}

/// The layer: the caller's `Principal` goes into the request for the handlers (fan-out
/// filtering).
pub async fn guard(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    // Only the credentials cross the await: a Request is not Sync.
    let mut headers = HeaderMap::new();
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        headers.insert(header::AUTHORIZATION, value.clone());
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    match check(&gateway, &headers, &method, &path).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(refusal) => refusal,
    }
}
