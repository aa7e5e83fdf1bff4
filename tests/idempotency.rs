//! `Idempotency-Key` through the gateway: a keyed command reaches the simulated process
//! once, a repeat replays the stored answer with `Idempotent-Replayed: true`, a different
//! request under the same key is 422 and a repeat while the first runs is 409.

mod common;

use common::gateway::{TestGateway, agents_toml, test_toml};
use common::{Answer, TestAgent, eventually};
use reqwest::Method;
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::Faults;
use std::time::Duration;

async fn keyed(http: &reqwest::Client, method: Method, url: &str, key: &str, body: Option<&str>) -> Answer {
    let mut request = http.request(method, url).header("idempotency-key", key);
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    Answer::read(request.send().await.expect("gateway answers")).await
}

fn replayed(answer: &Answer) -> Option<&str> {
    answer.headers.get("idempotent-replayed").map(|v| v.to_str().expect("ASCII"))
}

#[tokio::test]
async fn the_same_key_twice_sends_the_command_once() {
    let agent = TestAgent::start().await;
    let nfv = agent.attach(ProcType::Nfv, 1).await;
    let vf = agent.attach(ProcType::Vf, 2).await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent.addrs.api)]))).await;
    let http = reqwest::Client::new();
    let forward = gateway.url("/v1/hosts/h1/nfvs/1/forward");
    let start = Some(r#"{"action": "start"}"#);

    let first = keyed(&http, Method::PUT, &forward, "k-1", start).await;
    first.assert_no_content();
    assert_eq!(replayed(&first), None);
    let again = keyed(&http, Method::PUT, &forward, "k-1", start).await;
    again.assert_no_content();
    assert_eq!(replayed(&again), Some("true"));
    assert_eq!(nfv.received(), ["forward"], "the command ran once");

    // A JSON answer and an error answer come back the same, status, type and body.
    let component = r#"{"name": "fwd1", "core": 2, "type": "forward"}"#;
    let components = gateway.url("/v1/hosts/h1/vfs/2/components");
    for key in ["k-2", "k-3"] {
        let first = keyed(&http, Method::POST, &components, key, Some(component)).await;
        let again = keyed(&http, Method::POST, &components, key, Some(component)).await;
        assert_eq!(
            (again.status, &again.content_type, &again.body, replayed(&again)),
            (first.status, &first.content_type, &first.body, Some("true")),
            "{key}"
        );
    }
    let commands = vf.received();
    assert_eq!(commands.len(), 2, "one command per key: {commands:?}");

    let other = keyed(&http, Method::PUT, &forward, "k-1", Some(r#"{"action": "stop"}"#)).await;
    other.assert_text(422, "Idempotency-Key reused with a different request");
    let elsewhere = keyed(&http, Method::DELETE, &forward, "k-1", None).await;
    elsewhere.assert_text(422, "Idempotency-Key reused with a different request");
    let bad = keyed(&http, Method::PUT, &forward, "a key", start).await;
    bad.assert_text(400, "invalid Idempotency-Key: expected 1 to 128 visible ASCII characters");
    assert_eq!(nfv.received(), ["forward"], "nothing refused ran");

    // Without a key, or on a read, nothing is kept.
    keyed(&http, Method::GET, &gateway.url("/v1/hosts/h1/nfvs/1"), "k-1", None).await;
    assert_eq!(gateway.running.idempotency.len(), 3);
}

#[tokio::test]
async fn a_repeat_while_the_first_runs_is_409() {
    let agent = TestAgent::start().await;
    let nfv = agent.attach(ProcType::Nfv, 1).await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", agent.addrs.api)]))).await;
    nfv.set_faults(Faults { delay: Duration::from_millis(600), ..Faults::default() });
    let http = reqwest::Client::new();
    let forward = gateway.url("/v1/hosts/h1/nfvs/1/forward");
    let start = Some(r#"{"action": "start"}"#);
    let first = tokio::spawn({
        let (http, forward) = (http.clone(), forward.clone());
        async move { keyed(&http, Method::PUT, &forward, "slow", start).await }
    });
    eventually("the first command reached the process", || nfv.received() == ["forward"]).await;
    let second = keyed(&http, Method::PUT, &forward, "slow", start).await;
    second.assert_text(409, "request with this Idempotency-Key is in progress");
    first.await.expect("first request").assert_no_content();
    let third = keyed(&http, Method::PUT, &forward, "slow", start).await;
    assert_eq!((third.status, replayed(&third)), (204, Some("true")));
    assert_eq!(nfv.received(), ["forward"]);
}

#[tokio::test]
async fn a_host_that_could_not_be_reached_does_not_keep_the_key() {
    let addr = common::unused_addr().await;
    let gateway = TestGateway::start(&test_toml(&agents_toml(&[("h1", addr)]))).await;
    let http = reqwest::Client::new();
    let forward = gateway.url("/v1/hosts/h1/nfvs/1/forward");
    for _ in 0..2 {
        let answer = keyed(&http, Method::PUT, &forward, "k", Some("{}")).await;
        assert!(matches!(answer.status, 502 | 503), "{answer:?}");
        assert_eq!(replayed(&answer), None);
    }
    assert_eq!(gateway.running.idempotency.len(), 0);
}
