//! Crowds of silent and idle connections against the connection limit: with 2,000
//! connections that never send a byte and 2,000 idle keep-alive ones held open, well
//! above the limit, a new client of either role is still answered, the oldest idle
//! connections making room for it.

mod common;

use common::gateway::{TestGateway, test_toml};
use common::raw::RawClient;
use common::{TestAgent, test_config};
use futures::StreamExt;
use spp_ctl::agent::AgentConfig;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpStream;

const SILENT: usize = 2000;
const IDLE: usize = 2000;
const LIMIT: usize = 1024;
/// Connections opened at a time, so the accept backlog does not overflow.
const AT_ONCE: usize = 128;
/// How long one connection of the crowd may take to be accepted or answered.
const PATIENCE: Duration = Duration::from_secs(3);

/// Longer than the test: only the limit's own policy can make room.
const NO_TIMEOUT: Duration = Duration::from_secs(300);

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: a\r\n\r\n";

/// Both tests at once, client and server sides of every connection, and some spare.
fn enough_open_files() {
    let needed = 2 * 2 * (SILENT + IDLE) as u64 + 1000;
    let limit = spp_ctl::open_files::raise(needed).expect("raise the open-files limit");
    assert!(limit >= needed, "the open-files limit {limit} is below the {needed} this test needs");
}

/// Opens `count` connections; with `request`, sends it on each and reads the answer,
/// leaving the connection open. Returns the connections and how many were answered 200.
async fn crowd(addr: SocketAddr, count: usize, request: Option<&'static [u8]>) -> (Vec<RawClient>, usize) {
    let open = |_| async move {
        let stream = tokio::time::timeout(PATIENCE, TcpStream::connect(addr)).await.ok()?.ok()?;
        let mut client = RawClient::from(stream);
        let mut answered = false;
        if let Some(request) = request {
            client.send(request).await;
            let answer = tokio::time::timeout(PATIENCE, client.read_response()).await;
            answered = answer.ok().flatten().is_some_and(|a| a.status == 200);
        }
        Some((client, answered))
    };
    let opened: Vec<_> = futures::stream::iter(0..count)
        .map(open)
        .buffer_unordered(AT_ONCE)
        .filter_map(async |c| c)
        .collect()
        .await;
    let answered = opened.iter().filter(|(_, answered)| *answered).count();
    (opened.into_iter().map(|(client, _)| client).collect(), answered)
}

/// Holds the crowds open and times a new client's request to `role` at `addr`.
async fn answered_despite_crowds(role: &str, addr: SocketAddr) {
    let silent = crowd(addr, SILENT, None).await;
    let idle = crowd(addr, IDLE, Some(HEALTHZ)).await;
    assert_eq!((silent.0.len(), idle.1), (SILENT, IDLE), "connections opened, requests answered");
    let started = Instant::now();
    let mut fresh = RawClient::connect(addr).await;
    fresh.send(HEALTHZ).await;
    let answer = fresh.response().await;
    let took = started.elapsed();
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    drop((silent, idle));
    println!("{role}, limit {LIMIT}, {SILENT} silent and {IDLE} idle connections held: answered in {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d9_silent_and_idle_crowds_do_not_starve_the_agent() {
    enough_open_files();
    let agent = TestAgent::start_with(AgentConfig {
        max_connections: LIMIT,
        header_timeout: NO_TIMEOUT,
        idle_timeout: NO_TIMEOUT,
        ..test_config()
    })
    .await;
    answered_despite_crowds("agent", agent.addrs.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d9_silent_and_idle_crowds_do_not_starve_the_gateway() {
    enough_open_files();
    let limits =
        format!("[limits]\nmax_connections = {LIMIT}\nheader_timeout = \"300s\"\nidle_timeout = \"300s\"\n");
    let gateway =
        TestGateway::start(&format!("workers = 2\n{}", test_toml("")).replace("[limits]\n", &limits)).await;
    answered_despite_crowds("gateway", gateway.addr).await;
}

/// The real binary as an agent allowed `files` open files (soft and hard limit, so it
/// cannot raise them): accept runs out of descriptors long before the connection limit.
/// Returns the running agent, its API address and its log up to "listening".
async fn agent_with_few_files(files: u32) -> (tokio::process::Child, SocketAddr, Vec<String>) {
    let agent = format!(
        "ulimit -n {files} && exec {} -b 127.0.0.1 -p 0 -s 0 -a 0 --header-timeout 300s --idle-timeout 300s",
        env!("CARGO_BIN_EXE_spp-ctl")
    );
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", &agent])
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the agent");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr piped")).lines();
    let mut log = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(api) = line.split(" api=").nth(1) {
            let api = api.split_whitespace().next().and_then(|a| a.parse().ok()).expect("API address");
            return (child, api, log);
        }
        log.push(line);
    }
    panic!("the agent ended before listening: {log:?}");
}

#[tokio::test]
async fn d9_an_agent_out_of_file_descriptors_closes_idle_connections_for_new_ones() {
    // Room for fewer connections than the crowd, and more than it opens at once.
    let (_agent, addr, log) = agent_with_few_files(512).await;
    assert!(log.iter().any(|l| l.contains("open-files limit below max_connections")), "{log:?}");
    let (idle, answered) = crowd(addr, 1000, Some(HEALTHZ)).await;
    assert_eq!((idle.len(), answered), (1000, 1000), "connections opened, requests answered");
    let mut fresh = RawClient::connect(addr).await;
    fresh.send(HEALTHZ).await;
    let answer = fresh.response().await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
}
