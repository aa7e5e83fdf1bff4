//! Byte-exact tests of the spp_vf/spp_mirror model against `docs/wire-protocol.md` §5.3 and §6.3–§6.4.

use super::model::{Model, Reply};
use super::vf::{Vf, VfConfig};
use crate::proc_type::ProcType;
use std::time::Instant;

const OK: &str = r#"{ "results": [ { "result": "success" } ] }"#;

fn text(r: Reply) -> String {
    match r {
        Reply::Text(t) => t,
        other => panic!("expected text, got {other:?}"),
    }
}

fn err(message: &str) -> String {
    format!(r#"{{ "results": [ {{ "result": "error", "error_details": {{ "message": "{message}" }} }} ] }}"#)
}

fn all_ok(m: &mut Vf, cmds: &[&str]) {
    for c in cmds {
        assert_eq!(text(m.handle(c, Instant::now())), OK, "{c}");
    }
}

const VF_EXAMPLE: &str = r#"{ "results": [ { "result": "success" } ], "info": { "client-id": 2, "phy": [ "0", "1" ], "vhost": [ "0", "1" ], "ring": [ "0", "1", "2", "3" ], "master-lcore": 1, "core": [ { "core": 2, "name": "fwd0_tx", "type": "forward", "rx_port": [ { "port": "ring:0", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ], "tx_port": [ { "port": "vhost:0", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ] }, { "core": 3, "type": "unuse" }, { "core": 4, "name": "fwd1_rx", "type": "forward", "rx_port": [ { "port": "vhost:1", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ], "tx_port": [ { "port": "ring:3", "vlan": { "operation": "add", "id": 101, "pcp": 3 } } ] }, { "core": 5, "name": "cls", "type": "classifier", "rx_port": [ { "port": "phy:0", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ], "tx_port": [ { "port": "ring:0", "vlan": { "operation": "none", "id": 0, "pcp": 0 } }, { "port": "ring:2", "vlan": { "operation": "del", "id": 0, "pcp": 0 } } ] }, { "core": 6, "name": "mgr1", "type": "merge", "rx_port": [ { "port": "ring:1", "vlan": { "operation": "none", "id": 0, "pcp": 0 } }, { "port": "ring:3", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ], "tx_port": [ { "port": "phy:0", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ] } ], "classifier_table": [ { "type": "vlan", "value": "101/FA:16:3E:7D:CC:36", "port": "ring:2" }, { "type": "mac", "value": "default", "port": "ring:0" } ] } }"#;

const MIRROR_EXAMPLE: &str = r#"{ "results": [ { "result": "success" } ], "info": { "client-id": 3, "phy": [ "0", "1" ], "vhost": [  ], "ring": [ "0", "1", "2" ], "master-lcore": 1, "core": [ { "core": 2, "name": "mr0", "type": "mirror", "rx_port": [ { "port": "ring:0", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ], "tx_port": [ { "port": "ring:1", "vlan": { "operation": "none", "id": 0, "pcp": 0 } }, { "port": "ring:2", "vlan": { "operation": "none", "id": 0, "pcp": 0 } } ] }, { "core": 3, "type": "unuse" } ] } }"#;

#[test]
fn vf_status_matches_the_spec_example() {
    let mut vf = Vf::new(ProcType::Vf, VfConfig { slave_lcores: vec![2, 3, 4, 5, 6], ..VfConfig::default() });
    all_ok(
        &mut vf,
        &[
            "component start fwd0_tx 2 forward",
            "component start fwd1_rx 4 forward",
            "component start cls 5 classifier",
            "component start mgr1 6 merge",
            "port add ring:0 rx fwd0_tx",
            "port add vhost:0 tx fwd0_tx",
            "port add vhost:1 rx fwd1_rx",
            "port add ring:3 tx fwd1_rx add_vlantag 101 3",
            "port add phy:0 rx cls",
            "port add ring:0 tx cls",
            "port add ring:2 tx cls del_vlantag",
            "port add ring:1 rx mgr1",
            "port add ring:3 rx mgr1",
            "port add phy:0 tx mgr1",
            "classifier_table add vlan 101 FA:16:3E:7D:CC:36 ring:2",
            "classifier_table add mac default ring:0",
        ],
    );
    assert_eq!(text(vf.handle("status", Instant::now())), VF_EXAMPLE);
}

#[test]
fn mirror_status_matches_the_spec_example() {
    let cfg = VfConfig { client_id: 3, slave_lcores: vec![2, 3], ..VfConfig::default() };
    let mut mirror = Vf::new(ProcType::Mirror, cfg);
    all_ok(
        &mut mirror,
        &[
            "component start mr0 2 mirror",
            "port add ring:0 rx mr0",
            "port add ring:1 tx mr0",
            "port add ring:2 tx mr0",
        ],
    );
    assert_eq!(text(mirror.handle("status", Instant::now())), MIRROR_EXAMPLE);
    assert_eq!(
        text(mirror.handle("_get_client_id", Instant::now())),
        r#"{ "results": [ { "result": "success" } ], "client_id": 3, "process_type": "mirror" }"#
    );
    assert_eq!(
        text(mirror.handle("component start f 3 forward", Instant::now())),
        err("Invalid value (component type)")
    );
    assert_eq!(text(mirror.handle("port add ring:3 tx mr0", Instant::now())), err("error occur"));
}

#[test]
fn every_parser_message() {
    let cfg = VfConfig { phy_queues: vec![1, 2], ..VfConfig::default() };
    let mut vf = Vf::new(ProcType::Vf, cfg);
    all_ok(&mut vf, &["component start fw 2 forward", "port add ring:0 rx fw", "port add ring:1 tx fw"]);
    let cases = [
        ("a b c d e f g h i", "Wrong message format"),
        ("status x", "Wrong message format"),
        ("port add ring:0", "Wrong message format"),
        ("classifier_table add mac x", "Wrong message format"),
        ("status\n", "Invalid value (command)"),
        ("forward", "Invalid value (command)"),
        ("component begin x 2 forward", "Invalid value (action)"),
        ("port attach ring:0 rx fw", "Invalid value (action)"),
        ("classifier_table put mac default ring:0", "Invalid value (action)"),
        ("component start fw 3 forward", "Invalid value (component name)"),
        ("port add ring:5 rx nobody", "Invalid value (component name)"),
        ("component start x 0x80 forward", "Invalid value (core)"),
        ("component start x 2 mirror", "Invalid value (component type)"),
        ("port add ring:x rx fw", "Invalid value (port)"),
        ("port add ring:33 rx fw", "Invalid value (port)"),
        ("port add phy:1 rx fw", "Invalid value (port)"),
        ("port add phy:0nq0 rx fw", "Invalid value (port)"),
        ("port add ring:5 both fw", "Invalid value (port rxtx)"),
        ("port add ring:0 rx fw", "Invalid value (port rxtx)"),
        ("port add phy:1nq2 rx fw", "Invalid value (port rxtx)"),
        ("port add ring:5 rx fw none", "Invalid value (port vlan operation)"),
        ("port add ring:5 tx fw add_vlantag 4096 1", "Invalid value (port vid)"),
        ("port add ring:5 tx fw add_vlantag 10 8", "Invalid value (port pcp)"),
        ("classifier_table add ip default ring:0", "Invalid value (type)"),
        ("classifier_table add vlan 4096 default ring:0", "Invalid value (vlan id)"),
        ("classifier_table add mac 1:2:3:4:5:6:7 ring:0", "Invalid value (mac address)"),
        ("classifier_table add mac default ring:7", "Invalid value (port)"),
        ("component start late 9 forward", "error occur"),
        ("component start short 2", "error occur"),
        ("port add ring:2 rx fw", "error occur"),
        // With 8 tokens the parser lets it through; the forward limit of one tx port stops it.
        ("port add ring:9 tx fw add_vlantag 1 1", "error occur"),
    ];
    for (cmd, message) in cases {
        assert_eq!(text(vf.handle(cmd, Instant::now())), err(message), "{cmd}");
    }
}

#[test]
fn quirks_of_stop_del_and_classifier() {
    let mut vf = Vf::new(ProcType::Vf, VfConfig::default());
    all_ok(
        &mut vf,
        &[
            "component stop nobody",
            "component start cls 2 classifier",
            "component start hidden 1 forward",
            "port add ring:0 tx cls",
            "port del ring:4 tx cls",
            "classifier_table add mac fa:16:3e:00:00:01 ring:0",
            "component stop cls",
        ],
    );
    // The stopped classifier's entry stays, and blocks a new add until a del.
    assert_eq!(
        text(vf.handle("classifier_table add mac default ring:0", Instant::now())),
        err("Invalid value (port)")
    );
    assert_eq!(
        text(vf.handle("classifier_table del mac default ring:0", Instant::now())),
        err("Invalid value (port)")
    );
    let status = text(vf.handle("status", Instant::now()));
    assert!(status.contains(r#""ring": [ "0" ]"#), "{status}");
    assert!(status.contains(r#"{ "type": "mac", "value": "FA:16:3E:00:00:01", "port": "ring:0" }"#));
    assert!(!status.contains("hidden"));
    all_ok(&mut vf, &["classifier_table del mac FA:16:3E:00:00:01 ring:0"]);
    assert!(matches!(vf.handle("exit", Instant::now()), Reply::Exit(Some(_))));
    assert_eq!(vf.handle("", Instant::now()).resolve(true), Reply::Exit(None));
}

#[test]
fn oversize_pads_with_unused_cores() {
    let mut vf = Vf::new(ProcType::Vf, VfConfig::default());
    vf.set_oversize(70_000);
    let status = text(vf.handle("status", Instant::now()));
    assert!(status.len() > 70_000);
    assert!(status.contains(r#"{ "core": 1000, "type": "unuse" }, { "core": 1001, "type": "unuse" }"#));
    assert!(status.ends_with(r#""type": "unuse" } ], "classifier_table": [  ] } }"#));
}

#[test]
fn overflowing_inputs_crash_only_in_real_crash_mode() {
    let mut vf = Vf::new(ProcType::Vf, VfConfig::default());
    let long_name = format!("component start {} 2 forward", "n".repeat(40));
    assert_eq!(vf.handle(&long_name, Instant::now()).resolve(true), Reply::Exit(None));
    // Safe mode answers like the parser would (the name is below the 111-byte limit).
    let long_name = format!("component start {} 3 forward", "m".repeat(40));
    assert_eq!(text(vf.handle(&long_name, Instant::now()).resolve(false)), OK);
    let long_mac = format!("classifier_table add mac {} ring:0", "1".repeat(32));
    assert_eq!(vf.handle(&long_mac, Instant::now()).resolve(true), Reply::Exit(None));
}
