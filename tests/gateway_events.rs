//! Event streams through the gateway, against real agents with simulated processes: one
//! host's stream passed through as it comes; the cluster stream merging two agents,
//! tagged by host, resumable by its composite id; an agent restart seen as
//! host-down/host-up without losing what the new agent buffered; the token's hosts.

mod common;

use common::gateway::{TestGateway, agents_toml, test_toml};
use common::jwt::Issuer;
use common::sse::SseClient;
use common::{TestAgent, eventually};
use parking_lot::Mutex;
use serde_json::Value;
use spp_ctl::proc_type::ProcType;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// One event of the merged stream: its (composite) id, type and data.
#[derive(Debug)]
struct Merged {
    id: String,
    kind: String,
    data: Value,
}

async fn next_merged(client: &mut SseClient) -> Merged {
    loop {
        let block = client.next_block().await.expect("the stream goes on");
        let mut merged = Merged { id: String::new(), kind: String::new(), data: Value::Null };
        for line in block.lines() {
            if let Some(id) = line.strip_prefix("id: ") {
                merged.id = id.to_owned();
            } else if let Some(kind) = line.strip_prefix("event: ") {
                merged.kind = kind.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                merged.data = serde_json::from_str(data).expect("data is JSON");
            }
        }
        if !merged.kind.is_empty() {
            return merged;
        }
    }
}

/// Merged events until `done` holds for one (included).
async fn merged_until(client: &mut SseClient, done: impl Fn(&Merged) -> bool) -> Vec<Merged> {
    let mut seen = Vec::new();
    loop {
        let event = next_merged(client).await;
        let last = done(&event);
        seen.push(event);
        if last {
            return seen;
        }
    }
}

fn attached(host: &str, ty: &str) -> impl Fn(&Merged) -> bool {
    move |e: &Merged| e.kind == "process-attached" && e.data["host"] == host && e.data["type"] == ty
}

#[tokio::test]
async fn one_hosts_stream_passes_through_as_it_comes() {
    let agent = TestAgent::start().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent.addrs.api)]))).await;
    let mut client = SseClient::open(gateway.addr, "/v1/hosts/h1/events", "").await;
    let head = client.head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(head.contains("content-type: text/event-stream\r\n"), "{head}");
    assert!(head.contains("cache-control: no-cache\r\n"), "{head}");
    assert_eq!(client.next_block().await.as_deref(), Some("retry: 1000"));
    // The stream never ends: an event arriving proves it is not buffered whole.
    agent.attach(ProcType::Nfv, 1).await;
    let event = client.event().await;
    assert_eq!(
        (event.id, event.kind.as_str(), &event.data["type"]),
        (Some(1), "process-attached", &Value::from("nfv"))
    );
    assert!(event.data.get("host").is_none(), "one host's stream is the agent's own");
    // Last-Event-ID goes through: the agent replays after it, same ids.
    agent.attach(ProcType::Vf, 2).await;
    let mut resumed = SseClient::open(gateway.addr, "/v1/hosts/h1/events", "Last-Event-ID: 1\r\n").await;
    let event = resumed.event().await;
    assert_eq!((event.id, &event.data["type"]), (Some(2), &Value::from("vf")));
    let mut resumed = SseClient::open(gateway.addr, "/v1/hosts/h1/events?last_event_id=0", "").await;
    assert_eq!(resumed.event().await.id, Some(1));
}

#[tokio::test]
async fn the_cluster_stream_merges_two_agents_tagged_by_host() {
    let (a, b) = (TestAgent::start().await, TestAgent::start().await);
    let gateway =
        TestGateway::start(&test_toml(&agents_toml(&[("h1", a.addrs.api), ("h2", b.addrs.api)]))).await;
    a.attach(ProcType::Nfv, 1).await;
    // From the start of both agents' buffers: nothing depends on when the gateway connects.
    let mut client =
        SseClient::open(gateway.addr, "/v1/cluster/events", "Last-Event-ID: h1=0,h2=0\r\n").await;
    assert!(client.head.to_ascii_lowercase().contains("content-type: text/event-stream\r\n"));
    b.attach(ProcType::Vf, 2).await;
    // The hosts' events come in any order between hosts.
    let mut seen = Vec::new();
    while seen.iter().filter(|e: &&Merged| e.kind == "process-attached").count() < 2 {
        seen.push(next_merged(&mut client).await);
    }
    let ours: Vec<&Merged> = seen.iter().filter(|e| e.kind == "process-attached").collect();
    let tagged: Vec<(&str, &str, u64)> = ours
        .iter()
        .map(|e| {
            (
                e.data["host"].as_str().unwrap_or("?"),
                e.data["type"].as_str().unwrap_or("?"),
                e.data["client_id"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        tagged == [("h1", "nfv", 1), ("h2", "vf", 2)] || tagged == [("h2", "vf", 2), ("h1", "nfv", 1)],
        "{seen:?}"
    );
    let last = seen.last().expect("events");
    assert_eq!(last.id, "h1=1,h2=1");
    assert!(last.data["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{last:?}");
    // Only health flips besides, each naming its host.
    for other in seen.iter().filter(|e| e.kind != "process-attached") {
        assert!(["host-up", "host-down"].contains(&other.kind.as_str()), "{other:?}");
        assert!(["h1", "h2"].contains(&other.data["host"].as_str().unwrap_or_default()));
    }
    // A command is an event of its host.
    let forward = reqwest::Client::new()
        .put(gateway.url("/v1/hosts/h1/nfvs/1/forward"))
        .header("content-type", "application/json")
        .body(r#"{"action": "start"}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(forward.status(), 204);
    let command = merged_until(&mut client, |e| e.kind == "command" && e.data["host"] == "h1")
        .await
        .pop()
        .expect("command");
    assert_eq!((&command.data["host"], &command.data["verb"]), (&Value::from("h1"), &Value::from("forward")));
    assert!(command.id.starts_with("h1=2,"), "{command:?}");
}

/// A TCP relay in front of an agent: the test chooses the agent, or none (connections
/// are then closed at once, as a stopped agent's port refuses them).
struct Relay {
    addr: SocketAddr,
    target: Arc<Mutex<Option<SocketAddr>>>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Self {
        let listener = common::bind().await;
        let addr = listener.local_addr().expect("address");
        let target = Arc::new(Mutex::new(Some(target)));
        let to = target.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let Some(agent) = *to.lock() else { continue };
                tokio::spawn(async move {
                    if let Ok(mut agent) = TcpStream::connect(agent).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut agent).await;
                    }
                });
            }
        });
        Relay { addr, target }
    }

    fn point_at(&self, target: Option<SocketAddr>) {
        *self.target.lock() = target;
    }
}

#[tokio::test]
async fn an_agent_restart_is_host_down_then_host_up_and_loses_nothing_buffered() {
    let agent = TestAgent::start().await;
    let relay = Relay::start(agent.addrs.api).await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", relay.addr)]))).await;
    let mut client = SseClient::open(gateway.addr, "/v1/cluster/events", "Last-Event-ID: h1=0\r\n").await;
    for (ty, id) in [(ProcType::Nfv, 1), (ProcType::Vf, 2), (ProcType::Mirror, 3)] {
        agent.attach(ty, id).await;
    }
    let before = merged_until(&mut client, attached("h1", "mirror")).await;
    assert_eq!(before.last().map(|e| e.id.as_str()), Some("h1=3"));

    relay.point_at(None);
    drop(agent);
    let down = merged_until(&mut client, |e| e.kind == "host-down").await.pop().expect("host-down");
    assert_eq!(down.data["host"], "h1");
    assert!(down.data["error"].as_str().is_some_and(|e| !e.is_empty()), "{down:?}");
    // The new agent numbers from 1 again and has buffered two events before the gateway
    // reaches it: resuming after id 3, or one early (2), would replay neither.
    let restarted = TestAgent::start().await;
    restarted.attach(ProcType::Vf, 2).await;
    restarted.attach(ProcType::Mirror, 3).await;
    relay.point_at(Some(restarted.addrs.api));
    let mut seen = merged_until(&mut client, attached("h1", "mirror")).await;
    if !seen.iter().any(|e| e.kind == "host-up") {
        seen.extend(merged_until(&mut client, |e| e.kind == "host-up").await);
    }
    let kinds: Vec<(&str, &str)> =
        seen.iter().map(|e| (e.kind.as_str(), e.data["type"].as_str().unwrap_or("-"))).collect();
    let attaches: Vec<&(&str, &str)> = kinds.iter().filter(|(k, _)| *k == "process-attached").collect();
    assert_eq!(attaches, [&("process-attached", "vf"), &("process-attached", "mirror")], "{kinds:?}");
    let ids: Vec<&str> =
        seen.iter().filter(|e| e.kind == "process-attached").map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["h1=1", "h1=2"], "the new agent's ids");
    assert!(seen.iter().any(|e| e.kind == "host-up"), "{kinds:?}");
}

#[tokio::test]
async fn hosts_a_reload_adds_or_removes_join_or_leave_an_open_cluster_stream() {
    let (a, b) = (TestAgent::start().await, TestAgent::start().await);
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", a.addrs.api)]))).await;
    let mut client = SseClient::open(gateway.addr, "/v1/cluster/events", "").await;
    eventually("the gateway follows h1", || a.registry.events().subscribers() == 1).await;
    let reload = |toml: String| {
        std::fs::write(&gateway.config_file, toml).expect("write config");
        let source = spp_ctl::gateway::reload::Source::file(&gateway.config_file);
        let running = gateway.running.clone();
        async move { spp_ctl::gateway::reload::reload(&running, &source).await.expect("reloaded") }
    };
    reload(test_toml(&agents_toml(&[("h1", a.addrs.api), ("h2", b.addrs.api)]))).await;
    eventually("the open stream follows h2 too", || b.registry.events().subscribers() == 1).await;
    b.attach(ProcType::Vf, 2).await;
    let seen = merged_until(&mut client, attached("h2", "vf")).await;
    let event = seen.last().expect("events");
    assert_eq!((event.id.as_str(), event.data["client_id"].as_u64()), ("h2=1", Some(2)), "{seen:?}");
    // A host that leaves the table is no longer followed; the stream goes on. The agent
    // notices that a stream's reader is gone when it writes to it: events make it write.
    reload(test_toml(&agents_toml(&[("h2", b.addrs.api)]))).await;
    let mut id = 10;
    while a.registry.events().subscribers() > 0 && id < 60 {
        a.attach(ProcType::Nfv, id).await;
        id += 1;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(a.registry.events().subscribers(), 0, "h1 is let go");
    b.attach(ProcType::Nfv, 3).await;
    let seen = merged_until(&mut client, attached("h2", "nfv")).await;
    assert_eq!(seen.last().map(|e| e.data["client_id"].as_u64()), Some(Some(3)), "{seen:?}");
    assert_eq!(b.registry.events().subscribers(), 1);
}

#[tokio::test]
async fn a_token_for_one_host_sees_only_its_events() {
    let issuer = Issuer::new();
    let (a, b) = (TestAgent::start().await, TestAgent::start().await);
    let gateway = issuer.gateway(&[("h1", a.addrs.api), ("h2", b.addrs.api)]).await;
    b.attach(ProcType::Vf, 2).await;
    let token = issuer.token("viewer", "spp:read", Some("h1"));
    let auth = format!("Authorization: Bearer {token}\r\nLast-Event-ID: h1=0,h2=0\r\n");
    let mut client = SseClient::open(gateway.addr, "/v1/cluster/events", &auth).await;
    a.attach(ProcType::Nfv, 1).await;
    let seen = merged_until(&mut client, attached("h1", "nfv")).await;
    assert!(seen.iter().all(|e| e.data["host"] == "h1"), "{seen:?}");
    eventually("the gateway follows h1", || a.registry.events().subscribers() == 1).await;
    assert_eq!(b.registry.events().subscribers(), 0, "h2 is never asked");
    assert!(seen.last().is_some_and(|e| e.id == "h1=1"));

    let refused = SseClient::open(gateway.addr, "/v1/hosts/h2/events", &auth).await;
    assert!(refused.head.starts_with("HTTP/1.1 403"), "{}", refused.head);
    let anonymous = SseClient::open(gateway.addr, "/v1/cluster/events", "").await;
    assert!(anonymous.head.starts_with("HTTP/1.1 401"), "{}", anonymous.head);
}

#[tokio::test]
async fn streams_end_when_the_gateway_drains() {
    let agent = TestAgent::start().await;
    // A grace period far beyond the client's patience: only the drain itself ends them.
    let toml = format!(
        "insecure_plaintext = true\n{}\n[auth]\nmode = \"none\"\n[limits]\ndrain = \"0s\"\ngrace = \"60s\"\n",
        agents_toml(&[("h1", agent.addrs.api)])
    );
    let gateway = TestGateway::start(&toml).await;
    let mut host = SseClient::open(gateway.addr, "/v1/hosts/h1/events", "").await;
    let mut cluster = SseClient::open(gateway.addr, "/v1/cluster/events", "").await;
    assert_eq!(host.next_block().await.as_deref(), Some("retry: 1000"));
    assert_eq!(cluster.next_block().await.as_deref(), Some("retry: 1000"));
    gateway.shutdown.cancel();
    for stream in [&mut host, &mut cluster] {
        while let Some(block) = stream.next_block().await {
            assert!(block.starts_with("event: host-") || block.starts_with(':'), "{block}");
        }
    }
}
