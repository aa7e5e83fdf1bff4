//! `POST /v1/cluster/apply` against real agents with simulated processes (and fake agents
//! that count overlap): canary, halt on error, the parallel limit, dry run, the token's
//! hosts, and an `Idempotency-Key` on the whole plan.

mod common;

use common::gateway::{Overlap, TestGateway, agents_toml, delaying_upstream, test_toml};
use common::jwt::Issuer;
use common::{Answer, TestAgent};
use serde_json::{Value, json};
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::SimHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const START: &str = r#"{"method": "PUT", "path": "/v1/nfvs/1/forward", "body": {"action": "start"}}"#;
const STOP: &str = r#"{"method": "PUT", "path": "/v1/nfvs/1/forward", "body": {"action": "stop"}}"#;

/// `compute-1`… `compute-N`, each an agent with nfv 1 attached unless its number is in
/// `without_nfv`; the handles of the attached ones, `None` for the others.
struct Fleet {
    _agents: Vec<TestAgent>,
    nfvs: Vec<Option<SimHandle>>,
    addrs: Vec<(String, SocketAddr)>,
}

impl Fleet {
    async fn start(n: usize, without_nfv: &[usize]) -> Self {
        let (mut agents, mut nfvs, mut addrs) = (Vec::new(), Vec::new(), Vec::new());
        for i in 1..=n {
            let agent = TestAgent::start().await;
            let nfv =
                if without_nfv.contains(&i) { None } else { Some(agent.attach(ProcType::Nfv, 1).await) };
            addrs.push((format!("compute-{i}"), agent.addrs.api));
            nfvs.push(nfv);
            agents.push(agent);
        }
        Fleet { _agents: agents, nfvs, addrs }
    }

    fn toml(&self) -> String {
        let pairs: Vec<(&str, SocketAddr)> = self.addrs.iter().map(|(n, a)| (n.as_str(), *a)).collect();
        agents_toml(&pairs)
    }

    /// The commands each attached nfv received, `-` for a host without one.
    fn commands(&self) -> Vec<String> {
        let list = |n: &Option<SimHandle>| n.as_ref().map_or("-".to_owned(), |n| n.received().join(","));
        self.nfvs.iter().map(list).collect()
    }
}

async fn apply(gateway: &TestGateway, plan: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new()
        .post(gateway.url("/v1/cluster/apply"))
        .header("content-type", "application/json")
        .body(plan.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").map(|v| v.to_str().expect("ASCII").to_owned());
    Answer { status, content_type, headers, body: response.text().await.expect("body") }
}

fn report_of(answer: &Answer) -> Value {
    assert_eq!(
        (answer.status, answer.content_type.as_deref()),
        (200, Some("application/json")),
        "{}",
        answer.body
    );
    serde_json::from_str(&answer.body).expect("JSON report")
}

const NOT_ATTACHED: &str = "nfv 1 not attached";

#[tokio::test]
async fn a_failing_canary_stops_before_the_others() {
    let fleet = Fleet::start(4, &[1]).await;
    let gateway = TestGateway::start(&test_toml(&fleet.toml())).await;
    let plan = format!(
        r#"{{"hosts": ["compute-*"], "operations": [{START}, {STOP}], "canary": 1, "max_parallel": 4}}"#
    );
    let report = report_of(&apply(&gateway, &plan, &[]).await);
    let failed = &report["hosts"]["compute-1"];
    assert_eq!(failed["phase"], "canary");
    assert_eq!(failed["operations"].as_array().map(Vec::len), Some(1), "the list stopped at the failure");
    assert_eq!(failed["operations"][0]["status"], 404);
    assert_eq!(failed["operations"][0]["path"], "/v1/nfvs/1/forward");
    assert!(failed["operations"][0]["body"].is_string(), "{report}");
    assert_eq!(
        (&report["succeeded"], &report["failed"], &report["not_attempted"]),
        (
            &json!([]),
            &json!(["compute-1"]),
            &json!({
                "compute-2": "canary failed: compute-1",
                "compute-3": "canary failed: compute-1",
                "compute-4": "canary failed: compute-1"})
        )
    );
    assert_eq!(fleet.commands(), ["-", "", "", ""], "{NOT_ATTACHED}; nothing reached the others");

    // With a good canary, everyone runs both operations, in order.
    let plan = format!(
        r#"{{"hosts": ["compute-2", "compute-3", "compute-4"], "operations": [{START}, {STOP}], "canary": 1, "max_parallel": 2}}"#
    );
    let report = report_of(&apply(&gateway, &plan, &[]).await);
    assert_eq!(report["succeeded"], json!(["compute-2", "compute-3", "compute-4"]));
    assert_eq!(report["hosts"]["compute-2"]["phase"], "canary");
    assert_eq!(report["hosts"]["compute-3"]["phase"], "rollout");
    assert_eq!(
        report["hosts"]["compute-4"]["operations"],
        json!([{"method": "PUT", "path": "/v1/nfvs/1/forward", "status": 204, "body": null},
               {"method": "PUT", "path": "/v1/nfvs/1/forward", "status": 204, "body": null}])
    );
    assert_eq!(fleet.commands(), ["-", "forward,stop", "forward,stop", "forward,stop"]);
}

#[tokio::test]
async fn halt_on_error_stops_starting_hosts() {
    let fleet = Fleet::start(4, &[2]).await;
    let gateway = TestGateway::start(&test_toml(&fleet.toml())).await;
    let plan = |halt: bool| {
        format!(
            r#"{{"hosts": ["compute-*"], "operations": [{START}], "max_parallel": 1, "halt_on_error": {halt}}}"#
        )
    };
    let halted = report_of(&apply(&gateway, &plan(true), &[]).await);
    assert_eq!(
        (&halted["succeeded"], &halted["failed"], &halted["not_attempted"]),
        (
            &json!(["compute-1"]),
            &json!(["compute-2"]),
            &json!({"compute-3": "halted: compute-2 failed", "compute-4": "halted: compute-2 failed"})
        )
    );
    assert_eq!(halted["hosts"]["compute-2"]["phase"], "rollout");
    assert_eq!(fleet.commands(), ["forward", "-", "", ""]);

    let went_on = report_of(&apply(&gateway, &plan(false), &[]).await);
    assert_eq!(
        (&went_on["succeeded"], &went_on["failed"], &went_on["not_attempted"]),
        (&json!(["compute-1", "compute-3", "compute-4"]), &json!(["compute-2"]), &json!({}))
    );
    assert_eq!(fleet.commands(), ["forward,forward", "-", "forward", "forward"]);
}

#[tokio::test]
async fn max_parallel_bounds_the_hosts_in_flight() {
    let overlap = Arc::new(Overlap::default());
    let delay = Duration::from_millis(150);
    let mut agents = Vec::new();
    for i in 1..=6 {
        agents.push((format!("compute-{i}"), delaying_upstream(delay, overlap.clone()).await));
    }
    let pairs: Vec<(&str, SocketAddr)> = agents.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    let gateway = TestGateway::start(&test_toml(&agents_toml(&pairs))).await;
    let two_ops = format!("{START}, {STOP}");
    for parallel in [1, 3] {
        overlap.max.store(0, Ordering::SeqCst);
        let plan =
            format!(r#"{{"hosts": ["compute-*"], "operations": [{two_ops}], "max_parallel": {parallel}}}"#);
        let started = Instant::now();
        let report = report_of(&apply(&gateway, &plan, &[]).await);
        let took = started.elapsed();
        assert_eq!(report["succeeded"].as_array().map(Vec::len), Some(6), "{report}");
        let max = overlap.max.load(Ordering::SeqCst);
        eprintln!("max_parallel {parallel}: at most {max} requests at once, 12 x 150 ms took {took:?}");
        assert_eq!(max, parallel, "the limit is kept, and reached");
    }
    // Each host's two operations came in order.
    let lines = overlap.lines.lock().clone();
    for (_, agent) in &agents {
        let mine: Vec<&str> =
            lines.iter().filter(|(p, _)| *p == agent.port()).map(|(_, l)| l.as_str()).collect();
        assert_eq!(mine, ["put /v1/nfvs/1/forward http/1.1"; 4]);
    }
}

#[tokio::test]
async fn a_dry_run_asks_every_agent_for_a_dry_run() {
    let overlap = Arc::new(Overlap::default());
    let mut agents = Vec::new();
    for i in 1..=3 {
        agents.push((format!("compute-{i}"), delaying_upstream(Duration::ZERO, overlap.clone()).await));
    }
    let pairs: Vec<(&str, SocketAddr)> = agents.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    let gateway = TestGateway::start(&test_toml(&agents_toml(&pairs))).await;
    let delete = r#"{"method": "DELETE", "path": "/v1/nfvs/1/ports?x=1"}"#;
    let plan = format!(
        r#"{{"hosts": ["compute-*"], "operations": [{START}, {delete}], "dry_run": true, "max_parallel": 3}}"#
    );
    let report = report_of(&apply(&gateway, &plan, &[]).await);
    assert_eq!((&report["dry_run"], &report["succeeded"].as_array().map(Vec::len)), (&json!(true), &Some(3)));
    let mut lines: Vec<String> = overlap.lines.lock().iter().map(|(_, l)| l.clone()).collect();
    lines.sort();
    let expected =
        ["delete /v1/nfvs/1/ports?x=1&dry_run=true http/1.1", "put /v1/nfvs/1/forward?dry_run=true http/1.1"];
    assert_eq!(lines, [expected[0], expected[0], expected[0], expected[1], expected[1], expected[1]]);
}

#[tokio::test]
async fn a_token_reaches_only_its_hosts() {
    let fleet = Fleet::start(4, &[]).await;
    let issuer = Issuer::new();
    let gateway = TestGateway::start(&common::gateway::with_auth(&fleet.toml(), &issuer.auth_toml())).await;
    let plan = format!(r#"{{"hosts": ["compute-*"], "operations": [{START}], "max_parallel": 4}}"#);
    let limited = issuer.token("ops", "spp:write", Some("compute-1,compute-3"));
    let bearer = format!("Bearer {limited}");
    let report = report_of(&apply(&gateway, &plan, &[("authorization", &bearer)]).await);
    assert_eq!(report["succeeded"], json!(["compute-1", "compute-3"]));
    assert_eq!(report["hosts"].as_object().map(|h| h.len()), Some(2));
    assert_eq!(fleet.commands(), ["forward", "", "forward", ""]);

    let reader = format!("Bearer {}", issuer.token("ro", "spp:read", None));
    apply(&gateway, &plan, &[("authorization", &reader)])
        .await
        .assert_text(403, "insufficient scope: spp:write needed");
    let elsewhere = format!("Bearer {}", issuer.token("ops", "spp:write", Some("storage-*")));
    apply(&gateway, &plan, &[("authorization", &elsewhere)])
        .await
        .assert_text(403, "the token allows none of the selected hosts");
    let named = plan.replace(r#"["compute-*"]"#, r#"["compute-1", "compute-2"]"#);
    apply(&gateway, &named, &[("authorization", &bearer)])
        .await
        .assert_text(403, "token does not allow host compute-2");
    apply(&gateway, &plan, &[]).await.assert_text(401, "missing bearer token");
    assert_eq!(fleet.commands(), ["forward", "", "forward", ""]);
}

#[tokio::test]
async fn a_keyed_plan_runs_once() {
    let fleet = Fleet::start(2, &[]).await;
    let gateway = TestGateway::start(&test_toml(&fleet.toml())).await;
    let plan = format!(r#"{{"hosts": ["compute-*"], "operations": [{START}]}}"#);
    let key = [("idempotency-key", "rollout-42")];
    let first = apply(&gateway, &plan, &key).await;
    let again = apply(&gateway, &plan, &key).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(again.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(fleet.commands(), ["forward", "forward"]);
    let other = plan.replace("compute-*", "compute-1");
    apply(&gateway, &other, &key).await.assert_text(422, "Idempotency-Key reused with a different request");
    apply(&gateway, "{\"hosts\": []}", &[])
        .await
        .assert_text(400, "invalid plan: missing field `operations` at line 1 column 13");
}

#[tokio::test]
async fn a_dry_run_reaches_no_process_and_answers_as_the_real_call() {
    let fleet = Fleet::start(3, &[1]).await;
    let gateway = TestGateway::start(&test_toml(&fleet.toml())).await;
    let bad_port =
        r#"{"method": "PUT", "path": "/v1/nfvs/1/ports", "body": {"action": "add", "port": "ring:x"}}"#;
    let plan = |dry_run: bool, ops: &str| {
        format!(
            r#"{{"hosts": ["compute-*"], "operations": [{ops}], "dry_run": {dry_run}, "max_parallel": 3, "halt_on_error": false}}"#
        )
    };
    let statuses = |report: &Value| -> Vec<Vec<u64>> {
        (1..=3)
            .map(|i| {
                let ops = report["hosts"][format!("compute-{i}")]["operations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                ops.iter().map(|op| op["status"].as_u64().unwrap_or_default()).collect()
            })
            .collect()
    };
    let expected: [&[&[u64]]; 2] = [&[&[404], &[204, 204], &[204, 204]], &[&[404], &[400], &[400]]];
    for (ops, expected) in [format!("{START}, {STOP}"), bad_port.to_owned()].into_iter().zip(expected) {
        let dry = report_of(&apply(&gateway, &plan(true, &ops), &[]).await);
        assert_eq!(dry["dry_run"], true);
        assert_eq!(fleet.commands(), ["-", "", ""], "a dry run sends nothing to any process");
        let real = report_of(&apply(&gateway, &plan(false, &ops), &[]).await);
        assert_eq!(statuses(&dry), statuses(&real), "{ops}");
        assert_eq!(statuses(&dry), expected, "{ops}");
        for sim in fleet.nfvs.iter().flatten() {
            sim.clear_received();
        }
    }
}

#[tokio::test]
async fn a_plan_runs_to_its_end_when_the_client_goes_away() {
    let overlap = Arc::new(Overlap::default());
    let mut agents = Vec::new();
    for i in 1..=2 {
        agents.push((
            format!("compute-{i}"),
            delaying_upstream(Duration::from_millis(300), overlap.clone()).await,
        ));
    }
    let pairs: Vec<(&str, SocketAddr)> = agents.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    let gateway = TestGateway::start(&test_toml(&agents_toml(&pairs))).await;
    let plan = format!(r#"{{"hosts": ["compute-*"], "operations": [{START}, {STOP}]}}"#);
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().expect("client");
    let gone = impatient.post(gateway.url("/v1/cluster/apply")).body(plan).send().await;
    assert!(gone.is_err_and(|e| e.is_timeout()), "the client gave up first");
    common::eventually("both hosts ran both operations", || overlap.lines.lock().len() == 4).await;
}
