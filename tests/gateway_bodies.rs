//! Request bodies the gateway cannot read whole, sent over raw TCP: a malformed chunked
//! body gets a 400, a body the client stops sending midway is never forwarded; in
//! neither case does any request reach the agent.

mod common;

use common::gateway::{TestGateway, agents_toml, recording_upstream, test_toml};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEAD: &str =
    "PUT /v1/hosts/h1/nfvs/1/forward HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n";

/// Sends `request`, ends the sending side when `hang_up` (the client stops midway),
/// and reads the whole answer until the gateway closes the connection.
async fn exchange(gateway: SocketAddr, request: &str, hang_up: bool) -> String {
    let mut stream = TcpStream::connect(gateway).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("request written");
    if hang_up {
        stream.shutdown().await.expect("half close");
    }
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the gateway closes the connection")
        .expect("answer read");
    String::from_utf8(answer).expect("UTF-8 answer")
}

/// Status line, content type and body of a raw answer.
fn parts(answer: &str) -> (&str, bool, &str) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head.lines().next().unwrap_or_default();
    (status, head.to_ascii_lowercase().contains("\r\ncontent-type: text/plain\r\n"), body)
}

#[tokio::test]
async fn broken_request_bodies_never_reach_the_agent() {
    let (agent, recorded) = recording_upstream(false).await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent)]))).await;
    let chunked = format!("{HEAD}transfer-encoding: chunked\r\n\r\n");
    let malformed = [
        ("zz\r\n{}\r\n0\r\n\r\n", "invalid request body: Invalid chunk size line: missing size digit"),
        ("2\r\n{}XX0\r\n\r\n", "invalid request body: Invalid chunk body CR"),
    ];
    for (body, reason) in malformed {
        let answer = exchange(gateway.addr, &format!("{chunked}{body}"), false).await;
        assert_eq!(parts(&answer), ("HTTP/1.1 400 Bad Request", true, reason), "{body:?}");
    }
    let cut_off = [
        (format!("{chunked}5\r\n{{}}"), "invalid request body: the client stopped sending it midway"),
        (
            format!("{HEAD}content-length: 100\r\n\r\n{{\"action\""),
            "invalid request body: the client stopped sending it midway",
        ),
    ];
    for (request, reason) in &cut_off {
        let answer = exchange(gateway.addr, request, true).await;
        assert_eq!(parts(&answer), ("HTTP/1.1 400 Bad Request", true, *reason), "{request:?}");
    }
    // The answers came after the gateway was done with each request: had any gone on,
    // the agent would have recorded it by now.
    assert_eq!(recorded.lock().clone(), []);
    // The same request, whole, goes through.
    let whole =
        format!("{HEAD}connection: close\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n\r\n");
    let answer = exchange(gateway.addr, &whole, false).await;
    assert_eq!(parts(&answer), ("HTTP/1.1 200 OK", false, "[]"));
    let lines: Vec<String> = recorded.lock().iter().map(|(_, line)| line.clone()).collect();
    assert_eq!(lines, ["put /v1/nfvs/1/forward http/1.1"]);
}
