//! Why a request was refused: 401 with `WWW-Authenticate: Bearer error="invalid_token"`
//! or 403 with `error="insufficient_scope"` (RFC 6750). Bodies are one line and never
//! contain the token.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("token signature does not verify")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("token issuer not accepted")]
    Issuer,
    #[error("token audience not accepted")]
    Audience,
    /// The key id as `echo` quotes it.
    #[error("unknown key id \"{0}\"")]
    UnknownKid(String),
    #[error("token algorithm not accepted: {0}")]
    Algorithm(String),
    #[error("insufficient scope: {0} needed")]
    Scope(&'static str),
    /// The host name as `echo` quotes it.
    #[error("token does not allow host {0}")]
    Host(String),
}

impl AuthError {
    /// The metrics label of `spp_gateway_auth_failures_total`.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Malformed(_) => "malformed",
            AuthError::Signature => "signature",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::Issuer => "issuer",
            AuthError::Audience => "audience",
            AuthError::UnknownKid(_) => "unknown_kid",
            AuthError::Algorithm(_) => "algorithm",
            AuthError::Scope(_) => "scope",
            AuthError::Host(_) => "host",
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AuthError::Scope(_) | AuthError::Host(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3): no error code when no token was sent.
    pub(crate) fn challenge(&self) -> String {
        let realm = r#"Bearer realm="spp-ctl""#;
        match self {
            AuthError::Missing => realm.to_owned(),
            AuthError::Scope(scope) => format!(r#"{realm}, error="insufficient_scope", scope="{scope}""#),
            AuthError::Host(_) => format!(r#"{realm}, error="insufficient_scope""#),
            other => format!(
                r#"{realm}, error="invalid_token", error_description="{}""#,
                other.to_string().replace('"', "'")
            ),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut response = crate::respond::text(self.status(), self.to_string());
        if let Ok(value) = HeaderValue::from_str(&self.challenge()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
