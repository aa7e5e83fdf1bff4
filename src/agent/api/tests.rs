//! Router tests without processes: routing, 404/405 texts, check order, health routes.

use super::*;
use axum::body::Body;
use axum::http::{Method, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn state() -> AppState {
    AppState {
        registry: Registry::default(),
        config: Arc::new(AgentConfig {
            body_limit: 64,
            host_name: "node-7".into(),
            ..AgentConfig::default()
        }),
        started: Instant::now(),
        shutdown: CancellationToken::new(),
        sysfs_cpu: PathBuf::from("/nonexistent"),
    }
}

async fn call(
    state: AppState,
    method: Method,
    path: &str,
    body: &str,
) -> (u16, Option<String>, Option<String>, String) {
    let request = Request::builder().method(method).uri(path).body(Body::from(body.to_owned())).unwrap();
    let response = finish(router(state)).oneshot(request).await.unwrap();
    let header =
        |name| response.headers().get(name).map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned());
    let (content_type, allow) = (header("content-type"), header("allow"));
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, allow, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn unknown_paths_answer_like_bottle() {
    for (path, body) in [
        ("/", "Not found: '/'"),
        ("/v2/x", "Not found: '/v2/x'"),
        ("/v1/nothing", "Not found: '/nothing'"),
        ("/v1/nfvs/abc", "Not found: '/abc'"),
        ("/v1/nfvs/+1", "Not found: '/+1'"),
        ("/v1/vfs", "Not found: '/'"),
        ("/v1/vfs/2/foo", "Not found: '/2/foo'"),
        ("/v1/primary/flows", "Not found: '/flows'"),
        ("/v1/processes/", "Not found: '/processes/'"),
    ] {
        let answer = call(state(), Method::GET, path, "").await;
        assert_eq!(answer, (404, Some("text/plain".into()), None, body.into()), "{path}");
    }
}

#[tokio::test]
async fn known_paths_with_other_methods_are_405_with_sorted_allow() {
    for (method, path, allow) in [
        (Method::POST, "/v1/processes", "GET"),
        (Method::GET, "/v1/primary", "DELETE"),
        (Method::PUT, "/v1/primary/status", "DELETE,GET"),
        (Method::GET, "/v1/primary/patches", "DELETE,PUT"),
        (Method::GET, "/v1/primary/flow_rules/port_id/0", "DELETE,POST"),
        (Method::POST, "/v1/nfvs/1", "DELETE,GET"),
        (Method::GET, "/v1/vfs/2/components", "POST"),
        (Method::PUT, "/v1/mirrors/3/components/mr0", "DELETE"),
        (Method::GET, "/v1/vfs/2/classifier_table", "PUT"),
        (Method::GET, "/v1/pcaps/4/capture", "PUT"),
    ] {
        let answer = call(state(), method.clone(), path, "").await;
        assert_eq!(
            answer,
            (405, Some("text/plain".into()), Some(allow.into()), "Method not allowed.".into()),
            "{method} {path}"
        );
    }
    // A parameter that is not an integer makes it no route at all.
    let answer = call(state(), Method::POST, "/v1/nfvs/x1", "").await;
    assert_eq!(answer.3, "Not found: '/x1'");
}

#[tokio::test]
async fn missing_processes_are_404_before_any_body_check() {
    let huge = "x".repeat(1000);
    for (method, path, body, text) in [
        (Method::GET, "/v1/nfvs/1", "", "sec_id 1 not found."),
        (Method::GET, "/v1/nfvs/01", "", "sec_id 1 not found."),
        (Method::GET, "/v1/vfs/-1", "", "sec_id -1 not found."),
        (Method::PUT, "/v1/nfvs/1/ports", huge.as_str(), "sec_id 1 not found."),
        (
            Method::PUT,
            "/v1/vfs/99999999999999999999/components/x/ports",
            "{",
            "sec_id 99999999999999999999 not found.",
        ),
        (Method::GET, "/v1/primary/status", "", "primary not found."),
        (Method::PUT, "/v1/primary/ports", "not json", "primary not found."),
        (Method::DELETE, "/v1/primary/", "", "primary not found."),
        (Method::DELETE, "/v1/primary/flow_rule/3/port_id/0", "", "primary not found."),
    ] {
        let answer = call(state(), method.clone(), path, body).await;
        assert_eq!(answer, (404, Some("text/plain".into()), None, text.into()), "{method} {path}");
    }
}

#[tokio::test]
async fn processes_health_readiness_and_info() {
    assert_eq!(
        call(state(), Method::GET, "/v1/processes", "").await,
        (200, Some("application/json".into()), None, "[]".into())
    );
    assert_eq!(call(state(), Method::GET, "/v1/cpu_usage", "").await.3, "[]");
    assert_eq!(
        call(state(), Method::GET, "/v1/cpu_layout", "").await,
        (200, Some("application/json".into()), None, "[]".into())
    );
    assert_eq!(
        call(state(), Method::GET, "/healthz", "").await,
        (200, Some("text/plain".into()), None, "ok".into())
    );
    let draining = state();
    assert_eq!(call(draining.clone(), Method::GET, "/readyz", "").await.3, "ready");
    draining.shutdown.cancel();
    assert_eq!(
        call(draining, Method::GET, "/readyz", "").await,
        (503, Some("text/plain".into()), None, "shutting down".into())
    );
    let (status, _, _, info) = call(state(), Method::GET, "/info", "").await;
    assert_eq!(status, 200);
    let expected = format!(
        r#"{{"host": "node-7", "version": "{}", "uptime_s": 0, "processes": 0}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(info, expected);
}
