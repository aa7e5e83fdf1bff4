//! The command parser of spp_vf and spp_mirror (`docs/wire-protocol.md` §5.3.2): token count, then each
//! parameter left to right, the first failure giving the error message. Some checks need
//! the process state (names in use, ports in use), so parsing is a method of [`Vf`].

use super::flow::parse_c_number;
use super::vf::{CompType, Dir, Vf, VfPort, VfPortType, VlanOp};
use crate::proc_type::ProcType;

pub(crate) const WRONG_FORMAT: &str = "Wrong message format";
const BAD_COMMAND: &str = "Invalid value (command)";
const BAD_ACTION: &str = "Invalid value (action)";
const BAD_NAME: &str = "Invalid value (component name)";
const BAD_PORT: &str = "Invalid value (port)";
const BAD_RXTX: &str = "Invalid value (port rxtx)";

/// Names of 111 bytes or more are rejected by the parser.
const NAME_LIMIT: usize = 111;
const MAX_LCORE: u64 = 128;

/// A command that passed the parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum VfCmd {
    ClientId,
    Status,
    Exit,
    /// `core`/`ty` are `None` when the command was too short (execution answers `error occur`).
    Start {
        name: String,
        core: Option<u32>,
        ty: Option<CompType>,
    },
    Stop {
        name: String,
    },
    Port {
        add: bool,
        port: VfPort,
        dir: Dir,
        name: String,
        vlan: VlanOp,
        forced: bool,
    },
    Classifier {
        add: bool,
        vlan: Option<u16>,
        mac: [u8; 6],
        port: VfPort,
    },
}

type Parsed = Result<VfCmd, &'static str>;

impl Vf {
    pub(super) fn parse(&self, toks: &[&str]) -> Parsed {
        if toks.len() > 8 {
            return Err(WRONG_FORMAT);
        }
        let name = toks.first().copied().unwrap_or_default();
        let (min, max) = match name {
            "_get_client_id" | "status" | "exit" => (1, 1),
            "component" => (3, 5),
            "port" => (5, 8),
            "classifier_table" => (5, 6),
            _ => return Err(BAD_COMMAND),
        };
        if !(min..=max).contains(&toks.len()) {
            return Err(WRONG_FORMAT);
        }
        match name {
            "_get_client_id" => Ok(VfCmd::ClientId),
            "status" => Ok(VfCmd::Status),
            "exit" => Ok(VfCmd::Exit),
            "component" => self.parse_component(toks),
            "port" => self.parse_port(toks),
            _ => self.parse_classifier(toks),
        }
    }

    fn parse_component(&self, toks: &[&str]) -> Parsed {
        let name = toks[2];
        match toks[1] {
            "start" => {
                if name.len() >= NAME_LIMIT || self.component(name).is_some() {
                    return Err(BAD_NAME);
                }
                let core = match toks.get(3) {
                    Some(t) => Some(
                        parse_c_number(t)
                            .filter(|c| *c < MAX_LCORE)
                            .and_then(|c| u32::try_from(c).ok())
                            .ok_or("Invalid value (core)")?,
                    ),
                    None => None,
                };
                let ty = match toks.get(4) {
                    Some(t) => Some(self.component_type(t).ok_or("Invalid value (component type)")?),
                    None => None,
                };
                Ok(VfCmd::Start { name: name.to_owned(), core, ty })
            }
            "stop" if name.len() >= NAME_LIMIT => Err(BAD_NAME),
            "stop" => Ok(VfCmd::Stop { name: name.to_owned() }),
            _ => Err(BAD_ACTION),
        }
    }

    fn component_type(&self, t: &str) -> Option<CompType> {
        match (self.kind, t) {
            (ProcType::Mirror, "mirror") => Some(CompType::Mirror),
            (ProcType::Mirror, _) => None,
            (_, "forward") => Some(CompType::Forward),
            (_, "merge") => Some(CompType::Merge),
            (_, "classifier") => Some(CompType::Classifier),
            _ => None,
        }
    }

    fn parse_port(&self, toks: &[&str]) -> Parsed {
        let add = match toks[1] {
            "add" => true,
            "del" => false,
            _ => return Err(BAD_ACTION),
        };
        // With 8 tokens the "already used" checks are skipped (how a tag is changed).
        let check_used = add && toks.len() < 8;
        let port = self.parse_uid(toks[2]).ok_or(BAD_PORT)?;
        if check_used && self.used(port, Dir::Rx) && self.used(port, Dir::Tx) {
            return Err(BAD_PORT);
        }
        let dir = match toks[3] {
            "rx" => Dir::Rx,
            "tx" => Dir::Tx,
            _ => return Err(BAD_RXTX),
        };
        if port.queue.unwrap_or(0) >= self.queue_count(port) || (check_used && self.used(port, dir)) {
            return Err(BAD_RXTX);
        }
        let name = toks[4];
        if name.len() >= NAME_LIMIT || self.component(name).is_none() {
            return Err(BAD_NAME);
        }
        let vlan = match toks.get(5).copied() {
            None => VlanOp::None,
            Some("del_vlantag") => VlanOp::Del,
            Some("add_vlantag") => {
                let vid = vlan_value(toks.get(6), 4095).ok_or("Invalid value (port vid)")?;
                let pcp = vlan_value(toks.get(7), 7).ok_or("Invalid value (port pcp)")?;
                VlanOp::Add { vid, pcp }
            }
            Some(_) => return Err("Invalid value (port vlan operation)"),
        };
        let vlan = if add { vlan } else { VlanOp::None };
        Ok(VfCmd::Port { add, port, dir, name: name.to_owned(), vlan, forced: toks.len() == 8 })
    }

    fn parse_classifier(&self, toks: &[&str]) -> Parsed {
        let add = match toks[1] {
            "add" => true,
            "del" => false,
            _ => return Err(BAD_ACTION),
        };
        let vlan_type = match toks[2] {
            "mac" => false,
            "vlan" => true,
            _ => return Err("Invalid value (type)"),
        };
        if toks.len() != if vlan_type { 6 } else { 5 } {
            return Err(WRONG_FORMAT);
        }
        let vlan = if vlan_type {
            let vid = parse_c_number(toks[3]).filter(|v| *v <= 4095).ok_or("Invalid value (vlan id)")?;
            Some(u16::try_from(vid).map_err(|_| "Invalid value (vlan id)")?)
        } else {
            None
        };
        let mac = parse_classifier_mac(toks[toks.len() - 2]).ok_or("Invalid value (mac address)")?;
        let port = self.parse_uid(toks[toks.len() - 1]).ok_or(BAD_PORT)?;
        if !self.port_known(port) || !self.classifier_entry_ok(add, vlan, mac, port) {
            return Err(BAD_PORT);
        }
        Ok(VfCmd::Classifier { add, vlan, mac, port })
    }

    /// UID rules of spp_vf (`docs/wire-protocol.md` §4.3): phy/vhost/ring, base 0,
    /// `0 ≤ index ≤ 32`, `nq` only on phy and required exactly for multi-queue phy ports.
    pub(super) fn parse_uid(&self, tok: &str) -> Option<VfPort> {
        let (ty, rest) = tok.split_once(':')?;
        let ty = match ty {
            "phy" => VfPortType::Phy,
            "vhost" => VfPortType::Vhost,
            "ring" => VfPortType::Ring,
            _ => return None,
        };
        let (index, queue) = match rest.split_once("nq") {
            Some((i, q)) => (i, Some(q)),
            None => (rest, None),
        };
        let index = parse_c_number(index).filter(|i| *i <= 32).and_then(|i| u32::try_from(i).ok())?;
        let queue = match queue {
            Some(q) => Some(parse_c_number(q).and_then(|q| u32::try_from(q).ok())?),
            None => None,
        };
        let port = VfPort { ty, index, queue };
        let multi = ty == VfPortType::Phy && self.queue_count(VfPort { queue: None, ..port }) > 1;
        (queue.is_some() == multi).then_some(port)
    }
}

/// Inputs that overflow a stack buffer of the real parser (`docs/wire-protocol.md` §3.1, §5.3.3, Q23): a
/// command of 888 bytes or more, a component name of 32–110 bytes, a MAC of 32 or more.
pub(crate) fn overflows(cmd: &str, toks: &[&str]) -> bool {
    let name = match toks.first().copied() {
        Some("component") => toks.get(2),
        Some("port") => toks.get(4),
        _ => None,
    };
    let mac = match toks.first().copied() {
        Some("classifier_table") if toks.len() >= 5 => toks.get(toks.len() - 2),
        _ => None,
    };
    cmd.len() >= 888
        || name.is_some_and(|n| (32..NAME_LIMIT).contains(&n.len()))
        || mac.is_some_and(|m| m.len() >= 32)
}

/// A missing value parses as -1 (`docs/wire-protocol.md` §6.3: `"pcp": -1`); a present one must be in range.
fn vlan_value(tok: Option<&&str>, max: u64) -> Option<i32> {
    match tok {
        None => Some(-1),
        Some(t) => parse_c_number(t).filter(|v| *v <= max).and_then(|v| i32::try_from(v).ok()),
    }
}

/// `default`, or up to six hex groups; a group that is not hex silently ends the parse.
fn parse_classifier_mac(tok: &str) -> Option<[u8; 6]> {
    if tok == "default" {
        return Some([0, 0, 0, 0, 0, 1]);
    }
    let groups: Vec<&str> = tok.split(':').collect();
    if groups.len() > 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (byte, g) in mac.iter_mut().zip(groups) {
        match u8::from_str_radix(g, 16) {
            Ok(b) => *byte = b,
            Err(_) => break,
        }
    }
    Some(mac)
}
