//! Hot reload of the configuration file on SIGHUP and when its modification time
//! changes: the agent list, the listener's certificate, the certificates used towards
//! agents, and the JWT keys. A file that does not validate is refused as a whole and the
//! running configuration stays. Other keys (addresses, timeouts, limits) take a restart.

use crate::gateway::Gateway;
use crate::gateway::config::GatewayConfig;
use crate::gateway::hosts::Source as HostSource;
use crate::gateway::upstream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{SignalKind, signal};
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

/// Applies the configuration again (agents, TLS files, JWT keys); returns why it was
/// refused. Everything is checked before anything is applied.
pub async fn reload(gateway: &Gateway, source: &Source) -> Result<(), String> {
    let path = &source.path;
    let outcome = match GatewayConfig::load_with(path, &source.overrides) {
        Ok(config) => apply_all(gateway, &config).await,
        Err(e) => Err(e),
    };
    let label = if outcome.is_ok() { "ok" } else { "error" };
    gateway.metrics.config_reloads.with_label_values(&[label]).inc();
    match &outcome {
        Ok(()) => info!(path = %path.display(), hosts = gateway.hosts.len(), "configuration reloaded"),
        Err(e) => {
            error!(path = %path.display(), error = %e, "configuration refused; keeping the running one")
        }
    }
    outcome
}

async fn apply_all(gateway: &Gateway, config: &GatewayConfig) -> Result<(), String> {
    let upstream_tls = crate::tls::client_config(&config.upstream_tls)?;
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
pub fn publish_cert_expiry(gateway: &Gateway) {
    let expiry = gateway.tls.as_ref().and_then(|t| t.not_after().ok()).unwrap_or(0);
    gateway.metrics.tls_cert_expiry.set(expiry);
}

/// Installs the static agent list of `config`.
pub fn apply(gateway: &Gateway, config: &GatewayConfig) -> Result<(), String> {
    let mut entries = Vec::new();
    for agent in &config.agents {
        entries.push((agent.host.clone(), agent.url.clone(), upstream::base_uri(&agent.url)?));
    }
    gateway.hosts.set_source(HostSource::Static, entries);
    Ok(())
}

/// Reloads on SIGHUP and when the file changes (checked every `poll`).
pub async fn watch(gateway: Arc<Gateway>, source: Source, poll: Duration, shutdown: CancellationToken) {
    let path = source.path.clone();
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            error!(error = %e, "cannot listen for SIGHUP; reloading on file changes only");
            None
        }
    };
    let mut seen = modified(&path);
    loop {
        let hup = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hup => {}
            _ = tokio::time::sleep(poll) => {
                let now = modified(&path);
                if now == seen {
                    continue;
                }
            }
        }
        seen = modified(&path);
        let _ = crate::notify::reloading(reload(&gateway, &source)).await;
        super::health::check_all(&gateway).await;
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
