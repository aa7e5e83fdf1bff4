//! The fleet's network: a "switch" namespace holding a bridge, and one namespace per host
//! or gateway hanging off it by a veth pair. Names carry this test's pid and the /24 is
//! picked from it, so two runs never meet; every address is in 198.18.0.0/15 and no
//! namespace has a route off the machine. Dropping `Net` deletes the namespaces (their
//! veths and the bridge go with them) and their `/etc/netns` files.

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;

const PREFIX: &str = "sppfleet";
/// The switch's own address on the bridge; dnsmasq and the test's client use it.
pub const SWITCH: u8 = 254;

pub struct Net {
    prefix: String,
    subnet: [u8; 3],
    namespaces: Vec<String>,
}

impl Net {
    /// The switch namespace with its bridge, after removing what a killed run left.
    pub fn create() -> Result<Net, String> {
        sweep_stale();
        let slot = std::process::id() % 512;
        let subnet = [198, 18 + (slot / 256) as u8, (slot % 256) as u8];
        let mut net = Net { prefix: run_prefix(), subnet, namespaces: Vec::new() };
        let switch = net.add_namespace("sw")?;
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"])?;
        no_link_local(&switch, "br0")?;
        ip(&["-n", &switch, "addr", "add", &net.cidr(SWITCH), "dev", "br0"])?;
        ip(&["-n", &switch, "link", "set", "br0", "up"])?;
        Ok(net)
    }

    pub fn addr(&self, n: u8) -> Ipv4Addr {
        let [a, b, c] = self.subnet;
        Ipv4Addr::new(a, b, c, n)
    }

    fn cidr(&self, n: u8) -> String {
        format!("{}/24", self.addr(n))
    }

    pub fn namespace(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    /// A namespace plugged into the bridge with address `.n`; returns its name.
    pub fn add_station(&mut self, suffix: &str, n: u8) -> Result<String, String> {
        let ns = self.add_namespace(suffix)?;
        let switch = self.namespace("sw");
        let port = format!("v{n}");
        ip(&["-n", &switch, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns])?;
        no_link_local(&switch, &port)?;
        no_link_local(&ns, "eth0")?;
        ip(&["-n", &switch, "link", "set", &port, "master", "br0", "up"])?;
        ip(&["-n", &ns, "addr", "add", &self.cidr(n), "dev", "eth0"])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        Ok(ns)
    }

    fn add_namespace(&mut self, suffix: &str) -> Result<String, String> {
        let ns = self.namespace(suffix);
        ip(&["netns", "add", &ns])?;
        self.namespaces.push(ns.clone());
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// `ip netns exec` mounts each file of `/etc/netns/NS/` over its namesake in `/etc`,
    /// so the gateway's getaddrinfo asks `server` and nothing else.
    pub fn set_resolver(&self, ns: &str, server: Ipv4Addr) -> Result<(), String> {
        let dir = etc_dir(ns);
        let files = [
            ("resolv.conf", format!("nameserver {server}\noptions timeout:1 attempts:2\n")),
            ("nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n".to_owned()),
        ];
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (name, text) in files {
            std::fs::write(dir.join(name), text).map_err(|e| format!("{}/{name}: {e}", dir.display()))?;
        }
        Ok(())
    }

    /// Moves the calling thread (only it) into the switch namespace until the guard drops.
    pub fn enter_switch(&self) -> Result<Inside, String> {
        let home = File::open("/proc/thread-self/ns/net").map_err(|e| format!("own namespace: {e}"))?;
        enter(&PathBuf::from("/run/netns").join(self.namespace("sw")))?;
        Ok(Inside { home })
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            remove_namespace(ns);
        }
    }
}

/// The calling thread is back in its own namespace when this drops.
pub struct Inside {
    home: File,
}

impl Drop for Inside {
    fn drop(&mut self) {
        let _ = move_into_link_name_space(self.home.as_fd(), Some(LinkNameSpaceType::Network));
    }
}

/// No IPv6 link-local address either: 198.18.0.0/15 is all the fleet's links carry (a
/// kernel without IPv6 makes none, and refuses the setting).
fn no_link_local(ns: &str, link: &str) -> Result<(), String> {
    if !Path::new("/proc/sys/net/ipv6").exists() {
        return Ok(());
    }
    ip(&["-n", ns, "link", "set", link, "addrgenmode", "none"])
}

fn enter(path: &Path) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(|e| format!("setns {}: {e}", path.display()))
}

fn etc_dir(ns: &str) -> PathBuf {
    PathBuf::from("/etc/netns").join(ns)
}

/// Kills what still runs inside `ns`, then deletes it and its `/etc/netns` files.
fn remove_namespace(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Some(pid) = pid.parse().ok().and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
    let _ = ip(&["netns", "del", ns]);
    let _ = std::fs::remove_dir_all(etc_dir(ns));
}

/// Namespaces of runs whose test process is gone (killed before its cleanup ran).
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_stale(&name) {
            remove_namespace(&name);
        }
    }
}

/// `PREFIX<pid>…` of a process that no longer runs.
pub fn is_stale(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX) else { return false };
    let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
    !pid.is_empty() && !Path::new("/proc").join(&pid).exists()
}

/// What this run's names start with.
pub fn run_prefix() -> String {
    format!("{PREFIX}{}", std::process::id())
}

/// Runs `ip ARGS`; the error is its stderr.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}
