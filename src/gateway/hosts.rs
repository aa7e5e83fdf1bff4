//! The table of agents the gateway knows: static entries from the configuration and
//! entries found by DNS discovery, each with its last health-check result.
//!
//! Readers take a snapshot (`Arc` clone) of the table; a reload or a discovery round
//! builds a new table and swaps it in, keeping the health state of unchanged hosts.

use axum::http::{HeaderValue, Uri};
use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Host names: `[A-Za-z0-9._-]{1,253}` with DNS labels: dot-separated, each of 1 to 63
/// characters (no empty label, so no leading, trailing or doubled dot).
pub(crate) fn is_host_name(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Unknown,
    Up,
    Down,
}

impl State {
    pub(crate) const ALL: [State; 3] = [State::Unknown, State::Up, State::Down];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Up => "up",
            State::Down => "down",
        }
    }
}

#[derive(Debug)]
pub struct Host {
    pub name: String,
    pub(crate) url: String,
    /// `scheme://authority` of the agent.
    pub(crate) base: Uri,
    /// The `Host` header of requests to it.
    pub(crate) authority: HeaderValue,
    health: Mutex<Health>,
}

#[derive(Debug, Clone)]
struct Health {
    state: State,
    last_check: Option<SystemTime>,
    latency: Option<Duration>,
    error: Option<String>,
    processes: Option<usize>,
}

/// What one health check found.
pub(crate) enum Probe {
    Up { latency: Duration, processes: usize },
    Down { latency: Duration, error: String },
}

impl Host {
    pub(crate) fn new(name: String, url: String, base: Uri) -> Self {
        let health =
            Health { state: State::Unknown, last_check: None, latency: None, error: None, processes: None };
        // An authority holds only characters a header value may hold.
        let authority = base.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok());
        let authority = authority.unwrap_or_else(|| HeaderValue::from_static(""));
        Host { name, url, base, authority, health: Mutex::new(health) }
    }

    pub fn state(&self) -> State {
        self.health.lock().state
    }

    pub(crate) fn last_error(&self) -> String {
        self.health.lock().error.clone().unwrap_or_else(|| "no error recorded".to_owned())
    }

    /// Records a health check; returns the previous state when it changed.
    pub(crate) fn record(&self, probe: Probe) -> Option<State> {
        let mut health = self.health.lock();
        let before = health.state;
        health.last_check = Some(SystemTime::now());
        match probe {
            Probe::Up { latency, processes } => {
                health.state = State::Up;
                health.latency = Some(latency);
                health.error = None;
                health.processes = Some(processes);
            }
            Probe::Down { latency, error } => {
                health.state = State::Down;
                health.latency = Some(latency);
                health.error = Some(error);
            }
        }
        (before != health.state).then_some(before)
    }

    /// The inventory entry of `GET /v1/hosts`.
    pub fn to_json(&self) -> Value {
        let health = self.health.lock().clone();
        json!({
            "host": self.name,
            "url": self.url,
            "state": health.state.as_str(),
            "last_check": health.last_check.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            "latency_ms": health.latency.map(|l| l.as_millis() as u64),
            "error": health.error,
            "processes": health.processes,
        })
    }
}

/// Where a host entry came from; a reload replaces one source without touching the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    Static,
    Dns,
}

type Table = BTreeMap<String, Arc<Host>>;

/// One agent of a source: name, URL as configured, and its `scheme://authority`.
pub(crate) type Entry = (String, String, Uri);

#[derive(Clone, Default)]
pub struct Hosts {
    table: Arc<RwLock<Arc<Table>>>,
    sources: Arc<Mutex<BTreeMap<Source, Vec<Entry>>>>,
}

impl Hosts {
    pub fn get(&self, name: &str) -> Option<Arc<Host>> {
        self.table.read().get(name).cloned()
    }

    /// Every host, by name.
    pub fn all(&self) -> Vec<Arc<Host>> {
        self.table.read().values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.table.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries one source set last.
    pub(crate) fn entries(&self, source: Source) -> Vec<Entry> {
        self.sources.lock().get(&source).cloned().unwrap_or_default()
    }

    /// Replaces the entries of one source (`(name, url, base)`); static entries win over
    /// discovered ones of the same name. Hosts whose URL did not change keep their health.
    pub(crate) fn set_source(&self, source: Source, entries: Vec<Entry>) {
        let mut sources = self.sources.lock();
        sources.insert(source, entries);
        let old = self.table.read().clone();
        let mut table = Table::new();
        for (name, url, base) in sources.values().flatten() {
            if table.contains_key(name) {
                continue;
            }
            let host = match old.get(name) {
                Some(existing) if existing.url == *url => existing.clone(),
                _ => Arc::new(Host::new(name.clone(), url.clone(), base.clone())),
            };
            table.insert(name.clone(), host);
        }
        *self.table.write() = Arc::new(table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, port: u16) -> Entry {
        let url = format!("http://127.0.0.1:{port}");
        (name.to_owned(), url.clone(), url.parse().unwrap())
    }

    #[test]
    fn host_names() {
        let label = "x".repeat(63);
        let longest = format!("{label}.{label}.{label}.{}", "x".repeat(61));
        for good in ["compute-1.example_x", "a", "-", &label, &longest] {
            assert!(is_host_name(good), "{good}");
        }
        let too_long = format!("{longest}x");
        let long_label = "x".repeat(64);
        for bad in ["", "a b", "a/b", "é", ".", "..", "a..b", ".a", "a.", &long_label, &too_long] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn reload_keeps_health_of_unchanged_hosts_and_static_wins() {
        let hosts = Hosts::default();
        hosts.set_source(Source::Static, vec![entry("a", 1), entry("b", 2)]);
        hosts.get("a").unwrap().record(Probe::Up { latency: Duration::from_millis(3), processes: 5 });
        hosts.set_source(Source::Dns, vec![entry("a", 9), entry("c", 3)]);
        hosts.set_source(Source::Static, vec![entry("a", 1)]);
        let names: Vec<String> = hosts.all().iter().map(|h| h.name.clone()).collect();
        assert_eq!(names, ["a", "c"]);
        let a = hosts.get("a").unwrap().to_json();
        assert_eq!(
            (a["state"].as_str(), a["processes"].as_u64(), a["url"].as_str()),
            (Some("up"), Some(5), Some("http://127.0.0.1:1"))
        );
    }

    #[test]
    fn a_state_change_is_reported_once() {
        let host = Host::new("a".into(), "http://x".into(), "http://x".parse().unwrap());
        let down = || Probe::Down { latency: Duration::ZERO, error: "refused".into() };
        assert_eq!(host.record(down()), Some(State::Unknown));
        assert_eq!(host.record(down()), None);
        assert_eq!(host.last_error(), "refused");
        let entry = host.to_json();
        assert_eq!(entry["state"], "down");
        assert!(entry["last_check"].as_str().unwrap().ends_with('Z'));
    }
}
