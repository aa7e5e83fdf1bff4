//! The OpenAPI documents against the real routers, both directions, so neither can drift:
//!
//! - Router → document: the path table is read from the routers themselves (axum's
//!   `Debug` of a `Router` lists every registered path), and must equal the documented
//!   paths. The only routes outside those routers are listed here by hand: the agent's
//!   `/metrics` (merged in `agent::start`) and the gateway's proxy `/v1/hosts/{host}/{rest}`
//!   (served by `proxy::serve` before the router).
//! - Methods, both ways: every documented path is probed on a real agent and a real
//!   gateway (JWT on, a token supplied) with `PATCH`, a method neither API uses: it must
//!   answer 405 with `Allow` equal to the documented methods (HEAD aside). A path missing
//!   from a router answers 404 instead, a method missing from the document shows in `Allow`.
//! - The proxy, which takes any method, must forward every documented one (not the
//!   gateway's route-404). `/openapi.json` is served without a token on both roles.
//! - Every documented JSON GET under `/v1` answers with the documented shape (required
//!   keys, types, enums) against simulated processes, directly and through the gateway.

mod common;

use common::jwt::Issuer;
use serde_json::Value;
use spp_ctl::agent::api::{AppState, router};
use spp_ctl::agent::{AgentConfig, Registry};
use spp_ctl::openapi;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

const PROXY: &str = "/v1/hosts/{host}/{rest}";

fn document(text: &str) -> Value {
    serde_json::from_str(text).expect("the committed document is JSON")
}

fn documented_paths(doc: &Value) -> BTreeSet<String> {
    doc["paths"].as_object().expect("paths").keys().cloned().collect()
}

/// The documented methods of `path`, upper case, sorted.
fn documented_methods(doc: &Value, path: &str) -> BTreeSet<String> {
    doc["paths"][path].as_object().expect("path item").keys().map(|m| m.to_uppercase()).collect()
}

/// The paths in a router's table, from its `Debug` (the only place axum exposes them).
fn router_paths(debug: &str) -> BTreeSet<String> {
    // A fallback registers `/` and a private catch-all; neither is a route of the API.
    let fallback = |s: &str| s == "/" || s.contains("__private__axum_fallback");
    let paths: BTreeSet<String> =
        debug.split('"').filter(|s| s.starts_with('/') && !fallback(s)).map(str::to_owned).collect();
    assert!(paths.len() > 3, "axum's Debug no longer lists the route table: {debug}");
    paths
}

/// `path` with sample values for its parameters.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{port_id}", "0")
        .replace("{rule_id}", "0")
        .replace("{name}", "fwd0")
        .replace("{host}", "h1")
        .replace("{rest}", "processes")
}

fn agent_state() -> AppState {
    AppState {
        registry: Registry::default(),
        config: Arc::new(AgentConfig::default()),
        started: Instant::now(),
        shutdown: CancellationToken::new(),
        sysfs_cpu: PathBuf::from("/nonexistent"),
    }
}

/// `PATCH path` must answer 405 with `Allow` listing exactly the documented methods.
async fn assert_allow(http: &reqwest::Client, base: &str, token: &str, doc: &Value, path: &str) {
    let response =
        http.patch(format!("{base}{}", concrete(path))).bearer_auth(token).send().await.expect("answered");
    assert_eq!(response.status(), 405, "{path}: a documented path the router does not serve");
    let allow = response.headers().get("allow").expect("Allow").to_str().expect("ASCII");
    let allowed: BTreeSet<String> =
        allow.split(',').map(|m| m.trim().to_owned()).filter(|m| m != "HEAD").collect();
    assert_eq!(allowed, documented_methods(doc, path), "{path}: router methods vs document");
}

/// `GET /openapi.json` without a token: exactly the committed document.
async fn assert_served(http: &reqwest::Client, base: &str, expected: &str) {
    let response = http.get(format!("{base}/openapi.json")).send().await.expect("answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.expect("body"), expected);
}

#[tokio::test]
async fn agent_routes_and_document_match() {
    let doc = document(openapi::AGENT);
    let mut routed = router_paths(&format!("{:?}", router(agent_state())));
    routed.insert("/metrics".into());
    assert_eq!(routed, documented_paths(&doc), "router paths vs documented paths");

    let issuer = Issuer::new();
    let agent = issuer.agent("h1").await;
    let token = issuer.token("t", "spp:admin", None);
    let base = format!("http://{}", agent.addrs.api);
    for path in documented_paths(&doc) {
        assert_allow(&agent.http, &base, &token, &doc, &path).await;
    }
    assert_served(&agent.http, &base, openapi::AGENT).await;
}

#[tokio::test]
async fn gateway_routes_and_document_match() {
    let doc = document(openapi::GATEWAY);
    let issuer = Issuer::new();
    let agent = issuer.agent("h1").await;
    let gateway = issuer.gateway(&[("h1", agent.addrs.api)]).await;
    let mut routed =
        router_paths(&format!("{:?}", spp_ctl::gateway::routes::router(gateway.running.clone(), true)));
    routed.insert(PROXY.into());
    assert_eq!(routed, documented_paths(&doc), "router paths vs documented paths");

    let token = issuer.token("t", "spp:admin", None);
    let base = gateway.url("");
    let http = reqwest::Client::new();
    for path in documented_paths(&doc).into_iter().filter(|p| p != PROXY) {
        assert_allow(&http, &base, &token, &doc, &path).await;
    }
    for method in documented_methods(&doc, PROXY) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = http
            .request(method.clone(), gateway.url(&concrete(PROXY)))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answered");
        let status = response.status();
        let body = response.text().await.expect("body");
        assert!(!body.contains("(routes:"), "{method} {PROXY} not forwarded: {status} {body}");
    }
    assert_served(&http, &base, openapi::GATEWAY).await;
}

/// The parts of a JSON Schema the documents use for answers: `$ref`, `type` (object,
/// array, string, integer), `required`, `properties`, `items`, `enum`.
fn assert_conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = match schema["$ref"].as_str() {
        Some(pointer) => doc.pointer(&pointer[1..]).expect("resolvable $ref"),
        None => schema,
    };
    if let Some(allowed) = schema["enum"].as_array() {
        assert!(allowed.contains(value), "{at}: {value} not in {allowed:?}");
    }
    match schema["type"].as_str() {
        Some("array") => {
            for item in value.as_array().unwrap_or_else(|| panic!("{at}: not an array: {value}")) {
                assert_conforms(doc, &schema["items"], item, at);
            }
        }
        Some("object") => {
            let object = value.as_object().unwrap_or_else(|| panic!("{at}: not an object: {value}"));
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().expect("key");
                assert!(object.contains_key(key), "{at}: key {key} missing in {value}");
            }
            for (key, sub) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(member) = object.get(key) {
                    assert_conforms(doc, sub, member, &format!("{at}.{key}"));
                }
            }
        }
        Some("string") => assert!(value.is_string(), "{at}: not a string: {value}"),
        Some("integer") => assert!(value.is_i64() || value.is_u64(), "{at}: not an integer: {value}"),
        _ => {}
    }
}

/// Every documented JSON GET under `/v1` (no path parameters but `{id}`/`{host}`) answers
/// 200 with a body of the documented shape.
async fn assert_json_gets(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    doc: &Value,
    ids: &[(&str, &str)],
) {
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let schema = &item["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        if schema.is_null() || !path.starts_with("/v1/") || path.contains("{rest}") {
            continue;
        }
        let url = ids.iter().fold(
            path.clone(),
            |p, (group, id)| {
                if p.starts_with(group) { p.replace("{id}", id) } else { p }
            },
        );
        let response = http
            .get(format!("{base}{}", url.replace("{host}", "h1")))
            .bearer_auth(token)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 200, "GET {url}");
        let body: Value = response.json().await.expect("JSON body");
        assert_conforms(doc, schema, &body, &url);
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} JSON GETs checked");
}

#[tokio::test]
async fn json_answers_have_the_documented_shape() {
    // The agent without auth: the gateway's fan-out sends no token of its own.
    let issuer = Issuer::new();
    let agent = common::TestAgent::start().await;
    let _sims = agent.attach_all().await;
    let gateway = issuer.gateway(&[("h1", agent.addrs.api)]).await;
    let token = issuer.token("t", "spp:admin", None);
    let ids = [("/v1/nfvs", "1"), ("/v1/vfs", "2"), ("/v1/mirrors", "3"), ("/v1/pcaps", "4")];
    let agent_base = format!("http://{}", agent.addrs.api);
    assert_json_gets(&agent.http, &agent_base, &token, &document(openapi::AGENT), &ids).await;
    assert_json_gets(&agent.http, &gateway.url(""), &token, &document(openapi::GATEWAY), &[]).await;
}
