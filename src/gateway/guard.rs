//! The authentication layer of the gateway's `/v1` routes (`auth::guard` does the
//! checks); refusals are counted by reason. The caller's `Principal` goes into the
//! request for the handlers (fan-out filtering, audit).

use crate::auth::Principal;
use crate::auth::guard::admit;
use crate::gateway::Gateway;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tracing::warn;

pub async fn guard(State(gateway): State<Arc<Gateway>>, mut request: Request, next: Next) -> Response {
    let principal = match &gateway.verifier {
        None => Principal::anonymous(),
        Some(verifier) => {
            // Only the credentials cross the await: a Request is not Sync.
            let mut headers = axum::http::HeaderMap::new();
            if let Some(value) = request.headers().get(axum::http::header::AUTHORIZATION) {
                headers.insert(axum::http::header::AUTHORIZATION, value.clone());
            }
            match admit(verifier, &headers, request.method(), request.uri().path()).await {
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
