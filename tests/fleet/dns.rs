//! dnsmasq as the fleet's DNS: one name with an A record per agent, like a Kubernetes
//! headless Service. The records live in a hosts file that is rewritten whole and
//! re-read on SIGHUP; dnsmasq asks no upstream server and reads no system file.

use crate::procs::Proc;
use rustix::process::Signal;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

pub struct Dns {
    proc: Proc,
    records: PathBuf,
    name: String,
    addresses: BTreeSet<Ipv4Addr>,
}

impl Dns {
    /// dnsmasq in namespace `ns`, answering on `listen:53` for `name` with `addresses`
    /// (written before it starts: a SIGHUP before its handler is set would end it).
    pub fn start(
        ns: &str,
        dir: &Path,
        listen: Ipv4Addr,
        name: &str,
        addresses: BTreeSet<Ipv4Addr>,
    ) -> Result<Dns, String> {
        let program = which("dnsmasq").ok_or("dnsmasq not found (apt-get install dnsmasq-base)")?;
        let records = dir.join("agents.hosts");
        write(&records, name, &addresses)?;
        let mut args: Vec<String> = [
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-dynamic",
            "--pid-file=",
            "--log-facility=-",
        ]
        .map(str::to_owned)
        .into();
        args.push(format!("--listen-address={listen}"));
        args.push(format!("--addn-hosts={}", records.display()));
        let proc = Proc::spawn(ns, dir, "dnsmasq", &program, &args)?;
        Ok(Dns { proc, records, name: name.to_owned(), addresses })
    }

    pub fn add(&mut self, address: Ipv4Addr) -> Result<(), String> {
        self.addresses.insert(address);
        self.reload()
    }

    pub fn remove(&mut self, address: Ipv4Addr) -> Result<(), String> {
        self.addresses.remove(&address);
        self.reload()
    }

    fn reload(&self) -> Result<(), String> {
        write(&self.records, &self.name, &self.addresses)?;
        self.proc.signal(Signal::HUP)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.proc.log_tail(lines)
    }
}

/// Written beside and renamed over, so dnsmasq never reads half a file.
fn write(records: &Path, name: &str, addresses: &BTreeSet<Ipv4Addr>) -> Result<(), String> {
    let text: String = addresses.iter().map(|a| format!("{a} {name}\n")).collect();
    let next = records.with_extension("next");
    std::fs::write(&next, text).map_err(|e| format!("{}: {e}", next.display()))?;
    std::fs::rename(&next, records).map_err(|e| format!("{}: {e}", records.display()))
}

fn which(program: &str) -> Option<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin".into(), "/sbin".into()]);
    dirs.map(|d| d.join(program)).find(|p| p.is_file()).map(|p| p.display().to_string())
}
