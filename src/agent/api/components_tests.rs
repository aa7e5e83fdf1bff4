use super::*;
use serde_json::json;

fn start(ty: ProcType, body: &str) -> Result<String, String> {
    start_command(ty, &Fields::from_json(body)).map(String::from).map_err(|e| e.to_string())
}

fn port(ty: ProcType, body: &str) -> Result<String, String> {
    port_command(ty, "fwd0", &Fields::from_json(body)).map(String::from).map_err(|e| e.to_string())
}

fn classifier(body: &str) -> Result<String, String> {
    classifier_command(&Fields::from_json(body)).map(String::from).map_err(|e| e.to_string())
}

#[test]
fn component_start_validation_in_order() {
    assert_eq!(
        start(ProcType::Vf, r#"{"name": "fwd0_tx", "core": 2, "type": "forward"}"#),
        Ok("component start fwd0_tx 2 forward".into())
    );
    assert_eq!(
        start(ProcType::Mirror, r#"{"name": "mr0", "core": 3, "type": "mirror"}"#),
        Ok("component start mr0 3 mirror".into())
    );
    for (body, error) in [
        (r#"{"core": 2, "type": "forward"}"#, "key(name) required."),
        (r#"{"name": "a", "type": "forward"}"#, "key(core) required."),
        (r#"{"name": "a", "core": 2}"#, "key(type) required."),
        (r#"{"name": "a b", "core": 2, "type": "forward"}"#, "invalid key(name): a b."),
        (r#"{"name": 3, "core": 2, "type": "forward"}"#, "invalid key(name): 3."),
        (r#"{"name": "a", "core": true, "type": "forward"}"#, "invalid key(core): true."),
        (r#"{"name": "a", "core": -1, "type": "forward"}"#, "invalid key(core): -1."),
        (r#"{"name": "a", "core": 1024, "type": "forward"}"#, "invalid key(core): 1024."),
        (r#"{"name": "a", "core": "2", "type": "forward"}"#, "invalid key(core): 2."),
        (r#"{"name": "a", "core": 2, "type": "classifier_mac"}"#, "invalid key(type): classifier_mac."),
        (r#"{"name": "a", "core": 2, "type": "mirror"}"#, "invalid key(type): mirror."),
    ] {
        assert_eq!(start(ProcType::Vf, body), Err(error.into()), "{body}");
    }
    assert_eq!(
        start(ProcType::Mirror, r#"{"name": "a", "core": 2, "type": "forward"}"#),
        Err("invalid key(type): forward.".into())
    );
}

#[test]
fn vf_port_table_of_the_spec() {
    let vf = ProcType::Vf;
    assert_eq!(
        port(vf, r#"{"action": "attach", "port": "ring:0", "dir": "rx"}"#),
        Ok("port add ring:0 rx fwd0".into())
    );
    for vlan in ["{}", "null", r#"{"operation": "none"}"#, r#"{"operation": "none", "id": "x"}"#] {
        let body = format!(r#"{{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {vlan}}}"#);
        assert_eq!(port(vf, &body), Ok("port add ring:0 rx fwd0".into()), "{vlan}");
    }
    assert_eq!(
        port(
            vf,
            r#"{"action": "attach", "port": "vhost:1", "dir": "tx", "vlan": {"operation": "add", "id": 677, "pcp": 0}}"#
        ),
        Ok("port add vhost:1 tx fwd0 add_vlantag 677 0".into())
    );
    assert_eq!(
        port(vf, r#"{"action": "attach", "port": "ring:1", "dir": "tx", "vlan": {"operation": "del"}}"#),
        Ok("port add ring:1 tx fwd0 del_vlantag".into())
    );
    assert_eq!(
        port(vf, r#"{"action": "detach", "port": "ring:0", "dir": "tx", "vlan": "ignored"}"#),
        Ok("port del ring:0 tx fwd0".into())
    );
    assert_eq!(
        port(vf, r#"{"action": "attach", "port": "phy:0nq1", "dir": "rx"}"#),
        Ok("port add phy:0nq1 rx fwd0".into())
    );
}

#[test]
fn vf_port_errors_in_order() {
    let vf = ProcType::Vf;
    for (body, error) in [
        (r#"{"port": "ring:0", "dir": "rx"}"#, "key(action) required."),
        (r#"{"action": "attach", "dir": "rx"}"#, "key(port) required."),
        (r#"{"action": "attach", "port": "ring:0"}"#, "key(dir) required."),
        (r#"{"action": "add", "port": "x", "dir": "up"}"#, "invalid key(action): add."),
        (r#"{"action": "attach", "port": "x", "dir": "up"}"#, "invalid key(dir): up."),
        (r#"{"action": "attach", "port": "pcap:0", "dir": "rx"}"#, "invalid key(port): pcap:0."),
        (r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": "x"}"#, "invalid key(vlan): x."),
        (
            r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"operation": "add"}}"#,
            r#"invalid key(vlan): {"operation":"add"}."#,
        ),
        (
            r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"operation": "add", "id": "5", "pcp": 0}}"#,
            r#"invalid key(vlan): {"operation":"add","id":"5","pcp":0}."#,
        ),
        (
            r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"operation": "add", "id": 4096, "pcp": 0}}"#,
            r#"invalid key(vlan): {"operation":"add","id":4096,"pcp":0}."#,
        ),
        (
            r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"operation": "add", "id": 1, "pcp": 8}}"#,
            r#"invalid key(vlan): {"operation":"add","id":1,"pcp":8}."#,
        ),
        (
            r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"operation": "add", "id": 1.0, "pcp": 1}}"#,
            r#"invalid key(vlan): {"operation":"add","id":1.0,"pcp":1}."#,
        ),
        (
            r#"{"action": "attach", "port": "ring:0", "dir": "rx", "vlan": {"id": 1}}"#,
            r#"invalid key(vlan): {"id":1}."#,
        ),
    ] {
        assert_eq!(port(vf, body), Err(error.into()), "{body}");
    }
}

#[test]
fn mirror_ignores_vlan_entirely() {
    let body =
        r#"{"action": "attach", "port": "ring:1", "dir": "tx", "vlan": {"operation": "add", "id": 99999}}"#;
    assert_eq!(port(ProcType::Mirror, body), Ok("port add ring:1 tx fwd0".into()));
}

#[test]
fn classifier_table_of_the_spec() {
    assert_eq!(
        classifier(
            r#"{"action": "add", "type": "mac", "mac_address": "FA:16:3E:7D:CC:35", "port": "ring:0"}"#
        ),
        Ok("classifier_table add mac FA:16:3E:7D:CC:35 ring:0".into())
    );
    assert_eq!(
        classifier(
            r#"{"action": "del", "type": "mac", "mac_address": "default", "port": "ring:1", "vlan": "junk"}"#
        ),
        Ok("classifier_table del mac default ring:1".into())
    );
    for vlan in ["475", "\"475\""] {
        let body = format!(
            r#"{{"action": "add", "type": "vlan", "vlan": {vlan}, "mac_address": "fa:16:3e:7d:cc:35", "port": "ring:0"}}"#
        );
        assert_eq!(classifier(&body), Ok("classifier_table add vlan 475 fa:16:3e:7d:cc:35 ring:0".into()));
    }
    for (body, error) in [
        (r#"{"type": "mac", "port": "ring:0", "mac_address": "default"}"#, "key(action) required."),
        (r#"{"action": "add", "port": "ring:0", "mac_address": "default"}"#, "key(type) required."),
        (r#"{"action": "add", "type": "mac", "mac_address": "default"}"#, "key(port) required."),
        (r#"{"action": "add", "type": "mac", "port": "ring:0"}"#, "key(mac_address) required."),
        (
            r#"{"action": "set", "type": "mac", "port": "ring:0", "mac_address": "default"}"#,
            "invalid key(action): set.",
        ),
        (
            r#"{"action": "add", "type": "ip", "port": "ring:0", "mac_address": "default"}"#,
            "invalid key(type): ip.",
        ),
        (
            r#"{"action": "add", "type": "mac", "port": "pipe:0", "mac_address": "default"}"#,
            "invalid key(port): pipe:0.",
        ),
        (
            r#"{"action": "add", "type": "mac", "port": "ring:0", "mac_address": "fa-16-3e-7d-cc-35"}"#,
            "invalid key(mac_address): fa-16-3e-7d-cc-35.",
        ),
        (
            r#"{"action": "add", "type": "mac", "port": "ring:0", "mac_address": 12}"#,
            "invalid key(mac_address): 12.",
        ),
        (
            r#"{"action": "add", "type": "vlan", "port": "ring:0", "mac_address": "default"}"#,
            "key(vlan) required.",
        ),
        (
            r#"{"action": "add", "type": "vlan", "vlan": 4096, "port": "ring:0", "mac_address": "default"}"#,
            "invalid key(vlan): 4096.",
        ),
        (
            r#"{"action": "add", "type": "vlan", "vlan": " 1", "port": "ring:0", "mac_address": "default"}"#,
            "invalid key(vlan):  1.",
        ),
        (
            r#"{"action": "add", "type": "vlan", "vlan": true, "port": "ring:0", "mac_address": "default"}"#,
            "invalid key(vlan): true.",
        ),
    ] {
        assert_eq!(classifier(body), Err(error.into()), "{body}");
    }
}

#[test]
fn status_conversion_keeps_the_original_shape() {
    let vf = json!({"results": [{"result": "success"}], "info": {"client-id": 2, "phy": ["0", "1 nq 1"], "vhost": [0], "ring": ["3"], "master-lcore": 1, "core": [{"core": 2, "type": "unuse"}], "classifier_table": []}});
    assert_eq!(
        crate::pyjson::to_string(&convert_status(&vf).unwrap()),
        r#"{"client-id": 2, "ports": ["phy:0", "phy:1 nq 1", "vhost:0", "ring:3"], "master-lcore": 1, "components": [{"core": 2, "type": "unuse"}], "classifier_table": []}"#
    );
    let mirror =
        json!({"info": {"client-id": 3, "phy": [], "vhost": [], "ring": [], "master-lcore": 1, "core": []}});
    assert_eq!(
        crate::pyjson::to_string(&convert_status(&mirror).unwrap()),
        r#"{"client-id": 3, "ports": [], "master-lcore": 1, "components": []}"#
    );
    assert!(convert_status(&json!({"info": {"client-id": 3}})).is_none());
    assert!(convert_status(&json!({"results": []})).is_none());
}
