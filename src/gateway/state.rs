//! `Gateway`: what the handlers, the health checks and the reload share, and how it is
//! built from a validated configuration. `mod.rs` starts the tasks around it.

use crate::auth::Verifier;
use crate::gateway::config::GatewayConfig;
use crate::gateway::hosts::Hosts;
use crate::gateway::{health, idempotency, upstream};
use crate::in_force::invalid_input;
use crate::metrics::GatewayMetrics;
use crate::tls::ReloadableServerConfig;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the handlers share.
pub struct Gateway {
    pub(crate) config: GatewayConfig,
    pub hosts: Hosts,
    pub(crate) clients: upstream::Clients,
    pub metrics: GatewayMetrics,
    /// Health state changes, for the cluster event streams.
    pub(crate) health_flips: tokio::sync::broadcast::Sender<health::Flip>,
    /// `Idempotency-Key` records of this replica.
    pub idempotency: Arc<idempotency::Store>,
    /// Cancelled when shutdown begins: `/readyz` turns 503 during the drain period.
    pub(crate) draining: CancellationToken,
    /// The listener's TLS configuration, reloadable.
    pub(crate) tls: Option<Arc<ReloadableServerConfig>>,
    /// `None` when `auth.mode = "none"`.
    pub(crate) verifier: Option<Verifier>,
}

impl Gateway {
    /// Loads the files `config` names (TLS, keys); no host is known yet
    /// (`reload::apply` adds them).
    pub(crate) async fn new(config: GatewayConfig, draining: CancellationToken) -> std::io::Result<Self> {
        let tls = match &config.tls {
            Some(files) => {
                Some(Arc::new(ReloadableServerConfig::load(files.clone()).map_err(invalid_input)?))
            }
            None => None,
        };
        let verifier = if config.auth.is_none() {
            None
        } else {
            Some(Verifier::new(&config.auth).await.map_err(invalid_input)?)
        };
        let upstream_tls =
            crate::tls::client_config_for(&config.upstream_tls, "upstream_tls.ca").map_err(invalid_input)?;
        Ok(Gateway {
            clients: upstream::Clients::new(config.workers, config.connect_timeout, &upstream_tls),
            hosts: Hosts::default(),
            metrics: GatewayMetrics::new().map_err(std::io::Error::other)?,
            health_flips: tokio::sync::broadcast::channel(health::FLIPS).0,
            idempotency: Arc::new(idempotency::Store::new(
                config.idempotency_ttl,
                config.idempotency_max_entries,
            )),
            draining,
            tls,
            verifier,
            config,
        })
    }
}
