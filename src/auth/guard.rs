//! The check both roles run on `/v1` requests: a valid token, the scope the method
//! needs, and — for gateway paths `/v1/hosts/{host}/...` — a `hosts` claim covering the
//! host.

use crate::auth::{AuthError, Principal, Verifier};
use axum::http::{HeaderMap, Method, header};

/// The caller of a request, or why it is refused.
pub async fn admit(
    verifier: &Verifier,
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
