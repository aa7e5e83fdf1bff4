//! The fleet's processes (agents, gateways, dnsmasq): each runs inside its namespace
//! through `ip netns exec` (which execs, so the child is the program itself), writes to
//! its own log file, and is killed when dropped.

use rustix::process::{Pid, Signal, kill_process};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_spp-ctl");

pub struct Proc {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Starts `program args` in namespace `ns`, logging to `dir/name.log` (appended, so a
    /// restarted process keeps its predecessor's lines).
    pub fn spawn(ns: &str, dir: &Path, name: &str, program: &str, args: &[String]) -> Result<Proc, String> {
        let log = dir.join(format!("{name}.log"));
        let open = || File::options().create(true).append(true).open(&log);
        let (out, err) =
            open().and_then(|o| Ok((o, open()?))).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns, program]).args(args);
        // Settings of the calling environment must not reach the fleet's processes.
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SPP_CTL_") || k == "RUST_LOG") {
            command.env_remove(key);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("{name}: ip netns exec {program}: {e}"))?;
        Ok(Proc { name: name.to_owned(), child, log })
    }

    pub fn signal(&self, signal: Signal) -> Result<(), String> {
        kill_process(Pid::from_child(&self.child), signal).map_err(|e| format!("{}: kill: {e}", self.name))
    }

    /// SIGTERM, then the exit within `deadline` (SIGKILL after it).
    pub fn stop(&mut self, deadline: Duration) -> Result<(), String> {
        self.signal(Signal::TERM)?;
        let started = Instant::now();
        while started.elapsed() < deadline {
            if self.exited() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err(format!("{} did not exit within {deadline:?} of SIGTERM", self.name))
    }

    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `lines` lines of its log, for a failure report.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}
