//! The client binary straight against an agent (plain `/v1/...` paths) with simulated
//! processes: listings, mutations seen by the next call, the SPP CLI's status layouts,
//! flow rules, launch, `-o json` equal to the agent's bytes, and each exit code.

mod common;

use common::TestAgent;
use common::client::{Run, spp};
use spp_ctl::sim::{Faults, SimHandle};

struct Direct {
    agent: TestAgent,
    sims: Vec<SimHandle>,
    home: tempfile::TempDir,
    server: String,
}

impl Direct {
    async fn start() -> Self {
        let agent = TestAgent::start().await;
        let sims = agent.attach_all().await;
        let server = format!("http://{}", agent.addrs.api);
        Direct { agent, sims, home: tempfile::tempdir().expect("temp dir"), server }
    }

    async fn spp(&self, args: &[&str]) -> Run {
        spp(self.home.path(), &[("SPP_CTL_SERVER", &self.server)], args).await
    }
}

#[tokio::test]
async fn listings_of_an_agent() {
    let direct = Direct::start().await;
    let processes = direct.spp(&["get", "processes"]).await;
    assert_eq!(
        processes.assert_ok(),
        "TYPE     CLIENT-ID\nprimary\nnfv      1\nvf       2\nmirror   3\npcap     4\n"
    );
    let usage = direct.spp(&["get", "cpu-usage"]).await;
    let lines: Vec<&str> = usage.assert_ok().lines().collect();
    assert_eq!(lines[0], "PROC-TYPE  CLIENT-ID  MASTER-LCORE  LCORES");
    assert_eq!(lines[2], "nfv        1          1             1,2");
    assert_eq!(lines.len(), 6);
    // A cluster view is the gateway's: the agent's 404, exit 3.
    let cluster = direct.spp(&["get", "processes", "-A"]).await;
    assert_eq!(cluster.code, 3, "{cluster:?}");
    assert_eq!(
        cluster.stderr,
        format!("spp-ctl: {}: Not found: '/cluster/processes' (404)\n", direct.server)
    );
}

#[tokio::test]
async fn nfv_changes_show_in_its_status_as_the_spp_cli_lays_it_out() {
    let direct = Direct::start().await;
    assert_eq!(direct.spp(&["nfv", "1", "add", "ring:0"]).await.assert_ok(), "nfv 1: add ring:0 done\n");
    assert_eq!(
        direct.spp(&["nfv", "1", "patch", "phy:0", "ring:0"]).await.assert_ok(),
        "nfv 1: patched phy:0 -> ring:0\n"
    );
    assert_eq!(direct.spp(&["nfv", "1", "forward"]).await.assert_ok(), "nfv 1: forwarding started\n");
    assert_eq!(direct.sims[1].received(), ["add ring:0", "patch phy:0 ring:0", "forward"]);
    assert_eq!(
        direct.spp(&["nfv", "1"]).await.assert_ok(),
        "- status: running\n- lcore_ids:\n  - master: 1\n  - slave: 2\n- ports:\n  - phy:0 -> ring:0\n  - phy:1\n  - ring:0\n"
    );
    assert_eq!(direct.spp(&["nfv", "1", "patch", "reset"]).await.assert_ok(), "nfv 1: patches reset\n");
    assert_eq!(direct.sims[1].received().last().map(String::as_str), Some("patch reset"));
}

#[tokio::test]
async fn vf_components_ports_with_vlan_and_the_classifier_table() {
    let direct = Direct::start().await;
    for (args, done) in [
        (
            &["vf", "2", "component", "start", "fw1", "2", "forward"][..],
            "vf 2: component fw1 started on core 2\n",
        ),
        (&["vf", "2", "port", "add", "ring:0", "rx", "fw1"], "vf 2: attach ring:0 rx fw1\n"),
        (
            &["vf", "2", "port", "add", "ring:1", "tx", "fw1", "add_vlantag", "101", "3"],
            "vf 2: attach ring:1 tx fw1\n",
        ),
        (
            &["vf", "2", "classifier_table", "add", "vlan", "101", "FA:16:3E:7D:CC:35", "ring:1"],
            "vf 2: classifier_table add vlan 101 FA:16:3E:7D:CC:35 ring:1\n",
        ),
    ] {
        assert_eq!(direct.spp(args).await.assert_ok(), done, "{args:?}");
    }
    assert_eq!(
        direct.sims[2].received(),
        [
            "component start fw1 2 forward",
            "port add ring:0 rx fw1",
            "port add ring:1 tx fw1 add_vlantag 101 3",
            "classifier_table add vlan 101 FA:16:3E:7D:CC:35 ring:1",
        ]
    );
    let status = direct.spp(&["vf", "2", "status"]).await;
    let text = status.assert_ok();
    assert!(
        text.starts_with("- client-id: 2\n- ports:\n  - phy:0\n  - phy:1\n  - ring:0\n  - ring:1\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "  - core:2 'fw1' (type: forward)\n    - rx: ring:0\n    - tx: ring:1 (vlan: add 101 3)\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("- classifier_table:\n  - vlan 101/FA:16:3E:7D:CC:35, ring:1\n"), "{text}");
    // A bad VLAN word is a usage error before anything is sent.
    let bad = direct.spp(&["vf", "2", "port", "add", "ring:2", "tx", "fw1", "add_vlantag", "x", "0"]).await;
    assert_eq!((bad.code, bad.stderr.as_str()), (2, "spp-ctl: add_vlantag: id \"x\" is not a number\n"));
    assert_eq!(direct.sims[2].received().len(), 5, "the four commands and one status");
}

#[tokio::test]
async fn mirror_and_pcap() {
    let direct = Direct::start().await;
    direct.spp(&["mirror", "3", "component", "start", "mr0", "2"]).await.assert_ok();
    direct.spp(&["mirror", "3", "port", "add", "ring:0", "rx", "mr0"]).await.assert_ok();
    direct.spp(&["mirror", "3", "port", "del", "ring:0", "rx", "mr0"]).await.assert_ok();
    direct.spp(&["mirror", "3", "component", "stop", "mr0"]).await.assert_ok();
    assert_eq!(
        direct.sims[3].received(),
        [
            "component start mr0 2 mirror",
            "port add ring:0 rx mr0",
            "port del ring:0 rx mr0",
            "component stop mr0"
        ]
    );
    assert_eq!(direct.spp(&["pcap", "4", "start"]).await.assert_ok(), "pcap 4: capture started\n");
    let status = direct.spp(&["pcap", "4"]).await;
    assert!(status.assert_ok().starts_with("- client-id: 4\n- status: "), "{status:?}");
    assert!(
        status.stdout.contains("\n- components:\n  - core:2 receive\n    - rx: phy:0\n  - core:3 write\n"),
        "{status:?}"
    );
    assert_eq!(direct.sims[4].received(), ["start", "status"]);
}

#[tokio::test]
async fn primary_ports_flow_rules_and_launch() {
    let direct = Direct::start().await;
    let status = direct.spp(&["primary"]).await;
    assert!(status.assert_ok().starts_with("- lcores:\n  - [0, 1]\n"), "{status:?}");
    assert!(
        status.stdout.contains("- physical ports:\n            ID        rx        tx   tx_drop  mac_addr\n"),
        "{status:?}"
    );
    direct.spp(&["pri", "add", "pipe:0", "--rx", "ring:0", "--tx", "ring:1"]).await.assert_ok();
    let created = direct
        .spp(&[
            "pri", "flow", "create", "0", "group", "1", "ingress", "pattern", "eth", "/", "vlan", "vid",
            "is", "100", "/", "end", "actions", "queue", "index", "1", "/", "end",
        ])
        .await;
    assert_eq!(created.assert_ok(), "Flow rule #0 created (rule_id 0)\n");
    let list = direct.spp(&["pri", "flow", "list"]).await;
    assert_eq!(
        list.assert_ok(),
        "PORT   ID  GROUP  PRIORITY  ATTR  RULE\nphy:0  0   1      0         i--   ETH VLAN => QUEUE\n"
    );
    let missing = direct.spp(&["pri", "flow", "destroy", "0", "7"]).await;
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (3, &*format!("spp-ctl: {}: Flow rule #7 not found\n", direct.server))
    );
    direct.spp(&["pri", "flow", "destroy", "0", "all"]).await.assert_ok();
    let launch = direct
        .spp(&[
            "pri",
            "launch",
            "nfv",
            "6",
            "-l",
            "1,2",
            "--proc-type",
            "secondary",
            "--",
            "-n",
            "6",
            "-s",
            "127.0.0.1:6666",
        ])
        .await;
    assert_eq!(launch.assert_ok(), "primary: launched nfv 6\n");
    assert_eq!(
        direct.sims[0].received(),
        [
            "status",
            "add pipe:0 ring:0 ring:1",
            "flow create phy:0 group 1 ingress pattern eth / vlan vid is 100 / end actions queue index 1 / end",
            "status",
            "flow destroy phy:0 7",
            "flow destroy phy:0 ALL",
            "launch 6 spp_nfv -l 1,2 --proc-type secondary -- -n 6 -s 127.0.0.1:6666",
        ]
    );
}

#[tokio::test]
async fn json_output_is_the_agents_body_byte_for_byte() {
    let direct = Direct::start().await;
    for (args, path) in [
        (&["get", "processes", "-o", "json"][..], "/v1/processes"),
        (&["-o", "json", "nfv", "1"], "/v1/nfvs/1"),
        (&["vf", "2", "-o", "json"], "/v1/vfs/2"),
        (&["mirror", "3", "-o", "json"], "/v1/mirrors/3"),
        (&["primary", "-o", "json"], "/v1/primary/status"),
        (&["raw", "GET", "/v1/cpu_layout"], "/v1/cpu_layout"),
    ] {
        let run = direct.spp(args).await;
        let expected = direct.agent.get(path).await;
        assert_eq!(expected.status, 200);
        assert_eq!(run.assert_ok(), expected.body, "{args:?}");
    }
    // A 204 prints nothing with -o json.
    assert_eq!(direct.spp(&["-o", "json", "nfv", "1", "forward"]).await.assert_ok(), "");
}

#[tokio::test]
async fn exit_codes_say_who_failed() {
    let direct = Direct::start().await;
    let refused = direct.spp(&["nfv", "1", "add", "phy:0"]).await;
    assert_eq!(refused.code, 3, "{refused:?}");
    assert_eq!(refused.stderr, format!("spp-ctl: {}: invalid key(port): phy:0. (400)\n", direct.server));
    direct.sims[1].set_faults(Faults { garbage: true, ..Faults::default() });
    let broken = direct.spp(&["nfv", "1", "status"]).await;
    assert_eq!(broken.code, 4, "{broken:?}");
    assert!(
        broken.stderr.starts_with(&format!("spp-ctl: {}: invalid reply from nfv(1): ", direct.server)),
        "{broken:?}"
    );
    assert!(broken.stderr.ends_with(" (502)\n"), "{broken:?}");
    let nobody = common::unused_addr().await;
    let home = direct.home.path();
    let gone = spp(home, &[("SPP_CTL_SERVER", &format!("http://{nobody}"))], &["get", "processes"]).await;
    assert_eq!(gone.code, 5, "{gone:?}");
    assert_eq!(gone.stderr, format!("spp-ctl: http://{nobody}: Connection refused (os error 111)\n"));
    let usage = direct.spp(&["nfv", "one"]).await;
    assert_eq!(usage.code, 2, "{usage:?}");
}

#[tokio::test]
async fn an_agent_that_wants_a_client_certificate() {
    let pki = common::certs::Pki::new();
    pki.server("agent");
    pki.client("alice");
    let agent = TestAgent::start_with(spp_ctl::agent::AgentConfig {
        tls: Some(spp_ctl::tls::ServerTlsFiles::new(
            pki.path("agent.pem"),
            pki.path("agent.key"),
            Some(pki.ca()),
        )),
        ..common::test_config()
    })
    .await;
    let _sims = agent.attach_all().await;
    let server = format!("https://localhost:{}", agent.addrs.api.port());
    let ca = pki.ca().display().to_string();
    let env = [("SPP_CTL_SERVER", server.as_str()), ("SPP_CTL_CACERT", ca.as_str())];
    let without = spp(pki.dir.path(), &env, &["get", "processes"]).await;
    assert_eq!(without.code, 5, "{without:?}");
    assert_eq!(
        without.stderr,
        format!(
            "spp-ctl: {server}: TLS: the server requires a client certificate: give --client-cert and --client-key\n"
        )
    );
    let (cert, key) =
        (pki.path("alice.pem").display().to_string(), pki.path("alice.key").display().to_string());
    let with =
        spp(pki.dir.path(), &env, &["get", "processes", "--client-cert", &cert, "--client-key", &key]).await;
    assert!(with.assert_ok().starts_with("TYPE     CLIENT-ID\nprimary\n"), "{with:?}");
    // Plain HTTP to a TLS port says what is wrong.
    let plain = format!("http://{}", agent.addrs.api);
    let mixed = spp(pki.dir.path(), &[("SPP_CTL_SERVER", &plain)], &["get", "processes"]).await;
    assert_eq!(mixed.code, 5, "{mixed:?}");
    assert!(mixed.stderr.ends_with(" (is it an https server?)\n"), "{mixed:?}");
}
