//! The spp_pcap model (`docs/wire-protocol.md` §5.5, §6.5, §8.5): start/stop set a request that the actual
//! state follows after a lag, and each idle → running transition names new files.

use super::model::{Model, Reply, tokens};
use super::spaced_json::{self, Sj};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub(crate) struct PcapConfig {
    pub(crate) client_id: u32,
    pub(crate) master_lcore: u32,
    /// The first is the receiver, the others write files.
    pub(crate) slave_lcores: Vec<u32>,
    /// Display form of the captured port and its file-name form.
    pub(crate) port: (String, String),
    pub(crate) out_dir: String,
    /// How long the workers take to follow a `start`/`stop` request.
    pub(crate) lag: Duration,
    /// Wall clock for file names (tests pin it).
    pub(crate) wall: fn() -> SystemTime,
}

impl Default for PcapConfig {
    fn default() -> Self {
        PcapConfig {
            client_id: 4,
            master_lcore: 1,
            slave_lcores: vec![2, 3],
            port: ("phy:0".to_owned(), "phy0".to_owned()),
            out_dir: "/tmp".to_owned(),
            lag: Duration::from_millis(50),
            wall: SystemTime::now,
        }
    }
}

pub(crate) struct Pcap {
    cfg: PcapConfig,
    requested: bool,
    changed_at: Option<Instant>,
    /// `YYYYMMDDhhmmss` of the current capture; `None` while idle.
    capture: Option<String>,
    oversize: usize,
}

impl Pcap {
    pub(crate) fn new(cfg: PcapConfig) -> Pcap {
        Pcap { cfg, requested: false, changed_at: None, capture: None, oversize: 0 }
    }

    /// Lets the actual state catch up with the request once the lag has passed.
    fn settle(&mut self, now: Instant) {
        let Some(changed) = self.changed_at else { return };
        let due = changed + self.cfg.lag;
        if now < due || self.requested == self.capture.is_some() {
            return;
        }
        self.capture = self.requested.then(|| {
            // The workers switched at `due`, not when somebody looked.
            let wall = (self.cfg.wall)();
            timestamp(wall.checked_sub(now - due).unwrap_or(wall))
        });
    }

    fn request(&mut self, running: bool, now: Instant) -> Reply {
        if self.requested != running {
            self.requested = running;
            self.changed_at = Some(now);
        }
        Reply::Text(spaced_json::success())
    }

    fn status(&self) -> String {
        let mut slaves = self.cfg.slave_lcores.iter();
        let mut core = Vec::new();
        if let Some(&receiver) = slaves.next() {
            let port = Sj::Obj(vec![("port", Sj::str(&self.cfg.port.0))]);
            core.push(Sj::Obj(vec![
                ("core", Sj::Int(i64::from(receiver))),
                ("role", Sj::str("receive")),
                ("rx_port", Sj::Arr(vec![port])),
            ]));
        }
        for (writer, &lcore) in slaves.enumerate() {
            let file = match &self.capture {
                Some(ts) => {
                    format!(
                        "{}/spp_pcap.{ts}.{}.{}.1.pcap.lz4",
                        self.cfg.out_dir,
                        self.cfg.port.1,
                        writer + 1
                    )
                }
                None => String::new(),
            };
            core.push(writer_entry(lcore, file));
        }
        let mut padded = 0;
        for lcore in 1000.. {
            if padded >= self.oversize {
                break;
            }
            let entry = writer_entry(lcore, String::new());
            padded += entry.render().len() + 2;
            core.push(entry);
        }
        let status = if self.capture.is_some() { "running" } else { "idle" };
        spaced_json::status(Sj::Obj(vec![
            ("client-id", Sj::Int(i64::from(self.cfg.client_id))),
            ("status", Sj::str(status)),
            ("master-lcore", Sj::Int(i64::from(self.cfg.master_lcore))),
            ("core", Sj::Arr(core)),
        ]))
    }
}

fn writer_entry(lcore: u32, file: String) -> Sj {
    Sj::Obj(vec![
        ("core", Sj::Int(i64::from(lcore))),
        ("role", Sj::str("write")),
        ("filename", Sj::Str(file)),
    ])
}

/// `YYYYMMDDhhmmss` in UTC (the real process uses local time; hosts running it usually
/// differ only by the zone).
fn timestamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

impl Model for Pcap {
    fn handle(&mut self, cmd: &str, now: Instant) -> Reply {
        self.settle(now);
        let toks = tokens(cmd);
        let Some(&name) = toks.first() else {
            // A blank command crashes the real process (Q4).
            return Reply::crash(Reply::Text(spaced_json::error("Invalid value (command)")));
        };
        let known = matches!(name, "_get_client_id" | "status" | "start" | "stop" | "exit");
        if toks.len() > 8 || (known && toks.len() != 1) {
            return Reply::Text(spaced_json::error("Wrong message format"));
        }
        match name {
            "_get_client_id" => Reply::Text(spaced_json::client_id(self.cfg.client_id, "pcap")),
            "status" => Reply::Text(self.status()),
            "start" => self.request(true, now),
            "stop" => self.request(false, now),
            "exit" => Reply::Exit(Some(Box::new(Reply::Text(spaced_json::success())))),
            _ => Reply::Text(spaced_json::error("Invalid value (command)")),
        }
    }

    fn set_oversize(&mut self, bytes: usize) {
        self.oversize = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_573_211_160)
    }

    fn status(p: &mut Pcap, now: Instant) -> String {
        match p.handle("status", now) {
            Reply::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn idle_status_matches_the_spec() {
        let mut p = Pcap::new(PcapConfig::default());
        assert_eq!(
            status(&mut p, Instant::now()),
            r#"{ "results": [ { "result": "success" } ], "info": { "client-id": 4, "status": "idle", "master-lcore": 1, "core": [ { "core": 2, "role": "receive", "rx_port": [ { "port": "phy:0" } ] }, { "core": 3, "role": "write", "filename": "" } ] } }"#
        );
    }

    #[test]
    fn running_status_follows_start_after_the_lag() {
        let cfg = PcapConfig { slave_lcores: vec![2, 3, 4], wall: pinned, ..PcapConfig::default() };
        let mut p = Pcap::new(cfg);
        let t0 = Instant::now();
        assert_eq!(p.handle("start", t0), Reply::Text(spaced_json::success()));
        assert!(status(&mut p, t0 + Duration::from_millis(10)).contains(r#""status": "idle""#));
        assert_eq!(
            status(&mut p, t0 + Duration::from_millis(50)),
            r#"{ "results": [ { "result": "success" } ], "info": { "client-id": 4, "status": "running", "master-lcore": 1, "core": [ { "core": 2, "role": "receive", "rx_port": [ { "port": "phy:0" } ] }, { "core": 3, "role": "write", "filename": "/tmp/spp_pcap.20191108110600.phy0.1.1.pcap.lz4" }, { "core": 4, "role": "write", "filename": "/tmp/spp_pcap.20191108110600.phy0.2.1.pcap.lz4" } ] } }"#
        );
        p.handle("stop", t0 + Duration::from_millis(60));
        assert!(status(&mut p, t0 + Duration::from_millis(200)).contains(r#""filename": "" } ] } }"#));
    }

    #[test]
    fn errors() {
        let mut p = Pcap::new(PcapConfig::default());
        let now = Instant::now();
        let err = |m: &str| {
            Reply::Text(format!(
                r#"{{ "results": [ {{ "result": "error", "error_details": {{ "message": "{m}" }} }} ] }}"#
            ))
        };
        assert_eq!(p.handle("start now", now), err("Wrong message format"));
        assert_eq!(p.handle("capture", now), err("Invalid value (command)"));
        assert_eq!(p.handle("a b c d e f g h i", now), err("Wrong message format"));
        assert_eq!(
            p.handle("_get_client_id", now),
            Reply::Text(
                r#"{ "results": [ { "result": "success" } ], "client_id": 4, "process_type": "pcap" }"#
                    .into()
            )
        );
    }
}
