//! The data-plane events and their fields (`contracts.md`): processes attaching and
//! detaching, and what a successful command changed (forwarding state, ports). Command
//! events themselves are built by the request layer in `command.rs`.

use super::EventHub;
use crate::proc_type::{ProcName, ProcType};
use serde_json::{Map, Value, json};

/// Why a process left the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detach {
    /// The process closed the connection.
    Eof,
    /// A new connection took its place (same primary slot or secondary id).
    Replaced,
    /// A command got no reply within its deadline.
    Deadline,
    /// It was told to `exit`.
    Exit,
    /// A read or write failed, or the process sent something unusable.
    IoError,
}

impl Detach {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Detach::Eof => "eof",
            Detach::Replaced => "replaced",
            Detach::Deadline => "deadline",
            Detach::Exit => "exit",
            Detach::IoError => "io-error",
        }
    }
}

/// `nfv:1`, or `primary`.
pub(crate) fn label(name: ProcName) -> String {
    match name.id {
        Some(id) => format!("{}:{id}", name.ty),
        None => name.ty.as_str().to_owned(),
    }
}

fn process_fields(name: ProcName, addr: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("type".to_owned(), json!(name.ty.as_str()));
    if let Some(id) = name.id {
        fields.insert("client_id".to_owned(), json!(id));
    }
    fields.insert("addr".to_owned(), json!(addr));
    fields
}

pub(crate) fn attached(hub: &EventHub, name: ProcName, addr: &str) {
    hub.publish("process-attached", process_fields(name, addr));
}

pub(crate) fn detached(hub: &EventHub, name: ProcName, addr: &str, reason: Detach) {
    let mut fields = process_fields(name, addr);
    fields.insert("reason".to_owned(), json!(reason.as_str()));
    hub.publish("process-detached", fields);
}

/// What the successful `command` sent to `name` changed, as an event (type, fields).
pub(crate) fn change(name: ProcName, command: &str) -> Option<(&'static str, Map<String, Value>)> {
    let words: Vec<&str> = command.split(' ').collect();
    let (kind, mut fields) = match (name.ty, words.as_slice()) {
        (ProcType::Primary | ProcType::Nfv | ProcType::Pcap, ["forward" | "start"]) => running(true, None),
        (ProcType::Primary | ProcType::Nfv | ProcType::Pcap, ["stop"]) => running(false, None),
        (ProcType::Primary | ProcType::Nfv, ["add", port, ..]) => port_event("port-added", port, None),
        (ProcType::Primary | ProcType::Nfv, ["del", port]) => port_event("port-removed", port, None),
        (ProcType::Vf | ProcType::Mirror, ["component", "start", component, ..]) => {
            running(true, Some(component))
        }
        (ProcType::Vf | ProcType::Mirror, ["component", "stop", component]) => {
            running(false, Some(component))
        }
        (ProcType::Vf | ProcType::Mirror, ["port", "add", port, _, component, ..]) => {
            port_event("port-added", port, Some(component))
        }
        (ProcType::Vf | ProcType::Mirror, ["port", "del", port, _, component]) => {
            port_event("port-removed", port, Some(component))
        }
        _ => return None,
    };
    fields.insert("process".to_owned(), json!(label(name)));
    Some((kind, fields))
}

fn running(on: bool, component: Option<&str>) -> (&'static str, Map<String, Value>) {
    let mut fields = Map::new();
    fields.insert("state".to_owned(), json!(if on { "running" } else { "idling" }));
    if let Some(component) = component {
        fields.insert("component".to_owned(), json!(component));
    }
    ("forwarding", fields)
}

fn port_event(kind: &'static str, port: &str, component: Option<&str>) -> (&'static str, Map<String, Value>) {
    let mut fields = Map::new();
    fields.insert("port".to_owned(), json!(port));
    if let Some(component) = component {
        fields.insert("component".to_owned(), json!(component));
    }
    (kind, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change_of(ty: ProcType, command: &str) -> Option<String> {
        let name = if ty == ProcType::Primary { ProcName::primary() } else { ProcName::secondary(ty, 2) };
        change(name, command).map(|(kind, fields)| format!("{kind} {}", Value::Object(fields)))
    }

    #[test]
    fn commands_that_change_forwarding_or_ports() {
        let nfv = |c| change_of(ProcType::Nfv, c);
        assert_eq!(nfv("forward").as_deref(), Some(r#"forwarding {"state":"running","process":"nfv:2"}"#));
        assert_eq!(nfv("stop").as_deref(), Some(r#"forwarding {"state":"idling","process":"nfv:2"}"#));
        assert_eq!(nfv("add ring:0").as_deref(), Some(r#"port-added {"port":"ring:0","process":"nfv:2"}"#));
        assert_eq!(
            nfv("del vhost:1").as_deref(),
            Some(r#"port-removed {"port":"vhost:1","process":"nfv:2"}"#)
        );
        assert_eq!(
            change_of(ProcType::Primary, "add pipe:0 ring:0 ring:1").as_deref(),
            Some(r#"port-added {"port":"pipe:0","process":"primary"}"#)
        );
        assert_eq!(
            change_of(ProcType::Vf, "component start fwd1 2 forward").as_deref(),
            Some(r#"forwarding {"state":"running","component":"fwd1","process":"vf:2"}"#)
        );
        assert_eq!(
            change_of(ProcType::Mirror, "port add ring:0 rx mir1").as_deref(),
            Some(r#"port-added {"port":"ring:0","component":"mir1","process":"mirror:2"}"#)
        );
        assert_eq!(
            change_of(ProcType::Vf, "port del ring:0 tx fwd1").as_deref(),
            Some(r#"port-removed {"port":"ring:0","component":"fwd1","process":"vf:2"}"#)
        );
        assert_eq!(
            change_of(ProcType::Pcap, "start").as_deref(),
            Some(r#"forwarding {"state":"running","process":"pcap:2"}"#)
        );
    }

    #[test]
    fn other_commands_change_nothing_reported() {
        for command in ["patch ring:0 ring:1", "patch reset", "clear", "exit", "status", "flow create"] {
            assert_eq!(change_of(ProcType::Nfv, command), None, "{command}");
        }
        assert_eq!(change_of(ProcType::Vf, "classifier_table add mac 00:11:22:33:44:55 ring:0"), None);
    }
}
