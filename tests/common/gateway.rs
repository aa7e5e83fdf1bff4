//! A gateway on 127.0.0.1:0 configured from TOML text, and upstreams that misbehave.

use spp_ctl::gateway::{self, GatewayConfig, RunningGateway};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct TestGateway {
    pub addr: SocketAddr,
    pub running: Arc<gateway::Gateway>,
    pub shutdown: CancellationToken,
    pub config_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// `[[agents]]` entries for `(name, address)` pairs.
pub fn agents_toml(agents: &[(&str, SocketAddr)]) -> String {
    agents
        .iter()
        .map(|(name, addr)| format!("[[agents]]\nhost = \"{name}\"\nurl = \"http://{addr}\"\n"))
        .collect()
}

/// A configuration with short timeouts for tests, plus `extra` TOML.
pub fn test_toml(extra: &str) -> String {
    with_auth(extra, "[auth]\nmode = \"none\"\n")
}

/// Like `test_toml` with an `[auth]` (or `[tls]`…) section of the caller's.
pub fn with_auth(extra: &str, auth: &str) -> String {
    format!(
        "insecure_plaintext = true\n{extra}\n{auth}\n[timeouts]\nconnect = \"500ms\"\nrequest = \"1s\"\nhealth_interval = \"200ms\"\n\
         [fanout]\nconcurrency = 8\ndeadline = \"700ms\"\n[limits]\ndrain = \"0s\"\ngrace = \"2s\"\n"
    )
}

impl TestGateway {
    pub async fn start(toml: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_file = dir.path().join("gateway.toml");
        std::fs::write(&config_file, toml).expect("write config");
        let config = GatewayConfig::load(&config_file).expect("valid test config");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let shutdown = CancellationToken::new();
        let running: RunningGateway = gateway::start(
            config,
            listener,
            None,
            Some(gateway::reload::Source::file(&config_file)),
            shutdown.clone(),
        )
        .await
        .expect("gateway starts");
        let addr = running.addr;
        let gateway = running.gateway.clone();
        tokio::spawn(running.wait());
        TestGateway { addr, running: gateway, shutdown, config_file, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A TCP server that reads requests and never answers; counts requests.
pub async fn silent_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    fake_agent(Fake::Silent).await
}

/// A fake agent that passes health checks but never answers anything else.
pub async fn slow_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    fake_agent(Fake::Slow).await
}

/// A fake agent that passes health checks but hangs up on any request with a body
/// method without answering, as an agent dying mid-request would; counts those.
pub async fn hanging_up_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    fake_agent(Fake::HangsUp).await
}

#[derive(Clone, Copy, PartialEq)]
enum Fake {
    Silent,
    Slow,
    HangsUp,
}

async fn fake_agent(kind: Fake) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 65536];
                let Ok(n) = stream.read(&mut buf).await else { return };
                if n == 0 {
                    return;
                }
                let health_check = buf.starts_with(b"GET /v1/processes ");
                if kind == Fake::Silent || (kind == Fake::Slow && !health_check) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    return;
                }
                if health_check {
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]";
                    let _ = stream.write_all(answer.as_bytes()).await;
                } else {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, requests)
}

/// The real `/metrics` text of a gateway that has proxied a request and a fan-out to
/// `agent` (so every request series exists).
pub async fn gateway_metrics_text(agent: SocketAddr) -> String {
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent)]))).await;
    let http = reqwest::Client::new();
    for path in ["/v1/hosts/h1/processes", "/v1/cluster/processes", "/v1/cluster/cpu_usage"] {
        let status = http.get(gateway.url(path)).send().await.expect("gateway answers").status();
        assert!(status.is_success(), "{path}: {status}");
    }
    super::eventually("a health check ran", || {
        gateway.running.hosts.get("h1").is_some_and(|h| h.state() == spp_ctl::gateway::hosts::State::Up)
    })
    .await;
    http.get(gateway.url("/metrics")).send().await.expect("metrics").text().await.expect("metrics text")
}

/// What a `recording_upstream` was asked: `(connection number, request line)`, health
/// checks left out.
pub type Recorded = Arc<parking_lot::Mutex<Vec<(usize, String)>>>;

/// A fake agent that answers every request `200 []` on keep-alive connections and
/// records each request with the number of the connection it came on. With
/// `close_when_idle`, it closes a connection shortly after each answer, as an agent that
/// drops idle connections does.
pub async fn recording_upstream(close_when_idle: bool) -> (SocketAddr, Recorded) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let recorded = Recorded::default();
    let log = recorded.clone();
    tokio::spawn(async move {
        let mut connections = 0;
        while let Ok((stream, _)) = listener.accept().await {
            connections += 1;
            tokio::spawn(answer_all(stream, connections, log.clone(), close_when_idle));
        }
    });
    (addr, recorded)
}

async fn answer_all(
    mut stream: tokio::net::TcpStream,
    connection: usize,
    log: Recorded,
    close_when_idle: bool,
) {
    let mut buf = Vec::new();
    while let Some(line) = next_request(&mut stream, &mut buf).await {
        if line != "get /v1/processes http/1.1" {
            log.lock().push((connection, line));
        }
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]";
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        if close_when_idle {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            return;
        }
    }
}

/// Reads the next whole request (head and `content-length` body) from `stream`, `buf`
/// holding what was read beyond the last one; its request line, lower case.
async fn next_request(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        let complete = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).and_then(|end| {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let body_length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse::<usize>().expect("content length"));
            (buf.len() >= end + body_length).then_some((head, end + body_length))
        });
        if let Some((head, length)) = complete {
            buf.drain(..length);
            return Some(head.lines().next().unwrap_or_default().to_owned());
        }
        let mut chunk = [0; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// What `delaying_upstream`s saw: every request line but health checks, with the agent's
/// port, and how many requests were in their hands at once, at most.
#[derive(Default)]
pub struct Overlap {
    pub lines: parking_lot::Mutex<Vec<(u16, String)>>,
    now: AtomicUsize,
    pub max: AtomicUsize,
}

/// A fake agent that answers health checks `200 []` at once and any other request `204`
/// after `delay`, counting it in `overlap` from its arrival until just before its answer.
pub async fn delaying_upstream(delay: std::time::Duration, overlap: Arc<Overlap>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let overlap = overlap.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                while let Some(line) = next_request(&mut stream, &mut buf).await {
                    let answer = if line == "get /v1/processes http/1.1" {
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]"
                    } else {
                        overlap.lines.lock().push((addr.port(), line));
                        let now = overlap.now.fetch_add(1, Ordering::SeqCst) + 1;
                        overlap.max.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        overlap.now.fetch_sub(1, Ordering::SeqCst);
                        "HTTP/1.1 204 No Content\r\n\r\n"
                    };
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}
