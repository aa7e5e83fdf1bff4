//! The spp_primary model (`docs/wire-protocol.md` §5.1, §8.2): device table, patches of its own forwarder,
//! pipes, flow rules, and counters that move while forwarding. `status` rendering lives in
//! `primary_status`.

use super::counters::{Counted, CounterBank, Stream, rate_per_ms};
use super::flow;
use super::flow_table::{self, FlowTable, PortSupport};
use super::launch::{self, Launch};
use super::model::{MAX_FRAME_TOKENS, Model, Reply, patch_ports, tokens};
use super::uid::{self, Added, Port, PortTable, PortType, UidError};
use serde_json::{Map, Value, json};
use std::time::Instant;

/// Start-up options of the simulated primary (defaults of `docs/wire-protocol.md` §8.2).
#[derive(Clone, Debug)]
pub(crate) struct PrimaryConfig {
    pub(crate) master_lcore: u32,
    pub(crate) lcores: Vec<u32>,
    /// The primary runs its own forwarder (more than one lcore, no `--disp-stats`).
    pub(crate) forwarding: bool,
    /// Queue count of each phy port (rx = tx).
    pub(crate) phy_queues: Vec<u16>,
    pub(crate) rings: u32,
    pub(crate) flow_supported: bool,
    pub(crate) seed: u64,
    /// Phy and ring counters, shared with the nfv processes of the same instance.
    pub(crate) counters: CounterBank,
}

impl Default for PrimaryConfig {
    fn default() -> Self {
        PrimaryConfig {
            master_lcore: 0,
            lcores: vec![0, 1],
            forwarding: true,
            phy_queues: vec![1, 1],
            rings: 8,
            flow_supported: true,
            seed: 0,
            counters: CounterBank::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pipe {
    pub(crate) id: u32,
    pub(crate) rx: u32,
    pub(crate) tx: u32,
}

pub(crate) struct Primary {
    pub(super) cfg: PrimaryConfig,
    pub(super) running: bool,
    pub(super) ports: PortTable,
    /// (src, dst), at most one per source port.
    pub(super) patches: Vec<(Port, Port)>,
    pub(super) pipes: Vec<Pipe>,
    pub(super) flows: Vec<FlowTable>,
    pub(super) oversize: usize,
    /// Secondaries requested by `launch`, until `conn` starts them.
    launches: Vec<Launch>,
    /// This model's key for its streams in the counter bank.
    owner: u64,
}

fn result(ok: bool, command: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("result".into(), json!(if ok { "succeeded" } else { "failed" }));
    m.insert("command".into(), json!(command));
    m
}

fn text(m: Map<String, Value>) -> Reply {
    Reply::Text(Value::Object(m).to_string())
}

fn with(ok: bool, command: &str, key: &str, value: Value) -> Reply {
    let mut m = result(ok, command);
    m.insert(key.into(), value);
    text(m)
}

impl Primary {
    pub(crate) fn new(cfg: PrimaryConfig) -> Primary {
        let phy = cfg.phy_queues.len();
        Primary {
            running: false,
            ports: PortTable::new(phy, cfg.rings),
            patches: Vec::new(),
            pipes: Vec::new(),
            flows: vec![FlowTable::default(); phy],
            oversize: 0,
            launches: Vec::new(),
            owner: cfg.counters.owner(),
            cfg,
        }
    }

    /// Registers the current patches with the counter bank (none unless running).
    fn sync_streams(&self, now: Instant) {
        let active = self.running && self.cfg.forwarding;
        let streams = self.patches.iter().filter(|_| active).map(|(src, dst)| {
            let key = self.ports.position(src.ty, src.index).unwrap_or(0) as u64;
            Stream { src: counted(*src), dst: counted(*dst), per_ms: rate_per_ms(self.cfg.seed, key) }
        });
        self.cfg.counters.set_streams(self.owner, now, streams.collect());
    }

    fn add(&mut self, toks: &[&str]) -> Reply {
        let Some(tok) = toks.get(1) else { return Reply::crash(Reply::Echo) };
        let raw = match uid::parse(tok) {
            Ok(raw) => raw,
            Err(UidError::Invalid) => return Reply::echo_exit(),
            Err(UidError::Empty) => return Reply::crash(Reply::Echo),
        };
        let port_text = format!("{}:{}", raw.ty, raw.index);
        let ok = match PortType::from_exact(raw.ty) {
            Some(PortType::Pipe) => self.add_pipe(raw.index, toks),
            // Phy, tap and unknown types answer success without creating anything (Q5).
            Some(PortType::Phy | PortType::Tap) | None => true,
            Some(ty) => self.ports.add(ty, raw.index) != Added::Failed,
        };
        with(ok, "add", "port", json!(port_text))
    }

    fn add_pipe(&mut self, id: u32, toks: &[&str]) -> bool {
        let ring = |t: Option<&&str>| match t.map(|t| uid::parse(t)) {
            Some(Ok(r)) if r.ty == "ring" && self.ports.ring_exists(r.index) => Some(r.index),
            _ => None,
        };
        let (Some(rx), Some(tx)) = (ring(toks.get(2)), ring(toks.get(3))) else { return false };
        if self.ports.add(PortType::Pipe, id) != Added::Created {
            return false;
        }
        self.pipes.push(Pipe { id, rx, tx });
        true
    }

    fn del(&mut self, toks: &[&str]) -> Reply {
        let Some(tok) = toks.get(1) else { return Reply::crash(Reply::Echo) };
        let raw = match uid::parse(tok) {
            Ok(raw) => raw,
            Err(UidError::Invalid) => return Reply::echo_exit(),
            Err(UidError::Empty) => return Reply::crash(Reply::Echo),
        };
        let ok = match PortType::from_exact(raw.ty) {
            Some(PortType::Phy | PortType::Tap) | None => true,
            Some(ty) => {
                let found = self.ports.del(ty, raw.index);
                if found {
                    let gone = Port { ty, index: raw.index };
                    self.patches.retain(|(s, d)| *s != gone && *d != gone);
                    self.pipes.retain(|p| ty != PortType::Pipe || p.id != raw.index);
                }
                found
            }
        };
        with(ok, "del", "port", json!(format!("{}:{}", raw.ty, raw.index)))
    }

    fn lookup(&self, tok: &str) -> Result<Option<Port>, UidError> {
        let raw = uid::parse(tok)?;
        let Some(ty) = PortType::from_prefix(raw.ty) else { return Ok(None) };
        let pos = self.ports.position(ty, raw.index);
        let queues = match ty {
            PortType::Phy => self.cfg.phy_queues.get(raw.index as usize).copied().unwrap_or(1),
            _ => 1,
        };
        Ok(pos.filter(|_| raw.queue < u32::from(queues)).map(|_| Port { ty, index: raw.index }))
    }

    fn patch(&mut self, toks: &[&str]) -> Reply {
        let failed = text(result(false, "patch"));
        let mut patches = std::mem::take(&mut self.patches);
        let outcome = patch_ports(toks, &mut patches, failed, |t| self.lookup(t));
        self.patches = patches;
        let (src, dst) = match outcome {
            Ok(pair) => pair,
            Err(reply) => return reply,
        };
        with(true, "patch", "ports", json!({"src": src.uid(), "dst": dst.uid()}))
    }

    fn flow(&mut self, toks: &[&str]) -> Reply {
        let cmd = flow::parse(toks);
        let port = match &cmd {
            Some(
                flow::FlowCmd::Validate(p, _) | flow::FlowCmd::Create(p, _) | flow::FlowCmd::Destroy(p, _),
            ) => *p,
            None => 0,
        };
        let support = if (port as usize) < self.flows.len() {
            if self.cfg.flow_supported { PortSupport::Supported } else { PortSupport::Unsupported }
        } else if (port as usize) < self.ports.ports.len() {
            PortSupport::Unsupported
        } else {
            PortSupport::Missing
        };
        Reply::Text(flow_table::execute(cmd, self.flows.get_mut(port as usize), support))
    }
}

/// The counters the primary reports for a port, if any.
pub(super) fn counted(port: Port) -> Option<Counted> {
    match port.ty {
        PortType::Phy => Some(Counted::Phy(port.index)),
        PortType::Ring => Some(Counted::Ring(port.index)),
        _ => None,
    }
}

impl Model for Primary {
    fn handle(&mut self, cmd: &str, now: Instant) -> Reply {
        let toks = tokens(cmd);
        // More than 47 tokens, or a third token of 16 bytes or more, overflow the real
        // primary's stack buffers (`docs/wire-protocol.md` §3.1, Q13).
        let overflows = toks.len() > MAX_FRAME_TOKENS || toks.get(2).is_some_and(|t| t.len() >= 16);
        let reply = self.dispatch(&toks, now);
        self.sync_streams(now);
        if overflows { Reply::crash(reply) } else { reply }
    }

    fn set_oversize(&mut self, bytes: usize) {
        self.oversize = bytes;
    }

    fn take_launches(&mut self) -> Vec<Launch> {
        std::mem::take(&mut self.launches)
    }
}

impl Primary {
    fn dispatch(&mut self, toks: &[&str], now: Instant) -> Reply {
        let Some(&name) = toks.first() else { return Reply::crash(Reply::Echo) };
        match name {
            "status" => Reply::Text(self.status_json(now)),
            "clear" => {
                self.cfg.counters.clear(now);
                text(result(true, "clear"))
            }
            "forward" | "stop" => {
                self.running = name == "forward";
                text(result(true, name))
            }
            "exit" => Reply::Exit(Some(Box::new(text(result(true, "exit"))))),
            "add" => self.add(toks),
            "del" => self.del(toks),
            "patch" => self.patch(toks),
            "flow" => self.flow(toks),
            "launch" if toks.len() < 2 => Reply::crash(text(result(true, "launch"))),
            "launch" => {
                self.launches.extend(launch::parse(toks));
                text(result(true, "launch"))
            }
            _ => Reply::Echo,
        }
    }
}
