//! Every route over real HTTP against real simulated processes: exact status, content
//! type and body, and the exact command the process received (or that it received
//! nothing, for every request the agent must refuse).

mod common;

use common::{Answer, TestAgent, test_config};
use reqwest::Method;
use spp_ctl::agent::AgentConfig;
use spp_ctl::proc_type::ProcType;
use spp_ctl::sim::SimHandle;

/// One request, what must come back, and what must go over the wire.
struct Case {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    status: u16,
    answer: &'static str,
    wire: Option<&'static str>,
}

fn case(method: Method, path: &'static str, body: Option<&'static str>) -> Case {
    Case { method, path, body, status: 204, answer: "", wire: None }
}

impl Case {
    fn answers(mut self, status: u16, answer: &'static str) -> Self {
        self.status = status;
        self.answer = answer;
        self
    }

    fn sends(mut self, command: &'static str) -> Self {
        self.wire = Some(command);
        self
    }
}

fn get(path: &'static str) -> Case {
    case(Method::GET, path, None)
}
fn delete(path: &'static str) -> Case {
    case(Method::DELETE, path, None)
}
fn put(path: &'static str, body: &'static str) -> Case {
    case(Method::PUT, path, Some(body))
}
fn post(path: &'static str, body: &'static str) -> Case {
    case(Method::POST, path, Some(body))
}

async fn run(agent: &TestAgent, sim: &SimHandle, cases: Vec<Case>) {
    for case in cases {
        sim.clear_received();
        let answer: Answer = agent.request(case.method.clone(), case.path, case.body).await;
        let what = format!("{} {} {:?}", case.method, case.path, case.body);
        let content_type = match case.status {
            200 => Some("application/json"),
            204 => None,
            _ => Some("text/plain"),
        };
        assert_eq!(
            (answer.status, answer.content_type.as_deref(), answer.body.as_str()),
            (case.status, content_type, case.answer),
            "{what}"
        );
        let expected: Vec<String> = case.wire.into_iter().map(str::to_owned).collect();
        assert_eq!(sim.received(), expected, "wire of {what}");
    }
}

const PRIMARY_STATUS: &str = r#"{"master-lcore": 0, "lcores": [0, 1], "forwarder": {"status": "idling", "ports": ["phy:0", "phy:1"], "patches": []}, "phy_ports": [{"id": 0, "eth": "56:48:4f:53:54:00", "rx": 0, "tx": 0, "tx_drop": 0, "nof_queues": {"rx": 1, "tx": 1}, "flow": []}, {"id": 1, "eth": "56:48:4f:53:54:01", "rx": 0, "tx": 0, "tx_drop": 0, "nof_queues": {"rx": 1, "tx": 1}, "flow": []}], "ring_ports": [{"id": 0, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 1, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 2, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 3, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 4, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 5, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 6, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}, {"id": 7, "rx": 0, "rx_drop": 0, "tx": 0, "tx_drop": 0}], "pipes": []}"#;

#[tokio::test]
async fn primary_routes() {
    let agent = TestAgent::start().await;
    let sim = agent.attach(ProcType::Primary, 0).await;
    let launch = r#"{"client_id": 5, "proc_name": "spp_nfv", "eal": {"-l": "1,2", "--proc-type": "secondary", "-m": 512, "--no-pci": null}, "app": {"-s": "127.0.0.1:9", "-n": 5, "--vhost-client": ""}}"#;
    run(&agent, &sim, vec![
        get("/v1/primary/status").answers(200, PRIMARY_STATUS).sends("status"),
        case(Method::HEAD, "/v1/primary/status", None).answers(200, "").sends("status"),
        delete("/v1/primary/status").sends("clear"),
        put("/v1/primary/forward", r#"{"action": "start"}"#).sends("forward"),
        put("/v1/primary/forward", r#"{"action": "stop"}"#).sends("stop"),
        put("/v1/primary/forward", r#"{}"#).answers(400, "key(action) required."),
        put("/v1/primary/forward", r#"{"action": "go"}"#).answers(400, "invalid key(action): go."),
        put("/v1/primary/ports", r#"{"action": "add", "port": "ring:0"}"#).sends("add ring:0"),
        put("/v1/primary/ports", r#"{"action": "add", "port": "pipe:0", "rx": "ring:0", "tx": "ring:1"}"#)
            .sends("add pipe:0 ring:0 ring:1"),
        put("/v1/primary/ports", r#"{"action": "del", "port": "pipe:0"}"#).sends("del pipe:0"),
        put("/v1/primary/ports", r#"{"action": "del", "port": "ring:9"}"#)
            .answers(400, "command error: del ring:9 failed")
            .sends("del ring:9"),
        put("/v1/primary/ports", r#"{"action": "add", "port": "phy:0"}"#).answers(400, "invalid key(port): phy:0."),
        put("/v1/primary/ports", r#"{"action": "add", "port": "ring: 1"}"#).answers(400, "invalid key(port): ring: 1."),
        put("/v1/primary/ports", r#"{"action": "add", "port": "pipe:1"}"#).answers(400, "key(rx) required."),
        put("/v1/primary/ports", r#"{"port": "ring:0"}"#).answers(400, "key(action) required."),
        put("/v1/primary/ports", r#"{"action": "add"}"#).answers(400, "key(port) required."),
        put("/v1/primary/ports", "not json").answers(400, "Not in json format."),
        put("/v1/primary/ports", "[1]").answers(400, "Not in json format."),
        put("/v1/primary/ports", "").answers(400, "Not in json format."),
        put("/v1/primary/patches", r#"{"src": "phy:0", "dst": "ring:0"}"#).sends("patch phy:0 ring:0"),
        put("/v1/primary/patches", r#"{"src": "phy:0", "dst": "pipe:0"}"#)
            .answers(400, "command error: patch phy:0 pipe:0 failed")
            .sends("patch phy:0 pipe:0"),
        put("/v1/primary/patches", r#"{"src": "phy:0"}"#).answers(400, "key(dst) required."),
        delete("/v1/primary/patches").sends("patch reset"),
        put("/v1/primary/launch", launch)
            .sends("launch 5 spp_nfv -l 1,2 --no-pci --proc-type secondary -m 512 -- -n 5 -s 127.0.0.1:9 --vhost-client"),
        put("/v1/primary/launch", r#"{"client_id": 5, "proc_name": "spp_nfv", "eal": {"-l": "1"}, "app": {}}"#)
            .answers(400, "key(eal: --proc-type) required."),
        put("/v1/primary/launch", r#"{"client_id": 5, "proc_name": "spp_x", "eal": {}, "app": {}}"#)
            .answers(400, "invalid key(proc_name): spp_x."),
        put("/v1/primary/status", "{}").answers(405, "Method not allowed."),
    ])
    .await;
}

#[tokio::test]
async fn flow_rule_routes() {
    let agent = TestAgent::start().await;
    let sim = agent.attach(ProcType::Primary, 0).await;
    let rule = r#"{"rule": {"group": 0, "priority": 0, "direction": "ingress", "transfer": true, "pattern": ["eth dst is 11:22:33:44:55:66 type mask 0xffff", "vlan vid is 100"], "actions": ["queue index 1", "of_pop_vlan"]}}"#;
    let wire = "flow validate phy:0 group 0 priority 0 transfer ingress pattern eth dst is 11:22:33:44:55:66 type mask 0xffff / vlan vid is 100 / end actions queue index 1 / of_pop_vlan / end";
    run(
        &agent,
        &sim,
        vec![
            post("/v1/primary/flow_rules/port_id/0/validate", rule)
                .answers(200, r#"{"result": "success", "message": "Flow rule validated"}"#)
                .sends(wire),
            post(
                "/v1/primary/flow_rules/port_id/0",
                r#"{"rule": {"direction": "ingress", "pattern": ["eth"], "actions": ["queue index 1"]}}"#,
            )
            .answers(200, r#"{"result": "success", "message": "Flow rule #0 created", "rule_id": "0"}"#)
            .sends("flow create phy:0 ingress pattern eth / end actions queue index 1 / end"),
            post(
                "/v1/primary/flow_rules/port_id/0",
                r#"{"rule": {"direction": "ingress", "pattern": ["bogus"], "actions": ["queue index 1"]}}"#,
            )
            .answers(200, r#"{"result": "error", "message": "Flow command invalid argument"}"#)
            .sends("flow create phy:0 ingress pattern bogus / end actions queue index 1 / end"),
            delete("/v1/primary/flow_rules/0/port_id/0")
                .answers(200, r#"{"result": "success", "message": "Flow rule #0 destroyed"}"#)
                .sends("flow destroy phy:0 0"),
            delete("/v1/primary/flow_rule/3/port_id/0")
                .answers(200, r#"{"result": "error", "message": "Flow rule #3 not found"}"#)
                .sends("flow destroy phy:0 3"),
            delete("/v1/primary/flow_rules/port_id/0")
                .answers(200, r#"{"result": "success", "message": "Flow rule all destroyed"}"#)
                .sends("flow destroy phy:0 ALL"),
            delete("/v1/primary/flow_rule/port_id/01")
                .answers(200, r#"{"result": "success", "message": "Flow rule all destroyed"}"#)
                .sends("flow destroy phy:1 ALL"),
            delete("/v1/primary/flow_rules/port_id/-1").answers(400, "invalid key(port_id): -1."),
            delete("/v1/primary/flow_rules/-1/port_id/0").answers(400, "invalid key(rule_id): -1."),
            delete("/v1/primary/flow_rules/4294967296/port_id/0")
                .answers(400, "invalid key(rule_id): 4294967296."),
            post(
                "/v1/primary/flow_rules/port_id/0",
                r#"{"rule": {"direction": "sideways", "pattern": [], "actions": []}}"#,
            )
            .answers(400, "invalid key(direction): sideways."),
            post("/v1/primary/flow_rules/port_id/0", r#"{}"#).answers(400, "key(rule) required."),
            post("/v1/primary/flow_rules/x/port_id/0", "{}").answers(404, "Not found: '/x/port_id/0'"),
        ],
    )
    .await;
}

#[tokio::test]
async fn nfv_routes() {
    let agent = TestAgent::start().await;
    let sim = agent.attach(ProcType::Nfv, 1).await;
    run(&agent, &sim, vec![
        get("/v1/nfvs/1")
            .answers(200, r#"{"client-id": 1, "status": "idling", "master-lcore": 1, "lcores": [1, 2], "ports": ["phy:0", "phy:1"], "patches": []}"#)
            .sends("status"),
        put("/v1/nfvs/1/ports", r#"{"action": "add", "port": "ring:1"}"#).sends("add ring:1"),
        put("/v1/nfvs/01/ports", r#"{"action": "add", "port": "vhost:0"}"#).sends("add vhost:0"),
        put("/v1/nfvs/1/ports", r#"{"action": "add", "port": "pipe:0"}"#).answers(400, "invalid key(port): pipe:0."),
        put("/v1/nfvs/1/ports", r#"{"action": "del", "port": "phy:0"}"#).answers(400, "invalid key(port): phy:0."),
        put("/v1/nfvs/1/patches", r#"{"src": "phy:0", "dst": "ring:1"}"#).sends("patch phy:0 ring:1"),
        put("/v1/nfvs/1/patches", r#"{"src": "phy:0", "dst": "ring:7"}"#)
            .answers(400, "command error: patch phy:0 ring:7 failed")
            .sends("patch phy:0 ring:7"),
        put("/v1/nfvs/1/forward", r#"{"action": "start"}"#).sends("forward"),
        get("/v1/nfvs/1")
            .answers(200, r#"{"client-id": 1, "status": "running", "master-lcore": 1, "lcores": [1, 2], "ports": ["phy:0", "phy:1", "ring:1", "vhost:0"], "patches": [{"src": "phy:0", "dst": "ring:1"}]}"#)
            .sends("status"),
        put("/v1/nfvs/1/forward", r#"{"action": "stop"}"#).sends("stop"),
        put("/v1/nfvs/1/forward", r#"{"action": 1}"#).answers(400, "invalid key(action): 1."),
        delete("/v1/nfvs/1/patches").sends("patch reset"),
        put("/v1/nfvs/1/ports", r#"{"action": "del", "port": "vhost:0"}"#).sends("del vhost:0"),
        put("/v1/nfvs/1/ports", r#"{"action": "del", "port": "vhost:5"}"#)
            .answers(400, "command error: del vhost:5 failed")
            .sends("del vhost:5"),
        get("/v1/vfs/1").answers(404, "sec_id 1 not found."),
        get("/v1/nfvs/2").answers(404, "sec_id 2 not found."),
        get("/v1/nfvs/x").answers(404, "Not found: '/x'"),
        delete("/v1/nfvs/1").sends("exit"),
        get("/v1/nfvs/1").answers(404, "sec_id 1 not found."),
    ])
    .await;
}

const VF_IDLE: &str = r#"{"client-id": 2, "ports": ["phy:0", "phy:1"], "master-lcore": 1, "components": [{"core": 2, "type": "unuse"}, {"core": 3, "type": "unuse"}, {"core": 4, "type": "unuse"}, {"core": 5, "type": "unuse"}], "classifier_table": []}"#;
const VF_BUSY: &str = r#"{"client-id": 2, "ports": ["phy:0", "phy:1", "vhost:1", "ring:0"], "master-lcore": 1, "components": [{"core": 2, "name": "fwd1", "type": "forward", "rx_port": [{"port": "ring:0", "vlan": {"operation": "none", "id": 0, "pcp": 0}}], "tx_port": [{"port": "vhost:1", "vlan": {"operation": "add", "id": 677, "pcp": 0}}]}, {"core": 3, "type": "unuse"}, {"core": 4, "type": "unuse"}, {"core": 5, "type": "unuse"}], "classifier_table": [{"type": "vlan", "value": "475/FA:16:3E:7D:CC:35", "port": "ring:0"}]}"#;

#[tokio::test]
async fn vf_routes() {
    let agent = TestAgent::start().await;
    let sim = agent.attach(ProcType::Vf, 2).await;
    run(&agent, &sim, vec![
        get("/v1/vfs/2").answers(200, VF_IDLE).sends("status"),
        post("/v1/vfs/2/components", r#"{"name": "fwd1", "core": 2, "type": "forward"}"#).sends("component start fwd1 2 forward"),
        post("/v1/vfs/2/components", r#"{"name": "fwd1", "core": 3, "type": "merge"}"#)
            .answers(400, "command error: Invalid value (component name)")
            .sends("component start fwd1 3 merge"),
        post("/v1/vfs/2/components", r#"{"name": "fwd9", "core": 9, "type": "merge"}"#)
            .answers(400, "command error: error occur")
            .sends("component start fwd9 9 merge"),
        post("/v1/vfs/2/components", r#"{"name": "a b", "core": 3, "type": "merge"}"#).answers(400, "invalid key(name): a b."),
        post("/v1/vfs/2/components", r#"{"name": "x", "core": true, "type": "merge"}"#).answers(400, "invalid key(core): true."),
        post("/v1/vfs/2/components", r#"{"name": "x", "core": 3, "type": "classifier_mac"}"#)
            .answers(400, "invalid key(type): classifier_mac."),
        put("/v1/vfs/2/components/fwd1/ports", r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {}}"#)
            .sends("port add ring:0 rx fwd1"),
        put("/v1/vfs/2/components/fwd1/ports", r#"{"action": "attach", "port": "vhost:1", "dir": "tx", "vlan": {"operation": "add", "id": 677, "pcp": 0}}"#)
            .sends("port add vhost:1 tx fwd1 add_vlantag 677 0"),
        put("/v1/vfs/2/components/fwd1/ports", r#"{"action": "attach", "port": "ring:2", "dir": "tx"}"#)
            .answers(400, "command error: error occur")
            .sends("port add ring:2 tx fwd1"),
        put("/v1/vfs/2/components/fwd1/ports", r#"{"action": "attach", "port": "pcap:0", "dir": "tx"}"#)
            .answers(400, "invalid key(port): pcap:0."),
        put("/v1/vfs/2/components/fwd1/ports", r#"{"action": "attach", "port": "ring:1", "dir": "tx", "vlan": {"operation": "add"}}"#)
            .answers(400, r#"invalid key(vlan): {"operation":"add"}."#),
        put("/v1/vfs/2/components/fw%20d1/ports", r#"{"action": "detach", "port": "ring:1", "dir": "tx"}"#)
            .answers(400, "invalid key(name): fw d1."),
        put("/v1/vfs/2/classifier_table", r#"{"action": "add", "type": "vlan", "vlan": "475", "mac_address": "FA:16:3E:7D:CC:35", "port": "ring:0"}"#)
            .sends("classifier_table add vlan 475 FA:16:3E:7D:CC:35 ring:0"),
        put("/v1/vfs/2/classifier_table", r#"{"action": "add", "type": "mac", "mac_address": "fa-16-3e-7d-cc-35", "port": "ring:0"}"#)
            .answers(400, "invalid key(mac_address): fa-16-3e-7d-cc-35."),
        put("/v1/vfs/2/classifier_table", r#"{"action": "add", "type": "vlan", "mac_address": "default", "port": "ring:0"}"#)
            .answers(400, "key(vlan) required."),
        get("/v1/vfs/2").answers(200, VF_BUSY).sends("status"),
        put("/v1/vfs/2/components/fwd1/ports", r#"{"action": "detach", "port": "ring:0", "dir": "rx"}"#).sends("port del ring:0 rx fwd1"),
        delete("/v1/vfs/2/components/fwd1").sends("component stop fwd1"),
        delete("/v1/vfs/2/components/unknown").sends("component stop unknown"),
        delete("/v1/vfs/2/components/a%20b").answers(400, "invalid key(name): a b."),
        get("/v1/mirrors/2").answers(404, "sec_id 2 not found."),
        delete("/v1/vfs/2").sends("exit"),
        get("/v1/vfs/2").answers(404, "sec_id 2 not found."),
    ])
    .await;
}

#[tokio::test]
async fn mirror_routes() {
    let agent = TestAgent::start().await;
    let sim = agent.attach(ProcType::Mirror, 3).await;
    run(&agent, &sim, vec![
        get("/v1/mirrors/3")
            .answers(200, r#"{"client-id": 3, "ports": ["phy:0", "phy:1"], "master-lcore": 1, "components": [{"core": 2, "type": "unuse"}, {"core": 3, "type": "unuse"}, {"core": 4, "type": "unuse"}, {"core": 5, "type": "unuse"}]}"#)
            .sends("status"),
        post("/v1/mirrors/3/components", r#"{"name": "mr0", "core": 2, "type": "mirror"}"#).sends("component start mr0 2 mirror"),
        post("/v1/mirrors/3/components", r#"{"name": "mr1", "core": 2, "type": "forward"}"#).answers(400, "invalid key(type): forward."),
        put("/v1/mirrors/3/components/mr0/ports", r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"operation": "add", "id": 99999}}"#)
            .sends("port add ring:0 rx mr0"),
        put("/v1/mirrors/3/components/mr0/ports", r#"{"action": "detach", "port": "ring:0", "dir": "rx"}"#).sends("port del ring:0 rx mr0"),
        put("/v1/mirrors/3/components/mr0/ports", r#"{"action": "attach", "port": "ring:0", "dir": "up"}"#).answers(400, "invalid key(dir): up."),
        put("/v1/mirrors/3/classifier_table", "{}").answers(404, "Not found: '/3/classifier_table'"),
        delete("/v1/mirrors/3/components/mr0").sends("component stop mr0"),
        delete("/v1/mirrors/3").sends("exit"),
    ])
    .await;
}

#[tokio::test]
async fn pcap_routes() {
    let agent = TestAgent::start().await;
    let sim = agent.attach(ProcType::Pcap, 4).await;
    run(&agent, &sim, vec![
        get("/v1/pcaps/4")
            .answers(200, r#"{"client-id": 4, "status": "idle", "master-lcore": 1, "core": [{"core": 2, "role": "receive", "rx_port": [{"port": "phy:0"}]}, {"core": 3, "role": "write", "filename": ""}]}"#)
            .sends("status"),
        put("/v1/pcaps/4/capture", r#"{"action": "start"}"#).sends("start"),
        put("/v1/pcaps/4/capture", r#"{"action": "stop"}"#).sends("stop"),
        put("/v1/pcaps/4/capture", r#"{"action": "pause"}"#).answers(400, "invalid key(action): pause."),
        put("/v1/pcaps/4/capture", r#"{}"#).answers(400, "key(action) required."),
        get("/v1/pcaps/4/capture").answers(405, "Method not allowed."),
        delete("/v1/pcaps/4").sends("exit"),
        get("/v1/pcaps/4").answers(404, "sec_id 4 not found."),
    ])
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_413_after_lookup_and_never_sent() {
    let agent = TestAgent::start_with(AgentConfig { body_limit: 1024, ..test_config() }).await;
    let sim = agent.attach(ProcType::Nfv, 1).await;
    let big: &'static str = Box::leak(
        format!(r#"{{"action": "add", "port": "ring:1", "pad": "{}"}}"#, "x".repeat(2048)).into_boxed_str(),
    );
    run(
        &agent,
        &sim,
        vec![
            put("/v1/nfvs/1/ports", big).answers(413, "Request entity too large."),
            put("/v1/nfvs/9/ports", big).answers(404, "sec_id 9 not found."),
        ],
    )
    .await;
}

#[tokio::test]
async fn processes_and_cpu_usage_with_every_type() {
    let agent = TestAgent::start().await;
    for (ty, id) in [
        (ProcType::Pcap, 4),
        (ProcType::Vf, 2),
        (ProcType::Primary, 0),
        (ProcType::Nfv, 0),
        (ProcType::Mirror, 3),
    ] {
        agent.attach(ty, id).await;
    }
    agent.get("/v1/processes").await.assert_json(
        r#"[{"type": "primary"}, {"type": "nfv", "client-id": 0}, {"type": "vf", "client-id": 2}, {"type": "mirror", "client-id": 3}, {"type": "pcap", "client-id": 4}]"#,
    );
    agent.get("/v1/cpu_usage").await.assert_json(
        r#"[{"proc-type": "primary", "master-lcore": 0, "lcores": [0, 1]}, {"proc-type": "nfv", "client-id": 0, "master-lcore": 1, "lcores": [1, 2]}, {"proc-type": "vf", "client-id": 2, "master-lcore": 1, "lcores": [1, 2, 3, 4, 5]}, {"proc-type": "mirror", "client-id": 3, "master-lcore": 1, "lcores": [1, 2, 3, 4, 5]}, {"proc-type": "pcap", "client-id": 4, "master-lcore": 1, "lcores": [1, 2, 3]}]"#,
    );
    let layout = agent.get("/v1/cpu_layout").await;
    assert_eq!((layout.status, layout.content_type.as_deref()), (200, Some("application/json")));
    assert!(layout.body.starts_with(r#"[{"socket_id": "#), "{}", layout.body);
}
