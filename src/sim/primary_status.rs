//! The primary's `status` reply (`docs/wire-protocol.md` §6.1), compact JSON with keys in
//! the real process's order, including the truncation of long ring lists and the `oversize` fault's padding.

use super::counters::{PhyCounters, RingCounters};
use super::flow_table;
use super::primary::Primary;
use serde_json::{Value, json};
use std::time::Instant;

/// The real primary renders ring entries into a 1408-byte buffer and drops what does not fit.
const RING_PART_LIMIT: usize = 1408;

impl Primary {
    pub(super) fn status_json(&self, now: Instant) -> String {
        let (phy, rings) = self.cfg.counters.snapshot(now, self.flows.len(), self.cfg.rings as usize);
        let mut m = serde_json::Map::new();
        m.insert("master-lcore".into(), json!(self.cfg.master_lcore));
        m.insert("lcores".into(), json!(self.cfg.lcores));
        if self.cfg.forwarding {
            m.insert("forwarder".into(), self.forwarder());
        }
        m.insert("phy_ports".into(), Value::Array(self.phy_ports(&phy)));
        m.insert("ring_ports".into(), Value::Array(self.ring_ports(&rings)));
        let pipes = self.pipes.iter().map(|p| json!({"id": p.id, "rx": p.rx, "tx": p.tx}));
        m.insert("pipes".into(), Value::Array(pipes.collect()));
        Value::Object(m).to_string()
    }

    fn forwarder(&self) -> Value {
        let ports: Vec<String> = self.ports.ports.iter().map(|p| p.uid()).collect();
        let mut patches = self.patches.clone();
        patches.sort_by_key(|(s, _)| self.ports.position(s.ty, s.index));
        let patches: Vec<Value> =
            patches.iter().map(|(s, d)| json!({"src": s.uid(), "dst": d.uid()})).collect();
        let status = if self.running { "running" } else { "idling" };
        json!({"status": status, "ports": ports, "patches": patches})
    }

    fn phy_ports(&self, counters: &[PhyCounters]) -> Vec<Value> {
        counters
            .iter()
            .zip(&self.cfg.phy_queues)
            .zip(&self.flows)
            .enumerate()
            .map(|(id, ((c, queues), flows))| {
                json!({
                    "id": id,
                    "eth": format!("56:48:4f:53:54:{id:02x}"),
                    "rx": c.rx,
                    "tx": c.tx,
                    "tx_drop": c.tx_drop,
                    "nof_queues": {"rx": queues, "tx": queues},
                    "flow": flow_table::dump(flows),
                })
            })
            .collect()
    }

    fn ring_ports(&self, counters: &[RingCounters]) -> Vec<Value> {
        let entry = |id: usize, rx: u64, rx_drop: u64, tx: u64, tx_drop: u64| json!({"id": id, "rx": rx, "rx_drop": rx_drop, "tx": tx, "tx_drop": tx_drop});
        let mut out = Vec::new();
        let mut used = 0;
        for (id, c) in counters.iter().enumerate() {
            let e = entry(id, c.rx, c.rx_drop, c.tx, c.tx_drop);
            used += e.to_string().len() + 1;
            if used > RING_PART_LIMIT {
                break;
            }
            out.push(e);
        }
        // The oversize fault appends idle rings beyond the configured count.
        let mut padded = 0;
        for id in counters.len().. {
            if padded >= self.oversize {
                break;
            }
            let e = entry(id, 0, 0, 0, 0);
            padded += e.to_string().len() + 1;
            out.push(e);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::counters::{PhyCounters, RingCounters};
    use super::super::model::{Model, Reply};
    use super::super::primary::{Primary, PrimaryConfig};
    use std::time::{Duration, Instant};

    const EXAMPLE: &str = r#"{"master-lcore":0,"lcores":[0,1],"forwarder":{"status":"running","ports":["phy:0","phy:1","ring:0","ring:1","pipe:0"],"patches":[{"src":"phy:0","dst":"ring:0"},{"src":"ring:1","dst":"phy:1"}]},"phy_ports":[{"id":0,"eth":"56:48:4f:53:54:00","rx":1024,"tx":998,"tx_drop":2,"nof_queues":{"rx":1,"tx":1},"flow":[{"rule_id":0,"attr":{"group":0,"priority":0,"ingress":1,"egress":0,"transfer":1},"patterns":[{"type":"eth","spec":{"dst":"11:22:33:44:55:66","src":"00:00:00:00:00:00","type":"0x0000"},"last":null,"mask":{"dst":"FF:FF:FF:FF:FF:FF","src":"00:00:00:00:00:00","type":"0xffff"}},{"type":"vlan","spec":{"tci":"0x6400","inner_type":"0x0000"},"last":null,"mask":{"tci":"0xffff","inner_type":"0x0000"}}],"actions":[{"type":"queue","conf":{"index":1}},{"type":"of_pop_vlan","conf":null}]}]},{"id":1,"eth":"56:48:4f:53:54:01","rx":998,"tx":1024,"tx_drop":0,"nof_queues":{"rx":1,"tx":1},"flow":[]}],"ring_ports":[{"id":0,"rx":1000,"rx_drop":0,"tx":1024,"tx_drop":0},{"id":1,"rx":998,"rx_drop":0,"tx":998,"tx_drop":0},{"id":2,"rx":0,"rx_drop":0,"tx":0,"tx_drop":0},{"id":3,"rx":0,"rx_drop":0,"tx":0,"tx_drop":0}],"pipes":[{"id":0,"rx":2,"tx":3}]}"#;
    const RULE: &str = "flow create phy:0 group 0 priority 0 transfer ingress pattern eth dst is 11:22:33:44:55:66 type mask 0xffff / vlan vid is 100 / end actions queue index 1 / of_pop_vlan / end";

    fn text(r: Reply) -> String {
        match r {
            Reply::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }

    fn run(p: &mut Primary, now: Instant, cmds: &[&str]) -> Vec<String> {
        cmds.iter().map(|c| text(p.handle(c, now))).collect()
    }

    #[test]
    fn status_matches_the_spec_example() {
        let mut p = Primary::new(PrimaryConfig { rings: 4, ..PrimaryConfig::default() });
        let now = Instant::now();
        let replies = run(
            &mut p,
            now,
            &[
                "add ring:0",
                "add ring:01",
                "add pipe:0 ring:2 ring:3",
                "patch phy:0 ring:0",
                "patch ring:1 phy:1",
            ],
        );
        assert_eq!(replies[1], r#"{"result":"succeeded","command":"add","port":"ring:1"}"#);
        assert_eq!(
            replies[3],
            r#"{"result":"succeeded","command":"patch","ports":{"src":"phy:0","dst":"ring:0"}}"#
        );
        run(&mut p, now, &["forward", RULE]);
        p.cfg.counters.set(
            vec![
                PhyCounters { rx: 1024, tx: 998, tx_drop: 2 },
                PhyCounters { rx: 998, tx: 1024, tx_drop: 0 },
            ],
            vec![
                RingCounters { rx: 1000, rx_drop: 0, tx: 1024, tx_drop: 0 },
                RingCounters { rx: 998, rx_drop: 0, tx: 998, tx_drop: 0 },
            ],
        );
        assert_eq!(text(p.handle("status", now)), EXAMPLE);
    }

    #[test]
    fn counters_grow_while_forwarding_and_clear_zeroes_them() {
        let mut p = Primary::new(PrimaryConfig::default());
        let t0 = Instant::now();
        run(&mut p, t0, &["add ring:0", "patch phy:0 ring:0", "forward"]);
        let counters = |p: &mut Primary, at: Duration| {
            let v: serde_json::Value =
                serde_json::from_str(&text(p.handle("status", t0 + at))).expect("status is JSON");
            (v["phy_ports"][0]["rx"].as_u64().unwrap_or(0), v["ring_ports"][0]["tx"].as_u64().unwrap_or(0))
        };
        let (rx1, tx1) = counters(&mut p, Duration::from_secs(1));
        assert!(rx1 >= 1000 && tx1 == rx1, "{rx1} {tx1}");
        let (rx2, _) = counters(&mut p, Duration::from_secs(2));
        assert!(rx2 > rx1);
        let clear = text(p.handle("clear", t0 + Duration::from_secs(2)));
        assert_eq!(clear, r#"{"result":"succeeded","command":"clear"}"#);
        p.handle("stop", t0 + Duration::from_secs(2));
        assert_eq!(counters(&mut p, Duration::from_secs(3)), (0, 0));
    }

    #[test]
    fn nfv_forwarding_advances_the_primary_counters() {
        use super::super::nfv::{Nfv, NfvConfig};
        let mut p = Primary::new(PrimaryConfig::default());
        let mut n = Nfv::new(NfvConfig { counters: p.cfg.counters.clone(), ..NfvConfig::default() });
        let t0 = Instant::now();
        p.handle("status", t0);
        n.handle("add ring:3", t0);
        n.handle("patch ring:3 phy:1", t0);
        n.handle("forward", t0);
        let v: serde_json::Value =
            serde_json::from_str(&text(p.handle("status", t0 + Duration::from_secs(1)))).expect("JSON");
        assert!(v["ring_ports"][3]["rx"].as_u64().is_some_and(|rx| rx >= 1000));
        assert_eq!(v["ring_ports"][3]["rx"], v["phy_ports"][1]["tx"]);
    }

    #[test]
    fn status_without_forwarder_and_oversize() {
        let mut p =
            Primary::new(PrimaryConfig { lcores: vec![0], forwarding: false, ..PrimaryConfig::default() });
        let s = text(p.handle("status", Instant::now()));
        assert!(s.starts_with(r#"{"master-lcore":0,"lcores":[0],"phy_ports":[{"id":0,"#), "{s}");
        assert!(s.ends_with(r#""pipes":[]}"#));
        p.set_oversize(70_000);
        let big = text(p.handle("status", Instant::now()));
        assert!(big.len() > 70_000);
        let v: serde_json::Value = serde_json::from_str(&big).expect("oversized status stays valid JSON");
        assert!(v["ring_ports"].as_array().is_some_and(|a| a.len() > 8));
    }

    #[test]
    fn echo_and_fatal_replies() {
        let mut p = Primary::new(PrimaryConfig::default());
        let now = Instant::now();
        assert_eq!(p.handle("patch reset", now), Reply::Echo);
        assert_eq!(p.handle("patch phy:0", now), Reply::Echo);
        assert_eq!(p.handle("status\n", now), Reply::Echo);
        assert_eq!(p.handle("add ring", now), Reply::echo_exit());
        assert_eq!(p.handle("del ring:1x", now), Reply::echo_exit());
        assert_eq!(p.handle("add ring:", now).resolve(true), Reply::Exit(None));
        assert_eq!(p.handle("  ", now).resolve(false), Reply::Echo);
        assert_eq!(
            text(p.handle("add ring:8", now)),
            r#"{"result":"failed","command":"add","port":"ring:8"}"#
        );
        assert_eq!(
            text(p.handle("del vhost:1", now)),
            r#"{"result":"failed","command":"del","port":"vhost:1"}"#
        );
        assert_eq!(text(p.handle("patch pipe:0 phy:0", now)), r#"{"result":"failed","command":"patch"}"#);
        assert_eq!(
            text(p.handle("launch 1 spp_nfv -l 1", now)),
            r#"{"result":"succeeded","command":"launch"}"#
        );
        let long = "launch 1 spp_nfv_with_a_long_name -l 1";
        assert_eq!(p.handle(long, now).resolve(true), Reply::Exit(None));
        assert!(text(p.handle(long, now).resolve(false)).contains("launch"));
        assert!(matches!(p.handle("exit", now), Reply::Exit(Some(_))));
    }
}
