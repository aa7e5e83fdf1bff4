//! The audit trail, read from the captured JSON log: one `audit` event for every
//! mutating request on both roles — allowed, refused for its token, scope, host or host
//! name — with subject, client, method, path, host, status and reason; none for reads.
//! Refusals log what the client sent cut short.

mod common;

use common::TestAgent;
use common::gateway::TestGateway;
use common::jwt::{Issuer, call};
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;

static LOG: parking_lot::Mutex<Vec<u8>> = parking_lot::Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber; it must run before anything else sets one.
fn capture() {
    let _ = tracing_subscriber::fmt().json().with_env_filter("info").with_writer(|| Capture).try_init();
}

fn log_lines() -> Vec<String> {
    String::from_utf8_lossy(&LOG.lock()).lines().map(str::to_owned).collect()
}

/// `(sub, host, reason, method, path, status)` of the audit events `keep` selects; the
/// client address is checked on each.
fn audit_events(keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    let events = log_lines().into_iter().filter_map(|l| serde_json::from_str::<Value>(&l).ok());
    events
        .filter(|e| e["target"] == "audit" && keep(&e["fields"]))
        .map(|e| {
            let f = &e["fields"];
            assert!(f["client"].as_str().is_some_and(|c| c.starts_with("127.0.0.1:")), "{f}");
            json!([f["sub"], f["host"], f["reason"], f["method"], f["path"], f["status"]])
        })
        .collect()
}

/// Log capture on, and a gateway with JWT auth in front of an agent named `host`.
async fn gateway_in_front_of(host: &str) -> (Issuer, TestGateway, TestAgent) {
    capture();
    let issuer = Issuer::new();
    let agent = TestAgent::start().await;
    let gateway = issuer.gateway(&[(host, agent.addrs.api)]).await;
    (issuer, gateway, agent)
}

/// Sends each `(method, url, token)` and checks the status it gets.
async fn send_all<const N: usize>(cases: [(Method, String, Option<&String>, u16); N]) {
    for (method, url, token, status) in cases {
        let seen = call(&url, method.clone(), token.map(String::as_str)).await;
        assert_eq!(seen.status, status, "{method} {url}");
    }
}

#[tokio::test]
async fn d5_the_gateway_audits_every_mutation_allowed_or_refused() {
    let (issuer, gateway, _agent) = gateway_in_front_of("gw-audit").await;
    let reader = issuer.token("reader", "spp:read", None);
    let limited = issuer.token("limited", "spp:write", Some("other-*"));
    let writer = issuer.token("writer", "spp:write", None);
    let forward = gateway.url("/v1/hosts/gw-audit/nfvs/1/forward");
    let cases = [
        (Method::PUT, forward.clone(), None, 401),
        (Method::PUT, forward.clone(), Some(&reader), 403),
        (Method::PUT, forward.clone(), Some(&limited), 403),
        (Method::PUT, gateway.url("/v1/hosts/gw%20audit/nfvs/1/forward"), Some(&writer), 400),
        (Method::PUT, forward.clone(), Some(&writer), 404),
        (Method::DELETE, gateway.url("/v1/hosts/gw-audit/vfs/2"), Some(&writer), 404),
        (Method::DELETE, gateway.url("/v1/hosts/gw-aud%69t/vfs/2"), Some(&writer), 404),
        (Method::GET, forward.clone(), None, 401),
        (Method::GET, forward.clone(), Some(&writer), 405),
        (Method::DELETE, gateway.url("/v1/hosts/gw-audit"), Some(&reader), 403),
        (Method::POST, gateway.url("/v1/hosts/gw-audit"), Some(&writer), 405),
        (Method::POST, gateway.url("/v1/cluster/processes"), Some(&writer), 405),
        (Method::POST, gateway.url("/v1/nothing"), None, 404),
    ];
    send_all(cases).await;
    let put = "/v1/hosts/gw-audit/nfvs/1/forward";
    assert_eq!(
        audit_events(|f| {
            let path = f["path"].as_str().unwrap_or_default();
            // Not all of /v1/cluster/: the apply test in this file audits there in parallel.
            ["/v1/hosts/gw", "/v1/cluster/processes", "/v1/nothing"].iter().any(|p| path.starts_with(p))
        }),
        [
            json!([null, "gw-audit", "missing", "PUT", put, 401]),
            json!(["reader", "gw-audit", "scope", "PUT", put, 403]),
            json!(["limited", "gw-audit", "host", "PUT", put, 403]),
            json!([null, null, "bad_host_name", "PUT", "/v1/hosts/gw%20audit/nfvs/1/forward", 400]),
            json!(["writer", "gw-audit", "allowed", "PUT", put, 404]),
            json!(["writer", "gw-audit", "allowed", "DELETE", "/v1/hosts/gw-audit/vfs/2", 404]),
            // The host as decoded and routed; the path as sent.
            json!(["writer", "gw-audit", "allowed", "DELETE", "/v1/hosts/gw-aud%69t/vfs/2", 404]),
            json!(["reader", "gw-audit", "scope", "DELETE", "/v1/hosts/gw-audit", 403]),
            json!(["writer", "gw-audit", "allowed", "POST", "/v1/hosts/gw-audit", 405]),
            json!(["writer", null, "allowed", "POST", "/v1/cluster/processes", 405]),
            // No guard runs for a path that names no route: nothing was decided.
            json!([null, null, null, "POST", "/v1/nothing", 404]),
        ]
    );
}

#[tokio::test]
async fn d5_the_agent_audits_every_mutation_allowed_or_refused() {
    capture();
    let issuer = Issuer::new();
    let agent = issuer.agent("storage-audit").await;
    let reader = issuer.token("reader", "spp:read", None);
    let limited = issuer.token("limited", "spp:admin", Some("compute-*"));
    let writer = issuer.token("writer", "spp:write", Some("storage-*"));
    let forward = agent.url("/v1/nfvs/1/forward");
    send_all([
        (Method::PUT, forward.clone(), None, 401),
        (Method::PUT, forward.clone(), Some(&reader), 403),
        (Method::PUT, forward.clone(), Some(&limited), 403),
        (Method::PUT, forward.clone(), Some(&writer), 404),
        (Method::POST, forward.clone(), Some(&writer), 405),
        (Method::GET, forward.clone(), None, 401),
        (Method::GET, forward.clone(), Some(&writer), 405),
    ])
    .await;
    let put = "/v1/nfvs/1/forward";
    assert_eq!(
        audit_events(|f| f["host"] == "storage-audit"),
        [
            json!([null, "storage-audit", "missing", "PUT", put, 401]),
            json!(["reader", "storage-audit", "scope", "PUT", put, 403]),
            json!(["limited", "storage-audit", "host", "PUT", put, 403]),
            json!(["writer", "storage-audit", "allowed", "PUT", put, 404]),
            json!(["writer", "storage-audit", "allowed", "POST", put, 405]),
        ]
    );
}

#[tokio::test]
async fn d7_a_refused_60_kb_path_is_logged_cut_short() {
    let (_issuer, gateway, _agent) = gateway_in_front_of("h1").await;
    let long = format!("/v1/hosts/h1/{}", "z".repeat(60_000));
    assert_eq!(call(&gateway.url(&long), Method::PUT, None).await.status, 401);
    assert_eq!(call(&gateway.url(&long), Method::GET, None).await.status, 401);
    let shown = format!("/v1/hosts/h1/{}...", "z".repeat(64 - "/v1/hosts/h1/".len()));
    assert_eq!(audit_events(|f| f["path"] == shown.as_str()).len(), 1, "the PUT's audit event");
    let lines = log_lines();
    assert!(lines.iter().any(|l| l.contains("request refused") && l.contains(&shown)), "the refusals");
    let longest = lines.iter().map(String::len).max().unwrap_or(0);
    assert!(longest < 1000, "a log line of {longest} bytes");
}

#[tokio::test]
async fn a_dry_run_is_audited_as_one_and_its_event_names_the_subject() {
    capture();
    let issuer = Issuer::new();
    let agent = issuer.agent("dry-audit").await;
    let _nfv = agent.attach(spp_ctl::proc_type::ProcType::Nfv, 1).await;
    let writer = issuer.token("dry-writer", "spp:write", None);
    let reader = issuer.token("dry-reader", "spp:read", None);
    let bearer = format!("Authorization: Bearer {reader}\r\n");
    let mut events = common::sse::SseClient::open(agent.addrs.api, "/v1/events", &bearer).await;
    assert!(events.head.starts_with("HTTP/1.1 200 "), "{}", events.head);
    let unauthorized = common::sse::SseClient::open(agent.addrs.api, "/v1/events", "").await;
    assert!(unauthorized.head.starts_with("HTTP/1.1 401 "), "{}", unauthorized.head);
    for query in ["?dry_run=true", ""] {
        let response = reqwest::Client::new()
            .put(agent.url(&format!("/v1/nfvs/1/forward{query}")))
            .bearer_auth(&writer)
            .body(r#"{"action": "start"}"#)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 204);
    }
    let dry_runs: Vec<Value> = log_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["target"] == "audit" && e["fields"]["sub"] == "dry-writer")
        .map(|e| json!([e["fields"]["path"], e["fields"]["dry_run"]]))
        .collect();
    assert_eq!(dry_runs, [json!(["/v1/nfvs/1/forward", true]), json!(["/v1/nfvs/1/forward", null])]);
    let command = events.until("command").await.pop().expect("a command event");
    assert_eq!(
        (&command.data["sub"], &command.data["outcome"], &command.data["dry_run"]),
        (&json!("dry-writer"), &json!("dry-run"), &json!(true))
    );
    let real = events.until("command").await.pop().expect("a command event");
    assert_eq!((&real.data["sub"], &real.data["outcome"]), (&json!("dry-writer"), &json!("ok")));
}

#[tokio::test]
async fn every_apply_operation_is_audited_with_the_subject() {
    capture();
    let issuer = Issuer::new();
    let (one, two) = (TestAgent::start().await, TestAgent::start().await);
    let gateway = issuer.gateway(&[("apply-audit-1", one.addrs.api), ("apply-audit-2", two.addrs.api)]).await;
    let _nfv = one.attach(spp_ctl::proc_type::ProcType::Nfv, 1).await;
    let token = issuer.token("deployer", "spp:write", None);
    let plan = r#"{"hosts": ["apply-audit-*"], "halt_on_error": false, "operations": [
        {"method": "PUT", "path": "/v1/nfvs/1/forward", "body": {"action": "start"}},
        {"method": "PUT", "path": "/v1/nfvs/1/forward", "body": {"action": "stop"}}]}"#;
    let answer = reqwest::Client::new()
        .post(gateway.url("/v1/cluster/apply"))
        .bearer_auth(&token)
        .body(plan)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), 200);
    let put = "/v1/nfvs/1/forward";
    assert_eq!(
        audit_events(
            |f| f["host"].as_str().is_some_and(|h| h.starts_with("apply-audit-")) && f["dry_run"] == false
        ),
        [
            json!(["deployer", "apply-audit-1", "allowed", "PUT", put, 204]),
            json!(["deployer", "apply-audit-1", "allowed", "PUT", put, 204]),
            json!(["deployer", "apply-audit-2", "allowed", "PUT", put, 404]),
        ]
    );
    assert_eq!(
        audit_events(|f| f["path"] == "/v1/cluster/apply"),
        [json!(["deployer", null, "allowed", "POST", "/v1/cluster/apply", 200])]
    );
}
