//! The fleet as one value: network, DNS, agents and gateway replicas, started in that
//! order and torn down in the reverse one when dropped (also when the scenario panics,
//! after printing the tail of every log).

use crate::dns::Dns;
use crate::http::{Http, report};
use crate::net::{self, Inside, Net, SWITCH};
use crate::procs::{BIN, Proc};
use crate::replica::{Replica, SERVICE, Timing};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// The replicas' timing: short, so that the whole test takes seconds.
pub const TIMING: Timing = Timing { health: Duration::from_millis(500), discovery: Duration::from_secs(1) };

/// Field order is teardown order: back to our own namespace, then every process, then
/// the namespaces, then the files.
pub struct Fleet {
    _inside: Inside,
    pub http: Http,
    pub replicas: Vec<Replica>,
    agents: BTreeMap<u8, Proc>,
    dns: Dns,
    /// Hosts whose address DNS lists.
    pub listed: BTreeSet<u8>,
    pub net: Net,
    dir: tempfile::TempDir,
}

pub fn host_name(n: u8) -> String {
    format!("host-{n}")
}

impl Fleet {
    /// `hosts` agents listed in DNS and two replicas (`gw-a` at .201, `gw-b` at .202); the
    /// calling thread then talks from the switch namespace.
    pub fn start(hosts: u8) -> Result<Fleet, String> {
        let mut net = Net::create()
            .map_err(|e| format!("cannot create network namespaces (run as root, with iproute2): {e}"))?;
        let dir = temp_dir()?;
        let mut agents = BTreeMap::new();
        for n in 1..=hosts {
            net.add_station(&host_name(n), n)?;
            agents.insert(n, start_agent(&net, &dir, n)?);
        }
        let listed: BTreeSet<u8> = (1..=hosts).collect();
        let switch = net.addr(SWITCH);
        let addresses = listed.iter().map(|n| net.addr(*n)).collect();
        let dns = Dns::start(&net.namespace("sw"), dir.path(), switch, SERVICE, addresses)?;
        let mut replicas = Vec::new();
        for (name, n) in [("gw-a", 201), ("gw-b", 202)] {
            let ns = net.add_station(name, n)?;
            net.set_resolver(&ns, switch)?;
            replicas.push(Replica::start(&ns, dir.path(), name, net.addr(n), TIMING)?);
        }
        let _inside = net.enter_switch()?;
        let http = Http::new()?;
        Ok(Fleet { _inside, http, replicas, agents, dns, listed, net, dir })
    }

    /// A new host `n` running its agent, not yet in DNS.
    pub fn add_host(&mut self, n: u8) -> Result<(), String> {
        self.net.add_station(&host_name(n), n)?;
        self.agents.insert(n, start_agent(&self.net, &self.dir, n)?);
        Ok(())
    }

    pub fn stop_agent(&mut self, n: u8) -> Result<(), String> {
        let agent = self.agents.get_mut(&n).ok_or_else(|| format!("no agent {n}"))?;
        agent.stop(Duration::from_secs(5))
    }

    pub fn restart_agent(&mut self, n: u8) -> Result<(), String> {
        self.agents.insert(n, start_agent(&self.net, &self.dir, n)?);
        Ok(())
    }

    pub fn dns_add(&mut self, n: u8) -> Result<(), String> {
        self.listed.insert(n);
        self.dns.add(self.net.addr(n))
    }

    pub fn dns_remove(&mut self, n: u8) -> Result<(), String> {
        self.listed.remove(&n);
        self.dns.remove(self.net.addr(n))
    }

    /// `check` holds for every live replica; the error names the replica.
    pub fn on_replicas(&self, check: impl Fn(&Replica) -> Result<(), String>) -> Result<(), String> {
        self.replicas.iter().try_for_each(|r| check(r).map_err(|e| format!("{}: {e}", r.proc.name)))
    }

    /// The inventory every replica should show: the listed hosts, `up` but for `down`.
    pub fn expected_hosts(&self, down: Option<u8>) -> BTreeMap<String, String> {
        let state = |n: &u8| if Some(*n) == down { "down" } else { "up" };
        self.listed.iter().map(|n| (host_name(*n), state(n).to_owned())).collect()
    }
}

/// Named after the run, so that the next run removes it if this one is killed.
fn temp_dir() -> Result<tempfile::TempDir, String> {
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        if net::is_stale(&entry.file_name().to_string_lossy()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = tempfile::Builder::new().prefix(&format!("{}-", net::run_prefix())).tempdir_in(&tmp);
    let dir = dir.map_err(|e| format!("temp dir: {e}"))?;
    // dnsmasq re-reads its records as `nobody` after a SIGHUP.
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", dir.path().display()))?;
    Ok(dir)
}

fn start_agent(net: &Net, dir: &tempfile::TempDir, n: u8) -> Result<Proc, String> {
    let name = host_name(n);
    let args = ["agent", "--simulate", "-b", &net.addr(n).to_string(), "--host-name", &name];
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Proc::spawn(&net.namespace(&name), dir.path(), &name, BIN, &args)
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let procs = self.replicas.iter().map(|r| &r.proc).chain(self.agents.values());
        for proc in procs {
            report(&format!("--- {} log (tail) ---\n{}", proc.name, proc.log_tail(12)));
        }
        report(&format!("--- dnsmasq log (tail) ---\n{}", self.dns.log_tail(12)));
    }
}
