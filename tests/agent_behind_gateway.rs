//! An agent with its own JWT auth and mTLS behind a gateway with TLS and JWT auth: the
//! caller's token goes through to the agent, which checks it again.

mod common;

use axum::body::Bytes;
use common::certs::{HttpsClient, Pki, https_client, jwt_key};
use common::gateway::{TestGateway, with_auth};
use common::{TestAgent, eventually, test_config};
use http_body_util::{BodyExt, Full};
use spp_ctl::proc_type::ProcType;
use spp_ctl::tls::ServerTlsFiles;
use std::path::Path;

const ISS: &str = "https://idp.test";
const AUD: &str = "spp";

async fn call(client: &HttpsClient, method: &str, url: &str, token: &str, body: &str) -> Seen {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = client.request(request).await.expect("answer");
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().expect("ASCII").to_owned());
    let body = response.into_body().collect().await.expect("body").to_bytes();
    Seen { status, challenge, body: String::from_utf8_lossy(&body).into_owned() }
}

#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    challenge: Option<String>,
    body: String,
}

fn seen(status: u16, body: &str) -> Seen {
    Seen { status, challenge: None, body: body.to_owned() }
}

/// An `[auth]` section trusting the ES256 public keys `kids` (files `<kid>.pub` in `dir`).
fn auth_toml(dir: &Path, kids: &[&str]) -> String {
    let keys: String = kids
        .iter()
        .map(|kid| {
            let file = dir.join(format!("{kid}.pub"));
            format!(
                "[[auth.keys]]\nkid = \"{kid}\"\nalg = \"ES256\"\npublic_key_file = \"{}\"\n",
                file.display()
            )
        })
        .collect();
    format!("[auth]\nmode = \"jwt\"\nissuer = \"{ISS}\"\naudience = \"{AUD}\"\n{keys}")
}

fn token(dir: &Path, kid: &str, scope: &str) -> String {
    spp_ctl::token::mint(&spp_ctl::token::TokenArgs {
        key: dir.join(format!("{kid}.key")),
        alg: "ES256".into(),
        sub: "ops".into(),
        scope: scope.into(),
        hosts: Some("h1".into()),
        ttl: "5m".into(),
        kid: Some(kid.into()),
        iss: Some(ISS.into()),
        aud: Some(AUD.into()),
    })
    .expect("token minted")
}

#[tokio::test]
async fn the_callers_token_reaches_an_agent_with_auth_and_mtls() {
    let pki = Pki::new();
    let dir = pki.dir.path();
    pki.server("gw");
    pki.server("agent");
    pki.client("gw-client");
    // The agent trusts one of the two keys the gateway trusts.
    jwt_key(dir, "shared", "ES256");
    jwt_key(dir, "gateway-only", "ES256");
    std::fs::write(pki.path("agent-auth.toml"), auth_toml(dir, &["shared"])).expect("write auth");
    let agent = TestAgent::start_with(spp_ctl::agent::AgentConfig {
        host_name: "h1".into(),
        tls: Some(ServerTlsFiles::new(pki.path("agent.pem"), pki.path("agent.key"), Some(pki.ca()))),
        auth: Some(spp_ctl::agent::config::auth_section(&pki.path("agent-auth.toml")).expect("agent auth")),
        ..test_config()
    })
    .await;
    let primary = agent.attach(ProcType::Primary, 0).await;
    let path = |p: &Path| p.display().to_string();
    let gateway_toml = format!(
        "[[agents]]\nhost = \"h1\"\nurl = \"https://localhost:{}\"\n\
         [tls]\ncert = \"{}\"\nkey = \"{}\"\n\
         [upstream_tls]\nca = \"{}\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\n",
        agent.addrs.api.port(),
        path(&pki.path("gw.pem")),
        path(&pki.path("gw.key")),
        path(&pki.ca()),
        path(&pki.path("gw-client.pem")),
        path(&pki.path("gw-client.key")),
    );
    let gateway =
        TestGateway::start(&with_auth(&gateway_toml, &auth_toml(dir, &["shared", "gateway-only"]))).await;
    eventually("the agent is up, though it refuses the tokenless probe", || {
        gateway.running.hosts.get("h1").is_some_and(|h| h.state() == spp_ctl::gateway::hosts::State::Up)
    })
    .await;
    let h1 = gateway.running.hosts.get("h1").expect("h1 configured");
    assert_eq!(h1.to_json()["processes"], 1, "the count from the agent's /info");
    let via = |rest: &str| format!("https://localhost:{}/v1/hosts/h1/{rest}", gateway.addr.port());
    let direct = |rest: &str| format!("https://localhost:{}/v1/{rest}", agent.addrs.api.port());
    let client = https_client(&pki, None);
    let as_gateway = https_client(&pki, Some("gw-client"));

    let admin = token(dir, "shared", "spp:admin");
    let expected = call(&as_gateway, "GET", &direct("processes"), &admin, "").await;
    assert_eq!(expected, seen(200, r#"[{"type": "primary"}]"#));
    assert_eq!(call(&client, "GET", &via("processes"), &admin, "").await, expected);
    // The cluster view carries the token to the agent too.
    let cluster = format!("https://localhost:{}/v1/cluster/processes", gateway.addr.port());
    let expected_cluster = r#"{"processes": [{"host": "h1", "type": "primary"}], "errors": []}"#;
    assert_eq!(call(&client, "GET", &cluster, &admin, "").await, seen(200, expected_cluster));
    let start = r#"{"action": "start"}"#;
    assert_eq!(call(&client, "PUT", &via("primary/forward"), &admin, start).await, seen(204, ""));
    assert_eq!(primary.received(), ["forward"], "the PUT took effect");

    // A token only the gateway trusts: the agent refuses it, as it does when asked directly.
    let unknown_to_agent = token(dir, "gateway-only", "spp:admin");
    let refused = call(&as_gateway, "PUT", &direct("primary/forward"), &unknown_to_agent, start).await;
    assert_eq!((refused.status, refused.challenge.is_some()), (401, true), "{refused:?}");
    assert_eq!(call(&client, "PUT", &via("primary/forward"), &unknown_to_agent, start).await, refused);
    // A read-only token may not write, at either.
    let reader = token(dir, "shared", "spp:read");
    let forbidden = call(&as_gateway, "PUT", &direct("primary/forward"), &reader, start).await;
    assert_eq!(forbidden.status, 403, "{forbidden:?}");
    assert_eq!(call(&client, "PUT", &via("primary/forward"), &reader, start).await.status, 403);
    assert_eq!(primary.received(), ["forward"], "nothing refused ran");
}
