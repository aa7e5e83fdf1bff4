//! One gateway replica as the scenario sees it: its config, its process, and what its
//! inventory (`GET /v1/hosts`) and fan-out (`GET /v1/cluster/processes`) answer.

use crate::http::Http;
use crate::procs::{BIN, Proc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

/// The name every agent is listed under, like a headless Service's.
pub const SERVICE: &str = "spp-agents.fleet.test";

/// How often a replica checks each agent and asks DNS.
#[derive(Clone, Copy)]
pub struct Timing {
    pub health: Duration,
    pub discovery: Duration,
}

pub struct Replica {
    pub proc: Proc,
    pub url: String,
}

/// What a fan-out returned: each host's processes (`type:client-id`, sorted) and the
/// hosts listed in `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub processes: BTreeMap<String, Vec<String>>,
    pub errors: Vec<String>,
}

impl Replica {
    /// `spp-ctl gateway` in `ns`, listening on `address:8443`, discovering [`SERVICE`]
    /// every `discovery` and checking each agent's health every `health`.
    pub fn start(
        ns: &str,
        dir: &Path,
        name: &str,
        address: Ipv4Addr,
        timing: Timing,
    ) -> Result<Replica, String> {
        let config = dir.join(format!("{name}.toml"));
        let (health, discovery) = (timing.health.as_millis(), timing.discovery.as_millis());
        let text = format!(
            "listen = \"{address}:8443\"\ninsecure_plaintext = true\n[auth]\nmode = \"none\"\n\
             [discovery]\ndns = \"{SERVICE}\"\nport = 7777\nscheme = \"http\"\ninterval = \"{discovery}ms\"\n\
             [timeouts]\nconnect = \"300ms\"\nrequest = \"2s\"\nhealth_interval = \"{health}ms\"\n\
             [fanout]\ndeadline = \"2s\"\n[limits]\ndrain = \"0s\"\ngrace = \"1s\"\n"
        );
        std::fs::write(&config, text).map_err(|e| format!("{}: {e}", config.display()))?;
        let args = ["gateway".to_owned(), "--config".to_owned(), config.display().to_string()];
        Ok(Replica { proc: Proc::spawn(ns, dir, name, BIN, &args)?, url: format!("http://{address}:8443") })
    }

    /// `host → state` from `GET /v1/hosts`.
    pub fn hosts(&self, http: &Http) -> Result<BTreeMap<String, String>, String> {
        let list = http.get(&format!("{}/v1/hosts", self.url))?.json(200)?;
        let entries = list.as_array().ok_or_else(|| format!("not a list: {list}"))?;
        let pair = |e: &Value| Some((e["host"].as_str()?.to_owned(), e["state"].as_str()?.to_owned()));
        entries.iter().map(|e| pair(e).ok_or_else(|| format!("bad entry {e}"))).collect()
    }

    pub fn cluster(&self, http: &Http) -> Result<Cluster, String> {
        let body = http.get(&format!("{}/v1/cluster/processes", self.url))?.json(200)?;
        let mut processes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in body["processes"].as_array().ok_or_else(|| format!("no processes: {body}"))? {
            let host = entry["host"].as_str().ok_or_else(|| format!("no host: {entry}"))?;
            let label = match (&entry["type"], &entry["client-id"]) {
                (Value::String(ty), Value::Null) => ty.clone(),
                (Value::String(ty), id) => format!("{ty}:{id}"),
                _ => return Err(format!("bad process entry {entry}")),
            };
            processes.entry(host.to_owned()).or_default().push(label);
        }
        processes.values_mut().for_each(|labels| labels.sort());
        let errors = body["errors"].as_array().ok_or_else(|| format!("no errors: {body}"))?;
        let errors = errors.iter().map(|e| e["host"].as_str().unwrap_or("?").to_owned()).collect();
        Ok(Cluster { processes, errors })
    }

    /// `GET|PUT /v1/hosts/{host}/{rest}` through this replica.
    pub fn host_url(&self, host: &str, rest: &str) -> String {
        format!("{}/v1/hosts/{host}/{rest}", self.url)
    }
}
