//! The gateway: many agents behind one entry point, routed by host, with cluster-wide
//! views, health checks, hot reload and metrics. It keeps no state that must survive a
//! restart, so any number of replicas can run side by side.

pub(crate) mod apply;
pub mod config;
mod config_error;
pub mod discovery;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod fanout;
pub(crate) mod follow;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod host_path;
pub mod hosts;
pub(crate) mod http1;
pub(crate) mod idempotency;
pub(crate) mod plan;
pub(crate) mod pool;
pub(crate) mod proxy;
pub mod reload;
pub mod routes;
pub(crate) mod state;
pub(crate) mod stream;
pub(crate) mod upstream;

pub use config::GatewayConfig;
pub use state::Gateway;

use crate::http_server::{self, ServerLimits};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub struct RunningGateway {
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub gateway: Arc<Gateway>,
    tasks: JoinSet<()>,
}

impl RunningGateway {
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts serving on the bound listeners. `source` enables hot reload.
pub async fn start(
    config: GatewayConfig,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    source: Option<reload::Source>,
    shutdown: CancellationToken,
) -> std::io::Result<RunningGateway> {
    let addr = listener.local_addr()?;
    let metrics_addr = metrics_listener.as_ref().map(|l| l.local_addr()).transpose()?;
    let gateway = Arc::new(Gateway::new(config, shutdown.clone()).await?);
    reload::apply(&gateway, &gateway.config).map_err(crate::in_force::invalid_input)?;
    reload::publish_cert_expiry(&gateway);
    if gateway.verifier.is_none() {
        warn_open();
    }
    // Stop accepting only after the drain period, so load balancers see /readyz first.
    let stop = CancellationToken::new();
    let limits = ServerLimits {
        header_timeout: gateway.config.header_timeout,
        body_timeout: gateway.config.body_timeout,
        idle_timeout: gateway.config.idle_timeout,
        max_connections: gateway.config.max_connections,
        grace_period: gateway.config.grace,
        workers: gateway.config.workers,
    };
    let mut tasks = JoinSet::new();
    tasks.spawn(crate::shutdown::drain_then_stop(shutdown.clone(), gateway.config.drain, stop.clone()));
    tasks.spawn(health::run(gateway.clone(), stop.clone()));
    if let Some(dns) = gateway.config.discovery.clone() {
        tasks.spawn(discovery::run(gateway.clone(), dns, stop.clone()));
    }
    if let Some(source) = source {
        tasks.spawn(reload::watch(gateway.clone(), source, crate::file_watch::POLL, stop.clone()));
    }
    if gateway.verifier.is_none() {
        tasks.spawn(warn_open_every_minute(stop.clone()));
    }
    let app = routes::app(gateway.clone(), metrics_listener.is_none());
    tasks.spawn(http_server::serve(listener, app, limits.clone(), gateway.tls.clone(), stop.clone()));
    if let Some(metrics_listener) = metrics_listener {
        tasks.spawn(http_server::serve(
            metrics_listener,
            routes::metrics_only(gateway.clone()),
            ServerLimits { workers: 0, ..limits },
            None,
            stop,
        ));
    }
    let metrics = metrics_addr.map_or_else(|| "on the main listener".to_owned(), |a| a.to_string());
    info!(%addr, %metrics, hosts = gateway.hosts.len(), "gateway listening");
    Ok(RunningGateway { addr, metrics_addr, gateway, tasks })
}

fn warn_open() {
    warn!("auth mode is none: every client reaching this listener can use every agent");
}

/// The spec asks for the open-door warning at start and every minute.
async fn warn_open_every_minute(stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => warn_open(),
        }
    }
}
