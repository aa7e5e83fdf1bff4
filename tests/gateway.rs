//! The gateway in front of real agents with simulated processes: passthrough, host
//! errors, upstream faults, fan-out, inventory, reload and metrics.

mod common;

use common::gateway::{
    TestGateway, agents_toml, hanging_up_upstream, recording_upstream, silent_upstream, slow_upstream,
    test_toml,
};
use common::{TestAgent, eventually, test_config};
use reqwest::Method;
use spp_ctl::proc_type::ProcType;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

struct Seen {
    status: u16,
    content_type: Option<String>,
    allow: Option<String>,
    length: Option<String>,
    body: String,
}

async fn send(http: &reqwest::Client, method: Method, url: &str, body: Option<&str>) -> Seen {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    let response = request.send().await.expect("request sent");
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, content_type, allow) = (response.status().as_u16(), header("content-type"), header("allow"));
    let length = header("content-length");
    Seen { status, content_type, allow, length, body: response.text().await.unwrap() }
}

#[tokio::test]
async fn every_method_passes_through_unchanged() {
    // Two agents in the same state: one asked directly, one through the gateway.
    let direct = TestAgent::start().await;
    direct.attach_all().await;
    let behind = TestAgent::start().await;
    behind.attach_all().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("compute-1", behind.addrs.api)]))).await;
    let http = reqwest::Client::new();
    let cases: &[(Method, &str, Option<&str>)] = &[
        (Method::GET, "/v1/processes", None),
        (Method::GET, "/v1/nfvs/1", None),
        (Method::HEAD, "/v1/vfs/2", None),
        (Method::HEAD, "/v1/nfvs/9", None),
        (Method::GET, "/v1/", None),
        (Method::PUT, "/v1/", Some("{}")),
        (Method::PUT, "/v1/nfvs/1/forward", Some(r#"{"action": "start"}"#)),
        (Method::POST, "/v1/vfs/2/components", Some(r#"{"name": "fwd1", "core": 2, "type": "forward"}"#)),
        (Method::POST, "/v1/vfs/2/components", Some(r#"{"name": "fwd1", "core": 2, "type": "forward"}"#)),
        (Method::GET, "/v1/vfs/2", None),
        (Method::DELETE, "/v1/vfs/2/components/fwd1", None),
        (Method::PUT, "/v1/nfvs/1/ports", Some(r#"{"action": "add", "port": "ring:01"}"#)),
        (Method::GET, "/v1/nfvs/9", None),
        (Method::GET, "/v1/nothing", None),
        (Method::PUT, "/v1/primary/status", Some("{}")),
        (
            Method::POST,
            "/v1/primary/flow_rules/port_id/0",
            Some(r#"{"rule": {"direction": "ingress", "pattern": ["eth"], "actions": ["queue index 1"]}}"#),
        ),
        (Method::DELETE, "/v1/pcaps/4", None),
    ];
    for (method, path, body) in cases {
        let expected = send(&http, method.clone(), &direct.url(path), *body).await;
        let via =
            send(&http, method.clone(), &gateway.url(&format!("/v1/hosts/compute-1{}", &path[3..])), *body)
                .await;
        let what = format!("{method} {path}");
        assert_eq!(
            (via.status, &via.content_type, &via.allow, &via.length, &via.body),
            (expected.status, &expected.content_type, &expected.allow, &expected.length, &expected.body),
            "{what}"
        );
    }
    // A HEAD answer states the length of the body a GET gets.
    let get = send(&http, Method::GET, &gateway.url("/v1/hosts/compute-1/vfs/2"), None).await;
    let head = send(&http, Method::HEAD, &gateway.url("/v1/hosts/compute-1/vfs/2"), None).await;
    assert_eq!((head.status, head.length, head.body.as_str()), (200, Some(get.body.len().to_string()), ""));
    let seen = send(&http, Method::GET, &gateway.url("/v1/hosts/compute-1/processes?x=1"), None).await;
    assert_eq!(seen.status, 200);
}

#[tokio::test]
async fn unknown_and_malformed_hosts_and_routes() {
    let gateway = TestGateway::start(&test_toml("")).await;
    let http = reqwest::Client::new();
    let seen = send(&http, Method::GET, &gateway.url("/v1/hosts/nope/processes"), None).await;
    assert_eq!(
        (seen.status, seen.content_type.as_deref(), seen.body.as_str()),
        (404, Some("text/plain"), "unknown host nope")
    );
    let seen = send(&http, Method::GET, &gateway.url("/v1/hosts/a%20b/processes"), None).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (
            400,
            "invalid host name \"a b\": expected dot-separated labels of [A-Za-z0-9_-]{1,63}, at most 253 bytes"
        )
    );
    let seen = send(&http, Method::GET, &gateway.url("/v1/processes"), None).await;
    assert_eq!(seen.status, 404);
    assert!(seen.body.starts_with("Not found: /v1/processes (routes: /v1/hosts, "), "{}", seen.body);
    assert_eq!(send(&http, Method::GET, &gateway.url("/v1/hosts"), None).await.body, "[]");
}

#[tokio::test]
async fn a_dead_agent_fails_fast_and_comes_back_by_itself() {
    let agent = TestAgent::start().await;
    let api = agent.addrs.api;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", api)]))).await;
    let http = reqwest::Client::new();
    let state = |http: reqwest::Client, url: String| async move {
        let hosts: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
        hosts[0]["state"].as_str().unwrap().to_owned()
    };
    let inventory = gateway.url("/v1/hosts");
    wait_for_state(&http, &inventory, "up").await;
    drop(agent);
    wait_for_state(&http, &inventory, "down").await;
    let started = Instant::now();
    let seen = send(&http, Method::GET, &gateway.url("/v1/hosts/h1/processes"), None).await;
    assert!(started.elapsed() < Duration::from_millis(100), "a down host must fail at once");
    assert_eq!(seen.status, 503);
    assert!(seen.body.starts_with("host h1 is down: cannot connect: "), "{}", seen.body);
    // The agent comes back on the same port; the gateway notices without a restart.
    let listener = loop {
        match tokio::net::TcpListener::bind(api).await {
            Ok(listener) => break listener,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let _agent = TestAgent::start_on(test_config(), listener).await;
    wait_for_state(&http, &inventory, "up").await;
    assert_eq!(state(http.clone(), inventory).await, "up");
    assert_eq!(send(&http, Method::GET, &gateway.url("/v1/hosts/h1/processes"), None).await.body, "[]");
}

async fn wait_for_state(http: &reqwest::Client, inventory: &str, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hosts: serde_json::Value = http.get(inventory).send().await.unwrap().json().await.unwrap();
        let state = if hosts.is_array() { &hosts[0]["state"] } else { &hosts["state"] };
        if state == wanted {
            return;
        }
        assert!(Instant::now() < deadline, "host never became {wanted}: {hosts}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_slow_agent_times_out_while_others_answer() {
    let agent = TestAgent::start().await;
    let (slow, _) = slow_upstream().await;
    let gateway =
        TestGateway::start(&test_toml(&agents_toml(&[("fast", agent.addrs.api), ("slow", slow)]))).await;
    let http = reqwest::Client::new();
    wait_for_state(&http, &gateway.url("/v1/hosts/slow"), "up").await;
    let slow_request = tokio::spawn({
        let (http, url) = (http.clone(), gateway.url("/v1/hosts/slow/nfvs/1"));
        async move { send(&http, Method::GET, &url, None).await }
    });
    for _ in 0..10 {
        assert_eq!(
            send(&http, Method::GET, &gateway.url("/v1/hosts/fast/processes"), None).await.status,
            200
        );
    }
    assert!(!slow_request.is_finished(), "the slow request waits for its deadline");
    let seen = slow_request.await.unwrap();
    assert_eq!((seen.status, seen.body.as_str()), (504, "host slow: no answer within 1000 ms"));
}

#[tokio::test]
async fn a_put_is_never_retried_when_the_agent_hangs_up() {
    let (flaky, mutating) = hanging_up_upstream().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("flaky", flaky)]))).await;
    let http = reqwest::Client::new();
    wait_for_state(&http, &gateway.url("/v1/hosts"), "up").await;
    let seen = send(
        &http,
        Method::PUT,
        &gateway.url("/v1/hosts/flaky/nfvs/1/forward"),
        Some(r#"{"action": "start"}"#),
    )
    .await;
    assert_eq!(seen.status, 502, "{}", seen.body);
    assert!(seen.body.starts_with("host flaky: "), "{}", seen.body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mutating.load(Ordering::SeqCst), 1, "the PUT reached the agent exactly once");
}

#[tokio::test]
async fn agent_connections_are_kept_alive_and_reused() {
    let (agent, recorded) = recording_upstream(false).await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent)]))).await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let seen = send(&http, Method::GET, &gateway.url("/v1/hosts/h1/nfvs/1"), None).await;
        assert_eq!((seen.status, seen.body.as_str()), (200, "[]"));
    }
    let seen = recorded.lock().clone();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(
        seen.iter().all(|(connection, line)| *connection == seen[0].0 && line == "get /v1/nfvs/1 http/1.1")
    );
}

#[tokio::test]
async fn a_connection_the_agent_closed_while_idle_is_not_used() {
    let (agent, recorded) = recording_upstream(true).await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent)]))).await;
    let http = reqwest::Client::new();
    for (method, body) in [(Method::GET, None), (Method::PUT, Some("{}")), (Method::GET, None)] {
        let seen = send(&http, method, &gateway.url("/v1/hosts/h1/nfvs/1/forward"), body).await;
        assert_eq!((seen.status, seen.body.as_str()), (200, "[]"));
        // The agent closes the connection meanwhile.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seen = recorded.lock().clone();
    let lines: Vec<&str> = seen.iter().map(|(_, line)| line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "get /v1/nfvs/1/forward http/1.1",
            "put /v1/nfvs/1/forward http/1.1",
            "get /v1/nfvs/1/forward http/1.1"
        ],
        "each request reached the agent once"
    );
    let connections: std::collections::BTreeSet<usize> = seen.iter().map(|(c, _)| *c).collect();
    assert_eq!(connections.len(), 3, "a new connection each time: {seen:?}");
}

#[tokio::test]
async fn fan_out_answers_within_the_deadline_with_errors_listed() {
    let agent = TestAgent::start().await;
    agent.attach(ProcType::Primary, 0).await;
    agent.attach(ProcType::Vf, 2).await;
    let (slow, _) = silent_upstream().await;
    let dead = common::unused_addr().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[
        ("a-live", agent.addrs.api),
        ("b-slow", slow),
        ("c-dead", dead),
    ])))
    .await;
    let http = reqwest::Client::new();
    let started = Instant::now();
    let seen = send(&http, Method::GET, &gateway.url("/v1/cluster/processes"), None).await;
    assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(
        body["processes"],
        serde_json::json!([{"host": "a-live", "type": "primary"}, {"host": "a-live", "type": "vf", "client-id": 2}])
    );
    let failed: Vec<&str> =
        body["errors"].as_array().unwrap().iter().map(|e| e["host"].as_str().unwrap()).collect();
    assert_eq!(failed, ["b-slow", "c-dead"]);
    let only = send(&http, Method::GET, &gateway.url("/v1/cluster/cpu_usage?hosts=a-live"), None).await;
    assert_eq!(
        only.body,
        r#"{"cpu_usage": [{"host": "a-live", "proc-type": "primary", "master-lcore": 0, "lcores": [0, 1]}, {"host": "a-live", "proc-type": "vf", "client-id": 2, "master-lcore": 1, "lcores": [1, 2, 3, 4, 5]}], "errors": []}"#
    );
}

#[tokio::test]
async fn inventory_reload_and_metrics() {
    let one = TestAgent::start().await;
    one.attach(ProcType::Nfv, 1).await;
    let two = TestAgent::start().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", one.addrs.api)]))).await;
    let http = reqwest::Client::new();
    wait_for_state(&http, &gateway.url("/v1/hosts"), "up").await;
    let host: serde_json::Value =
        http.get(gateway.url("/v1/hosts/h1")).send().await.unwrap().json().await.unwrap();
    let keys: Vec<&String> = host.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["host", "url", "state", "last_check", "latency_ms", "error", "processes"]);
    assert_eq!(
        (host["url"].as_str(), host["processes"].as_u64()),
        (Some(format!("http://{}", one.addrs.api).as_str()), Some(1))
    );

    // A broken file is refused and the running list stays.
    std::fs::write(
        &gateway.config_file,
        "insecure_plaintext = true\n[[agents]]\nhost = \"bad name\"\nurl = \"x\"\n",
    )
    .unwrap();
    assert!(
        spp_ctl::gateway::reload::reload(
            &gateway.running,
            &spp_ctl::gateway::reload::Source::file(&gateway.config_file)
        )
        .await
        .is_err()
    );
    assert_eq!(gateway.running.hosts.len(), 1);
    // A good one replaces the list.
    let toml = test_toml(&agents_toml(&[("h2", two.addrs.api)]));
    std::fs::write(&gateway.config_file, toml).unwrap();
    spp_ctl::gateway::reload::reload(
        &gateway.running,
        &spp_ctl::gateway::reload::Source::file(&gateway.config_file),
    )
    .await
    .unwrap();
    let names: Vec<String> = gateway.running.hosts.all().iter().map(|h| h.name.clone()).collect();
    assert_eq!(names, ["h2"]);
    eventually("h2 checked", || {
        gateway.running.hosts.get("h2").is_some_and(|h| h.state() == spp_ctl::gateway::hosts::State::Up)
    })
    .await;

    let agent_metrics = send(&http, Method::GET, &gateway.url("/v1/hosts/h2/metrics"), None).await;
    assert_eq!(agent_metrics.status, 200);
    assert!(agent_metrics.body.contains(",role=\"agent\",version=\""), "{}", agent_metrics.body);

    let metrics = http.get(gateway.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "spp_gateway_config_reloads_total{outcome=\"ok\"} 1",
        "spp_gateway_config_reloads_total{outcome=\"error\"} 1",
        "spp_gateway_upstream_up{host=\"h2\"} 1",
        "spp_gateway_hosts{state=\"up\"} 1",
        "spp_gateway_auth_failures_total{reason=\"signature\"} 0",
        ",role=\"gateway\",version=\"",
    ] {
        assert!(metrics.contains(line), "missing {line:?} in:\n{metrics}");
    }
}

#[tokio::test]
async fn dns_discovery_names_agents_by_their_info() {
    let agent = TestAgent::start().await;
    let port = agent.addrs.api.port();
    let toml = test_toml(&format!("[discovery]\ndns = \"localhost\"\nport = {port}\ninterval = \"1s\"\n"));
    let gateway = TestGateway::start(&toml).await;
    let expected = agent.get("/info").await;
    let name: serde_json::Value = serde_json::from_str(&expected.body).unwrap();
    let name = name["host"].as_str().unwrap().to_owned();
    eventually("the agent was discovered", || gateway.running.hosts.get(&name).is_some()).await;
    let http = reqwest::Client::new();
    let seen = send(&http, Method::GET, &gateway.url(&format!("/v1/hosts/{name}/processes")), None).await;
    assert_eq!((seen.status, seen.body.as_str()), (200, "[]"));
}

#[tokio::test]
async fn a_wait_for_outlasts_the_request_deadline() {
    let agent = TestAgent::start().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent.addrs.api)]))).await;
    let http = reqwest::Client::new();
    // The test gateway's request deadline is 1 s; the wait asks for up to 5 s.
    let wait = gateway.url("/v1/hosts/h1/processes?wait_for=nfv:1&timeout=5s");
    let waiting = tokio::spawn({
        let http = http.clone();
        async move { send(&http, Method::GET, &wait, None).await }
    });
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(!waiting.is_finished(), "the wait answered before the process attached");
    agent.attach(ProcType::Nfv, 1).await;
    let seen = waiting.await.expect("the wait");
    assert_eq!((seen.status, seen.content_type.as_deref()), (200, Some("application/json")), "{}", seen.body);
    assert!(seen.body.contains(r#""type": "nfv""#), "{}", seen.body);
    // The agent's own 504 comes back as it is.
    let missing =
        send(&http, Method::GET, &gateway.url("/v1/hosts/h1/processes?wait_for=vf:2&timeout=200ms"), None)
            .await;
    assert_eq!((missing.status, missing.body.as_str()), (504, "timed out waiting for vf:2"));
}
