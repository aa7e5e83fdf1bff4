//! The agent: the drop-in spp-ctl for one host.
//!
//! It accepts SPP process connections on the primary and secondary ports, keeps the
//! registry of connected processes, and serves the REST API v1. `start` takes
//! already-bound listeners and a shutdown token, so tests bind port 0.

pub(crate) mod actor;
pub mod api;
pub mod codec;
pub(crate) mod command;
pub mod config;
pub(crate) mod error;
pub mod events;
pub(crate) mod http_metrics;
pub(crate) mod listener;
pub(crate) mod process;
pub(crate) mod registry;
pub(crate) mod scrape;
pub(crate) mod security;

pub use config::AgentConfig;
pub use registry::Registry;

use crate::http_server::{self, ServerLimits};
use crate::metrics::AgentMetrics;
use actor::ActorSettings;
use listener::PortContext;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// The bound sockets of an agent.
pub struct Listeners {
    pub primary: TcpListener,
    pub secondary: TcpListener,
    pub api: TcpListener,
    /// Plain `/metrics`, `/healthz` and `/readyz` (`--metrics-addr`).
    pub metrics: Option<TcpListener>,
}

/// Addresses actually bound (port 0 resolved).
#[derive(Clone, Copy, Debug)]
pub struct Addresses {
    pub primary: SocketAddr,
    pub secondary: SocketAddr,
    pub api: SocketAddr,
    pub metrics: Option<SocketAddr>,
}

/// A started agent.
pub struct RunningAgent {
    pub registry: Registry,
    pub addresses: Addresses,
    tasks: JoinSet<()>,
}

impl RunningAgent {
    /// Waits until every loop has ended (after shutdown and the HTTP drain).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts the accept loops and the API server on the given listeners.
pub async fn start(
    config: AgentConfig,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> std::io::Result<RunningAgent> {
    let addresses = Addresses {
        primary: listeners.primary.local_addr()?,
        secondary: listeners.secondary.local_addr()?,
        api: listeners.api.local_addr()?,
        metrics: listeners.metrics.as_ref().map(TcpListener::local_addr).transpose()?,
    };
    let security = Arc::new(security::Security::load(&config).await.map_err(crate::in_force::invalid_input)?);
    let registry = Registry::with_events(events::EventHub::new(config.events.clone()));
    let metrics = Arc::new(AgentMetrics::new().map_err(std::io::Error::other)?);
    if let Some(tls) = &security.tls {
        metrics.tls_cert_expiry.set(tls.not_after().unwrap_or(0));
    }
    let ports = PortContext {
        registry: registry.clone(),
        actor: ActorSettings {
            command_timeout: config.command_timeout,
            exit_timeout: config.exit_timeout,
            queue_depth: config.queue_depth,
            text_grace: Duration::from_millis(100),
            metrics: metrics.clone(),
        },
        frame_size: config.frame_size,
        handshake_timeout: config.handshake_timeout,
        seen: Arc::default(),
    };
    let drain_period = config.drain_period;
    let limits = ServerLimits {
        header_timeout: config.header_timeout,
        body_timeout: config.body_timeout,
        idle_timeout: config.idle_timeout,
        max_connections: config.max_connections,
        grace_period: config.grace_period,
        workers: 0,
    };
    let scraper = Arc::new(scrape::Scraper {
        registry: registry.clone(),
        metrics: metrics.clone(),
        deadline: config.scrape_timeout,
    });
    let state = api::AppState {
        registry: registry.clone(),
        config: Arc::new(config),
        started: Instant::now(),
        shutdown: shutdown.clone(),
        sysfs_cpu: PathBuf::from("/sys/devices/system/cpu"),
    };
    info!(
        primary = %addresses.primary, secondary = %addresses.secondary, api = %addresses.api,
        metrics = ?addresses.metrics, "agent listening"
    );
    let mut tasks = JoinSet::new();
    // `/readyz` turns 503 at once; the listeners close after the drain period.
    let stop = CancellationToken::new();
    tasks.spawn(crate::shutdown::drain_then_stop(shutdown.clone(), drain_period, stop.clone()));
    let shutdown = stop;
    let hub = registry.events().clone();
    let streams_end = shutdown.clone();
    // Open streams would hold the HTTP drain for the whole grace period.
    tasks.spawn(async move {
        streams_end.cancelled().await;
        hub.close()
    });
    tasks.spawn(listener::serve_primary(listeners.primary, ports.clone(), shutdown.clone()));
    tasks.spawn(listener::serve_secondary(listeners.secondary, ports, shutdown.clone()));
    if let Some(listener) = listeners.metrics {
        // Outside the guard and without TLS: scrapers and kubelets hold no client certificate.
        let plain = api::probes(state.clone()).merge(scrape::routes(scraper.clone()));
        tasks.spawn(http_server::serve(listener, plain, limits.clone(), None, shutdown.clone()));
    }
    let routes = api::router(state).merge(scrape::routes(scraper));
    let routes = routes.layer(axum::middleware::from_fn_with_state(security.clone(), security::guard));
    let routes = http_metrics::track(routes, metrics).layer(axum::middleware::from_fn(crate::audit::layer));
    let app = api::finish(routes);
    tasks.spawn(security::reload_on_change(security.clone(), shutdown.clone()));
    tasks.spawn(http_server::serve(listeners.api, app, limits, security.tls.clone(), shutdown));
    Ok(RunningAgent { registry, addresses, tasks })
}
