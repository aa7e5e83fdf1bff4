//! Human output of the answers: tables for lists, the SPP CLI's layouts for the status
//! of each process type (`nfv 1; status` and friends), failed hosts of a fan-out after
//! the results. Unknown shapes fall back to the JSON text, never to a panic.

use crate::client::exit::{Code, Failure};
use crate::client::routes::View;
use crate::client::table;
use serde_json::Value;

/// The text for `view`, and the failure the answer carries despite its 200 (failed hosts
/// of a fan-out, a flow rule the primary refused).
pub(crate) fn render(view: &View, value: &Value) -> (String, Option<Failure>) {
    match view {
        View::Hosts => (hosts(value), None),
        View::Processes => (rows(&["TYPE", "CLIENT-ID"], items(value), &["type", "client-id"]), None),
        View::ClusterProcesses => {
            fanout(value, "processes", &["HOST", "TYPE", "CLIENT-ID"], &["host", "type", "client-id"])
        }
        View::CpuUsage => (rows(&CPU_HEAD[1..], items(value), &CPU_KEYS[1..]), None),
        View::ClusterCpuUsage => fanout(value, "cpu_usage", &CPU_HEAD, &CPU_KEYS),
        View::CpuLayout => (cpu_layout(value), None),
        View::Primary => (primary(value), None),
        View::FlowList => (flow_list(value), None),
        View::FlowReply => flow_reply(value),
        View::Nfv => (nfv(value), None),
        View::Vf | View::Mirror => (vf(value), None),
        View::Pcap => (pcap(value), None),
        View::Apply => crate::client::plan::summary(value),
        View::Raw | View::Done(_) => (format!("{value}\n"), None),
    }
}

const CPU_HEAD: [&str; 5] = ["HOST", "PROC-TYPE", "CLIENT-ID", "MASTER-LCORE", "LCORES"];
const CPU_KEYS: [&str; 5] = ["host", "proc-type", "client-id", "master-lcore", "lcores"];

fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A cell: strings bare, null and absent empty, the rest as compact JSON.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(list)) => list.iter().map(|v| cell(Some(v))).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

fn rows(head: &[&str], items: &[Value], keys: &[&str]) -> String {
    let mut rows = vec![head.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    rows.extend(items.iter().map(|item| keys.iter().map(|k| cell(item.get(k))).collect()));
    table::render(&rows)
}

fn hosts(value: &Value) -> String {
    let list = match value {
        Value::Array(list) => list.clone(),
        single => vec![single.clone()],
    };
    rows(
        &["HOST", "STATE", "URL", "PROCESSES", "LATENCY-MS", "LAST-CHECK", "ERROR"],
        &list,
        &["host", "state", "url", "processes", "latency_ms", "last_check", "error"],
    )
}

/// The results, then the hosts that failed; the failure when there are any.
fn fanout(value: &Value, key: &str, head: &[&str], keys: &[&str]) -> (String, Option<Failure>) {
    let mut text = rows(head, items(&value[key]), keys);
    let errors = items(&value["errors"]);
    if errors.is_empty() {
        return (text, None);
    }
    text.push('\n');
    text.push_str(&rows(&["FAILED-HOST", "ERROR"], errors, &["host", "error"]));
    let names: Vec<String> = errors.iter().map(|e| cell(e.get("host"))).collect();
    let failure =
        Failure::new(Code::Partial, format!("{} of the hosts failed: {}", names.len(), names.join(", ")));
    (text, Some(failure))
}

fn cpu_layout(value: &Value) -> String {
    let mut rows = vec![vec!["SOCKET".to_owned(), "CORE".to_owned(), "LCORES".to_owned()]];
    for socket in items(value) {
        for core in items(&socket["cores"]) {
            rows.push(vec![
                cell(socket.get("socket_id")),
                cell(core.get("core_id")),
                cell(core.get("lcores")),
            ]);
        }
    }
    table::render(&rows)
}

/// `- key: value` lines and nested lists, as the SPP CLI prints them.
struct Lines(String);

impl Lines {
    fn line(&mut self, depth: usize, text: impl AsRef<str>) {
        self.0.push_str(&"  ".repeat(depth));
        self.0.push_str("- ");
        self.0.push_str(text.as_ref());
        self.0.push('\n');
    }

    fn raw(&mut self, text: &str) {
        self.0.push_str(text);
    }
}

/// `master: M` and `slave: S` / `slaves: [a, b]`: the lcores besides the master.
fn lcore_ids(out: &mut Lines, master: &Value, lcores: &[Value]) {
    out.line(0, "lcore_ids:");
    out.line(1, format!("master: {}", cell(Some(master))));
    let slaves: Vec<String> = lcores.iter().filter(|l| *l != master).map(|l| cell(Some(l))).collect();
    match slaves.as_slice() {
        [] => {}
        [one] => out.line(1, format!("slave: {one}")),
        many => out.line(1, format!("slaves: [{}]", many.join(", "))),
    }
}

/// Each port, `-> dst` after a patched source.
fn patched_ports(out: &mut Lines, depth: usize, ports: &[Value], patches: &[Value]) {
    for port in ports {
        let name = cell(Some(port));
        let dst = patches.iter().find(|p| cell(p.get("src")) == name).map(|p| cell(p.get("dst")));
        match dst {
            Some(dst) => out.line(depth, format!("{name} -> {dst}")),
            None => out.line(depth, name),
        }
    }
}

fn nfv(value: &Value) -> String {
    let mut out = Lines(String::new());
    out.line(0, format!("status: {}", cell(value.get("status"))));
    lcore_ids(&mut out, &value["master-lcore"], items(&value["lcores"]));
    out.line(0, "ports:");
    patched_ports(&mut out, 1, items(&value["ports"]), items(&value["patches"]));
    out.0
}

fn primary(value: &Value) -> String {
    let mut out = Lines(String::new());
    out.line(0, "lcores:");
    out.line(
        1,
        format!("[{}]", items(&value["lcores"]).iter().map(|l| cell(Some(l))).collect::<Vec<_>>().join(", ")),
    );
    if let Some(forwarder) = value.get("forwarder") {
        out.line(0, "forwarder:");
        out.line(1, format!("status: {}", cell(forwarder.get("status"))));
        out.line(1, "ports:");
        patched_ports(&mut out, 2, items(&forwarder["ports"]), items(&forwarder["patches"]));
    }
    out.line(0, "physical ports:");
    let counters = |head: &[&str], list: &[Value], keys: &[&str]| {
        let mut text = format!("    {}\n", head.iter().map(|h| format!("{h:>10}")).collect::<String>());
        for port in list {
            let cells: String = keys.iter().map(|k| format!("{:>10}", cell(port.get(k)))).collect();
            text.push_str(&format!("    {cells}\n"));
        }
        text
    };
    let phy = items(&value["phy_ports"]);
    let mut text = counters(&["ID", "rx", "tx", "tx_drop"], phy, &["id", "rx", "tx", "tx_drop"]);
    // The MAC address after the counters, as the SPP CLI has it.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (i, port) in phy.iter().enumerate() {
        if let Some(line) = lines.get_mut(i + 1) {
            line.push_str(&format!("  {}", cell(port.get("eth"))));
        }
    }
    if let Some(head) = lines.first_mut() {
        head.push_str("  mac_addr");
    }
    text = lines.iter().map(|l| format!("{l}\n")).collect();
    out.raw(&text);
    out.line(0, "ring ports:");
    let keys = ["id", "rx", "tx", "rx_drop", "tx_drop"];
    out.raw(&counters(&["ID", "rx", "tx", "rx_drop", "tx_drop"], items(&value["ring_ports"]), &keys));
    let pipes = items(&value["pipes"]);
    if !pipes.is_empty() {
        out.line(0, "pipe ports:");
        out.raw(&counters(&["ID", "rx", "tx"], pipes, &["id", "rx", "tx"]));
    }
    out.0
}

fn flow_list(value: &Value) -> String {
    let mut rows = vec![["PORT", "ID", "GROUP", "PRIORITY", "ATTR", "RULE"].map(str::to_owned).to_vec()];
    for port in items(&value["phy_ports"]) {
        for rule in items(&port["flow"]) {
            let attr = &rule["attr"];
            let flag = |key: &str, letter: char| if attr[key].as_u64() == Some(1) { letter } else { '-' };
            let patterns: Vec<String> =
                items(&rule["patterns"]).iter().map(|p| cell(p.get("type")).to_uppercase()).collect();
            let actions: Vec<String> =
                items(&rule["actions"]).iter().map(|a| cell(a.get("type")).to_uppercase()).collect();
            rows.push(vec![
                format!("phy:{}", cell(port.get("id"))),
                cell(rule.get("rule_id")),
                cell(attr.get("group")),
                cell(attr.get("priority")),
                [flag("ingress", 'i'), flag("egress", 'e'), flag("transfer", 't')].iter().collect(),
                format!("{} => {}", patterns.join(" "), actions.join(" ")),
            ]);
        }
    }
    table::render(&rows)
}

fn flow_reply(value: &Value) -> (String, Option<Failure>) {
    let message = cell(value.get("message"));
    if value["result"] == "error" {
        return (String::new(), Some(Failure::new(Code::Api, message)));
    }
    match value.get("rule_id") {
        Some(id) => (format!("{message} (rule_id {})\n", cell(Some(id))), None),
        None => (format!("{message}\n"), None),
    }
}

fn vlan_text(vlan: &Value) -> String {
    match vlan["operation"].as_str() {
        Some("add") => format!(" (vlan: add {} {})", cell(vlan.get("id")), cell(vlan.get("pcp"))),
        Some("del") => " (vlan: del)".to_owned(),
        _ => String::new(),
    }
}

/// spp_vf and spp_mirror: ports, lcores, components with their ports, classifier table.
fn vf(value: &Value) -> String {
    let mut out = Lines(String::new());
    out.line(0, format!("client-id: {}", cell(value.get("client-id"))));
    out.line(0, "ports:");
    for port in items(&value["ports"]) {
        out.line(1, cell(Some(port)));
    }
    let components = items(&value["components"]);
    let mut lcores: Vec<Value> = vec![value["master-lcore"].clone()];
    lcores.extend(components.iter().map(|c| c["core"].clone()));
    lcores.dedup();
    lcore_ids(&mut out, &value["master-lcore"], &lcores);
    out.line(0, "components:");
    for component in components {
        let name = cell(component.get("name"));
        out.line(
            1,
            format!("core:{} '{name}' (type: {})", cell(component.get("core")), cell(component.get("type"))),
        );
        for (key, dir) in [("rx_port", "rx"), ("tx_port", "tx")] {
            for port in items(&component[key]) {
                out.line(2, format!("{dir}: {}{}", cell(port.get("port")), vlan_text(&port["vlan"])));
            }
        }
    }
    if let Some(table) = value.get("classifier_table") {
        out.line(0, "classifier_table:");
        for entry in items(table) {
            out.line(
                1,
                format!(
                    "{} {}, {}",
                    cell(entry.get("type")),
                    cell(entry.get("value")),
                    cell(entry.get("port"))
                ),
            );
        }
    }
    out.0
}

fn pcap(value: &Value) -> String {
    let mut out = Lines(String::new());
    out.line(0, format!("client-id: {}", cell(value.get("client-id"))));
    out.line(0, format!("status: {}", cell(value.get("status"))));
    let cores = items(&value["core"]);
    let mut lcores: Vec<Value> = vec![value["master-lcore"].clone()];
    lcores.extend(cores.iter().map(|c| c["core"].clone()));
    lcore_ids(&mut out, &value["master-lcore"], &lcores);
    out.line(0, "components:");
    for core in cores {
        out.line(1, format!("core:{} {}", cell(core.get("core")), cell(core.get("role"))));
        for port in items(&core["rx_port"]) {
            out.line(2, format!("rx: {}", cell(port.get("port"))));
        }
        let file = cell(core.get("filename"));
        if !file.is_empty() {
            out.line(2, format!("filename: {file}"));
        }
    }
    out.0
}
