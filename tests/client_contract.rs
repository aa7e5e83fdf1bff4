//! `events`, `wait` and `apply` against a stand-in server that answers exactly as the
//! issue-12 contract (notes/contracts.md) says the agent and gateway will: the real
//! binary's requests, output, reconnection and exit codes. The lead adds the tests
//! against the real server features when they are merged.

mod common;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::client::{Follower, spp};
use futures::StreamExt;
use std::sync::Arc;

/// What the stand-in was asked: `(method, path and query, Last-Event-ID, body)`.
type Seen = Arc<parking_lot::Mutex<Vec<(String, String, Option<String>, String)>>>;

async fn record(State(seen): State<Seen>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    let last = parts.headers.get("last-event-id").map(|v| v.to_str().expect("ASCII").to_owned());
    let target = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let count = {
        let mut seen = seen.lock();
        seen.push((
            parts.method.to_string(),
            target.clone(),
            last,
            String::from_utf8_lossy(&body).into_owned(),
        ));
        seen.len()
    };
    answer(&target, count)
}

fn answer(target: &str, count: usize) -> Response {
    let json = |status: StatusCode, body: &'static str| {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    if target.starts_with("/v1/hosts/h1/events") && count == 1 {
        // One event and half of the next, then the stream ends: the client must reconnect
        // with the id of the last whole event, and print nothing of the half.
        let body = "retry: 50\n\n: keep-alive\n\nid: 7\nevent: process-attached\n\
                    data: {\"time\":\"2026-12-03T19:00:00.123Z\",\"type\":\"nfv\",\"client_id\":1,\"addr\":\"127.0.0.1:4242\"}\n\n\
                    id: 8\nevent: forwarding\ndata: {\"time\":\"2026-12-03T19:00:0";
        return ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
    }
    if target.starts_with("/v1/hosts/h1/events") {
        let body = "id: 8\nevent: forwarding\ndata: {\"time\":\"2026-12-03T19:00:01.000Z\",\"process\":\"nfv:1\",\"state\":\"running\"}\n\n";
        // Stays open after the event, as a live stream does.
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(body.as_bytes().to_vec())])
            .chain(futures::stream::pending());
        return ([(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(stream)).into_response();
    }
    if target.contains("wait_for=nfv%3A1%2Cvf%3A2") {
        return (
            StatusCode::GATEWAY_TIMEOUT,
            [(header::CONTENT_TYPE, "text/plain")],
            "timed out waiting for vf:2",
        )
            .into_response();
    }
    if target.contains("wait_for=nfv%3A1") {
        return json(StatusCode::OK, r#"[{"type": "primary"}, {"type": "nfv", "client-id": 1}]"#);
    }
    json(
        StatusCode::OK,
        r#"{"dry_run": true, "succeeded": ["compute-1"], "failed": ["compute-2"], "hosts": {"compute-1": {"phase": "canary", "operations": [{"method": "PUT", "path": "/v1/nfvs/1/patches", "status": 204, "body": null}]}, "compute-2": {"phase": "rollout", "operations": [{"method": "PUT", "path": "/v1/nfvs/1/patches", "status": 400, "body": "invalid key(src): ring:x."}]}}, "not_attempted": {"compute-3": "halted: compute-2 failed"}}"#,
    )
}

async fn stand_in() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/hosts/h1/events", get(record))
        .route("/v1/processes", get(record))
        .route("/v1/cluster/apply", post(record))
        .with_state(seen.clone());
    let listener = common::bind().await;
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn events_are_lines_and_a_broken_stream_resumes_after_the_last_id() {
    let (server, seen) = stand_in().await;
    for (output, expected) in [
        (
            "table",
            [
                "2026-12-03T19:00:00.123Z  h1  process-attached  type=nfv  client_id=1  addr=127.0.0.1:4242",
                "2026-12-03T19:00:01.000Z  h1  forwarding  process=nfv:1  state=running",
            ],
        ),
        (
            "json",
            [
                r#"{"time":"2026-12-03T19:00:00.123Z","type":"nfv","client_id":1,"addr":"127.0.0.1:4242","id":"7","event":"process-attached"}"#,
                r#"{"time":"2026-12-03T19:00:01.000Z","process":"nfv:1","state":"running","id":"8","event":"forwarding"}"#,
            ],
        ),
    ] {
        seen.lock().clear();
        let home = tempfile::tempdir().expect("home");
        let args = ["events", "-H", "h1", "--since", "3", "-o", output];
        let mut events = Follower::spawn(home.path(), &[("SPP_CTL_SERVER", &server)], &args);
        for line in expected {
            assert_eq!(events.line().await, line);
        }
        events.child.kill().await.expect("stopped");
        let asked: Vec<(String, Option<String>)> =
            seen.lock().iter().map(|s| (s.1.clone(), s.2.clone())).collect();
        assert_eq!(
            asked,
            [
                ("/v1/hosts/h1/events".to_owned(), Some("3".to_owned())),
                ("/v1/hosts/h1/events".to_owned(), Some("7".to_owned()))
            ]
        );
    }
}

#[tokio::test]
async fn wait_exits_0_when_attached_and_4_on_the_servers_timeout() {
    let (server, seen) = stand_in().await;
    let home = tempfile::tempdir().expect("home");
    let env = [("SPP_CTL_SERVER", server.as_str())];
    let attached = spp(home.path(), &env, &["wait", "nfv:1", "--timeout", "2s"]).await;
    assert_eq!(attached.assert_ok(), "TYPE     CLIENT-ID\nprimary\nnfv      1\n");
    let late = spp(home.path(), &env, &["wait", "nfv:1", "vf:2", "--timeout", "500ms"]).await;
    assert_eq!(
        (late.code, late.stderr.as_str()),
        (4, &*format!("spp-ctl: {server}: timed out waiting for vf:2 (504)\n"))
    );
    let targets: Vec<String> = seen.lock().iter().map(|s| s.1.clone()).collect();
    assert_eq!(
        targets,
        [
            "/v1/processes?wait_for=nfv%3A1&timeout=2s",
            "/v1/processes?wait_for=nfv%3A1%2Cvf%3A2&timeout=500ms"
        ]
    );
}

#[tokio::test]
async fn apply_sends_the_yaml_plan_as_json_and_exits_6_on_a_failed_host() {
    let (server, seen) = stand_in().await;
    let home = tempfile::tempdir().expect("home");
    let plan = home.path().join("plan.yaml");
    std::fs::write(
        &plan,
        "hosts: [\"compute-*\"]\noperations:\n  - method: PUT\n    path: /v1/nfvs/1/patches\n    body: {src: \"ring:0\", dst: \"vhost:1\"}\ncanary: 1\n",
    )
    .expect("write plan");
    let plan = plan.to_str().expect("UTF-8");
    let run = spp(home.path(), &[("SPP_CTL_SERVER", &server)], &["apply", "-f", plan, "--dry-run"]).await;
    assert_eq!(run.code, 6, "{run:?}");
    assert_eq!(
        run.stdout,
        "dry run: nothing was changed\n\
         HOST       PHASE    RESULT\n\
         compute-1  canary   ok (1 operations)\n\
         compute-2  rollout  failed: PUT /v1/nfvs/1/patches: 400 invalid key(src): ring:x.\n\
         compute-3  -        not attempted: halted: compute-2 failed\n"
    );
    assert_eq!(run.stderr, format!("spp-ctl: {server}: 1 host(s) failed, 1 not attempted\n"));
    let (method, target, _, body) = seen.lock()[0].clone();
    assert_eq!((method.as_str(), target.as_str()), ("POST", "/v1/cluster/apply"));
    assert_eq!(
        body,
        r#"{"hosts":["compute-*"],"operations":[{"method":"PUT","path":"/v1/nfvs/1/patches","body":{"src":"ring:0","dst":"vhost:1"}}],"canary":1,"dry_run":true}"#
    );
    let missing =
        spp(home.path(), &[("SPP_CTL_SERVER", &server)], &["apply", "-f", "/nonexistent.yaml"]).await;
    assert_eq!(missing.code, 1, "{missing:?}");
    assert_eq!(seen.lock().len(), 1, "nothing sent for a missing plan");
}
