//! Faulty SPP processes: hung, disconnecting, garbled, huge, trickling, duplicated, and
//! peers that never identify themselves. The agent must answer every request promptly
//! with the right status, never hand a late reply to another request, and keep serving
//! the other processes.

mod common;

use common::{TestAgent, eventually, test_config};
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::{self, Faults, SimSpec};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn hung_process_gets_504_while_others_and_processes_answer() {
    let agent = TestAgent::start().await;
    let vf = agent.attach(ProcType::Vf, 2).await;
    agent.attach(ProcType::Nfv, 1).await;
    vf.set_faults(Faults { no_reply: true, ..Faults::default() });

    let hung = tokio::spawn({
        let url = agent.url("/v1/vfs/2");
        let http = agent.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    eventually("the status command reached the hung vf", || vf.received() == ["status"]).await;
    // While vf(2) hangs, the registry and the other processes answer.
    for _ in 0..20 {
        agent.get("/v1/nfvs/1").await;
        let processes = agent.get("/v1/processes").await;
        assert_eq!(processes.status, 200);
    }
    assert!(!hung.is_finished(), "the hung request must still be waiting for its deadline");
    let (status, body) = hung.await.unwrap();
    assert_eq!((status, body.as_str()), (504, "vf(2) did not reply within 1500 ms"));
    // The connection was dropped: the process reconnects and is registered again.
    eventually("vf(2) reconnected", || vf.connections() >= 2).await;
    agent.wait_registered(ProcType::Vf, 2).await;
}

#[tokio::test]
async fn a_late_reply_never_answers_the_next_request() {
    let agent = TestAgent::start().await;
    let nfv = agent.attach(ProcType::Nfv, 1).await;
    let expected = agent.get("/v1/nfvs/1").await.body;
    nfv.set_faults(Faults { delay: Duration::from_millis(2500), ..Faults::default() });
    agent.get("/v1/nfvs/1").await.assert_text(504, "nfv(1) did not reply within 1500 ms");
    nfv.set_faults(Faults::default());
    eventually("nfv(1) reconnected", || nfv.connections() >= 2).await;
    agent.wait_registered(ProcType::Nfv, 1).await;
    agent.get("/v1/nfvs/1").await.assert_json(&expected);
    assert_eq!(nfv.received().last().map(String::as_str), Some("status"));
}

#[tokio::test]
async fn disconnect_mid_command_is_503_and_the_process_comes_back() {
    let agent = TestAgent::start().await;
    let nfv = agent.attach(ProcType::Nfv, 1).await;
    nfv.set_faults(Faults { disconnect_before_reply: true, ..Faults::default() });
    agent.get("/v1/nfvs/1").await.assert_text(503, "connection to nfv(1) lost");
    nfv.set_faults(Faults::default());
    eventually("nfv(1) reconnected", || nfv.connections() >= 2).await;
    agent.wait_registered(ProcType::Nfv, 1).await;
    assert_eq!(agent.get("/v1/nfvs/1").await.status, 200);
}

#[tokio::test]
async fn garbage_reply_is_502_and_drops_the_connection() {
    let agent = TestAgent::start().await;
    let vf = agent.attach(ProcType::Vf, 2).await;
    vf.set_faults(Faults { garbage: true, ..Faults::default() });
    let answer = agent.get("/v1/vfs/2").await;
    assert_eq!(answer.status, 502, "{answer:?}");
    assert_eq!(answer.content_type.as_deref(), Some("text/plain"));
    assert!(answer.body.starts_with("invalid reply from vf(2): "), "{}", answer.body);
    eventually("vf(2) reconnected", || vf.connections() >= 2).await;
}

#[tokio::test]
async fn replies_of_64_kib_and_more_are_read_whole() {
    let agent = TestAgent::start().await;
    let vf = agent.attach(ProcType::Vf, 2).await;
    // Padding to 80 KiB on the wire leaves more than 64 KiB after re-serialization.
    vf.set_faults(Faults { oversize: 80 * 1024, ..Faults::default() });
    let answer = agent.get("/v1/vfs/2").await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.len() > 64 * 1024, "only {} bytes", answer.body.len());
    let value: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(value["client-id"], 2);
    // The connection is still in step: the next command gets its own reply.
    vf.set_faults(Faults::default());
    agent
        .post("/v1/vfs/2/components", r#"{"name": "fwd1", "core": 2, "type": "forward"}"#)
        .await
        .assert_no_content();
    assert_eq!(vf.connections(), 1);
}

#[tokio::test]
async fn a_reply_in_one_byte_writes_equals_the_whole_reply() {
    let agent = TestAgent::start().await;
    let primary = agent.attach(ProcType::Primary, 0).await;
    let vf = agent.attach(ProcType::Vf, 2).await;
    let primary_whole = agent.get("/v1/primary/status").await.body;
    let vf_whole = agent.get("/v1/vfs/2").await.body;
    let one_byte = Faults { split: Some((usize::MAX, Duration::ZERO)), ..Faults::default() };
    primary.set_faults(one_byte.clone());
    vf.set_faults(one_byte);
    // Counters move while the primary forwards, so compare shapes for it, bytes for vf.
    let primary_split = agent.get("/v1/primary/status").await;
    assert_eq!(primary_split.status, 200);
    assert_eq!(keys(&primary_split.body), keys(&primary_whole));
    agent.get("/v1/vfs/2").await.assert_json(&vf_whole);
    assert_eq!((primary.connections(), vf.connections()), (1, 1));
}

fn keys(json: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn a_reconnect_with_the_same_id_replaces_the_old_connection() {
    let agent = TestAgent::start().await;
    let first_life = CancellationToken::new();
    let first = sim::spawn(SimSpec::new(ProcType::Vf, 2), agent.addrs.secondary, first_life.clone());
    agent.wait_registered(ProcType::Vf, 2).await;
    let old_generation = agent.registry.secondary(ProcType::Vf, 2).unwrap().generation();
    let second = agent.attach(ProcType::Vf, 2).await;
    eventually("the new connection replaced the old", || {
        agent.registry.secondary(ProcType::Vf, 2).is_some_and(|h| h.generation() != old_generation)
    })
    .await;
    first_life.cancel();
    eventually("only the second connection is left", || {
        agent.registry.secondary(ProcType::Vf, 2).is_some_and(|h| h.generation() > old_generation)
    })
    .await;
    first.clear_received();
    second.clear_received();
    assert_eq!(agent.get("/v1/vfs/2").await.status, 200);
    assert!(first.received().is_empty());
    assert_eq!(second.received(), ["status"]);
}

#[tokio::test]
async fn a_secondary_id_reused_by_another_type_replaces_it() {
    let agent = TestAgent::start().await;
    let life = CancellationToken::new();
    sim::spawn(SimSpec::new(ProcType::Nfv, 5), agent.addrs.secondary, life.clone());
    agent.wait_registered(ProcType::Nfv, 5).await;
    life.cancel();
    agent.attach(ProcType::Vf, 5).await;
    agent.get("/v1/nfvs/5").await.assert_text(404, "sec_id 5 not found.");
    assert_eq!(agent.get("/v1/vfs/5").await.status, 200);
}

#[tokio::test]
async fn silent_and_garbled_peers_never_block_the_secondary_port() {
    let agent = TestAgent::start().await;
    // A peer that never answers the handshake...
    let mut silent = TcpStream::connect(agent.addrs.secondary).await.unwrap();
    let mut asked = [0u8; 14];
    silent.read_exact(&mut asked).await.unwrap();
    assert_eq!(&asked, b"_get_client_id");
    // ...and one that answers nonsense are dropped,
    let mut garbled = TcpStream::connect(agent.addrs.secondary).await.unwrap();
    garbled.read_exact(&mut asked).await.unwrap();
    garbled.write_all(b"{\"results\":[{\"result\":\"error\"}]}").await.unwrap();
    let mut rest = Vec::new();
    assert_eq!(garbled.read_to_end(&mut rest).await.unwrap(), 0, "garbled peer is disconnected");
    // while a real process registers at once.
    agent.attach(ProcType::Mirror, 3).await;
    let mut rest = Vec::new();
    assert_eq!(silent.read_to_end(&mut rest).await.unwrap(), 0, "silent peer is dropped after the deadline");
    agent.get("/v1/processes").await.assert_json(r#"[{"type": "mirror", "client-id": 3}]"#);
}

#[tokio::test]
async fn a_process_that_goes_away_is_forgotten_at_once() {
    let agent = TestAgent::start().await;
    let life = CancellationToken::new();
    sim::spawn(SimSpec::new(ProcType::Pcap, 4), agent.addrs.secondary, life.clone());
    agent.wait_registered(ProcType::Pcap, 4).await;
    agent.get("/v1/processes").await.assert_json(r#"[{"type": "pcap", "client-id": 4}]"#);
    life.cancel();
    eventually("pcap(4) deregistered", || !agent.is_registered(ProcType::Pcap, 4)).await;
    agent.get("/v1/processes").await.assert_json("[]");
}

#[tokio::test]
async fn a_full_queue_answers_503_and_sends_nothing_for_it() {
    let agent = TestAgent::start_with(spp_ctl::agent::AgentConfig { queue_depth: 1, ..test_config() }).await;
    let vf = agent.attach(ProcType::Vf, 2).await;
    vf.set_faults(Faults { delay: Duration::from_millis(300), ..Faults::default() });
    let requests: Vec<_> = (0..6)
        .map(|_| {
            let http = agent.http.clone();
            let url = agent.url("/v1/vfs/2");
            tokio::spawn(async move {
                let response = http.get(url).send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            })
        })
        .collect();
    let mut ok = 0;
    let mut busy = 0;
    for request in requests {
        match request.await.unwrap() {
            (200, _) => ok += 1,
            (503, body) => {
                assert_eq!(body, "vf(2) is busy");
                busy += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(busy >= 1, "a queue of one cannot hold six requests");
    assert_eq!(vf.received().len(), ok, "only accepted requests reach the process");
    assert_eq!(vf.max_in_flight(), 1);
}
