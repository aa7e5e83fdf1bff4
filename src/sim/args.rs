//! `spp-ctl sim` command-line flags (each also an `SPP_CTL_SIM_*` variable) and their
//! translation into process specs and faults.

use super::faults::Faults;
use super::spec::SimSpec;
use crate::proc_type::ProcType;
use std::time::Duration;

#[derive(clap::Args, Clone, Debug)]
pub struct SimArgs {
    /// Controller host (the real processes accept IPv4 only).
    #[arg(long, env = "SPP_CTL_SIM_CTL", default_value = "127.0.0.1")]
    pub(crate) ctl: String,
    /// Controller port for the primary.
    #[arg(short = 'p', long, env = "SPP_CTL_SIM_PRI_PORT", default_value_t = crate::defaults::PRIMARY_PORT)]
    pub(crate) pri_port: u16,
    /// Controller port for secondaries.
    #[arg(short = 's', long, env = "SPP_CTL_SIM_SEC_PORT", default_value_t = crate::defaults::SECONDARY_PORT)]
    pub(crate) sec_port: u16,
    /// Start a primary. Without any process flag the default set is started.
    #[arg(long, env = "SPP_CTL_SIM_PRIMARY")]
    pub(crate) primary: bool,
    /// Start an spp_nfv with this client id (repeatable).
    #[arg(long, env = "SPP_CTL_SIM_NFV", value_delimiter = ',')]
    pub(crate) nfv: Vec<u32>,
    /// Start an spp_vf with this client id (repeatable).
    #[arg(long, env = "SPP_CTL_SIM_VF", value_delimiter = ',')]
    pub(crate) vf: Vec<u32>,
    /// Start an spp_mirror with this client id (repeatable).
    #[arg(long, env = "SPP_CTL_SIM_MIRROR", value_delimiter = ',')]
    pub(crate) mirror: Vec<u32>,
    /// Start an spp_pcap with this client id (repeatable).
    #[arg(long, env = "SPP_CTL_SIM_PCAP", value_delimiter = ',')]
    pub(crate) pcap: Vec<u32>,
    /// Reply frame size of primary/nfv (2048 for builds before 2020).
    #[arg(long, env = "SPP_CTL_SIM_FRAME_SIZE", default_value_t = crate::defaults::FRAME_SIZE)]
    pub(crate) frame_size: usize,
    /// Physical ports (one queue each) of every simulated process.
    #[arg(long, env = "SPP_CTL_SIM_PHY_PORTS", default_value_t = 2)]
    pub(crate) phy_ports: usize,
    /// Rings of the primary (`spp_primary -n`); each shows in its `ring_ports`.
    #[arg(long, env = "SPP_CTL_SIM_RINGS", default_value_t = 8)]
    pub(crate) rings: u32,
    /// Seed of the counter rates.
    #[arg(long, env = "SPP_CTL_SIM_SEED", default_value_t = 0)]
    pub(crate) seed: u64,
    /// Fault: wait this long before each reply.
    #[arg(long, env = "SPP_CTL_SIM_DELAY_MS", default_value_t = 0)]
    pub(crate) delay_ms: u64,
    /// Fault: never reply.
    #[arg(long, env = "SPP_CTL_SIM_NO_REPLY")]
    pub(crate) no_reply: bool,
    /// Fault: reply with non-JSON bytes.
    #[arg(long, env = "SPP_CTL_SIM_GARBAGE")]
    pub(crate) garbage: bool,
    /// Fault: write each reply in N pieces.
    #[arg(long, env = "SPP_CTL_SIM_SPLIT")]
    pub(crate) split: Option<usize>,
    /// Pause between the pieces of `--split`.
    #[arg(long, env = "SPP_CTL_SIM_SPLIT_PAUSE_MS", default_value_t = 0)]
    pub(crate) split_pause_ms: u64,
    /// Fault: pad `status` replies with this many bytes of extra entries.
    #[arg(long, env = "SPP_CTL_SIM_OVERSIZE", default_value_t = 0)]
    pub(crate) oversize: usize,
    /// Fault: close the connection after N replies, then reconnect.
    #[arg(long, env = "SPP_CTL_SIM_DISCONNECT_AFTER")]
    pub(crate) disconnect_after: Option<u64>,
    /// Crash or exit like the real process on inputs that make it crash or exit.
    #[arg(long, env = "SPP_CTL_SIM_REAL_CRASH")]
    pub(crate) real_crash: bool,
    #[command(flatten)]
    pub log: crate::cli::LogArgs,
}

impl SimArgs {
    /// The faults every started process begins with.
    pub(crate) fn faults(&self) -> Faults {
        Faults {
            delay: Duration::from_millis(self.delay_ms),
            no_reply: self.no_reply,
            garbage: self.garbage,
            split: self.split.map(|n| (n, Duration::from_millis(self.split_pause_ms))),
            oversize: self.oversize,
            disconnect_after: self.disconnect_after,
            disconnect_before_reply: false,
            real_crash: self.real_crash,
        }
    }

    /// The processes to start; the default set when none is named.
    pub(crate) fn specs(&self) -> Vec<SimSpec> {
        let named = [
            (ProcType::Nfv, &self.nfv),
            (ProcType::Vf, &self.vf),
            (ProcType::Mirror, &self.mirror),
            (ProcType::Pcap, &self.pcap),
        ];
        let mut specs: Vec<SimSpec> =
            self.primary.then(|| SimSpec::new(ProcType::Primary, 0)).into_iter().collect();
        for (ty, ids) in named {
            specs.extend(ids.iter().map(|&id| SimSpec::new(ty, id)));
        }
        if specs.is_empty() {
            specs = super::default_set();
        }
        for spec in &mut specs {
            spec.frame_size = self.frame_size;
            spec.seed = self.seed;
            spec.rings = self.rings;
            spec.phy_queues = vec![1; self.phy_ports];
        }
        super::share_counters(specs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn flags_select_processes_and_faults() {
        let cli = Cli::parse_from([
            "sim",
            "--primary",
            "--vf",
            "2",
            "--vf",
            "5",
            "--split",
            "3",
            "--delay-ms",
            "7",
        ]);
        let specs = cli.sim.specs();
        let kinds: Vec<_> = specs.iter().map(|s| (s.ty, s.client_id)).collect();
        assert_eq!(kinds, vec![(ProcType::Primary, 0), (ProcType::Vf, 2), (ProcType::Vf, 5)]);
        let f = cli.sim.faults();
        assert_eq!(f.split, Some((3, Duration::ZERO)));
        assert_eq!(f.delay, Duration::from_millis(7));
        assert_eq!(Cli::parse_from(["sim"]).sim.specs().len(), 5);
    }

    #[test]
    fn flag_definitions_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
