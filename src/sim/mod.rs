//! Simulated SPP processes (`spp-ctl sim`, and `spp-ctl agent --simulate`).
//!
//! Each simulated process connects to a controller exactly like the real `spp_primary`,
//! `spp_nfv`, `spp_vf`, `spp_mirror` or `spp_pcap` (`docs/wire-protocol.md` §8): `conn` owns
//! the socket and the faults, the per-type models (`primary`, `nfv`, `vf`, `pcap`) are pure
//! state machines answering one command at a time.

mod args;
mod conn;
mod counters;
mod faults;
mod flow;
mod flow_table;
mod handle;
mod launch;
mod model;
mod nfv;
mod pcap;
mod primary;
mod primary_status;
mod spaced_json;
mod spec;
mod uid;
mod vf;
mod vf_parse;
mod vf_status;
mod vf_types;

#[cfg(test)]
mod conn_tests;
#[cfg(test)]
mod vf_tests;

pub(crate) use args::SimArgs;
pub(crate) use counters::CounterBank;
pub use faults::Faults;
pub use handle::SimHandle;
pub use spec::SimSpec;

use crate::proc_type::{ProcName, ProcType};
use anyhow::Context as _;
use handle::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Starts every process named by `args` and runs until `shutdown`.
pub async fn run(args: SimArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    let host = resolve(&args.ctl).await?;
    let faults = args.faults();
    for spec in args.specs() {
        let port = if spec.ty == ProcType::Primary { args.pri_port } else { args.sec_port };
        spawn(spec, SocketAddr::new(host, port), shutdown.clone()).set_faults(faults.clone());
    }
    shutdown.cancelled().await;
    Ok(())
}

/// The real processes take an IPv4 address only; the simulator resolves a name once.
async fn resolve(host: &str) -> anyhow::Result<std::net::IpAddr> {
    let addrs =
        tokio::net::lookup_host((host, 0)).await.with_context(|| format!("resolving --ctl {host}"))?;
    let mut addrs: Vec<_> = addrs.collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs.first().map(|a| a.ip()).with_context(|| format!("--ctl {host}: no address"))
}

/// The default set: primary, nfv 1, vf 2, mirror 3, pcap 4, sharing one counter bank.
fn default_set() -> Vec<SimSpec> {
    share_counters(vec![
        SimSpec::new(ProcType::Primary, 0),
        SimSpec::new(ProcType::Nfv, 1),
        SimSpec::new(ProcType::Vf, 2),
        SimSpec::new(ProcType::Mirror, 3),
        SimSpec::new(ProcType::Pcap, 4),
    ])
}

/// Processes of one instance run on one simulated host: one set of primary counters.
fn share_counters(mut specs: Vec<SimSpec>) -> Vec<SimSpec> {
    let bank = CounterBank::new();
    for spec in &mut specs {
        spec.counters = bank.clone();
    }
    specs
}

/// Attaches the default set (primary, nfv 1, vf 2, mirror 3, pcap 4) to an agent; used by
/// `spp-ctl agent --simulate`.
pub fn attach_default(
    primary: SocketAddr,
    secondary: SocketAddr,
    shutdown: CancellationToken,
) -> Vec<SimHandle> {
    default_set()
        .into_iter()
        .map(|spec| {
            let ctl = if spec.ty == ProcType::Primary { primary } else { secondary };
            spawn(spec, ctl, shutdown.clone())
        })
        .collect()
}

/// Starts one simulated process that connects (and reconnects every 1 s, forever, until
/// shutdown) to `ctl`. Must be called inside a tokio runtime.
pub fn spawn(spec: SimSpec, ctl: SocketAddr, shutdown: CancellationToken) -> SimHandle {
    let shared = Arc::new(Shared::default());
    let name = if spec.ty == ProcType::Primary {
        ProcName::primary()
    } else {
        ProcName::secondary(spec.ty, spec.client_id)
    };
    let span = tracing::info_span!("sim", proc = %name);
    tokio::spawn(conn::run(spec, ctl, shared.clone(), shutdown).instrument(span));
    SimHandle { shared }
}
