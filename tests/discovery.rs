//! DNS discovery rounds driven with addresses the test chooses (the resolver seam of
//! `discovery::refresh`): a discovered agent that dies stays visible as down while DNS
//! lists it, and leaves, with its metric series, once DNS drops it.

mod common;

use common::gateway::{TestGateway, test_toml};
use common::{TestAgent, eventually};
use spp_ctl::gateway::config::DnsDiscovery;
use spp_ctl::gateway::discovery;
use spp_ctl::gateway::hosts::State;
use std::time::{Duration, Instant};

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request sent");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// The discovery settings; which addresses the name resolves to is each round's argument.
fn dns(port: u16) -> DnsDiscovery {
    DnsDiscovery {
        name: "agents.test".to_owned(),
        port,
        scheme: "http".to_owned(),
        interval: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn a_discovered_agent_that_dies_stays_listed_as_down_until_dns_drops_it() {
    let agent = TestAgent::start().await;
    let api = agent.addrs.api;
    let gateway = TestGateway::start(&test_toml("")).await;
    let dns = dns(api.port());
    let hosts = &gateway.running.hosts;
    let state = || hosts.get("localhost").map(|h| h.state());

    discovery::refresh(&gateway.running, &dns, &[api]).await;
    eventually("the discovered agent is up", || state() == Some(State::Up)).await;
    drop(agent);
    eventually("the dead agent is marked down", || state() == Some(State::Down)).await;

    // DNS still lists the address: the host keeps its name and stays, down.
    discovery::refresh(&gateway.running, &dns, &[api]).await;
    let (status, body) = get(&gateway.url("/v1/hosts")).await;
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!((listed[0]["host"].as_str(), listed[0]["state"].as_str()), (Some("localhost"), Some("down")));
    let started = Instant::now();
    let (status, body) = get(&gateway.url("/v1/hosts/localhost/processes")).await;
    assert!(started.elapsed() < Duration::from_millis(100), "a down host must fail at once");
    assert_eq!(status, 503);
    assert!(body.starts_with("host localhost is down: "), "{body}");
    let (status, body) = get(&gateway.url("/v1/cluster/processes")).await;
    let cluster: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(cluster["errors"][0]["host"], "localhost", "{cluster}");
    let (_, metrics) = get(&gateway.url("/metrics")).await;
    assert!(metrics.contains("\nspp_gateway_upstream_up{host=\"localhost\"} 0\n"), "{metrics}");
    assert!(metrics.contains("\nspp_gateway_hosts{state=\"down\"} 1\n"), "{metrics}");

    // DNS no longer lists it: host and series are gone.
    discovery::refresh(&gateway.running, &dns, &[]).await;
    assert_eq!(get(&gateway.url("/v1/hosts")).await, (200, "[]".to_owned()));
    let (status, body) = get(&gateway.url("/v1/hosts/localhost/processes")).await;
    assert_eq!((status, body.as_str()), (404, "unknown host localhost"));
    let (_, metrics) = get(&gateway.url("/metrics")).await;
    assert!(!metrics.contains("spp_gateway_upstream_up{host="), "{metrics}");
    assert!(metrics.contains("\nspp_gateway_hosts{state=\"down\"} 0\n"), "{metrics}");
}

#[tokio::test]
async fn an_address_that_never_answered_is_not_listed() {
    let gateway = TestGateway::start(&test_toml("")).await;
    let nobody = common::unused_addr().await;
    let dns = dns(nobody.port());
    discovery::refresh(&gateway.running, &dns, &[nobody]).await;
    assert!(gateway.running.hosts.is_empty());
}
