//! Hot reload on SIGHUP and when the configuration file, or a certificate, key, CA or
//! JWKS file it names, changes on disk (`file_watch`): the agent list, the listener's
//! certificate, the certificates used towards agents, and the JWT keys. A file that does
//! not validate is refused as a whole and the running configuration stays. Other keys
//! (addresses, timeouts, limits) take a restart.

use crate::file_watch::{self, Trigger};
use crate::gateway::Gateway;
use crate::gateway::config::GatewayConfig;
use crate::gateway::hosts::Source as HostSource;
use crate::gateway::upstream::{self, AgentUrlError};
use crate::in_force::InForceError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

/// Where the configuration comes from: the file and the overrides given at start.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    pub overrides: Vec<(String, String)>,
}

impl Source {
    pub fn file(path: &Path) -> Self {
        Source { path: path.to_owned(), overrides: Vec::new() }
    }
}

/// Applies the configuration again (agents, TLS files, JWT keys), as on SIGHUP; returns
/// why it was refused, as the line the log shows. Everything is checked before anything
/// is applied.
pub async fn reload(gateway: &Gateway, source: &Source) -> Result<(), String> {
    reload_on(gateway, source, &Trigger::Hangup).await.map(|_| ()).map_err(|e| e.to_string())
}

/// `reload`, logging `trigger` with the outcome; returns the configuration applied.
async fn reload_on(
    gateway: &Gateway,
    source: &Source,
    trigger: &Trigger,
) -> Result<GatewayConfig, InForceError> {
    let path = &source.path;
    let outcome = match GatewayConfig::load_with(path, &source.overrides) {
        Ok(config) => apply_all(gateway, &config).await.map(|()| config),
        Err(e) => Err(e.into()),
    };
    let label = if outcome.is_ok() { "ok" } else { "error" };
    gateway.metrics.config_reloads.with_label_values(&[label]).inc();
    match &outcome {
        Ok(_) => {
            info!(path = %path.display(), cause = %trigger, hosts = gateway.hosts.len(), "configuration reloaded")
        }
        Err(e) => error!(
            path = %path.display(),
            cause = %trigger,
            error = %e,
            "configuration refused; keeping the running one"
        ),
    }
    outcome
}

async fn apply_all(gateway: &Gateway, config: &GatewayConfig) -> Result<(), InForceError> {
    let upstream_tls = crate::tls::client_config_for(&config.upstream_tls, "upstream_tls.ca")?;
    if let (Some(tls), Some(files)) = (&gateway.tls, &config.tls) {
        crate::tls::server_config(files)?;
        tls.reload(Some(files.clone()))?;
    }
    if let Some(verifier) = &gateway.verifier {
        verifier.reload(&config.auth).await?;
    }
    apply(gateway, config)?;
    gateway.clients.set_tls(&upstream_tls);
    publish_cert_expiry(gateway);
    Ok(())
}

/// Sets `spp_ctl_tls_cert_expiry_timestamp_seconds` (0 without TLS).
pub(crate) fn publish_cert_expiry(gateway: &Gateway) {
    let expiry = gateway.tls.as_ref().and_then(|t| t.not_after().ok()).unwrap_or(0);
    gateway.metrics.tls_cert_expiry.set(expiry);
}

/// Installs the static agent list of `config`.
pub(crate) fn apply(gateway: &Gateway, config: &GatewayConfig) -> Result<(), AgentUrlError> {
    let mut entries = Vec::new();
    for agent in &config.agents {
        entries.push((agent.host.clone(), agent.url.clone(), upstream::base_uri(&agent.url)?));
    }
    gateway.hosts.set_source(HostSource::Static, entries);
    Ok(())
}

/// The configuration file and every file it names.
fn watched_files(source: &Source, config: &GatewayConfig) -> Vec<PathBuf> {
    let mut files = config.files();
    files.push(source.path.clone());
    files
}

/// Reloads on SIGHUP and when the file, or a file it names, changes (checked every
/// `poll`). A refused file keeps the running configuration and its files watched.
pub(crate) async fn watch(
    gateway: Arc<Gateway>,
    source: Source,
    poll: Duration,
    shutdown: CancellationToken,
) {
    let files = watched_files(&source, &gateway.config);
    file_watch::run(files, poll, shutdown, |trigger| {
        let (gateway, source) = (gateway.clone(), source.clone());
        async move {
            let applied = crate::notify::reloading(reload_on(&gateway, &source, &trigger)).await;
            super::health::check_all(&gateway).await;
            applied.ok().map(|config| watched_files(&source, &config))
        }
    })
    .await
}
