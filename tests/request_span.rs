//! The request span and access log of both roles, read from the captured JSON log: one
//! debug line per request with method, matched route, status and latency, plus the
//! host on the gateway.

mod common;

use common::TestAgent;
use common::gateway::{TestGateway, agents_toml, test_toml};
use serde_json::Value;
use std::path::Path;

/// The `request` span of each access log line: (method, route, host, status).
fn access_lines(log: &Path) -> Vec<(String, String, String, u64)> {
    let text = std::fs::read_to_string(log).expect("log file");
    let events = text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok());
    events
        .filter(|e| e["fields"]["message"] == "request served")
        .map(|e| {
            let span = &e["span"];
            assert_eq!(span["name"], "request", "{e}");
            assert!(span["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{e}");
            let text = |key: &str| span[key].as_str().unwrap_or("-").to_owned();
            (text("method"), text("route"), text("host"), span["status"].as_u64().unwrap_or(0))
        })
        .collect()
}

fn line(method: &str, route: &str, host: &str, status: u64) -> (String, String, String, u64) {
    (method.to_owned(), route.to_owned(), host.to_owned(), status)
}

#[tokio::test]
async fn both_roles_log_each_request_with_its_route_status_and_host() {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let writer = std::sync::Mutex::new(log.reopen().expect("log file"));
    let filter = "spp_ctl::http_server::trace=debug";
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(writer).try_init();
    let agent = TestAgent::start().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("node-1", agent.addrs.api)]))).await;

    assert_eq!(agent.get("/v1/nfvs/7").await.status, 404);
    assert_eq!(agent.get("/v1/no/such/path").await.status, 404);
    let http = reqwest::Client::new();
    for (path, status) in [("/v1/hosts/node-1/processes", 200), ("/v1/hosts", 200), ("/v1/nowhere", 404)] {
        let answer = http.get(gateway.url(path)).send().await.expect("gateway answers");
        assert_eq!(answer.status().as_u16(), status, "{path}");
    }

    let lines = access_lines(log.path());
    for expected in [
        line("GET", "/v1/nfvs/{id}", "-", 404),
        line("GET", "-", "-", 404),
        // The proxied request: the gateway's line and the agent's.
        line("GET", "/v1/hosts/{host}/...", "node-1", 200),
        line("GET", "/v1/processes", "-", 200),
        line("GET", "/v1/hosts", "-", 200),
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in {lines:?}");
    }
}
