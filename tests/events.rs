//! `GET /v1/events` and `GET /v1/processes?wait_for=` on a real agent with simulated
//! processes over TCP; the stream read as bytes off a bare socket.

mod common;

use common::sse::{SseClient, SseEvent};
use common::{TestAgent, test_config};
use serde_json::{Value, json};
use spp_ctl::agent::AgentConfig;
use spp_ctl::agent::events::HubSettings;
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::Faults;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn config(events: HubSettings) -> AgentConfig {
    AgentConfig { events, ..test_config() }
}

async fn stream(agent: &TestAgent, extra: &str) -> SseClient {
    let mut client = SseClient::open(agent.addrs.api, "/v1/events", extra).await;
    assert_eq!(client.next_block().await.as_deref(), Some("retry: 1000"));
    client
}

fn keys(event: &SseEvent) -> Vec<&str> {
    event.data.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

/// The data without `time` (checked separately: RFC 3339 UTC with milliseconds).
fn fields(event: &SseEvent) -> Value {
    let mut data = event.data.clone();
    let time = data.as_object_mut().and_then(|o| o.remove("time")).expect("time");
    let time = time.as_str().expect("time is a string");
    assert!(time.len() == 24 && time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    data
}

#[tokio::test]
async fn the_stream_head_keep_alives_and_an_idle_timeout_that_spares_it() {
    let events = HubSettings { keep_alive: Duration::from_millis(100), ..HubSettings::default() };
    let agent = TestAgent::start_with(AgentConfig {
        idle_timeout: Duration::from_millis(100),
        grace_period: Duration::from_millis(100),
        ..config(events)
    })
    .await;
    let mut client = stream(&agent, "").await;
    assert!(client.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", client.head);
    let head = client.head.to_ascii_lowercase();
    for header in [
        "content-type: text/event-stream\r\n",
        "cache-control: no-cache\r\n",
        "transfer-encoding: chunked\r\n",
    ] {
        assert!(head.contains(header), "{header:?} missing in {head}");
    }
    // Ten idle timeouts and more: the stream is a request in flight, never idle.
    let started = Instant::now();
    let mut keep_alives = 0;
    while started.elapsed() < Duration::from_millis(1200) {
        assert_eq!(client.next_block().await.as_deref(), Some(": keep-alive"));
        keep_alives += 1;
    }
    assert!(keep_alives >= 8, "{keep_alives} keep-alives in 1.2 s at 100 ms");
    let _nfv = agent.attach(ProcType::Nfv, 1).await;
    let attached = client.event().await;
    assert_eq!((attached.id, attached.kind.as_str()), (Some(1), "process-attached"));
}

#[tokio::test]
async fn a_secondary_that_reconnects_yields_detached_then_attached_in_order() {
    let agent = TestAgent::start().await;
    let mut client = stream(&agent, "").await;
    let nfv = agent.attach(ProcType::Nfv, 1).await;
    let first = client.event().await;
    assert_eq!(first.kind, "process-attached");
    let addr = first.data["addr"].as_str().expect("addr").to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_eq!(fields(&first), json!({"type": "nfv", "client_id": 1, "addr": addr}));
    // It answers one command, closes, and comes back.
    nfv.set_faults(Faults { disconnect_after: Some(1), ..Faults::default() });
    assert_eq!(agent.get("/v1/nfvs/1").await.status, 200);
    let (detached, attached) = (client.event().await, client.event().await);
    assert_eq!(fields(&detached), json!({"type": "nfv", "client_id": 1, "addr": addr, "reason": "eof"}));
    assert_eq!(attached.kind, "process-attached");
    assert_ne!(attached.data["addr"], json!(addr), "a new connection, a new port");
    assert_eq!([detached.id, attached.id], [Some(2), Some(3)]);
    // The primary has no client id.
    let _primary = agent.attach(ProcType::Primary, 0).await;
    let primary = client.event().await;
    assert_eq!(keys(&primary), ["time", "type", "addr"]);
    // Told to exit: gone before the answer, so before the command's own event.
    agent.delete("/v1/nfvs/1").await.assert_no_content();
    let (exited, command) = (client.event().await, client.event().await);
    assert_eq!((exited.kind.as_str(), &exited.data["reason"]), ("process-detached", &json!("exit")));
    assert_eq!((command.kind.as_str(), &command.data["verb"]), ("command", &json!("exit")));
}

#[tokio::test]
async fn commands_are_reported_with_what_they_changed_and_never_their_bodies() {
    let agent = TestAgent::start().await;
    let _nfv = agent.attach(ProcType::Nfv, 1).await;
    let mut client = stream(&agent, "").await;
    agent.put("/v1/nfvs/1/forward", r#"{"action": "start"}"#).await.assert_no_content();
    let command = client.event().await;
    assert_eq!((command.id, command.kind.as_str()), (Some(2), "command"));
    assert!(command.data["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{:?}", command.data);
    let mut data = fields(&command);
    data.as_object_mut().map(|o| o.remove("duration_ms"));
    assert_eq!(
        data,
        json!({"method": "PUT", "route": "/v1/nfvs/{id}/forward", "path": "/v1/nfvs/1/forward",
               "process": "nfv:1", "verb": "forward", "status": 204, "outcome": "ok"})
    );
    let forwarding = client.event().await;
    assert_eq!(forwarding.kind, "forwarding");
    assert_eq!(fields(&forwarding), json!({"state": "running", "process": "nfv:1"}));

    agent.put("/v1/nfvs/1/ports", r#"{"action": "add", "port": "ring:3"}"#).await.assert_no_content();
    let (command, added) = (client.event().await, client.event().await);
    assert_eq!((command.data["verb"].as_str(), command.data["outcome"].as_str()), (Some("add"), Some("ok")));
    assert_eq!(
        (added.kind.as_str(), fields(&added)),
        ("port-added", json!({"port": "ring:3", "process": "nfv:1"}))
    );

    // Refused before anything is sent: no process, no verb, no change.
    agent
        .put("/v1/nfvs/1/ports", r#"{"action": "bogus", "port": "ring:3"}"#)
        .await
        .assert_text(400, "invalid key(action): bogus.");
    let refused = client.event().await;
    assert_eq!(
        (refused.data["status"].as_u64(), refused.data["outcome"].as_str()),
        (Some(400), Some("error"))
    );
    assert_eq!(keys(&refused), ["time", "method", "route", "path", "status", "outcome", "duration_ms"]);

    // A dry run is reported as one, and changes nothing.
    agent.put("/v1/nfvs/1/forward?dry_run=true", r#"{"action": "stop"}"#).await.assert_no_content();
    agent.delete("/v1/nfvs/1/patches").await;
    let dry = client.event().await;
    assert_eq!(
        (dry.data["verb"].as_str(), dry.data["outcome"].as_str(), &dry.data["dry_run"]),
        (Some("stop"), Some("dry-run"), &json!(true))
    );
    let next = client.event().await;
    assert_eq!((next.kind.as_str(), next.data["verb"].as_str()), ("command", Some("patch")));
    let ids: Vec<_> = [command.id, added.id, refused.id, dry.id, next.id].into_iter().flatten().collect();
    assert_eq!(ids, [4, 5, 6, 7, 8]);
}

/// `n` forward start/stop commands: two events each (command, forwarding).
async fn toggle(agent: &TestAgent, n: usize) {
    for i in 0..n {
        let action = if i % 2 == 0 { "start" } else { "stop" };
        agent.put("/v1/nfvs/1/forward", &format!(r#"{{"action": "{action}"}}"#)).await.assert_no_content();
    }
}

async fn ids(client: &mut SseClient, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(client.event().await.id.expect("an id"));
    }
    ids
}

#[tokio::test]
async fn reconnecting_with_last_event_id_gets_exactly_the_missed_events() {
    let agent = TestAgent::start().await;
    let _nfv = agent.attach(ProcType::Nfv, 1).await;
    let mut first = stream(&agent, "").await;
    toggle(&agent, 2).await;
    assert_eq!(ids(&mut first, 4).await, [2, 3, 4, 5]);
    drop(first);
    toggle(&agent, 3).await; // ids 6..=11 while away
    let mut client = stream(&agent, "Last-Event-ID: 5\r\n").await;
    assert_eq!(ids(&mut client, 6).await, [6, 7, 8, 9, 10, 11]);
    // Then the live stream, without a gap.
    toggle(&agent, 1).await;
    assert_eq!(ids(&mut client, 2).await, [12, 13]);
    // The same as a query parameter (for clients that cannot set headers).
    let mut client = SseClient::open(agent.addrs.api, "/v1/events?last_event_id=9", "").await;
    assert_eq!(client.next_block().await.as_deref(), Some("retry: 1000"));
    assert_eq!(ids(&mut client, 4).await, [10, 11, 12, 13]);
}

#[tokio::test]
async fn a_last_event_id_beyond_the_buffer_gets_a_reset_first() {
    let agent = TestAgent::start_with(config(HubSettings { buffer: 4, ..HubSettings::default() })).await;
    let _nfv = agent.attach(ProcType::Nfv, 1).await;
    toggle(&agent, 3).await; // ids 1..=7; 4..=7 buffered
    for (last, reason) in [
        ("2", "events after 2 are no longer buffered"),
        ("999", "unknown last event id"),
        ("x", "unknown last event id"),
    ] {
        let mut client = stream(&agent, &format!("Last-Event-ID: {last}\r\n")).await;
        let reset = client.event().await;
        assert_eq!((reset.id, reset.kind.as_str()), (None, "reset"), "after {last}");
        assert_eq!(fields(&reset), json!({"reason": reason}));
        agent.delete("/v1/nfvs/1/patches").await;
        let live = client.event().await;
        assert!(live.id.is_some_and(|id| id > 7) && live.kind == "command", "{live:?}");
    }
    // Still buffered (ids 7..=10 now): replayed, no reset.
    let mut client = stream(&agent, "Last-Event-ID: 7\r\n").await;
    assert_eq!(ids(&mut client, 3).await, [8, 9, 10]);
}

/// The `spp_agent_event_streams*` samples of a scrape, in order.
async fn event_stream_series(agent: &TestAgent) -> Vec<String> {
    let scrape = agent.get("/metrics").await;
    assert_eq!(scrape.status, 200);
    scrape.body.lines().filter(|l| l.starts_with("spp_agent_event_streams")).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_stalled_consumer_is_cut_off_while_others_and_the_api_keep_their_speed() {
    let agent = TestAgent::start_with(config(HubSettings { queue: 64, ..HubSettings::default() })).await;
    let hub = agent.registry.events().clone();
    // Reads nothing after its request, with a small receive buffer.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stalled = socket.connect(agent.addrs.api).await.expect("connect");
    let mut stalled = SseClient::open_on(stalled, "/v1/events", "").await;
    let mut fast = stream(&agent, "").await;
    common::eventually("two subscribers", || hub.subscribers() == 2).await;
    let seen = Arc::new(AtomicU64::new(0));
    let reader = tokio::spawn({
        let seen = seen.clone();
        async move {
            let mut kinds = Vec::new();
            while let Some(event) = fast.next_event().await {
                assert_eq!(event.id, Some(seen.load(Ordering::SeqCst) + 1), "a gap in the fast stream");
                seen.store(event.id.unwrap_or_default(), Ordering::SeqCst);
                kinds.push(event.kind);
            }
            kinds
        }
    });
    let rest_latency = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples.get(samples.len() / 2).copied().unwrap_or_default()
    };
    assert_eq!(
        event_stream_series(&agent).await,
        ["spp_agent_event_streams 2", "spp_agent_event_streams_cut_total 0"]
    );
    let mut before = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        assert_eq!(agent.get("/v1/processes").await.status, 200);
        before.push(started.elapsed());
    }
    let pad = "x".repeat(1000);
    let (mut published, mut during) = (0u64, Vec::new());
    let started = Instant::now();
    while hub.subscribers() == 2 {
        assert!(published < 20_000, "the stalled consumer was never cut off");
        for _ in 0..32 {
            hub.publish("test", json!({"pad": pad}).as_object().cloned().unwrap_or_default());
            published += 1;
        }
        common::eventually("the fast consumer keeps up", || seen.load(Ordering::SeqCst) == published).await;
        let request = Instant::now();
        assert_eq!(agent.get("/v1/processes").await.status, 200);
        during.push(request.elapsed());
    }
    let cut_after = started.elapsed();
    assert_eq!(
        event_stream_series(&agent).await,
        ["spp_agent_event_streams 1", "spp_agent_event_streams_cut_total 1"]
    );
    // The stalled connection is closed even though its client never reads.
    let drained = Instant::now();
    let mut last = None;
    while let Some(block) = stalled.next_block().await {
        last = Some(block);
    }
    let dropped = last.as_deref().is_some_and(|b| b.starts_with("event: dropped\n"));
    for _ in 0..32 {
        hub.publish("test", json!({"after": true}).as_object().cloned().unwrap_or_default());
        published += 1;
    }
    common::eventually("the fast consumer gets the rest", || seen.load(Ordering::SeqCst) == published).await;
    agent.shutdown.cancel();
    let kinds = reader.await.expect("reader");
    assert!(!kinds.iter().any(|k| k == "dropped"), "the fast consumer was cut off");
    println!(
        "stalled consumer cut off after {published} events of 1 KB in {cut_after:?}; its connection \
         closed {:?} later (dropped event read: {dropped}); REST median {:?} before, {:?} meanwhile; \
         the fast consumer got every event",
        drained.elapsed(),
        rest_latency(&mut before),
        rest_latency(&mut during),
    );
}

#[tokio::test]
async fn streams_end_promptly_on_shutdown() {
    let agent =
        TestAgent::start_with(AgentConfig { grace_period: Duration::from_secs(5), ..test_config() }).await;
    let mut client = stream(&agent, "").await;
    let started = Instant::now();
    agent.shutdown.cancel();
    assert_eq!(client.next_block().await, None);
    let took = started.elapsed();
    println!("stream ended {took:?} after shutdown began");
    assert!(took < Duration::from_secs(4), "the stream held the shutdown for {took:?}");
}

#[tokio::test]
async fn wait_for_answers_as_soon_as_the_processes_attach() {
    let agent = TestAgent::start().await;
    let url = "/v1/processes?wait_for=nfv:1,vf:2&timeout=10s";
    let waiting = tokio::spawn({
        let (http, url) = (agent.http.clone(), agent.url(url));
        async move {
            let response = http.get(url).send().await.expect("answered");
            (response.status().as_u16(), response.text().await.expect("body"), Instant::now())
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _nfv = agent.attach(ProcType::Nfv, 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "answered with vf:2 still missing");
    let attaching = Instant::now();
    let _vf = agent.attach(ProcType::Vf, 2).await;
    let (status, body, answered) = waiting.await.expect("waiter");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"[{"type": "nfv", "client-id": 1}, {"type": "vf", "client-id": 2}]"#)
    );
    let after = answered.saturating_duration_since(attaching);
    println!("answered {after:?} after the last process began to connect");
    assert!(after < Duration::from_secs(2), "{after:?}");
    // Already there: at once.
    agent
        .get("/v1/processes?wait_for=vf:2")
        .await
        .assert_json(r#"[{"type": "nfv", "client-id": 1}, {"type": "vf", "client-id": 2}]"#);
}

#[tokio::test]
async fn wait_for_times_out_naming_the_missing_and_refuses_bad_queries() {
    let agent = TestAgent::start().await;
    let _nfv = agent.attach(ProcType::Nfv, 1).await;
    let started = Instant::now();
    agent
        .get("/v1/processes?wait_for=vf:2,nfv:1,primary&timeout=300ms")
        .await
        .assert_text(504, "timed out waiting for vf:2, primary");
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A vf with id 1 is not the nfv 1.
    agent.get("/v1/processes?wait_for=vf:1&timeout=0s").await.assert_text(504, "timed out waiting for vf:1");
    agent.get("/v1/processes?wait_for=nfv:x").await.assert_text(400, "invalid wait_for: nfv:x");
    agent.get("/v1/processes?wait_for=nfv:1,").await.assert_text(400, "invalid wait_for: ");
    agent.get("/v1/processes?wait_for=nfv:1&timeout=301s").await.assert_text(400, "invalid timeout: 301s");
    agent.get("/v1/processes?wait_for=nfv:1&timeout=soon").await.assert_text(400, "invalid timeout: soon");
    // Without wait_for, the route is unchanged.
    agent.get("/v1/processes?timeout=soon").await.assert_json(r#"[{"type": "nfv", "client-id": 1}]"#);
}
