//! The primary's rte_flow rules per phy port: execution of parsed flow commands with the
//! rule-id rule of `docs/wire-protocol.md` §5.1.10, the flow reply texts (their own spaced style), and the
//! dump shown in `status` (§6.1: upper-case MACs, byte-swapped 16-bit fields).

use super::flow::{Action, FlowCmd, Header, Item, ItemKind, RuleBody, Target};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) id: u32,
    pub(crate) body: RuleBody,
}

/// Rules of one port in creation order (which is also ascending id order).
#[derive(Clone, Debug, Default)]
pub(crate) struct FlowTable {
    pub(crate) rules: Vec<Rule>,
}

impl FlowTable {
    /// The id after the most recently created rule still present; 0 when empty.
    fn next_id(&self) -> u32 {
        self.rules.last().map_or(0, |r| r.id.wrapping_add(1))
    }
}

/// Where a flow command's port stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PortSupport {
    /// A phy port whose driver supports rte_flow.
    Supported,
    /// An ethdev without rte_flow support ("Function not implemented").
    Unsupported,
    /// Not an ethdev at all.
    Missing,
}

const INVALID: &str = r#"{"result": "error", "message": "Flow command invalid argument"}"#;

fn success(message: &str) -> String {
    format!(r#"{{"result": "success", "message": "{message}"}}"#)
}

fn error(message: &str) -> String {
    format!(r#"{{"result": "error", "message": "{message}"}}"#)
}

/// The DPDK error text of §5.1.10 (the `\n` are the two characters backslash and n).
fn dpdk_error(prefix: &str, errno_text: &str) -> String {
    error(&format!(
        r"{prefix}\nerror type: 1 (Cause unspecified)\nerror message: {errno_text}\nrte_errno: {errno_text}"
    ))
}

fn dpdk_failure(support: PortSupport) -> Option<&'static str> {
    match support {
        PortSupport::Supported => None,
        PortSupport::Unsupported => Some("Function not implemented"),
        PortSupport::Missing => Some("No such device"),
    }
}

/// Runs `cmd` (None: syntax error) against `table`, the table of its port if any.
pub(crate) fn execute(cmd: Option<FlowCmd>, table: Option<&mut FlowTable>, support: PortSupport) -> String {
    let Some(cmd) = cmd else { return INVALID.to_owned() };
    match cmd {
        FlowCmd::Validate(..) => match dpdk_failure(support) {
            Some(e) => dpdk_error("Flow validate error", e),
            None => success("Flow rule validated"),
        },
        FlowCmd::Create(_, body) => match (dpdk_failure(support), table) {
            (None, Some(table)) => {
                let id = table.next_id();
                table.rules.push(Rule { id, body });
                format!(
                    r#"{{"result": "success", "message": "Flow rule #{} created", "rule_id": "{id}"}}"#,
                    id as i32
                )
            }
            (e, _) => {
                let e = dpdk_error("Flow create error", e.unwrap_or("No such device"));
                format!(r#"{}, "rule_id": ""}}"#, &e[..e.len() - 1])
            }
        },
        FlowCmd::Destroy(port, target) => destroy(port, target, table, support),
    }
}

fn destroy(port: u32, target: Target, table: Option<&mut FlowTable>, support: PortSupport) -> String {
    if support == PortSupport::Missing {
        return error(&format!("Invalid port {port}"));
    }
    let empty = &mut FlowTable::default();
    let table = table.unwrap_or(empty);
    match target {
        Target::All if support == PortSupport::Unsupported => {
            dpdk_error("Flow destroy error", "Function not implemented")
        }
        Target::All => {
            table.rules.clear();
            success("Flow rule all destroyed")
        }
        Target::One(id) => match table.rules.iter().position(|r| r.id == id) {
            Some(pos) => {
                table.rules.remove(pos);
                success(&format!("Flow rule #{} destroyed", id as i32))
            }
            None => error(&format!("Flow rule #{} not found", id as i32)),
        },
    }
}

/// The `flow` array of one phy port in `status`.
pub(crate) fn dump(table: &FlowTable) -> Value {
    Value::Array(table.rules.iter().map(dump_rule).collect())
}

fn dump_rule(rule: &Rule) -> Value {
    let a = &rule.body.attr;
    json!({
        "rule_id": rule.id,
        "attr": {
            "group": a.group,
            "priority": a.priority,
            "ingress": u8::from(a.ingress),
            "egress": u8::from(a.egress),
            "transfer": u8::from(a.transfer),
        },
        "patterns": rule.body.items.iter().map(dump_item).collect::<Vec<_>>(),
        "actions": rule.body.actions.iter().map(dump_action).collect::<Vec<_>>(),
    })
}

fn dump_item(item: &Item) -> Value {
    let header = |h: &Option<Header>| h.as_ref().map_or(Value::Null, |h| dump_header(item.kind, h));
    let ty = match item.kind {
        ItemKind::Eth => "eth",
        ItemKind::Vlan => "vlan",
    };
    json!({"type": ty, "spec": header(&item.spec), "last": header(&item.last), "mask": header(&item.mask)})
}

/// 16-bit fields are big-endian in memory and printed as host integers: byte-swapped.
fn swapped(v: u16) -> String {
    format!("0x{:04x}", v.swap_bytes())
}

fn mac(m: &[u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn dump_header(kind: ItemKind, h: &Header) -> Value {
    match kind {
        ItemKind::Eth => json!({"dst": mac(&h.macs[0]), "src": mac(&h.macs[1]), "type": swapped(h.words[0])}),
        ItemKind::Vlan => json!({"tci": swapped(h.words[0]), "inner_type": swapped(h.words[1])}),
    }
}

fn dump_action(action: &Action) -> Value {
    let (ty, conf) = match *action {
        Action::Jump(g) => ("jump", json!({"group": g})),
        Action::Queue(q) => ("queue", json!({"index": q})),
        Action::PopVlan => ("of_pop_vlan", Value::Null),
        Action::PushVlan(e) => ("of_push_vlan", json!({"ethertype": swapped(e)})),
        Action::SetVlanVid(v) => ("of_set_vlan_vid", json!({"vlan_vid": swapped(v)})),
        Action::SetVlanPcp(p) => ("of_set_vlan_pcp", json!({"vlan_pcp": format!("0x{p:x}")})),
    };
    json!({"type": ty, "conf": conf})
}

#[cfg(test)]
mod tests {
    use super::super::flow::parse;
    use super::*;

    fn run(table: &mut FlowTable, cmd: &str) -> String {
        let toks: Vec<&str> = cmd.split(' ').collect();
        execute(parse(&toks), Some(table), PortSupport::Supported)
    }

    const CREATE: &str =
        "flow create phy:0 ingress pattern eth type is 0x8100 / end actions queue index 1 / end";

    #[test]
    fn rule_ids_follow_the_newest_rule() {
        let mut t = FlowTable::default();
        assert_eq!(
            run(&mut t, CREATE),
            r#"{"result": "success", "message": "Flow rule #0 created", "rule_id": "0"}"#
        );
        run(&mut t, CREATE);
        run(&mut t, CREATE);
        assert_eq!(
            run(&mut t, "flow destroy phy:0 2"),
            r#"{"result": "success", "message": "Flow rule #2 destroyed"}"#
        );
        // Destroying the newest rule lets its id be reused.
        assert!(run(&mut t, CREATE).contains(r#""rule_id": "2""#));
        run(&mut t, "flow destroy phy:0 0");
        assert!(run(&mut t, CREATE).contains(r#""rule_id": "3""#));
        assert_eq!(
            run(&mut t, "flow destroy phy:0 7"),
            r#"{"result": "error", "message": "Flow rule #7 not found"}"#
        );
        assert_eq!(
            run(&mut t, "flow destroy phy:0 ALL"),
            r#"{"result": "success", "message": "Flow rule all destroyed"}"#
        );
        assert!(run(&mut t, CREATE).contains(r#""rule_id": "0""#));
    }

    #[test]
    fn syntax_errors_and_port_errors() {
        let mut t = FlowTable::default();
        for bad in [
            "flow list phy:0",
            "flow create ring:0 ingress pattern end actions end",
            "flow create phy:0 ingres pattern end actions end",
            "flow create phy:0 ingress pattern ip / end actions end",
            "flow create phy:0 ingress pattern eth foo is 1 / end actions end",
            "flow create phy:0 ingress actions end",
            "flow destroy phy:0",
        ] {
            assert_eq!(run(&mut t, bad), INVALID, "{bad}");
        }
        assert_eq!(
            run(&mut t, "flow validate phy:0 egress pattern vlan vid spec 5 / end actions of_pop_vlan / end"),
            r#"{"result": "success", "message": "Flow rule validated"}"#
        );
        let toks: Vec<&str> = "flow destroy phy:9 1".split(' ').collect();
        assert_eq!(
            execute(parse(&toks), None, PortSupport::Missing),
            r#"{"result": "error", "message": "Invalid port 9"}"#
        );
        let toks: Vec<&str> = CREATE.split(' ').collect();
        assert_eq!(
            execute(parse(&toks), Some(&mut t), PortSupport::Unsupported),
            r#"{"result": "error", "message": "Flow create error\nerror type: 1 (Cause unspecified)\nerror message: Function not implemented\nrte_errno: Function not implemented", "rule_id": ""}"#
        );
    }

    #[test]
    fn dump_swaps_bytes_and_upper_cases_macs() {
        let mut t = FlowTable::default();
        run(
            &mut t,
            "flow create phy:0 group 1 priority 2 egress pattern eth src spec fa:16:3e:00:00:01 / end actions of_push_vlan ethertype 0x8100 / of_set_vlan_vid vlan_vid 100 / of_set_vlan_pcp vlan_pcp 3 / jump group 2 / end",
        );
        assert_eq!(
            dump(&t).to_string(),
            r#"[{"rule_id":0,"attr":{"group":1,"priority":2,"ingress":0,"egress":1,"transfer":0},"patterns":[{"type":"eth","spec":{"dst":"00:00:00:00:00:00","src":"FA:16:3E:00:00:01","type":"0x0000"},"last":null,"mask":null}],"actions":[{"type":"of_push_vlan","conf":{"ethertype":"0x0081"}},{"type":"of_set_vlan_vid","conf":{"vlan_vid":"0x6400"}},{"type":"of_set_vlan_pcp","conf":{"vlan_pcp":"0x3"}},{"type":"jump","conf":{"group":2}}]}]"#
        );
    }
}
