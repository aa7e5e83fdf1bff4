//! The agent's optional TLS and JWT auth (off by default, like the original): the same
//! code as the gateway's. `/v1` needs a token when auth is on, and its `hosts` claim must
//! cover the agent's own name; health, info and metrics stay open. SIGHUP rereads
//! certificate and key files; broken files keep the old ones.

use crate::agent::AgentConfig;
use crate::audit::{Note, is_mutating};
use crate::auth::guard::admit;
use crate::auth::{Principal, Verifier};
use crate::tls::ReloadableServerConfig;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

pub struct Security {
    pub tls: Option<Arc<ReloadableServerConfig>>,
    pub verifier: Option<Verifier>,
    auth: Option<crate::auth::AuthConfig>,
    /// This agent's name (`GET /info`): the host a token's `hosts` claim must cover.
    host_name: String,
}

impl Security {
    pub async fn load(config: &AgentConfig) -> Result<Self, String> {
        let tls = match &config.tls {
            Some(files) => Some(Arc::new(ReloadableServerConfig::load(files.clone())?)),
            None => None,
        };
        let auth = config.auth.clone().filter(|a| !a.is_none());
        let verifier = match &auth {
            Some(auth) => Some(Verifier::new(auth).await?),
            None => None,
        };
        Ok(Security { tls, verifier, auth, host_name: config.host_name.clone() })
    }

    /// Rereads TLS and key files; what fails to load keeps its old version.
    pub async fn reload(&self) {
        if let Some(tls) = &self.tls {
            match tls.reload(None) {
                Ok(()) => info!("TLS certificate reloaded"),
                Err(e) => error!(error = %e, "TLS reload refused; keeping the running certificate"),
            }
        }
        if let (Some(verifier), Some(auth)) = (&self.verifier, &self.auth) {
            match verifier.reload(auth).await {
                Ok(()) => info!("JWT keys reloaded"),
                Err(e) => error!(error = %e, "JWT key reload refused; keeping the running keys"),
            }
        }
    }
}

/// Requires, on `/v1` when auth is on, a valid token whose `hosts` claim covers this
/// agent's own name; notes the decision for the audit trail.
pub async fn guard(State(security): State<Arc<Security>>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let host = security.host_name.as_str();
    let sub = match &security.verifier {
        None => None,
        Some(verifier) => {
            // Only the credentials cross the await: a Request is not Sync.
            let mut headers = HeaderMap::new();
            if let Some(value) = request.headers().get(header::AUTHORIZATION) {
                headers.insert(header::AUTHORIZATION, value.clone());
            }
            match admit(verifier, &headers, &method, Some(host)).await {
                Ok(principal) => Some(principal.sub),
                Err(refusal) => return refusal.into_response_for(&method, request.uri().path(), Some(host)),
            }
        }
    };
    let mut response = next.run(request).await;
    // Built for writes only: reads are the agent's hot path and are not audited.
    if is_mutating(&method) {
        let sub = sub.unwrap_or_else(|| Principal::anonymous().sub);
        Note { sub: Some(sub), host: Some(host.to_owned()), reason: Note::ALLOWED }
            .attach(&method, &mut response);
    }
    response
}

/// Reloads on SIGHUP until `shutdown`.
pub async fn reload_on_hangup(security: Arc<Security>, shutdown: CancellationToken) {
    let Ok(mut hangup) = signal(SignalKind::hangup()) else { return };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hangup.recv() => crate::notify::reloading(security.reload()).await,
        }
    }
}
