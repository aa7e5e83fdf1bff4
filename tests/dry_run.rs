//! `?dry_run=true` on every mutating route of the agent. The routes come from the OpenAPI
//! document, which `tests/openapi.rs` holds equal to the router's table, so a new route
//! cannot be missed. For each one, with valid and invalid input, a dry run must send the
//! simulated processes nothing and answer what the real call answers (204 where the real
//! call succeeds).

mod common;

use common::{Answer, TestAgent};
use reqwest::Method;
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::SimHandle;

const PROCESSES: [(ProcType, u32); 5] = [
    (ProcType::Primary, 0),
    (ProcType::Nfv, 1),
    (ProcType::Vf, 2),
    (ProcType::Mirror, 3),
    (ProcType::Pcap, 4),
];

const LAUNCH: &str = r#"{"client_id": 5, "proc_name": "spp_nfv", "eal": {"-l": "1,2", "--proc-type": "secondary"}, "app": {"-s": "127.0.0.1:9", "-n": 5}}"#;
const RULE: &str = r#"{"rule": {"direction": "ingress", "pattern": ["eth"], "actions": ["queue index 1"]}}"#;

/// Every mutating operation of the agent's document: (method, path template).
fn mutating_routes() -> Vec<(Method, String)> {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../docs/openapi/agent.json")).expect("the document is JSON");
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            let method: Method = method.to_uppercase().parse().expect("a method");
            if method != Method::GET && method != Method::HEAD {
                routes.push((method, path.clone()));
            }
        }
    }
    routes
}

/// The path with the demo processes' ids.
fn concrete(template: &str) -> String {
    let id = match template.split('/').nth(2) {
        Some("vfs") => "2",
        Some("mirrors") => "3",
        Some("pcaps") => "4",
        _ => "1",
    };
    fill(template, id, "fwd1", "0", "0")
}

fn fill(template: &str, id: &str, name: &str, port_id: &str, rule_id: &str) -> String {
    template
        .replace("{id}", id)
        .replace("{name}", name)
        .replace("{port_id}", port_id)
        .replace("{rule_id}", rule_id)
}

/// A body the agent accepts for this route, if it takes one.
fn valid_body(method: &Method, template: &str) -> Option<&'static str> {
    let last = template.rsplit('/').next().unwrap_or_default();
    Some(match (method.as_str(), last) {
        ("DELETE", _) => return None,
        ("PUT", "forward") => r#"{"action": "start"}"#,
        ("PUT", "ports") if template.contains("/components/") => {
            r#"{"action": "attach", "port": "ring:0", "dir": "rx"}"#
        }
        ("PUT", "ports") => r#"{"action": "add", "port": "ring:0"}"#,
        ("PUT", "patches") => r#"{"src": "ring:0", "dst": "ring:1"}"#,
        ("PUT", "launch") => LAUNCH,
        ("PUT", "capture") => r#"{"action": "start"}"#,
        ("PUT", "classifier_table") => {
            r#"{"action": "add", "type": "mac", "mac_address": "FA:16:3E:7D:CC:35", "port": "ring:0"}"#
        }
        ("POST", "components") if template.starts_with("/v1/mirrors") => {
            r#"{"name": "mir9", "core": 4, "type": "mirror"}"#
        }
        ("POST", "components") => r#"{"name": "fwd9", "core": 4, "type": "forward"}"#,
        ("POST", _) => RULE,
        _ => panic!("no valid body known for {method} {template}: add one"),
    })
}

/// Requests the agent must refuse before sending anything: bad bodies, a missing process,
/// bad path parameters.
fn invalid_requests(method: &Method, template: &str) -> Vec<(String, Option<&'static str>)> {
    let path = concrete(template);
    let mut requests = Vec::new();
    if valid_body(method, template).is_some() {
        for body in
            ["not json", "{}", r#"{"action": 5, "port": "ring: 0", "src": 1, "rule": 1, "name": "a b"}"#]
        {
            requests.push((path.clone(), Some(body)));
        }
    }
    let body = valid_body(method, template);
    let id = concrete(template).split('/').nth(3).unwrap_or_default().to_owned();
    let mut bad_paths = vec![fill(template, "9", "fwd1", "0", "0"), fill(template, "x", "fwd1", "0", "0")];
    bad_paths.extend([fill(template, &id, "a%20b", "0", "0"), fill(template, &id, "fwd1", "x", "0")]);
    bad_paths.extend([fill(template, &id, "fwd1", "-1", "0"), fill(template, &id, "fwd1", "0", "x")]);
    for bad in bad_paths {
        if bad != path && !requests.iter().any(|(p, _)| *p == bad) {
            requests.push((bad, body));
        }
    }
    requests
}

struct Demo {
    agent: TestAgent,
    sims: Vec<SimHandle>,
}

impl Demo {
    async fn start() -> Self {
        let agent = TestAgent::start().await;
        let sims = agent.attach_all().await;
        Demo { agent, sims }
    }

    async fn call(&self, method: &Method, path: &str, body: Option<&str>) -> Answer {
        self.agent.request(method.clone(), path, body).await
    }

    fn received(&self) -> Vec<String> {
        self.sims.iter().flat_map(SimHandle::received).collect()
    }

    /// Clears the command logs, and brings back a process a real call made exit.
    async fn reset(&mut self) {
        for (index, (ty, id)) in PROCESSES.into_iter().enumerate() {
            if !self.agent.is_registered(ty, id) {
                self.sims[index] = self.agent.attach(ty, id).await;
            }
        }
        self.sims.iter().for_each(SimHandle::clear_received);
    }
}

fn dry(path: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}dry_run=true")
}

#[tokio::test]
async fn a_dry_run_sends_nothing_and_answers_as_the_real_call_would() {
    let routes = mutating_routes();
    assert_eq!(routes.len(), 30, "the agent's mutating operations: {routes:?}");
    let mut demo = Demo::start().await;
    let mut checked = 0;
    for (method, template) in &routes {
        let path = concrete(template);
        let body = valid_body(method, template);
        demo.reset().await;
        let dry_answer = demo.call(method, &dry(&path), body).await;
        assert_eq!(demo.received(), Vec::<String>::new(), "dry run of {method} {path} sent commands");
        dry_answer.assert_no_content();
        let real = demo.call(method, &path, body).await;
        assert!(!demo.received().is_empty(), "the real {method} {path} sent nothing");
        let refused_by_process = real.status == 400 && real.body.starts_with("command error: ");
        assert!(
            (200..300).contains(&real.status) || refused_by_process,
            "{method} {path}: the real call answered {real:?}"
        );
        for (path, body) in invalid_requests(method, template) {
            demo.reset().await;
            let dry_answer = demo.call(method, &dry(&path), body).await;
            let real = demo.call(method, &path, body).await;
            assert_eq!(
                demo.received(),
                Vec::<String>::new(),
                "invalid {method} {path} {body:?} sent commands"
            );
            assert!(real.status >= 400, "{method} {path} {body:?} was accepted: {real:?}");
            assert_eq!(
                (dry_answer.status, dry_answer.content_type, dry_answer.body),
                (real.status, real.content_type, real.body),
                "{method} {path} {body:?}"
            );
            checked += 1;
        }
    }
    println!("{} routes, {checked} invalid requests compared", routes.len());
}

#[tokio::test]
async fn without_processes_a_dry_run_gives_the_same_404() {
    let agent = TestAgent::start().await;
    for (method, template) in mutating_routes() {
        let (path, body) = (concrete(&template), valid_body(&method, &template));
        let dry_answer = agent.request(method.clone(), &dry(&path), body).await;
        let real = agent.request(method.clone(), &path, body).await;
        assert_eq!(real.status, 404, "{method} {path}");
        assert_eq!((dry_answer.status, dry_answer.body), (real.status, real.body), "{method} {path}");
    }
}

#[tokio::test]
async fn dry_run_values_and_routes_without_it() {
    let demo = Demo::start().await;
    let put = |query: &'static str| demo.call(&Method::PUT, query, Some(r#"{"action": "start"}"#));
    put("/v1/nfvs/1/forward?dry_run=maybe").await.assert_text(400, "invalid dry_run: maybe");
    put("/v1/nfvs/1/forward?dry_run=TRUE").await.assert_text(400, "invalid dry_run: TRUE");
    put("/v1/nfvs/1/forward?dry_run=false").await.assert_no_content();
    assert_eq!(demo.sims[1].received(), ["forward"]);
    // A method the path does not take: the same 405 either way.
    let real = demo.call(&Method::POST, "/v1/nfvs/1/forward", Some("{}")).await;
    let dry_answer = demo.call(&Method::POST, "/v1/nfvs/1/forward?dry_run=true", Some("{}")).await;
    assert_eq!((real.status, &real.body), (405, &"Method not allowed.".to_owned()));
    assert_eq!((dry_answer.status, dry_answer.body), (real.status, real.body));
    // Reads ignore it.
    assert_eq!(demo.call(&Method::GET, "/v1/nfvs/1?dry_run=maybe", None).await.status, 200);
}
