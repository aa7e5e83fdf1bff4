//! Many concurrent requests across five processes: every response must belong to the
//! request that caused it, and the commands to one process must never overlap.

mod common;

use common::{TestAgent, test_config};
use futures::future::join_all;
use spp_ctl::agent::AgentConfig;

const REQUESTS: usize = 2000;

/// What to send and how to recognise the right answer.
enum Probe {
    /// A GET whose JSON must carry this `client-id`.
    Status(&'static str, u32),
    PrimaryStatus,
    /// Destroys a rule that does not exist: the reply names the id we asked for.
    DestroyRule(u64),
    /// An invalid body: 400 and nothing sent.
    Invalid,
}

fn probe(i: usize) -> Probe {
    match i % 7 {
        0 => Probe::Status("/v1/nfvs/1", 1),
        1 => Probe::Status("/v1/vfs/2", 2),
        2 => Probe::Status("/v1/mirrors/3", 3),
        3 => Probe::Status("/v1/pcaps/4", 4),
        4 => Probe::PrimaryStatus,
        5 => Probe::DestroyRule(1_000_000 + i as u64),
        _ => Probe::Invalid,
    }
}

async fn run(agent: &TestAgent, i: usize) {
    match probe(i) {
        Probe::Status(path, id) => {
            let answer = agent.get(path).await;
            assert_eq!(answer.status, 200, "{path}: {}", answer.body);
            let value: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(value["client-id"], id, "{path} answered with another process's status");
        }
        Probe::PrimaryStatus => {
            let answer = agent.get("/v1/primary/status").await;
            assert_eq!(answer.status, 200);
            assert!(answer.body.starts_with(r#"{"master-lcore": "#), "{}", answer.body);
        }
        Probe::DestroyRule(id) => {
            let answer = agent.delete(&format!("/v1/primary/flow_rules/{id}/port_id/0")).await;
            answer.assert_json(&format!(r#"{{"result": "error", "message": "Flow rule #{id} not found"}}"#));
        }
        Probe::Invalid => {
            agent
                .put(
                    "/v1/vfs/2/components/fwd0/ports",
                    r#"{"action": "attach", "port": "ring:01", "dir": "rx"}"#,
                )
                .await
                .assert_text(400, "invalid key(port): ring:01.");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_mixed_requests_get_their_own_replies() {
    let agent = TestAgent::start_with(AgentConfig {
        queue_depth: REQUESTS,
        max_connections: 2 * REQUESTS,
        ..test_config()
    })
    .await;
    let sims = agent.attach_all().await;
    // All of them at once, each on its own connection.
    let agent = &agent;
    join_all((0..REQUESTS).map(|i| run(agent, i))).await;

    let sent_to = |n: usize| (0..REQUESTS).filter(|i| i % 7 == n).count();
    let counts: Vec<usize> = sims.iter().map(|s| s.received().len()).collect();
    let primary_expected = sent_to(4) + sent_to(5);
    assert_eq!(counts, [primary_expected, sent_to(0), sent_to(1), sent_to(2), sent_to(3)]);
    for sim in &sims {
        assert_eq!(sim.max_in_flight(), 1, "commands to one process overlapped");
        assert_eq!(sim.connections(), 1, "no connection was dropped");
    }
}
