//! The client binary against a real TLS gateway with JWT auth in front of two agents
//! with simulated processes: listings, a mutation seen by the next call, a fan-out with
//! a stopped agent, token and CA failures, and `-o json` equal to the server's bytes.

mod common;

use axum::body::Bytes;
use common::client::{Cluster, token};
use http_body_util::{BodyExt, Full};

/// The body of `GET url` as an independent client gets it.
async fn fetch(cluster: &Cluster, path: &str) -> (u16, Vec<u8>) {
    let client = common::certs::https_client(&cluster.pki, None);
    let admin = std::fs::read_to_string(&cluster.token_file).expect("token");
    let request = axum::http::Request::get(format!("{}{path}", cluster.server()))
        .header("authorization", format!("Bearer {admin}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("answer");
    let status = response.status().as_u16();
    (status, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

#[tokio::test]
async fn listings_show_hosts_and_the_processes_of_one_host() {
    let cluster = Cluster::start().await;
    let hosts = cluster.spp(&[], &["get", "hosts"]).await;
    let lines: Vec<&str> = hosts.assert_ok().lines().collect();
    assert!(lines[0].starts_with("HOST  STATE  URL"), "{hosts:?}");
    assert!(lines[1].starts_with("h1    up     http://127.0.0.1:"), "{hosts:?}");
    assert!(lines[2].starts_with("h2    up     http://127.0.0.1:"), "{hosts:?}");
    assert_eq!(lines.len(), 3);
    assert_eq!(hosts.stderr, "", "an hour-long token gets no warning");

    let processes = cluster.spp(&[], &["-H", "h1", "get", "processes"]).await;
    assert_eq!(
        processes.assert_ok(),
        "TYPE     CLIENT-ID\nprimary\nnfv      1\nvf       2\nmirror   3\npcap     4\n"
    );
    // The host may follow the command too, and come from SPP_CTL_HOST.
    assert_eq!(cluster.spp(&[], &["get", "processes", "-H", "h1"]).await.stdout, processes.stdout);
    assert_eq!(cluster.spp(&[("SPP_CTL_HOST", "h1")], &["get", "processes"]).await.stdout, processes.stdout);
}

#[tokio::test]
async fn a_patch_through_the_gateway_shows_in_the_next_status() {
    let cluster = Cluster::start().await;
    let add = cluster.spp(&[], &["-H", "h2", "nfv", "1", "add", "ring:0"]).await;
    assert_eq!(add.assert_ok(), "nfv 1: add ring:0 done\n");
    let patch = cluster.spp(&[], &["-H", "h2", "nfv", "1", "patch", "phy:0", "ring:0"]).await;
    assert_eq!(patch.assert_ok(), "nfv 1: patched phy:0 -> ring:0\n");
    assert_eq!(cluster.sims[1][1].received(), ["add ring:0", "patch phy:0 ring:0"], "h2's nfv 1 got both");
    assert!(cluster.sims[0][1].received().is_empty(), "h1's nfv 1 got nothing");
    let status = cluster.spp(&[], &["-H", "h2", "nfv", "1"]).await;
    let text = status.assert_ok();
    assert!(text.starts_with("- status: idling\n- lcore_ids:\n  - master: "), "{text}");
    assert!(text.ends_with("\n- ports:\n  - phy:0 -> ring:0\n  - phy:1\n  - ring:0\n"), "{text}");
}

#[tokio::test]
async fn a_fan_out_with_a_stopped_agent_lists_it_after_the_results_and_exits_6() {
    let cluster = Cluster::start().await;
    cluster.agents[1].shutdown.cancel();
    common::eventually("h2 is gone", || std::net::TcpStream::connect(cluster.agents[1].addrs.api).is_err())
        .await;
    let run = cluster.spp(&[], &["get", "processes", "-A"]).await;
    assert_eq!(run.code, 6, "{run:?}");
    let (results, failed) = run.stdout.split_once("\n\n").expect("two sections");
    assert_eq!(
        results,
        "HOST  TYPE     CLIENT-ID\nh1    primary\nh1    nfv      1\nh1    vf       2\nh1    mirror   3\nh1    pcap     4"
    );
    assert!(failed.starts_with("FAILED-HOST  ERROR\nh2           "), "{failed}");
    assert_eq!(run.stderr, format!("spp-ctl: {}: 1 of the hosts failed: h2\n", cluster.server()));
    // -o json still says so by its exit status.
    assert_eq!(cluster.spp(&[], &["get", "cpu-usage", "-A", "-o", "json"]).await.code, 6);
}

#[tokio::test]
async fn an_expired_token_gets_the_servers_401_and_exit_3() {
    let cluster = Cluster::start().await;
    let expired = token("spp:admin", -3600);
    let run = cluster.spp(&[("SPP_CTL_TOKEN", &expired)], &["-H", "h1", "get", "processes"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines[0].starts_with("spp-ctl: warning: the token expired 1h"), "{run:?}");
    assert!(lines[0].ends_with(" ago: get a new one"), "{run:?}");
    assert!(lines[1].starts_with("spp-ctl: h1: ") && lines[1].ends_with(" (401)"), "{run:?}");
    assert!(lines[1].contains("expired"), "the server's reason: {run:?}");
    assert_eq!(lines.len(), 2);

    let soon = token("spp:admin", 300);
    let run = cluster.spp(&[("SPP_CTL_TOKEN", &soon)], &["-H", "h1", "get", "processes"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    // 300 s or a second less, whenever the clock ticks.
    assert!(run.stderr.starts_with("spp-ctl: warning: the token expires in "), "{run:?}");
}

#[tokio::test]
async fn a_wrong_ca_is_one_tls_sentence_and_exit_5() {
    let cluster = Cluster::start().await;
    let other = tempfile::tempdir().expect("temp dir");
    let other_ca = other.path().join("other-ca.pem");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "another CA");
    let key = rcgen::KeyPair::generate().expect("CA key");
    std::fs::write(&other_ca, params.self_signed(&key).expect("CA").pem()).expect("write CA");
    let other_ca = other_ca.display().to_string();
    let run = cluster.spp(&[("SPP_CTL_CACERT", &other_ca)], &["get", "hosts"]).await;
    assert_eq!(run.code, 5, "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "spp-ctl: {}: TLS: server certificate refused: it is not issued by the CA in {other_ca}: set \
             --cacert to the CA that issued it, or give the server a certificate from this CA\n",
            cluster.server()
        )
    );
}

#[tokio::test]
async fn json_output_is_the_servers_body_byte_for_byte() {
    let cluster = Cluster::start().await;
    for (args, path) in [
        (&["get", "hosts", "-o", "json"][..], "/v1/hosts"),
        (&["get", "processes", "-A", "-o", "json"], "/v1/cluster/processes"),
        (&["-H", "h1", "vf", "2", "-o", "json"], "/v1/hosts/h1/vfs/2"),
        (&["-H", "h2", "primary", "status", "-o", "json"], "/v1/hosts/h2/primary/status"),
        (&["-H", "h1", "get", "cpu-layout", "-o", "json"], "/v1/hosts/h1/cpu_layout"),
    ] {
        let run = cluster.spp(&[], args).await;
        let (status, body) = fetch(&cluster, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(run.code, 0, "{run:?}");
        if path != "/v1/hosts" {
            // The inventory's last_check and latency move between two calls.
            assert_eq!(run.stdout.as_bytes(), body.as_slice(), "{args:?}");
        } else {
            assert!(run.stdout.starts_with(r#"[{"host": "h1", "url": "http://127.0.0.1:"#), "{run:?}");
        }
    }
    let yaml = cluster.spp(&[], &["-H", "h1", "get", "processes", "-o", "yaml"]).await;
    assert!(yaml.assert_ok().starts_with("- type: primary\n- type: nfv\n  client-id: 1\n"), "{yaml:?}");
}

#[tokio::test]
async fn an_unknown_process_is_the_agents_line_with_the_host_and_exit_3() {
    let cluster = Cluster::start().await;
    let run = cluster.spp(&[], &["-H", "h1", "nfv", "9", "status"]).await;
    assert_eq!((run.code, run.stdout.as_str()), (3, ""), "{run:?}");
    assert_eq!(run.stderr, "spp-ctl: h1: sec_id 9 not found. (404)\n");
    let no_host = cluster.spp(&[], &["nfv", "1"]).await;
    assert_eq!(no_host.code, 3, "{no_host:?}");
    assert!(
        no_host.stderr.ends_with(" (404): select a host with -H HOST (or -A for every host)\n"),
        "{no_host:?}"
    );
    let unknown = cluster.spp(&[], &["-H", "nowhere", "get", "processes"]).await;
    assert_eq!(unknown.code, 3, "{unknown:?}");
    assert!(
        unknown.stderr.starts_with("spp-ctl: nowhere: ") && unknown.stderr.ends_with("(404)\n"),
        "{unknown:?}"
    );
}
