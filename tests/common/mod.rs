//! Shared harness of the integration tests: a real agent on 127.0.0.1:0, real simulated
//! SPP processes over real TCP, and a small HTTP client that keeps exact bytes.

#![allow(dead_code)] // each test file uses a different part of the harness

pub mod certs;
pub mod client;
pub mod gateway;
pub mod jwt;
pub mod prometheus;
pub mod raw;
pub mod sse;

use spp_ctl::agent::{self, AgentConfig, Listeners, Registry};
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::{self, SimHandle, SimSpec};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct TestAgent {
    pub addrs: agent::Addresses,
    pub registry: Registry,
    pub shutdown: CancellationToken,
    pub http: reqwest::Client,
}

/// One HTTP answer, as the client saw it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    /// Reads the whole of `response`.
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers.get("content-type").map(|v| v.to_str().expect("ASCII").to_owned());
        let body = response.text().await.expect("body read");
        Answer { status, content_type, headers, body }
    }

    /// Asserts status, content type and body together, so a failure shows all three.
    #[track_caller]
    pub fn assert(&self, status: u16, content_type: Option<&str>, body: &str) {
        assert_eq!(
            (self.status, self.content_type.as_deref(), self.body.as_str()),
            (status, content_type, body),
            "unexpected answer"
        );
    }

    #[track_caller]
    pub fn assert_json(&self, body: &str) {
        self.assert(200, Some("application/json"), body);
    }

    #[track_caller]
    pub fn assert_text(&self, status: u16, body: &str) {
        self.assert(status, Some("text/plain"), body);
    }

    #[track_caller]
    pub fn assert_no_content(&self) {
        self.assert(204, None, "");
        assert!(self.headers.get("content-length").is_none(), "204 must not carry Content-Length");
    }
}

pub fn test_config() -> AgentConfig {
    AgentConfig {
        command_timeout: Duration::from_millis(1500),
        exit_timeout: Duration::from_millis(500),
        handshake_timeout: Duration::from_millis(500),
        grace_period: Duration::from_secs(2),
        ..AgentConfig::default()
    }
}

impl TestAgent {
    pub async fn start() -> Self {
        Self::start_with(test_config()).await
    }

    pub async fn start_with(config: AgentConfig) -> Self {
        Self::start_on(config, bind().await).await
    }

    /// An agent whose API listens on `api` (to restart one on the same port).
    pub async fn start_on(config: AgentConfig, api: TcpListener) -> Self {
        init_tracing();
        let listeners = Listeners { primary: bind().await, secondary: bind().await, api, metrics: None };
        let shutdown = CancellationToken::new();
        let running = agent::start(config, listeners, shutdown.clone()).await.expect("agent starts");
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("HTTP client");
        let test_agent =
            TestAgent { addrs: running.addresses, registry: running.registry.clone(), shutdown, http };
        tokio::spawn(running.wait());
        test_agent
    }

    /// Starts a simulated process and waits until the agent has registered it.
    pub async fn attach(&self, ty: ProcType, id: u32) -> SimHandle {
        self.attach_spec(SimSpec::new(ty, id)).await
    }

    /// The demo set: primary, nfv 1, vf 2, mirror 3, pcap 4, in that order.
    pub async fn attach_all(&self) -> Vec<SimHandle> {
        let mut sims = Vec::new();
        for (ty, id) in [
            (ProcType::Primary, 0),
            (ProcType::Nfv, 1),
            (ProcType::Vf, 2),
            (ProcType::Mirror, 3),
            (ProcType::Pcap, 4),
        ] {
            sims.push(self.attach(ty, id).await);
        }
        sims
    }

    pub async fn attach_spec(&self, spec: SimSpec) -> SimHandle {
        let (ty, id) = (spec.ty, spec.client_id);
        let ctl = if ty == ProcType::Primary { self.addrs.primary } else { self.addrs.secondary };
        let handle = sim::spawn(spec, ctl, self.shutdown.clone());
        self.wait_registered(ty, id).await;
        handle.clear_received();
        handle
    }

    pub fn is_registered(&self, ty: ProcType, id: u32) -> bool {
        match ty {
            ProcType::Primary => self.registry.primary().is_some(),
            _ => self.registry.secondary(ty, id).is_some(),
        }
    }

    pub async fn wait_registered(&self, ty: ProcType, id: u32) {
        eventually(&format!("{ty} {id} registered"), || self.is_registered(ty, id)).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addrs.api, path)
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request(reqwest::Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.request(reqwest::Method::DELETE, path, None).await
    }

    pub async fn put(&self, path: &str, body: &str) -> Answer {
        self.request(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Answer {
        self.request(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn request(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_owned());
        }
        Answer::read(request.send().await.expect("request sent")).await
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0")
}

/// Polls `condition` until it holds, failing the test after 10 s.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The address of a listener nobody accepts on: for "nothing there" cases.
pub async fn unused_addr() -> SocketAddr {
    let listener = bind().await;
    listener.local_addr().expect("local address")
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
}
