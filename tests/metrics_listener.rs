//! The plain metrics listener of both roles: `/metrics`, `/healthz` and `/readyz` answer
//! there while the agent's API wants client certificates; `process_*` series and
//! `spp_ctl_build_info` with the git revision are exported by both.

mod common;

use common::certs::Pki;
use common::gateway::test_toml;
use common::{bind, test_config};
use spp_ctl::agent::{self, AgentConfig, Listeners};
use spp_ctl::gateway::{self, GatewayConfig};
use spp_ctl::tls::{ClientTlsFiles, ServerTlsFiles};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.expect("plain HTTP answer");
    (response.status().as_u16(), response.text().await.expect("body"))
}

/// The value of the unlabelled series `name` in a scrape.
fn value(scrape: &str, name: &str) -> f64 {
    let line = scrape.lines().find(|l| l.split(' ').next() == Some(name));
    let line = line.unwrap_or_else(|| panic!("no {name} in:\n{scrape}"));
    line.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

/// The scrape at `addr` holds sane `process_*` values and the build identity of `role`.
async fn assert_process_series(addr: SocketAddr, role: &str) {
    let (status, scrape) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(value(&scrape, "process_resident_memory_bytes") > 1e6, "RSS of a running binary");
    assert!(value(&scrape, "process_open_fds") >= 3.0, "at least the listeners are open");
    assert!(value(&scrape, "process_max_fds") >= value(&scrape, "process_open_fds"));
    assert!(value(&scrape, "process_cpu_seconds_total") >= 0.0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let started = value(&scrape, "process_start_time_seconds");
    assert!(now - 3600.0 < started && started <= now + 1.0, "started {started}, now {now}");

    let revision = std::process::Command::new("git").args(["rev-parse", "--short", "HEAD"]).output();
    let revision = match revision {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => "unknown".to_owned(),
    };
    let info = format!(
        "spp_ctl_build_info{{revision=\"{revision}\",role=\"{role}\",version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(!revision.is_empty() && scrape.lines().any(|l| l == info), "no {info:?} in:\n{scrape}");
}

/// A TLS client without a certificate gets no HTTP answer from an mTLS listener.
async fn plain_tls_get(pki: &Pki, addr: SocketAddr) -> Result<String, String> {
    let files = ClientTlsFiles { ca: Some(pki.ca()), ..Default::default() };
    let config = spp_ctl::tls::client_config(&files).map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = rustls_pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut tls =
        tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| e.to_string())?;
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    tls.read_to_string(&mut response).await.map_err(|e| e.to_string())?;
    Ok(response)
}

#[tokio::test]
async fn the_agent_serves_metrics_and_probes_in_plain_http_beside_an_mtls_api() {
    let pki = Pki::new();
    pki.server("agent");
    let tls = ServerTlsFiles::new(pki.path("agent.pem"), pki.path("agent.key"), Some(pki.ca()));
    // A drain period long enough to see `/readyz` turn 503 on the plain listener.
    let drain_period = std::time::Duration::from_secs(5);
    let config = AgentConfig { tls: Some(tls), drain_period, ..test_config() };
    let listeners = Listeners {
        primary: bind().await,
        secondary: bind().await,
        api: bind().await,
        metrics: Some(bind().await),
    };
    let shutdown = CancellationToken::new();
    let running = agent::start(config, listeners, shutdown.clone()).await.expect("agent starts");
    let (api, plain) = (running.addresses.api, running.addresses.metrics.expect("metrics listener"));
    tokio::spawn(running.wait());

    let refused = plain_tls_get(&pki, api).await;
    assert!(refused.is_err(), "the API answered without a client certificate: {refused:?}");
    assert_eq!(get(plain, "/healthz").await, (200, "ok".to_owned()));
    assert_eq!(get(plain, "/readyz").await, (200, "ready".to_owned()));
    assert_eq!(get(plain, "/v1/processes").await.0, 404, "only metrics and probes are plain");
    assert_process_series(plain, "agent").await;
    shutdown.cancel();
    assert_eq!(get(plain, "/readyz").await, (503, "shutting down".to_owned()));
}

#[tokio::test]
async fn the_gateway_metrics_listener_serves_probes_and_process_series() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, test_toml("")).unwrap();
    let config = GatewayConfig::load(&file).expect("valid config");
    let (listener, metrics) = (bind().await, bind().await);
    let shutdown = CancellationToken::new();
    let running = gateway::start(config, listener, Some(metrics), None, shutdown.clone())
        .await
        .expect("gateway starts");
    let plain = running.metrics_addr.expect("metrics listener");
    tokio::spawn(running.wait());

    assert_eq!(get(plain, "/healthz").await, (200, "ok".to_owned()));
    assert_eq!(get(plain, "/readyz").await, (200, "ready".to_owned()));
    assert_eq!(get(plain, "/v1/hosts").await.0, 404, "the API stays on its own listener");
    assert_process_series(plain, "gateway").await;
    shutdown.cancel();
}

#[test]
fn a_bad_metrics_address_is_refused_in_one_line() {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_spp-ctl"))
        .args(["-b", "127.0.0.1", "-p", "0", "-s", "0", "-a", "0"])
        .env("SPP_CTL_METRICS_ADDR", "localhost")
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        "spp-ctl: --metrics-addr \"localhost\": invalid socket address syntax\n"
    );
}
