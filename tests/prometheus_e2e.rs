//! End to end with a real Prometheus server on 127.0.0.1: it scrapes an agent whose
//! simulated processes forward packets, and a gateway; the test reads the results back
//! through Prometheus's HTTP API.

mod common;

use common::gateway::{TestGateway, agents_toml, test_toml};
use common::{TestAgent, unused_addr};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

struct Prometheus {
    _child: tokio::process::Child,
    url: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    async fn start(agent: std::net::SocketAddr, gateway: std::net::SocketAddr) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n\
             - job_name: spp-agent\n  static_configs:\n  - targets: ['{agent}']\n\
             - job_name: spp-gateway\n  static_configs:\n  - targets: ['{gateway}']\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let listen = unused_addr().await;
        let child = tokio::process::Command::new("prometheus")
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--web.listen-address={listen}"))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("prometheus runs (CI installs Debian's prometheus package)");
        let prometheus = Prometheus {
            _child: child,
            url: format!("http://{listen}"),
            http: reqwest::Client::new(),
            _dir: dir,
        };
        prometheus
            .wait_until("ready", |p| async move {
                p.http.get(format!("{}/-/ready", p.url)).send().await.is_ok_and(|r| r.status().is_success())
            })
            .await;
        prometheus
    }

    /// The result vector of an instant query.
    async fn query(&self, promql: &str) -> Vec<Value> {
        let encoded = percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC);
        let Ok(response) = self.http.get(format!("{}/api/v1/query?query={encoded}", self.url)).send().await
        else {
            return Vec::new();
        };
        let body: Value = response.json().await.unwrap_or_default();
        body["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    async fn wait_until<'a, F, Fut>(&'a self, what: &str, mut check: F)
    where
        F: FnMut(&'a Self) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(40);
        while !check(self).await {
            assert!(Instant::now() < deadline, "Prometheus never saw: {what}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn value(sample: &Value) -> f64 {
    sample["value"][1].as_str().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_data_plane_counters_and_upstream_health() {
    let agent = TestAgent::start().await;
    agent.attach_all().await;
    agent.put("/v1/primary/patches", r#"{"src": "phy:0", "dst": "phy:1"}"#).await.assert_no_content();
    agent.put("/v1/primary/forward", r#"{"action": "start"}"#).await.assert_no_content();
    let doomed = TestAgent::start().await;
    let gateway =
        TestGateway::start(&test_toml(&agents_toml(&[("h1", agent.addrs.api), ("h2", doomed.addrs.api)])))
            .await;
    let prometheus = Prometheus::start(agent.addrs.api, gateway.addr).await;

    prometheus
        .wait_until("spp_port_rx_packets_total rising", |p| async move {
            let rate = p.query(r#"rate(spp_port_rx_packets_total{port="phy:0"}[5s])"#).await;
            rate.first().is_some_and(|s| value(s) > 0.0)
        })
        .await;
    prometheus
        .wait_until("spp_agent_processes for every type", |p| async move {
            let mut types: Vec<String> = p
                .query("spp_agent_processes == 1")
                .await
                .iter()
                .filter_map(|s| s["metric"]["type"].as_str().map(str::to_owned))
                .collect();
            types.sort();
            types == ["mirror", "nfv", "pcap", "primary", "vf"]
        })
        .await;
    prometheus
        .wait_until("h2 up", |p| async move {
            p.query(r#"spp_gateway_upstream_up{host="h2"}"#).await.first().is_some_and(|s| value(s) == 1.0)
        })
        .await;
    drop(doomed);
    prometheus
        .wait_until("spp_gateway_upstream_up going to 0 for the stopped agent", |p| async move {
            p.query(r#"spp_gateway_upstream_up{host="h2"}"#).await.first().is_some_and(|s| value(s) == 0.0)
        })
        .await;
    let h1 = prometheus.query(r#"spp_gateway_upstream_up{host="h1"}"#).await;
    assert_eq!(h1.first().map(value), Some(1.0));
}
