//! Health checks: every agent is asked `GET /v1/processes` each interval (`GET /info`
//! when its own auth refuses the tokenless probe). A failure marks it `down` (requests
//! then fail fast); the next success brings it back. Only state changes are logged.

use crate::gateway::Gateway;
use crate::gateway::hosts::{Host, Probe, State as HostState};
use crate::gateway::{pool, upstream};
use axum::http::{HeaderMap, Method};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Flips kept for a cluster event stream that has not taken them yet.
pub(crate) const FLIPS: usize = 256;

/// A host that went up or down.
#[derive(Clone, Debug)]
pub(crate) struct Flip {
    pub(crate) host: String,
    pub(crate) up: bool,
    /// Why it is down.
    pub(crate) error: String,
}

pub(crate) async fn run(gateway: Arc<Gateway>, shutdown: CancellationToken) {
    loop {
        check_all(&gateway).await;
        gateway.clients.sweep();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(gateway.config.health_interval) => {}
        }
    }
}

/// One round over every host, in parallel.
pub(crate) async fn check_all(gateway: &Arc<Gateway>) {
    let mut checks = JoinSet::new();
    for host in gateway.hosts.all() {
        let gateway = gateway.clone();
        checks.spawn(async move { check(&gateway, &host).await });
    }
    while checks.join_next().await.is_some() {}
    publish_states(gateway);
}

async fn check(gateway: &Gateway, host: &Arc<Host>) {
    let started = Instant::now();
    let result = match ask(gateway, host, "/v1/processes").await {
        // An agent with auth of its own refuses the probe, which has no token: it is
        // alive, and its open `/info` has the count.
        Ok(answer) if matches!(answer.status.as_u16(), 401 | 403) => ask(gateway, host, "/info").await,
        result => result,
    };
    let latency = started.elapsed();
    gateway.metrics.health_check_duration.with_label_values(&[&host.name]).observe(latency.as_secs_f64());
    let probe = match result {
        Ok(answer) if answer.status.is_success() => Probe::Up { latency, processes: processes(&answer.body) },
        Ok(answer) => Probe::Down { latency, error: format!("agent answered {}", answer.status.as_u16()) },
        Err(error) => Probe::Down { latency, error: error.to_string() },
    };
    if let Some(before) = host.record(probe) {
        let up = host.state() == HostState::Up;
        // Nobody may be listening: no error then.
        let _ = gateway.health_flips.send(Flip { host: host.name.clone(), up, error: host.last_error() });
        match host.state() {
            HostState::Up => info!(host = %host.name, from = before.as_str(), "agent is up"),
            _ => {
                warn!(host = %host.name, from = before.as_str(), error = %host.last_error(), "agent is down")
            }
        }
    }
}

async fn ask(gateway: &Gateway, host: &Host, path: &str) -> Result<pool::Answer, upstream::UpstreamError> {
    let deadline = gateway.config.request_timeout.min(gateway.config.health_interval);
    let pool = gateway.clients.here();
    upstream::send(pool, host, &Method::GET, path, &HeaderMap::new(), Default::default(), deadline).await
}

/// The process count in a `/v1/processes` list or an `/info` object.
fn processes(body: &[u8]) -> usize {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Array(list)) => list.len(),
        Ok(serde_json::Value::Object(info)) => {
            info.get("processes").and_then(|n| n.as_u64()).map_or(0, |n| n as usize)
        }
        _ => 0,
    }
}

/// Refreshes the per-host and per-state gauges from the table (hosts that left vanish).
pub(crate) fn publish_states(gateway: &Gateway) {
    let metrics = &gateway.metrics;
    metrics.upstream_up.reset();
    let hosts = gateway.hosts.all();
    for state in HostState::ALL {
        let count = hosts.iter().filter(|h| h.state() == state).count();
        metrics.hosts.with_label_values(&[state.as_str()]).set(count as i64);
    }
    for host in &hosts {
        metrics.upstream_up.with_label_values(&[&host.name]).set(i64::from(host.state() == HostState::Up));
    }
}
