//! The spp_nfv model (`docs/wire-protocol.md` §5.2, §6.2, §8.3): ports in ethdev order, patches per
//! (port, queue), running/idling, echo replies, and the `del` → idling side effect.

use super::counters::{CounterBank, Stream, rate_per_ms};
use super::flow::parse_c_number;
use super::model::{MAX_FRAME_TOKENS, Model, Reply, patch_ports, tokens};
use super::primary::counted;
use super::uid::{self, Added, Port, PortTable, PortType, UidError};
use serde_json::{Value, json};
use std::time::Instant;

#[derive(Clone, Debug)]
pub(crate) struct NfvConfig {
    pub(crate) client_id: u32,
    pub(crate) master_lcore: u32,
    pub(crate) lcores: Vec<u32>,
    /// Queue count of each phy port of the primary.
    pub(crate) phy_queues: Vec<u16>,
    pub(crate) rings: u32,
    pub(crate) seed: u64,
    /// The primary's phy and ring counters, which nfv forwarding advances.
    pub(crate) counters: CounterBank,
}

impl Default for NfvConfig {
    fn default() -> Self {
        NfvConfig {
            client_id: 1,
            master_lcore: 1,
            lcores: vec![1, 2],
            phy_queues: vec![1, 1],
            rings: 8,
            seed: 0,
            counters: CounterBank::new(),
        }
    }
}

/// A port and queue: the unit nfv patches.
type PortQ = (Port, u32);

pub(crate) struct Nfv {
    cfg: NfvConfig,
    running: bool,
    ports: PortTable,
    patches: Vec<(PortQ, PortQ)>,
    oversize: usize,
    /// This model's key for its streams in the counter bank.
    owner: u64,
}

fn result(ok: bool, command: &str) -> String {
    let r = if ok { "succeeded" } else { "failed" };
    json!({"result": r, "command": command}).to_string()
}

fn with_port(ok: bool, command: &str, port: String) -> Reply {
    let r = if ok { "succeeded" } else { "failed" };
    Reply::Text(json!({"result": r, "command": command, "port": port}).to_string())
}

/// Five device types nfv can create; the others corrupt instead (`docs/wire-protocol.md` §4.4).
fn creatable(ty: Option<PortType>) -> Option<PortType> {
    ty.filter(|t| {
        matches!(t, PortType::Ring | PortType::Vhost | PortType::Pcap | PortType::Memif | PortType::Nullpmd)
    })
}

impl Nfv {
    pub(crate) fn new(cfg: NfvConfig) -> Nfv {
        let ports = PortTable::new(cfg.phy_queues.len(), cfg.rings);
        let owner = cfg.counters.owner();
        Nfv { cfg, running: false, ports, patches: Vec::new(), oversize: 0, owner }
    }

    /// Registers the current patches with the counter bank (none while idling).
    fn sync_streams(&self, now: Instant) {
        let streams =
            self.patches.iter().filter(|_| self.running).enumerate().map(|(i, ((src, _), (dst, _)))| {
                let key = (self.owner << 16) | i as u64;
                Stream { src: counted(*src), dst: counted(*dst), per_ms: rate_per_ms(self.cfg.seed, key) }
            });
        self.cfg.counters.set_streams(self.owner, now, streams.collect());
    }

    fn queues(&self, port: Port) -> u32 {
        match port.ty {
            PortType::Phy => u32::from(self.cfg.phy_queues.get(port.index as usize).copied().unwrap_or(1)),
            _ => 1,
        }
    }

    /// Display form: `phy:0 nq 1` for queues of multi-queue phy ports.
    fn display(&self, (port, queue): PortQ) -> String {
        if self.queues(port) > 1 { format!("{} nq {queue}", port.uid()) } else { port.uid() }
    }

    fn handshake(&self) -> Reply {
        let id = self.cfg.client_id;
        Reply::Text(
            json!({"results": [{"result": "success"}], "client_id": id, "process_type": "nfv"}).to_string(),
        )
    }

    fn status(&self) -> String {
        let mut ports = Vec::new();
        for &p in &self.ports.ports {
            for q in 0..self.queues(p) {
                ports.push(self.display((p, q)));
            }
        }
        let mut padded = 0;
        while padded < self.oversize {
            ports.push("udf".to_owned());
            padded += 6;
        }
        let mut patches = self.patches.clone();
        patches.sort_by_key(|((p, q), _)| (self.ports.position(p.ty, p.index), *q));
        let patches: Vec<Value> =
            patches.iter().map(|(s, d)| json!({"src": self.display(*s), "dst": self.display(*d)})).collect();
        let status = if self.running { "running" } else { "idling" };
        json!({
            "client-id": self.cfg.client_id,
            "status": status,
            "master-lcore": self.cfg.master_lcore,
            "lcores": self.cfg.lcores,
            "ports": ports,
            "patches": patches,
        })
        .to_string()
    }

    fn add_del(&mut self, toks: &[&str], add: bool) -> Reply {
        let command = if add { "add" } else { "del" };
        let Some(tok) = toks.get(1) else { return Reply::crash(Reply::Echo) };
        let raw = match uid::parse(tok) {
            Ok(raw) => raw,
            Err(UidError::Invalid) => return Reply::echo_exit(),
            Err(UidError::Empty) => return Reply::crash(Reply::Echo),
        };
        let ok = match creatable(PortType::from_exact(raw.ty)) {
            // phy, tap, pipe and unknown types succeed without a change (Q5).
            None => true,
            Some(ty) if add => self.ports.add(ty, raw.index) != Added::Failed,
            Some(ty) => {
                let gone = self.ports.del(ty, raw.index);
                let port = Port { ty, index: raw.index };
                self.patches.retain(|((s, _), (d, _))| *s != port && *d != port);
                gone
            }
        };
        with_port(ok, command, format!("{}:{}", raw.ty, raw.index))
    }

    fn lookup(&self, tok: &str) -> Result<Option<PortQ>, UidError> {
        let raw = uid::parse(tok)?;
        let Some(ty) = PortType::from_prefix(raw.ty) else { return Ok(None) };
        let port = Port { ty, index: raw.index };
        let known = self.ports.position(ty, raw.index).is_some() && raw.queue < self.queues(port);
        Ok(known.then_some((port, raw.queue)))
    }

    fn patch(&mut self, toks: &[&str]) -> Reply {
        let failed = Reply::Text(result(false, "patch"));
        let mut patches = std::mem::take(&mut self.patches);
        let outcome = patch_ports(toks, &mut patches, failed, |t| self.lookup(t));
        self.patches = patches;
        if let Err(reply) = outcome {
            return reply;
        }
        // nfv echoes the tokens as sent, cut to its 32-byte name buffers.
        let cut = |t: &str| t.chars().take(31).collect::<String>();
        let ports = json!({"src": cut(toks[1]), "dst": cut(toks[2])});
        Reply::Text(json!({"result": "succeeded", "command": "patch", "ports": ports}).to_string())
    }
}

impl Model for Nfv {
    fn handle(&mut self, cmd: &str, now: Instant) -> Reply {
        let toks = tokens(cmd);
        let reply = self.dispatch(&toks);
        self.sync_streams(now);
        // The token array of the real process overflows beyond 47 tokens (`docs/wire-protocol.md` §3.1).
        if toks.len() > MAX_FRAME_TOKENS { Reply::crash(reply) } else { reply }
    }

    fn set_oversize(&mut self, bytes: usize) {
        self.oversize = bytes;
    }
}

impl Nfv {
    fn dispatch(&mut self, toks: &[&str]) -> Reply {
        match toks.first().copied() {
            Some("_get_client_id") => self.handshake(),
            Some("_set_client_id") => {
                match toks.get(1).map(|t| parse_c_number(t).and_then(|n| u32::try_from(n).ok())) {
                    None => Reply::crash(Reply::Text(result(false, "_set_client_id"))),
                    Some(None) => Reply::Text(result(false, "_set_client_id")),
                    Some(Some(id)) => {
                        self.cfg.client_id = id;
                        Reply::Text(result(true, "_set_client_id"))
                    }
                }
            }
            Some("status") => Reply::Text(self.status()),
            Some(c @ ("forward" | "stop")) => {
                self.running = c == "forward";
                Reply::Text(result(true, c))
            }
            Some("exit") => Reply::Exit(Some(Box::new(Reply::Text(result(true, "exit"))))),
            Some("add") => self.add_del(toks, true),
            Some("del") => {
                // Every del stops forwarding, even a failed one (Q7).
                self.running = false;
                self.add_del(toks, false)
            }
            Some("patch") => self.patch(toks),
            _ => Reply::Echo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: Reply) -> String {
        match r {
            Reply::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn status_matches_the_spec_example() {
        let mut n = Nfv::new(NfvConfig::default());
        let now = Instant::now();
        for c in ["add ring:0", "add ring:1", "add vhost:0", "patch phy:0 ring:0", "forward"] {
            assert!(text(n.handle(c, now)).contains("succeeded"), "{c}");
        }
        assert_eq!(
            text(n.handle("patch ring:1 vhost:0", now)),
            r#"{"result":"succeeded","command":"patch","ports":{"src":"ring:1","dst":"vhost:0"}}"#
        );
        assert_eq!(
            text(n.handle("status", now)),
            r#"{"client-id":1,"status":"running","master-lcore":1,"lcores":[1,2],"ports":["phy:0","phy:1","ring:0","ring:1","vhost:0"],"patches":[{"src":"phy:0","dst":"ring:0"},{"src":"ring:1","dst":"vhost:0"}]}"#
        );
    }

    #[test]
    fn del_stops_forwarding_and_echoes_unknown_commands() {
        let mut n = Nfv::new(NfvConfig { client_id: 0, phy_queues: vec![2], ..NfvConfig::default() });
        let now = Instant::now();
        assert_eq!(
            text(n.handle("_get_client_id", now)),
            r#"{"results":[{"result":"success"}],"client_id":0,"process_type":"nfv"}"#
        );
        n.handle("forward", now);
        assert_eq!(
            text(n.handle("del ring:5", now)),
            r#"{"result":"failed","command":"del","port":"ring:5"}"#
        );
        assert!(text(n.handle("status", now)).contains(r#""status":"idling""#));
        assert!(text(n.handle("patch phy:0nq1 phy:0nq0", now)).contains(r#""src":"phy:0nq1""#));
        assert!(
            text(n.handle("status", now)).contains(r#""patches":[{"src":"phy:0 nq 1","dst":"phy:0 nq 0"}]"#)
        );
        assert_eq!(text(n.handle("patch phy:0nq2 phy:0", now)), r#"{"result":"failed","command":"patch"}"#);
        assert_eq!(n.handle("patch reset", now), Reply::Echo);
        assert_eq!(n.handle("clear", now), Reply::Echo);
        assert_eq!(n.handle("", now), Reply::Echo);
        assert_eq!(n.handle("add vhost", now), Reply::echo_exit());
        assert_eq!(
            text(n.handle("_set_client_id 7", now)),
            r#"{"result":"succeeded","command":"_set_client_id"}"#
        );
        assert!(text(n.handle("status", now)).starts_with(r#"{"client-id":7,"#));
    }
}
