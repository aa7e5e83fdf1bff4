//! The spp_vf and spp_mirror model (`docs/wire-protocol.md` §5.3, §5.4, §8.4): components on lcores, their
//! rx/tx ports, VLAN attributes per (port, direction) and the classifier table. The parser
//! is in `vf_parse`, the `status` rendering in `vf_status`.

use super::model::{Model, Reply, tokens};
use super::spaced_json;
use super::vf_parse::VfCmd;
pub(crate) use super::vf_types::{ClassifierEntry, CompType, Component, Dir, VfPort, VfPortType, VlanOp};
use crate::proc_type::ProcType;
use std::collections::BTreeSet;
use std::time::Instant;

const ERROR_OCCUR: &str = "error occur";

#[derive(Clone, Debug)]
pub(crate) struct VfConfig {
    pub(crate) client_id: u32,
    pub(crate) master_lcore: u32,
    pub(crate) slave_lcores: Vec<u32>,
    /// Queue count of each phy port.
    pub(crate) phy_queues: Vec<u16>,
    /// Ring ids that exist in the primary.
    pub(crate) rings: u32,
    /// vhost ids `0..vhosts` can be created.
    pub(crate) vhosts: u32,
}

impl Default for VfConfig {
    fn default() -> Self {
        VfConfig {
            client_id: 2,
            master_lcore: 1,
            slave_lcores: vec![2, 3, 4, 5],
            phy_queues: vec![1, 1],
            rings: 8,
            vhosts: 32,
        }
    }
}

pub(crate) struct Vf {
    pub(super) kind: ProcType,
    pub(super) cfg: VfConfig,
    /// In start order.
    pub(super) components: Vec<Component>,
    pub(super) rings: BTreeSet<u32>,
    pub(super) vhosts: BTreeSet<u32>,
    pub(super) vlans: Vec<((VfPort, Dir), VlanOp)>,
    /// In insertion order; the status sorts them.
    pub(super) classifier: Vec<ClassifierEntry>,
    pub(super) oversize: usize,
}

impl Vf {
    /// `kind` is `ProcType::Vf` or `ProcType::Mirror`.
    pub(crate) fn new(kind: ProcType, cfg: VfConfig) -> Vf {
        Vf {
            kind,
            cfg,
            components: Vec::new(),
            rings: BTreeSet::new(),
            vhosts: BTreeSet::new(),
            vlans: Vec::new(),
            classifier: Vec::new(),
            oversize: 0,
        }
    }

    pub(super) fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    pub(super) fn used(&self, port: VfPort, dir: Dir) -> bool {
        self.components.iter().any(|c| c.ports(dir).contains(&port))
    }

    /// Queues of a phy port (1 for other types and for phy ports that do not exist).
    pub(super) fn queue_count(&self, port: VfPort) -> u32 {
        match port.ty {
            VfPortType::Phy => u32::from(self.cfg.phy_queues.get(port.index as usize).copied().unwrap_or(1)),
            _ => 1,
        }
    }

    pub(super) fn port_known(&self, port: VfPort) -> bool {
        match port.ty {
            VfPortType::Phy => (port.index as usize) < self.cfg.phy_queues.len(),
            VfPortType::Ring => self.rings.contains(&port.index),
            VfPortType::Vhost => self.vhosts.contains(&port.index),
        }
    }

    /// add: the port has no entry yet; del: the entry matches. spp_mirror keeps no table.
    pub(super) fn classifier_entry_ok(
        &self,
        add: bool,
        vlan: Option<u16>,
        mac: [u8; 6],
        port: VfPort,
    ) -> bool {
        if self.kind == ProcType::Mirror {
            return true;
        }
        let entry = self.classifier.iter().find(|e| e.port == port);
        if add { entry.is_none() } else { entry.is_some_and(|e| e.vlan == vlan && e.mac == mac) }
    }

    pub(super) fn vlan(&self, port: VfPort, dir: Dir) -> VlanOp {
        self.vlans.iter().find(|(k, _)| *k == (port, dir)).map_or(VlanOp::None, |(_, v)| *v)
    }

    fn set_vlan(&mut self, port: VfPort, dir: Dir, op: Option<VlanOp>) {
        self.vlans.retain(|(k, _)| *k != (port, dir));
        if let Some(op) = op {
            self.vlans.push(((port, dir), op));
        }
    }

    fn execute(&mut self, cmd: VfCmd) -> Result<Reply, &'static str> {
        match cmd {
            VfCmd::ClientId => {
                return Ok(Reply::Text(spaced_json::client_id(self.cfg.client_id, self.kind.as_str())));
            }
            VfCmd::Status => return Ok(Reply::Text(self.status())),
            VfCmd::Exit => return Ok(Reply::Exit(Some(Box::new(Reply::Text(spaced_json::success()))))),
            VfCmd::Start { name, core, ty } => self.start(name, core, ty)?,
            VfCmd::Stop { name } => self.components.retain(|c| c.name != name),
            VfCmd::Port { add: true, port, dir, name, vlan, forced } => {
                self.port_add(port, dir, &name, vlan, forced)?
            }
            VfCmd::Port { add: false, port, dir, name, .. } => {
                let comp = self.components.iter_mut().find(|c| c.name == name).ok_or(ERROR_OCCUR)?;
                let list = if dir == Dir::Rx { &mut comp.rx } else { &mut comp.tx };
                list.retain(|p| *p != port);
                self.set_vlan(port, dir, None);
            }
            VfCmd::Classifier { .. } if self.kind == ProcType::Mirror => {}
            VfCmd::Classifier { add: true, vlan, mac, port } => {
                self.classifier.push(ClassifierEntry { vlan, mac, port });
            }
            VfCmd::Classifier { add: false, port, .. } => self.classifier.retain(|e| e.port != port),
        }
        Ok(Reply::Text(spaced_json::success()))
    }

    fn start(&mut self, name: String, core: Option<u32>, ty: Option<CompType>) -> Result<(), &'static str> {
        let (Some(core), Some(ty)) = (core, ty) else { return Err(ERROR_OCCUR) };
        // The master lcore is accepted; the component then never shows (quirk Q15).
        if core != self.cfg.master_lcore && !self.cfg.slave_lcores.contains(&core) {
            return Err(ERROR_OCCUR);
        }
        self.components.push(Component { name, core, ty, rx: Vec::new(), tx: Vec::new() });
        Ok(())
    }

    fn port_add(
        &mut self,
        port: VfPort,
        dir: Dir,
        name: &str,
        vlan: VlanOp,
        forced: bool,
    ) -> Result<(), &'static str> {
        let comp = self.component(name).ok_or(ERROR_OCCUR)?;
        let (max_rx, max_tx) = comp.ty.limits();
        let max = if dir == Dir::Rx { max_rx } else { max_tx };
        let attached = comp.ports(dir).contains(&port);
        if comp.ports(dir).len() + 1 > max {
            return Err(ERROR_OCCUR);
        }
        if attached {
            if forced {
                self.set_vlan(port, dir, Some(vlan));
            }
            return Ok(());
        }
        self.create_device(port)?;
        if let Some(comp) = self.components.iter_mut().find(|c| c.name == name) {
            if dir == Dir::Rx { comp.rx.push(port) } else { comp.tx.push(port) }
        }
        self.set_vlan(port, dir, Some(vlan));
        Ok(())
    }

    /// The first use of a ring or vhost creates the device; phy ports must exist.
    fn create_device(&mut self, port: VfPort) -> Result<(), &'static str> {
        let (limit, created) = match port.ty {
            VfPortType::Phy => return self.port_known(port).then_some(()).ok_or(ERROR_OCCUR),
            VfPortType::Ring => (self.cfg.rings, &mut self.rings),
            VfPortType::Vhost => (self.cfg.vhosts, &mut self.vhosts),
        };
        if port.index >= limit {
            return Err(ERROR_OCCUR);
        }
        created.insert(port.index);
        Ok(())
    }
}

impl Model for Vf {
    fn handle(&mut self, cmd: &str, _now: Instant) -> Reply {
        let toks = tokens(cmd);
        if toks.is_empty() {
            // The real process dereferences a NULL first token (Q4).
            return Reply::crash(Reply::Text(spaced_json::error("Invalid value (command)")));
        }
        let overflows = super::vf_parse::overflows(cmd, &toks);
        let reply = match self.parse(&toks).and_then(|c| self.execute(c)) {
            Ok(reply) => reply,
            Err(message) => Reply::Text(spaced_json::error(message)),
        };
        if overflows { Reply::crash(reply) } else { reply }
    }

    fn set_oversize(&mut self, bytes: usize) {
        self.oversize = bytes;
    }
}
