//! Metrics, dashboards and alert rules, checked with the real Prometheus tools.

mod common;

use common::TestAgent;
use common::prometheus::{dashboard_metric_names, promtool};
use spp_ctl::sim::Faults;
use std::path::Path;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// An agent with all five simulated processes attached and the nfv and primary forwarding.
async fn forwarding_agent() -> (TestAgent, Vec<spp_ctl::sim::SimHandle>) {
    let agent = TestAgent::start().await;
    let sims = agent.attach_all().await;
    agent.put("/v1/primary/patches", r#"{"src": "phy:0", "dst": "phy:1"}"#).await.assert_no_content();
    agent.put("/v1/primary/forward", r#"{"action": "start"}"#).await.assert_no_content();
    agent.put("/v1/nfvs/1/patches", r#"{"src": "phy:1", "dst": "phy:0"}"#).await.assert_no_content();
    agent.put("/v1/nfvs/1/forward", r#"{"action": "start"}"#).await.assert_no_content();
    agent
        .post("/v1/vfs/2/components", r#"{"name": "fwd1", "core": 2, "type": "forward"}"#)
        .await
        .assert_no_content();
    (agent, sims)
}

async fn scrape(agent: &TestAgent) -> String {
    let answer = agent.get("/metrics").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type.as_deref(), Some("text/plain; version=0.0.4; charset=utf-8"));
    answer.body
}

#[tokio::test]
async fn agent_metrics_pass_promtool_and_carry_the_data_plane() {
    let (agent, _sims) = forwarding_agent().await;
    agent.get("/v1/nfvs/1").await;
    agent.get("/v1/nothing").await;
    let text = scrape(&agent).await;
    let (ok, complaints) = promtool(&["check", "metrics"], &text, Path::new(ROOT));
    assert!(ok, "promtool check metrics complained:\n{complaints}\n--- output was:\n{text}");
    for line in [
        "spp_agent_processes{type=\"primary\"} 1",
        "spp_agent_processes{type=\"vf\"} 1",
        "spp_agent_process_up{client_id=\"2\",type=\"vf\"} 1",
        "spp_agent_connections_total{event=\"connect\",type=\"nfv\"} 1",
        "spp_nfv_forwarding{client_id=\"1\"} 1",
        "spp_vf_components{client_id=\"2\",type=\"forward\"} 1",
        "spp_agent_http_requests_total{code=\"200\",method=\"GET\",route=\"/v1/nfvs/{id}\"} 1",
        "spp_agent_http_requests_total{code=\"404\",method=\"GET\",route=\"unmatched\"} 1",
        ",role=\"agent\",version=\"",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(text.contains("spp_port_rx_packets_total{port=\"phy:0\"}"), "{text}");
    assert!(
        text.contains("spp_agent_commands_total{command=\"status\",outcome=\"ok\",type=\"nfv\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn port_counters_rise_between_scrapes() {
    let (agent, _sims) = forwarding_agent().await;
    let rx = |text: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.starts_with("spp_port_rx_packets_total{port=\"phy:0\"}"))
            .expect("phy:0 rx");
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let first = rx(&scrape(&agent).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = rx(&scrape(&agent).await);
    assert!(second > first, "rx did not grow: {first} then {second}");
}

#[tokio::test]
async fn a_hung_process_does_not_stall_the_scrape() {
    let (agent, sims) = forwarding_agent().await;
    sims[2].set_faults(Faults { no_reply: true, ..Faults::default() });
    let started = Instant::now();
    let text = scrape(&agent).await;
    let took = started.elapsed();
    // The scrape deadline is 1 s (the command deadline of the test agent is 1.5 s).
    assert!(took < Duration::from_millis(1400), "scrape took {took:?}");
    assert!(text.contains("spp_scrape_errors_total 1"), "{text}");
    assert!(
        text.contains("spp_nfv_forwarding{client_id=\"1\"} 1"),
        "other processes still reported:\n{text}"
    );
    assert!(!text.contains("spp_vf_components{client_id=\"2\""), "the hung vf's series are left out");
}

#[test]
fn dashboards_only_query_exported_agent_or_gateway_metrics() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let exported = runtime.block_on(async {
        let (agent, _sims) = forwarding_agent().await;
        scrape(&agent).await + &common::gateway::gateway_metrics_text(agent.addrs.api).await
    });
    let mut checked = 0;
    for entry in std::fs::read_dir(Path::new(ROOT).join("dashboards")).unwrap() {
        let path = entry.unwrap().path();
        let dashboard: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let names = dashboard_metric_names(&dashboard);
        assert!(!names.is_empty(), "{} has no queries", path.display());
        for name in names {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
            let listed = exported.lines().any(|l| l.starts_with(&format!("# TYPE {base} ")));
            assert!(listed, "{} queries {name}, which no /metrics exports", path.display());
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} metric references found");
}

#[test]
fn alert_rules_pass_promtool_check_and_unit_tests() {
    let dir = Path::new(ROOT).join("deploy/prometheus");
    let (ok, out) = promtool(&["check", "rules", "alerts.yml"], "", &dir);
    assert!(ok && out.contains("SUCCESS: 9 rules found"), "{out}");
    let (ok, out) = promtool(&["test", "rules", "alerts_test.yml"], "", &dir);
    assert!(ok && out.contains("SUCCESS"), "{out}");
    let (ok, out) = promtool(&["check", "config", "prometheus.yml"], "", &dir);
    assert!(ok, "{out}");
}

#[tokio::test]
async fn gateway_metrics_pass_promtool() {
    let agent = TestAgent::start().await;
    agent.attach_all().await;
    let text = common::gateway::gateway_metrics_text(agent.addrs.api).await;
    let (ok, complaints) = promtool(&["check", "metrics"], &text, Path::new(ROOT));
    assert!(ok, "promtool check metrics complained:\n{complaints}\n--- output was:\n{text}");
    for name in [
        "spp_gateway_requests_total",
        "spp_gateway_request_duration_seconds",
        "spp_gateway_upstream_up",
        "spp_gateway_upstream_health_check_duration_seconds",
        "spp_gateway_hosts",
        "spp_gateway_auth_failures_total",
        "spp_gateway_fanout_duration_seconds",
        "spp_gateway_config_reloads_total",
        "spp_ctl_tls_cert_expiry_timestamp_seconds",
    ] {
        assert!(text.contains(&format!("# TYPE {name} ")), "{name} missing:\n{text}");
    }
}
