//! How both roles treat connections that misbehave at the HTTP level: silent ones, ones
//! whose body comes late or never, and idle keep-alive ones. Raw TCP, so that what a
//! client library would hide (a close without `Connection: close`) shows.

mod common;

use common::certs::Pki;
use common::gateway::{TestGateway, agents_toml};
use common::raw::{Next, RawClient, RawResponse};
use common::{TestAgent, test_config};
use spp_ctl::agent::AgentConfig;
use spp_ctl::proc_type::ProcType;
use spp_ctl::tls::{ClientTlsFiles, ServerTlsFiles};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncReadExt;

const SHORT: Duration = Duration::from_millis(300);
/// Longer than any deadline under test: waiting this long for a close that should come
/// never passes by luck.
const PATIENCE: Duration = Duration::from_secs(10);

/// A gateway in front of `agent` with `[limits]` keys of the test's.
async fn gateway(agent: SocketAddr, limits: &str) -> TestGateway {
    TestGateway::start(&format!(
        "insecure_plaintext = true\n{}\n[auth]\nmode = \"none\"\n\
         [timeouts]\nhealth_interval = \"200ms\"\n[limits]\ndrain = \"0s\"\ngrace = \"2s\"\n{limits}\n",
        agents_toml(&[("h1", agent)])
    ))
    .await
}

async fn agent_with(config: AgentConfig) -> TestAgent {
    let agent = TestAgent::start_with(config).await;
    agent.attach(ProcType::Nfv, 1).await;
    agent
}

/// An agent with `config` and a gateway in front of it with `limits`: the addresses of
/// both, and what keeps them running.
async fn both_roles(config: AgentConfig, limits: &str) -> ([SocketAddr; 2], (TestAgent, TestGateway)) {
    let agent = agent_with(config).await;
    let gateway = gateway(agent.addrs.api, limits).await;
    ([agent.addrs.api, gateway.addr], (agent, gateway))
}

#[tokio::test]
async fn d8_a_connection_that_never_sends_a_byte_is_closed_after_the_header_timeout() {
    let config = AgentConfig { header_timeout: SHORT, ..test_config() };
    let (addrs, _running) = both_roles(config, "header_timeout = \"300ms\"").await;
    for addr in addrs {
        assert_eq!(RawClient::connect(addr).await.next(PATIENCE).await, Next::Closed, "{addr}");
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let config = AgentConfig { idle_timeout: SHORT, ..test_config() };
    let (addrs, _running) = both_roles(config, "idle_timeout = \"300ms\"").await;
    for addr in addrs {
        let mut client = RawClient::connect(addr).await;
        client.send(b"GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n").await;
        assert_eq!(client.response().await.status, 200);
        assert_eq!(client.next(PATIENCE).await, Next::Closed, "{addr}");
    }
}

#[tokio::test]
async fn d8_a_tls_connection_that_sends_nothing_after_the_handshake_is_closed() {
    let pki = Pki::new();
    pki.server("agent");
    let tls = ServerTlsFiles::new(pki.path("agent.pem"), pki.path("agent.key"), None);
    let agent = agent_with(AgentConfig { tls: Some(tls), header_timeout: SHORT, ..test_config() }).await;
    let client = ClientTlsFiles { ca: Some(pki.ca()), ..Default::default() };
    let connector =
        tokio_rustls::TlsConnector::from(spp_ctl::tls::client_config(&client).expect("client TLS"));
    let tcp = tokio::net::TcpStream::connect(agent.addrs.api).await.expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(PATIENCE, tls.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection stayed open");
}

#[tokio::test]
async fn d8_an_http2_connection_without_requests_is_closed_after_the_header_timeout() {
    let agent = agent_with(AgentConfig { header_timeout: SHORT, ..test_config() }).await;
    let mut client = RawClient::connect(agent.addrs.api).await;
    // The HTTP/2 preface and an empty SETTINGS frame (cleartext, prior knowledge); the
    // client answers nothing after, not even the PING of a graceful close.
    client.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await;
    assert!(client.closed_within(PATIENCE).await, "the connection stayed open");
}

/// Sends a head, its body 20 ms later, then a second request on the same connection.
async fn early_answer_then_next(addr: SocketAddr, head: &str) -> (RawResponse, Option<RawResponse>) {
    let body = r#"{"action": "start"}"#;
    let mut client = RawClient::connect(addr).await;
    client.send(format!("{head}\r\nhost: a\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    client.send(body.as_bytes()).await;
    let first = client.response().await;
    client.send(b"GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n").await;
    (first, client.read_response().await)
}

#[tokio::test]
async fn d10_an_answer_given_before_the_body_came_keeps_the_connection_usable() {
    let agent = agent_with(test_config()).await;
    let gateway = gateway(agent.addrs.api, "").await;
    let cases = [
        (agent.addrs.api, "PUT /v1/nfvs/9/forward HTTP/1.1", 404),
        (agent.addrs.api, "POST /v1/processes HTTP/1.1", 405),
        (agent.addrs.api, "PUT /v1/nothing HTTP/1.1", 404),
        (gateway.addr, "PUT /v1/hosts/h9/nfvs/1/forward HTTP/1.1", 404),
        (gateway.addr, "POST /v1/hosts HTTP/1.1", 405),
    ];
    for (addr, head, status) in cases {
        let (first, second) = early_answer_then_next(addr, head).await;
        assert_eq!(first.status, status, "{head}: {first:?}");
        assert_eq!(first.header("connection"), None, "{head}: {first:?}");
        let second =
            second.unwrap_or_else(|| panic!("{head}: the next request on the connection got no answer"));
        assert_eq!((second.status, second.body.as_str()), (200, "ok"), "{head}");
    }
}

#[tokio::test]
async fn d10_a_body_too_large_to_skip_is_answered_with_connection_close() {
    let agent = agent_with(test_config()).await;
    let mut client = RawClient::connect(agent.addrs.api).await;
    client.send(b"PUT /v1/nothing HTTP/1.1\r\nhost: a\r\ncontent-length: 10000000\r\n\r\n{").await;
    let answer = client.response().await;
    assert_eq!((answer.status, answer.header("connection")), (404, Some("close")), "{answer:?}");
    assert_eq!(client.next(PATIENCE).await, Next::Closed);
}

/// Declares a body and sends `sent` of it, then nothing.
async fn stalled_body(addr: SocketAddr, path: &str, declared: u64, sent: &str) -> RawClient {
    let mut client = RawClient::connect(addr).await;
    client
        .send(
            format!("PUT {path} HTTP/1.1\r\nhost: a\r\ncontent-length: {declared}\r\n\r\n{sent}").as_bytes(),
        )
        .await;
    client
}

#[tokio::test]
async fn d11_a_body_that_never_comes_gets_408_and_a_close() {
    let agent = agent_with(AgentConfig { body_timeout: SHORT, ..test_config() }).await;
    let gateway = gateway(agent.addrs.api, "body_timeout = \"300ms\"").await;
    let cases = [
        (agent.addrs.api, "/v1/nfvs/1/forward", 2_000_000_000, ""),
        (agent.addrs.api, "/v1/nfvs/1/forward", 100, r#"{"action": "#),
        (gateway.addr, "/v1/hosts/h1/nfvs/1/forward", 2_000_000_000, ""),
        (gateway.addr, "/v1/hosts/h1/nfvs/1/forward", 100, r#"{"action": "#),
    ];
    for (addr, path, declared, sent) in cases {
        let mut client = stalled_body(addr, path, declared, sent).await;
        let answer = client.response().await;
        assert_eq!(
            (answer.status, answer.header("content-type"), answer.header("connection"), answer.body.as_str()),
            (408, Some("text/plain"), Some("close"), "Request body timed out."),
            "{addr} {path} {declared}"
        );
        assert_eq!(client.next(PATIENCE).await, Next::Closed);
    }
}
