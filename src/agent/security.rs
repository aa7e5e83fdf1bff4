//! The agent's optional TLS and JWT auth (off by default, like the original): the same
//! code as the gateway's. `/v1` needs a token when auth is on, and its `hosts` claim must
//! cover the agent's own name; health, info and metrics stay open. SIGHUP, or a change on
//! disk of any file in force (`file_watch`), rereads certificate, key and `--auth-config`
//! files; broken files keep the old ones.

use crate::agent::AgentConfig;
use crate::agent::events::command::Subject;
use crate::audit::{Note, is_mutating};
use crate::auth::guard::{admit, credentials};
use crate::auth::{AuthConfig, Principal, Verifier};
use crate::file_watch::{self, Trigger};
use crate::in_force::InForceError;
use crate::tls::ReloadableServerConfig;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::RwLock;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

pub(crate) struct Security {
    pub(crate) tls: Option<Arc<ReloadableServerConfig>>,
    pub(crate) verifier: Option<Verifier>,
    /// The `[auth]` section in force, and the file it is reread from.
    auth: RwLock<Option<AuthConfig>>,
    auth_file: Option<PathBuf>,
    /// This agent's name (`GET /info`): the host a token's `hosts` claim must cover.
    host_name: String,
}

impl Security {
    pub(crate) async fn load(config: &AgentConfig) -> Result<Self, InForceError> {
        let tls = match &config.tls {
            Some(files) => Some(Arc::new(ReloadableServerConfig::load(files.clone())?)),
            None => None,
        };
        let auth = config.auth.clone().filter(|a| !a.is_none());
        let verifier = match &auth {
            Some(auth) => Some(Verifier::new(auth).await?),
            None => None,
        };
        let auth_file = config.auth_file.clone().filter(|_| auth.is_some());
        let host_name = config.host_name.clone();
        Ok(Security { tls, verifier, auth: RwLock::new(auth), auth_file, host_name })
    }

    /// Every file in force: certificate, key, client CA, `--auth-config` and its keys.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.auth.read().iter().flat_map(|a| a.files()).collect();
        files.extend(self.auth_file.clone());
        if let Some(tls) = &self.tls {
            files.extend(tls.files().files());
        }
        files
    }

    /// Rereads TLS, `--auth-config` and key files; what fails to load keeps its old
    /// version. `cause` is logged with the outcome.
    pub(crate) async fn reload(&self, cause: &Trigger) {
        if let Some(tls) = &self.tls {
            match tls.reload(None) {
                Ok(()) => info!(%cause, "TLS certificate reloaded"),
                Err(e) => error!(%cause, error = %e, "TLS reload refused; keeping the running certificate"),
            }
        }
        let Some(verifier) = &self.verifier else { return };
        let auth = match &self.auth_file {
            Some(path) => crate::agent::config::auth_section(path).map_err(InForceError::from),
            None => self.auth.read().clone().ok_or(InForceError::NoAuthSection),
        };
        let outcome = match auth {
            Ok(auth) => verifier
                .reload(&auth)
                .await
                .map(|()| *self.auth.write() = Some(auth))
                .map_err(InForceError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => info!(%cause, "JWT keys reloaded"),
            Err(e) => error!(%cause, error = %e, "JWT key reload refused; keeping the running keys"),
        }
    }
}

/// Requires, on `/v1` when auth is on, a valid token whose `hosts` claim covers this
/// agent's own name; notes the decision for the audit trail.
pub(crate) async fn guard(
    State(security): State<Arc<Security>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let host = security.host_name.as_str();
    let sub = match &security.verifier {
        None => None,
        Some(verifier) => {
            let headers = credentials(request.headers());
            match admit(verifier, &headers, &method, Some(host)).await {
                Ok(principal) => Some(principal.sub),
                Err(refusal) => return refusal.into_response_for(&method, request.uri().path(), Some(host)),
            }
        }
    };
    if let Some(sub) = sub.as_ref().filter(|_| is_mutating(&method)) {
        // The `command` event names who changed something.
        request.extensions_mut().insert(Subject(sub.clone()));
    }
    let mut response = next.run(request).await;
    // Built for writes only: reads are the agent's hot path and are not audited.
    if is_mutating(&method) {
        let sub = sub.unwrap_or_else(|| Principal::anonymous().sub);
        Note { sub: Some(sub), host: Some(host.to_owned()), reason: Note::ALLOWED }
            .attach(&method, &mut response);
    }
    response
}

/// Reloads on SIGHUP and when a file in force changes, until `shutdown`.
pub(crate) async fn reload_on_change(security: Arc<Security>, shutdown: CancellationToken) {
    let files = security.files();
    file_watch::run(files, file_watch::POLL, shutdown, |cause| {
        let security = security.clone();
        async move {
            crate::notify::reloading(security.reload(&cause)).await;
            Some(security.files())
        }
    })
    .await
}
