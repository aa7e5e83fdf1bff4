//! The client's `events`, `wait` and `apply` against the real servers: an agent with
//! simulated processes, and a TLS+JWT gateway in front of two of them. Streams are read
//! line by line from the running binary; `--since ...=0` replays each agent's buffer, so
//! no event depends on when the client happened to connect.

mod common;

use common::TestAgent;
use common::client::{Cluster, Follower, spp};
use serde_json::{Value, json};
use spp_ctl::proc_type::ProcType;

/// The fields of a human event line after the time: host, type, key=value....
fn fields(line: &str) -> Vec<&str> {
    let mut fields: Vec<&str> = line.split("  ").collect();
    let time = fields.remove(0);
    assert!(time.len() == 24 && time.ends_with('Z'), "{line}");
    fields
}

#[tokio::test]
async fn events_from_an_agent_show_a_mutation_as_a_line_and_as_json() {
    let agent = TestAgent::start().await;
    agent.attach_all().await;
    let home = tempfile::tempdir().expect("home");
    let server = format!("http://{}", agent.addrs.api);
    let env = [("SPP_CTL_SERVER", server.as_str())];
    let mut human = Follower::spawn(home.path(), &env, &["events", "--since", "0"]);
    let mut json = Follower::spawn(home.path(), &env, &["events", "--since", "0", "-o", "json"]);
    let add = spp(home.path(), &env, &["nfv", "1", "add", "ring:0"]).await;
    assert_eq!(add.assert_ok(), "nfv 1: add ring:0 done\n");

    // The `command` event and `port-added` come in either order.
    let find = |lines: &[String], kind: &str| lines.iter().find(|l| fields(l)[1] == kind).cloned();
    let mut lines = Vec::new();
    while find(&lines, "port-added").is_none() || find(&lines, "command").is_none() {
        lines.push(human.line().await);
    }
    let first = fields(&lines[0]);
    assert_eq!(first[..3], ["-", "process-attached", "type=primary"], "{lines:?}");
    assert!(first[3].starts_with("addr=127.0.0.1:"), "{lines:?}");
    let attached = lines.iter().filter(|l| fields(l)[1] == "process-attached").count();
    assert_eq!((attached, lines.len()), (5, 7), "the demo processes first: {lines:?}");
    let added = find(&lines, "port-added").expect("port-added");
    assert_eq!(fields(&added), ["-", "port-added", "port=ring:0", "process=nfv:1"]);
    let command = find(&lines, "command").expect("command");
    let command = fields(&command);
    assert_eq!(
        command[..7],
        [
            "-",
            "command",
            "method=PUT",
            "route=/v1/nfvs/{id}/ports",
            "path=/v1/nfvs/1/ports",
            "process=nfv:1",
            "verb=add"
        ],
        "{command:?}"
    );
    assert!(command.contains(&"status=204") && command.contains(&"outcome=ok"), "{command:?}");

    let lines = json.until(|l| l.contains(r#""event":"port-added""#)).await;
    let parsed: Vec<Value> =
        lines.iter().map(|l| serde_json::from_str(l).expect("one JSON object")).collect();
    for (n, event) in parsed.iter().enumerate() {
        assert_eq!(event["id"], json!((n + 1).to_string()), "ids 1, 2, ... in order: {lines:?}");
    }
    let mut added = parsed.last().expect("an event").clone();
    assert!(added.as_object_mut().expect("object").remove("time").is_some());
    assert_eq!(
        added,
        json!({"port": "ring:0", "process": "nfv:1", "id": parsed.len().to_string(), "event": "port-added"})
    );
    for follower in [human, json] {
        let mut child = follower.child;
        assert!(child.try_wait().expect("status").is_none(), "events follows until stopped");
        child.kill().await.expect("stopped");
    }
}

#[tokio::test]
async fn cluster_events_through_the_gateway_carry_the_host() {
    let cluster = Cluster::start_named(["compute-1", "compute-2"]).await;
    let since = ["--since", "compute-1=0,compute-2=0"];
    let mut human = cluster.follow(&[&["events", "-A"][..], &since].concat());
    let mut json = cluster.follow(&[&["events", "--all", "-o", "json"][..], &since].concat());
    for (host, port) in [("compute-1", "ring:0"), ("compute-2", "ring:1")] {
        let add = cluster.spp(&[], &["-H", host, "nfv", "1", "add", port]).await;
        assert_eq!(add.assert_ok(), format!("nfv 1: add {port} done\n"));
    }
    let wanted = [
        ["compute-1", "port-added", "port=ring:0", "process=nfv:1"],
        ["compute-2", "port-added", "port=ring:1", "process=nfv:1"],
    ];
    let mut seen = Vec::new();
    while !wanted.iter().all(|w| seen.iter().any(|l: &String| fields(l) == w)) {
        seen.push(human.line().await);
    }
    for host in ["compute-1", "compute-2"] {
        let attached = seen.iter().filter(|l| fields(l)[..2] == [host, "process-attached"]).count();
        assert_eq!(attached, 5, "{host}'s demo processes, tagged: {seen:?}");
    }

    let mut added = Vec::new();
    while added.len() < 2 {
        let event: Value = serde_json::from_str(&json.line().await).expect("one JSON object");
        if event["event"] == "port-added" {
            added.push(event);
        }
    }
    added.sort_by_key(|e| e["host"].as_str().map(str::to_owned));
    for (event, (host, port)) in added.iter().zip([("compute-1", "ring:0"), ("compute-2", "ring:1")]) {
        assert_eq!((&event["host"], &event["port"]), (&json!(host), &json!(port)), "{event}");
        // The merged id: the last id of every host seen so far, hosts sorted.
        let id = event["id"].as_str().expect("an id");
        let hosts: Vec<&str> = id.split(',').filter_map(|p| p.split_once('=')).map(|(h, _)| h).collect();
        assert!(hosts.contains(&host), "{id}");
        assert!(hosts.is_sorted(), "{id}");
    }
}

#[tokio::test]
async fn wait_returns_once_the_process_attaches_and_names_the_missing_on_timeout() {
    let cluster = Cluster::start().await;
    let mut waiting = cluster.follow(&["-H", "h1", "wait", "nfv:9", "--timeout", "20s"]);
    assert!(waiting.child.try_wait().expect("status").is_none(), "nfv 9 is not there yet");
    let _nfv9 = cluster.agents[0].attach(ProcType::Nfv, 9).await;
    let done = waiting.finish().await;
    assert_eq!(done.code, 0, "{done:?}");
    assert!(done.stdout.ends_with("pcap     4\nnfv      9\n"), "{done:?}");

    let late =
        cluster.spp(&[], &["-H", "h2", "wait", "nfv:9", "primary", "vf:8", "--timeout", "300ms"]).await;
    assert_eq!((late.code, late.stdout.as_str()), (4, ""), "{late:?}");
    assert_eq!(late.stderr, "spp-ctl: h2: timed out waiting for nfv:9, vf:8 (504)\n");

    // Straight against an agent: the same line, labelled with its URL.
    let server = format!("http://{}", cluster.agents[1].addrs.api);
    let direct =
        spp(cluster.pki.dir.path(), &[("SPP_CTL_SERVER", &server)], &["wait", "vf:8", "--timeout", "0s"])
            .await;
    assert_eq!(direct.code, 4, "{direct:?}");
    assert_eq!(direct.stderr, format!("spp-ctl: {server}: timed out waiting for vf:8 (504)\n"));
}

const PLAN: &str = "hosts: [\"compute-*\"]\n\
                    operations:\n\
                    \x20 - method: PUT\n\
                    \x20   path: /v1/nfvs/1/ports\n\
                    \x20   body: {action: add, port: \"ring:0\"}\n\
                    \x20 - method: PUT\n\
                    \x20   path: /v1/nfvs/1/patches\n\
                    \x20   body: {src: \"phy:0\", dst: \"ring:0\"}\n\
                    canary: 1\n";

#[tokio::test]
async fn apply_dry_run_sends_nothing_then_the_canary_rollout_changes_every_host() {
    let cluster = Cluster::start_named(["compute-1", "compute-2"]).await;
    let plan = cluster.pki.path("plan.yaml");
    std::fs::write(&plan, PLAN).expect("write plan");
    let plan = plan.to_str().expect("UTF-8");

    let dry = cluster.spp(&[], &["apply", "-f", plan, "--dry-run"]).await;
    assert_eq!(
        dry.assert_ok(),
        "dry run: nothing was changed\n\
         HOST       PHASE    RESULT\n\
         compute-1  canary   ok (2 operations)\n\
         compute-2  rollout  ok (2 operations)\n"
    );
    for sim in cluster.sims.iter().flatten() {
        assert!(sim.received().is_empty(), "a dry run sends nothing: {:?}", sim.received());
    }

    let real = cluster.spp(&[], &["apply", "-f", plan]).await;
    assert_eq!(
        real.assert_ok(),
        "HOST       PHASE    RESULT\n\
         compute-1  canary   ok (2 operations)\n\
         compute-2  rollout  ok (2 operations)\n"
    );
    for host in 0..2 {
        assert_eq!(cluster.sims[host][1].received(), ["add ring:0", "patch phy:0 ring:0"], "host {host}");
    }
    for host in ["compute-1", "compute-2"] {
        let status = cluster.spp(&[], &["-H", host, "nfv", "1"]).await;
        let text = status.assert_ok();
        assert!(text.ends_with("\n- ports:\n  - phy:0 -> ring:0\n  - phy:1\n  - ring:0\n"), "{host}: {text}");
    }
}

#[tokio::test]
async fn a_plan_failing_on_the_canary_stops_there_and_exits_6() {
    let cluster = Cluster::start_named(["compute-1", "compute-2"]).await;
    // Only compute-2 has an nfv 9: the canary, compute-1, fails.
    let nfv9 = cluster.agents[1].attach(ProcType::Nfv, 9).await;
    let plan = cluster.pki.path("plan.json");
    let body = r#"{"hosts": ["compute-*"], "operations": [{"method": "PUT", "path": "/v1/nfvs/9/forward", "body": {"action": "start"}}], "canary": 1}"#;
    std::fs::write(&plan, body).expect("write plan");
    // A default host (of the context, or here the environment) does not label a cluster
    // command's failure.
    let run =
        cluster.spp(&[("SPP_CTL_HOST", "compute-2")], &["apply", "-f", plan.to_str().expect("UTF-8")]).await;
    assert_eq!(run.code, 6, "{run:?}");
    assert_eq!(
        run.stdout,
        "HOST       PHASE   RESULT\n\
         compute-1  canary  failed: PUT /v1/nfvs/9/forward: 404 sec_id 9 not found.\n\
         compute-2  -       not attempted: canary failed: compute-1\n"
    );
    assert_eq!(run.stderr, format!("spp-ctl: {}: 1 host(s) failed, 1 not attempted\n", cluster.server()));
    assert!(nfv9.received().is_empty(), "nothing reached compute-2");
}
