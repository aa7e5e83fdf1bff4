//! DNS discovery: the A/AAAA records of a name (e.g. a Kubernetes headless Service) are
//! agents; each is asked `GET /info` for the host name it goes by. An address DNS still
//! lists stays in the table under its last known name even when it stops answering
//! (health checks then mark it down); it leaves only when DNS no longer lists it.

use crate::gateway::config::DnsDiscovery;
use crate::gateway::hosts::{Host, Source, is_host_name};
use crate::gateway::{Gateway, upstream};
use axum::http::{HeaderMap, Method, Uri};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::warn;

pub(crate) async fn run(gateway: Arc<Gateway>, dns: DnsDiscovery, shutdown: CancellationToken) {
    loop {
        match tokio::net::lookup_host((dns.name.as_str(), dns.port)).await {
            Ok(addresses) => refresh(&gateway, &dns, &addresses.collect::<Vec<_>>()).await,
            // Keep what was found before: a DNS hiccup must not empty the table.
            Err(error) => warn!(name = %dns.name, %error, "DNS discovery failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(dns.interval) => {}
        }
    }
}

/// One round over the addresses DNS lists now (the resolver is the caller's, so tests
/// control it): they become the discovered part of the table.
pub async fn refresh(gateway: &Gateway, dns: &DnsDiscovery, addresses: &[SocketAddr]) {
    let known = gateway.hosts.entries(Source::Dns);
    let mut entries = Vec::new();
    for address in addresses {
        let url = format!("{}://{address}", dns.scheme);
        let Ok(base) = upstream::base_uri(&url) else { continue };
        match ask_name(gateway, dns, address, &url, &base).await {
            Some(name) => entries.push((name, url, base)),
            None => match known.iter().find(|(_, known_url, _)| *known_url == url) {
                Some(entry) => entries.push(entry.clone()),
                None => warn!(%address, "discovered address does not answer GET /info with a host name"),
            },
        }
    }
    gateway.hosts.set_source(Source::Dns, entries);
}

/// The host name the agent at `address` reports in `GET /info`.
async fn ask_name(
    gateway: &Gateway,
    dns: &DnsDiscovery,
    address: &SocketAddr,
    url: &str,
    base: &Uri,
) -> Option<String> {
    let probe = Host::new(address.to_string(), url.to_owned(), base.clone());
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
    .await
    .ok()?;
    let info = serde_json::from_slice::<serde_json::Value>(&answer.body).ok()?;
    let name = info.get("host")?.as_str()?;
    is_host_name(name).then(|| name.to_owned())
}
