//! Hot reload of the configuration file on SIGHUP and when its modification time
//! changes. Only the agent list is taken from a reload; a file that does not validate is
//! refused as a whole and the running configuration stays.

use crate::gateway::Gateway;
use crate::gateway::config::GatewayConfig;
use crate::gateway::hosts::Source;
use crate::gateway::upstream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

/// Applies the file at `path`; returns why it was refused.
pub fn reload(gateway: &Gateway, path: &Path) -> Result<(), String> {
    let outcome = GatewayConfig::load(path).and_then(|config| apply(gateway, &config));
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

/// Installs the static agent list of `config`.
pub fn apply(gateway: &Gateway, config: &GatewayConfig) -> Result<(), String> {
    let mut entries = Vec::new();
    for agent in &config.agents {
        entries.push((agent.host.clone(), agent.url.clone(), upstream::base_uri(&agent.url)?));
    }
    gateway.hosts.set_source(Source::Static, entries);
    Ok(())
}

/// Reloads on SIGHUP and when the file changes (checked every `poll`).
pub async fn watch(gateway: Arc<Gateway>, path: PathBuf, poll: Duration, shutdown: CancellationToken) {
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
        let _ = reload(&gateway, &path);
        super::health::check_all(&gateway).await;
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
