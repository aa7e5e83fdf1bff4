//! The check both roles run on `/v1` requests: a valid token, the scope the method
//! needs, and a `hosts` claim covering the host the request is for (the gateway's
//! decoded `{host}`, or the agent's own name). Finding that host is the caller's part.

use crate::audit::Note;
use crate::auth::{AuthError, Principal, Verifier};
use crate::echo::echo;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tracing::warn;

/// The caller's credentials alone: what crosses an await (a `Request` is not `Sync`) and
/// what goes on to an agent, which checks the same token.
pub(crate) fn credentials(headers: &HeaderMap) -> HeaderMap {
    let mut credentials = HeaderMap::new();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        credentials.insert(header::AUTHORIZATION, value.clone());
    }
    credentials
}

/// Why a request was refused, and by whom when the token itself was valid.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) error: AuthError,
    /// The subject of a verified token refused for its scope or hosts.
    pub(crate) sub: Option<Arc<str>>,
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        Refusal { error, sub: None }
    }
}

/// The caller of a request, or why it is refused.
pub(crate) async fn admit(
    verifier: &Verifier,
    headers: &HeaderMap,
    method: &Method,
    host: Option<&str>,
) -> Result<Principal, Refusal> {
    let principal = verifier.verify(headers.get(header::AUTHORIZATION)).await?;
    let allowed = principal.authorize_method(method).and_then(|()| match host {
        Some(host) => principal.authorize_host(host),
        None => Ok(()),
    });
    match allowed {
        Ok(()) => Ok(principal),
        Err(error) => Err(Refusal { error, sub: Some(principal.sub) }),
    }
}

impl Refusal {
    /// The answer to a refused request, logged at warn with the reason only (never the
    /// token) and noted for the audit trail.
    pub(crate) fn into_response_for(self, method: &Method, path: &str, host: Option<&str>) -> Response {
        let reason = self.error.reason();
        warn!(reason, %method, path = echo(path), "request refused");
        let mut response = self.error.into_response();
        Note { sub: self.sub, host: host.map(str::to_owned), reason }.attach(method, &mut response);
        response
    }
}
