//! The agent's optional TLS and JWT auth (off by default, like the original): the same
//! code as the gateway's. `/v1` needs a token when auth is on; health, info and metrics
//! stay open. SIGHUP rereads certificate and key files; broken files keep the old ones.

use crate::agent::AgentConfig;
use crate::auth::Verifier;
use crate::auth::guard::admit;
use crate::tls::ReloadableServerConfig;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

pub struct Security {
    pub tls: Option<Arc<ReloadableServerConfig>>,
    pub verifier: Option<Verifier>,
    auth: Option<crate::auth::AuthConfig>,
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
        Ok(Security { tls, verifier, auth })
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

/// Requires a valid token on `/v1` when auth is on.
pub async fn guard(State(security): State<Arc<Security>>, request: Request, next: Next) -> Response {
    let Some(verifier) = &security.verifier else { return next.run(request).await };
    if !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let headers = request.headers().clone();
    match admit(verifier, &headers, request.method(), request.uri().path()).await {
        Ok(_) => next.run(request).await,
        Err(e) => {
            warn!(reason = e.reason(), path = %request.uri().path(), "request refused");
            e.into_response()
        }
    }
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
