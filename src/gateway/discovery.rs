//! DNS discovery: the A/AAAA records of a name (e.g. a Kubernetes headless Service) are
//! agents; each is asked `GET /info` for the host name it goes by.

use crate::gateway::config::DnsDiscovery;
use crate::gateway::hosts::{Entry, Host, Source, is_host_name};
use crate::gateway::{Gateway, upstream};
use axum::http::{HeaderMap, Method};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

pub async fn run(gateway: Arc<Gateway>, dns: DnsDiscovery, shutdown: CancellationToken) {
    loop {
        match discover(&gateway, &dns).await {
            Ok(entries) => gateway.hosts.set_source(Source::Dns, entries),
            // Keep what was found before: a DNS hiccup must not empty the table.
            Err(error) => warn!(name = %dns.name, %error, "DNS discovery failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(dns.interval) => {}
        }
    }
}

/// `(name, url, base)` of every agent behind the DNS name that answers `/info`.
pub async fn discover(gateway: &Gateway, dns: &DnsDiscovery) -> Result<Vec<Entry>, String> {
    let addresses: Vec<SocketAddr> =
        tokio::net::lookup_host((dns.name.as_str(), dns.port)).await.map_err(|e| e.to_string())?.collect();
    let mut entries = Vec::new();
    for address in addresses {
        let url = format!("{}://{address}", dns.scheme);
        let Ok(base) = upstream::base_uri(&url) else { continue };
        let probe = Host::new(address.to_string(), url.clone(), base.clone());
        let deadline = gateway.config.request_timeout.min(dns.interval);
        let answer = upstream::send(
            gateway.clients.here(),
            &probe,
            &Method::GET,
            "/info",
            &HeaderMap::new(),
            Default::default(),
            deadline,
        )
        .await;
        let name = answer
            .ok()
            .and_then(|a| serde_json::from_slice::<serde_json::Value>(&a.body).ok())
            .and_then(|info| info.get("host").and_then(|h| h.as_str()).map(str::to_owned));
        match name {
            Some(name) if is_host_name(&name) => entries.push((name, url, base)),
            _ => warn!(%address, "discovered address does not answer GET /info with a host name"),
        }
    }
    Ok(entries)
}
