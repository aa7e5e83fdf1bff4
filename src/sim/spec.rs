//! [`SimSpec`]: which process to simulate and its start-up options, with the defaults of
//! `docs/wire-protocol.md` §8, and the construction of its model.

use super::counters::CounterBank;
use super::model::Model;
use super::nfv::{Nfv, NfvConfig};
use super::pcap::{Pcap, PcapConfig};
use super::primary::{Primary, PrimaryConfig};
use super::vf::{Vf, VfConfig};
use crate::proc_type::ProcType;
use std::time::Duration;

/// vf/mirror/pcap read each command with one `recv` of at most this many bytes.
pub(crate) const SECONDARY_READ: usize = 2048;

#[derive(Clone, Debug)]
pub struct SimSpec {
    pub ty: ProcType,
    /// Ignored for the primary; 0 is allowed (nfv started without `-n`).
    pub client_id: u32,
    /// primary/nfv frame size: 32768, or 2048 for builds before 2020.
    pub(crate) frame_size: usize,
    /// Seeds the packet rates of forwarding counters.
    pub(crate) seed: u64,
    /// Queue count of each phy port (their number is the number of phy ports).
    pub(crate) phy_queues: Vec<u16>,
    /// Rings that exist in the primary (`-n`).
    pub(crate) rings: u32,
    /// The primary's phy ports support rte_flow.
    pub(crate) flow_supported: bool,
    /// How long spp_pcap takes to follow `start`/`stop`.
    pub(crate) pcap_lag: Duration,
    /// Phy/ring counters of the primary; give the primary and the nfv processes of one
    /// host the same bank so that nfv forwarding shows in the primary's `status`.
    pub(crate) counters: CounterBank,
}

impl SimSpec {
    pub fn new(ty: ProcType, client_id: u32) -> Self {
        SimSpec {
            ty,
            client_id,
            frame_size: crate::defaults::FRAME_SIZE,
            seed: 0,
            phy_queues: vec![1, 1],
            rings: 8,
            flow_supported: true,
            pcap_lag: Duration::from_millis(50),
            counters: CounterBank::new(),
        }
    }

    /// Bytes of one command read: the frame buffer for primary/nfv, 2048 otherwise.
    pub(super) fn read_size(&self) -> usize {
        if self.ty.uses_frames() { self.frame_size.max(1) } else { SECONDARY_READ }
    }

    pub(super) fn model(&self) -> Box<dyn Model> {
        let phy_queues = self.phy_queues.clone();
        match self.ty {
            ProcType::Primary => Box::new(Primary::new(PrimaryConfig {
                phy_queues,
                rings: self.rings,
                flow_supported: self.flow_supported,
                seed: self.seed,
                counters: self.counters.clone(),
                ..PrimaryConfig::default()
            })),
            ProcType::Nfv => Box::new(Nfv::new(NfvConfig {
                client_id: self.client_id,
                phy_queues,
                rings: self.rings,
                seed: self.seed,
                counters: self.counters.clone(),
                ..NfvConfig::default()
            })),
            ProcType::Vf | ProcType::Mirror => Box::new(Vf::new(
                self.ty,
                VfConfig { client_id: self.client_id, phy_queues, rings: self.rings, ..VfConfig::default() },
            )),
            ProcType::Pcap => Box::new(Pcap::new(PcapConfig {
                client_id: self.client_id,
                lag: self.pcap_lag,
                ..PcapConfig::default()
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Random commands built from the protocol's own words must never panic a model.
    #[test]
    fn no_input_panics_any_model() {
        const WORDS: &[&str] = &[
            "status",
            "add",
            "del",
            "patch",
            "reset",
            "flow",
            "create",
            "destroy",
            "validate",
            "ALL",
            "phy:0",
            "phy:0nq1",
            "ring:",
            "ring:1",
            "ring:x",
            "vhost:99",
            "pipe:0",
            "tap:1",
            "component",
            "start",
            "stop",
            "port",
            "rx",
            "tx",
            "classifier_table",
            "mac",
            "vlan",
            "default",
            "add_vlantag",
            "del_vlantag",
            "4095",
            "0x1f",
            "010",
            "-1",
            "launch",
            "spp_nfv",
            "--",
            "-s",
            "pattern",
            "eth",
            "is",
            "prefix",
            "/",
            "end",
            "actions",
            "queue",
            "index",
            "jump",
            "group",
            "exit",
            "forward",
            "",
            " ",
            "\u{0}",
            "\u{fffd}",
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let now = Instant::now();
        for ty in [ProcType::Primary, ProcType::Nfv, ProcType::Vf, ProcType::Mirror, ProcType::Pcap] {
            let mut model = SimSpec::new(ty, 1).model();
            model.set_oversize(100);
            for _ in 0..3000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = (seed % 12) as usize;
                let cmd: Vec<&str> =
                    (0..len).map(|i| WORDS[((seed >> (i * 5)) % WORDS.len() as u64) as usize]).collect();
                let _ = model.handle(&cmd.join(" "), now).resolve(seed.is_multiple_of(2));
            }
        }
    }
}
