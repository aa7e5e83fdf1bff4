//! The gateway's configuration: a TOML file (`deploy/gateway.toml`), validated into typed
//! values. A broken file is refused as a whole with a message naming the key.

pub use super::config_error::{ConfigError, LoadError, OverrideError, TomlError};
use crate::auth::AuthConfig;
use crate::defaults;
use crate::tls::{ClientTlsFiles, ServerTlsFiles};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) listen: Option<String>,
    #[serde(default)]
    pub(crate) insecure_plaintext: bool,
    /// Threads serving client connections; 0 serves them on the main runtime.
    pub(crate) workers: Option<usize>,
    #[serde(default)]
    pub(crate) agents: Vec<AgentEntry>,
    pub(crate) discovery: Option<Discovery>,
    #[serde(default)]
    pub(crate) timeouts: Timeouts,
    #[serde(default)]
    pub(crate) fanout: Fanout,
    #[serde(default)]
    pub(crate) metrics: MetricsSection,
    #[serde(default)]
    pub(crate) limits: Limits,
    #[serde(default)]
    pub(crate) idempotency: Idempotency,
    pub(crate) tls: Option<ServerTlsFiles>,
    pub(crate) upstream_tls: Option<ClientTlsFiles>,
    pub(crate) auth: Option<AuthConfig>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentEntry {
    pub(crate) host: String,
    pub(crate) url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Discovery {
    pub(crate) dns: String,
    #[serde(default = "default_agent_port")]
    pub(crate) port: u16,
    #[serde(default = "default_scheme")]
    pub(crate) scheme: String,
    #[serde(default = "default_discovery_interval")]
    pub(crate) interval: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Timeouts {
    pub(crate) connect: String,
    pub(crate) request: String,
    pub(crate) health_interval: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Fanout {
    pub(crate) concurrency: usize,
    pub(crate) deadline: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricsSection {
    pub(crate) listen: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Limits {
    pub(crate) body: usize,
    pub(crate) header_timeout: String,
    pub(crate) body_timeout: String,
    pub(crate) idle_timeout: String,
    pub(crate) max_connections: usize,
    pub(crate) drain: String,
    pub(crate) grace: String,
}

/// `Idempotency-Key` records: kept this long, at most this many (per replica).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Idempotency {
    pub(crate) ttl: String,
    pub(crate) max_entries: usize,
}

impl Default for Idempotency {
    fn default() -> Self {
        Idempotency { ttl: "10m".into(), max_entries: 10_000 }
    }
}

fn default_agent_port() -> u16 {
    defaults::API_PORT
}
fn default_scheme() -> String {
    "http".to_owned()
}
fn default_discovery_interval() -> String {
    defaults::text(defaults::DISCOVERY_INTERVAL)
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: defaults::text(defaults::CONNECT_TIMEOUT),
            request: defaults::text(defaults::REQUEST_TIMEOUT),
            health_interval: defaults::text(defaults::HEALTH_INTERVAL),
        }
    }
}

impl Default for Fanout {
    fn default() -> Self {
        Fanout {
            concurrency: defaults::FANOUT_CONCURRENCY,
            deadline: defaults::text(defaults::FANOUT_DEADLINE),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body: defaults::BODY_LIMIT,
            header_timeout: defaults::text(defaults::HEADER_TIMEOUT),
            body_timeout: defaults::text(defaults::BODY_TIMEOUT),
            idle_timeout: defaults::text(defaults::IDLE_TIMEOUT),
            max_connections: defaults::MAX_CONNECTIONS,
            drain: defaults::text(defaults::GATEWAY_DRAIN),
            grace: defaults::text(defaults::GRACE),
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    pub(crate) workers: usize,
    pub(crate) agents: Vec<AgentEntry>,
    pub(crate) discovery: Option<DnsDiscovery>,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) health_interval: Duration,
    pub(crate) fanout_concurrency: usize,
    pub(crate) fanout_deadline: Duration,
    pub(crate) body_limit: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) body_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub max_connections: usize,
    pub(crate) drain: Duration,
    pub(crate) grace: Duration,
    pub(crate) idempotency_ttl: Duration,
    pub(crate) idempotency_max_entries: usize,
    pub(crate) tls: Option<ServerTlsFiles>,
    pub(crate) upstream_tls: ClientTlsFiles,
    pub(crate) auth: AuthConfig,
}

#[derive(Debug, Clone)]
pub struct DnsDiscovery {
    pub name: String,
    pub port: u16,
    pub scheme: String,
    pub interval: Duration,
}

impl GatewayConfig {
    /// Every file the configuration names (certificates, keys, CAs), for the reload
    /// watcher.
    pub(crate) fn files(&self) -> Vec<std::path::PathBuf> {
        let tls = self.tls.iter().flat_map(|t| t.files());
        tls.chain(self.upstream_tls.files()).chain(self.auth.files()).collect()
    }

    pub fn load(path: &Path) -> Result<Self, LoadError> {
        Self::load_with(path, &[])
    }

    /// The file with `overrides` applied over it.
    pub fn load_with(path: &Path, overrides: &[(String, String)]) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        Self::parse_with(&text, overrides)
            .map_err(|source| LoadError::Invalid { path: path.to_owned(), source })
    }

    #[cfg(test)]
    pub(crate) fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_with(text, &[])
    }

    fn parse_with(text: &str, overrides: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| TomlError::in_text(text, e))?;
        for (key, value) in overrides {
            set(&mut table, key, value)?;
        }
        match FileConfig::deserialize(table) {
            Ok(file) => Self::validate(file),
            // Typed again from the text: only then does the error know its line.
            Err(e) => Err(match toml::from_str::<FileConfig>(text) {
                Err(in_file) => TomlError::in_text(text, in_file).into(),
                Ok(_) => culprit(text, overrides, e),
            }),
        }
    }

    fn validate(file: FileConfig) -> Result<Self, ConfigError> {
        if file.tls.is_none() && !file.insecure_plaintext {
            return Err(ConfigError::NoTls);
        }
        let auth = file.auth.clone().ok_or(ConfigError::NoAuth)?;
        if !["jwt", "none"].contains(&auth.mode.as_str()) {
            return Err(ConfigError::AuthMode { mode: auth.mode });
        }
        let mut seen = std::collections::HashSet::new();
        for agent in &file.agents {
            if !super::hosts::is_host_name(&agent.host) {
                return Err(ConfigError::HostName { host: agent.host.clone() });
            }
            if !seen.insert(agent.host.clone()) {
                return Err(ConfigError::HostTwice { host: agent.host.clone() });
            }
            super::upstream::base_uri(&agent.url)
                .map_err(|source| ConfigError::AgentUrl { host: agent.host.clone(), source })?;
        }
        let discovery = match file.discovery {
            None => None,
            Some(d) => {
                if !["http", "https"].contains(&d.scheme.as_str()) {
                    return Err(ConfigError::Scheme { scheme: d.scheme });
                }
                Some(DnsDiscovery {
                    name: d.dns,
                    port: d.port,
                    scheme: d.scheme,
                    interval: duration("discovery.interval", &d.interval)?,
                })
            }
        };
        let address = |key: &'static str, raw: &str| {
            raw.parse::<SocketAddr>().map_err(|source| ConfigError::Address {
                key,
                raw: raw.to_owned(),
                source,
            })
        };
        Ok(GatewayConfig {
            listen: address("listen", file.listen.as_deref().unwrap_or("127.0.0.1:8443"))?,
            metrics_listen: file
                .metrics
                .listen
                .as_deref()
                .map(|m| address("metrics.listen", m))
                .transpose()?,
            workers: file
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            agents: file.agents,
            discovery,
            connect_timeout: duration("timeouts.connect", &file.timeouts.connect)?,
            request_timeout: duration("timeouts.request", &file.timeouts.request)?,
            health_interval: duration("timeouts.health_interval", &file.timeouts.health_interval)?,
            fanout_concurrency: file.fanout.concurrency.max(1),
            fanout_deadline: duration("fanout.deadline", &file.fanout.deadline)?,
            body_limit: file.limits.body,
            header_timeout: duration("limits.header_timeout", &file.limits.header_timeout)?,
            body_timeout: duration("limits.body_timeout", &file.limits.body_timeout)?,
            idle_timeout: duration("limits.idle_timeout", &file.limits.idle_timeout)?,
            max_connections: file.limits.max_connections.max(1),
            drain: duration("limits.drain", &file.limits.drain)
                .or_else(|e| zero_ok(&file.limits.drain, e))?,
            grace: duration("limits.grace", &file.limits.grace)?,
            idempotency_ttl: duration("idempotency.ttl", &file.idempotency.ttl)?,
            idempotency_max_entries: file.idempotency.max_entries.max(1),
            tls: file.tls,
            upstream_tls: file.upstream_tls.unwrap_or_default(),
            auth,
        })
    }
}

/// Every key can also be set from the command line (`--set timeouts.request=5s`) or the
/// environment (`SPP_CTL_GW__TIMEOUTS__REQUEST=5s`: `__` separates the levels). Values
/// are TOML (`true`, `64`, `"x"`); anything that does not parse is taken as a string.
pub fn overrides(
    flags: &[String],
    env: impl Iterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>, OverrideError> {
    let mut all: Vec<(String, String)> = env
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("SPP_CTL_GW__")?;
            Some((key.to_ascii_lowercase().replace("__", "."), value))
        })
        .collect();
    all.sort();
    for flag in flags {
        let (key, value) =
            flag.split_once('=').ok_or_else(|| OverrideError::NoValue { flag: flag.clone() })?;
        all.push((key.to_owned(), value.to_owned()));
    }
    Ok(all)
}

/// Names the first override after which the configuration no longer deserializes;
/// `error` is why the configuration with all of them does not.
fn culprit(text: &str, overrides: &[(String, String)], error: toml::de::Error) -> ConfigError {
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else { return TomlError::unplaced(error).into() };
    for (key, value) in overrides {
        if set(&mut table, key, value).is_ok() && FileConfig::deserialize(table.clone()).is_err() {
            return ConfigError::Overridden {
                key: key.clone(),
                value: value.clone(),
                source: Box::new(error),
            };
        }
    }
    TomlError::unplaced(error).into()
}

fn set(table: &mut toml::Table, key: &str, raw: &str) -> Result<(), OverrideError> {
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts
        .pop()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| OverrideError::EmptyKey { key: key.to_owned() })?;
    let mut node = table;
    for part in parts {
        let entry = node.entry(part.to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = entry
            .as_table_mut()
            .ok_or_else(|| OverrideError::NotASection { key: key.to_owned(), part: part.to_owned() })?;
    }
    node.insert(last.to_owned(), value);
    Ok(())
}

fn duration(key: &'static str, raw: &str) -> Result<Duration, ConfigError> {
    match humantime::parse_duration(raw) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(ConfigError::ZeroDuration { key }),
        Err(source) => Err(ConfigError::Duration { key, raw: raw.to_owned(), source }),
    }
}

/// The drain period may be zero (tests, or no load balancer in front).
fn zero_ok(raw: &str, error: ConfigError) -> Result<Duration, ConfigError> {
    if humantime::parse_duration(raw).is_ok_and(|d| d.is_zero()) { Ok(Duration::ZERO) } else { Err(error) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses() {
        let config =
            GatewayConfig::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/gateway.toml")))
                .unwrap();
        assert_eq!(config.agents.len(), 2);
        assert_eq!(config.health_interval, Duration::from_secs(2));
        assert!(config.tls.is_some() && !config.auth.is_none());
    }

    #[test]
    fn flags_and_environment_override_any_key() {
        let env = vec![
            ("SPP_CTL_GW__TIMEOUTS__HEALTH_INTERVAL".to_owned(), "9s".to_owned()),
            ("SPP_CTL_GW__FANOUT__CONCURRENCY".to_owned(), "3".to_owned()),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ];
        let flags = vec!["listen=127.0.0.1:9999".to_owned(), "auth.mode=none".to_owned()];
        let all = overrides(&flags, env.into_iter()).unwrap();
        let config =
            GatewayConfig::parse_with("insecure_plaintext = true\n[auth]\nmode = \"jwt\"\n", &all).unwrap();
        assert_eq!(config.health_interval, Duration::from_secs(9));
        assert_eq!(config.fanout_concurrency, 3);
        assert_eq!(config.listen.port(), 9999);
        assert!(config.auth.is_none());
        assert!(overrides(&["nokey".to_owned()], std::iter::empty()).is_err());
    }

    #[test]
    fn errors_name_the_key() {
        let base = "insecure_plaintext = true\n";
        for (extra, error) in [
            ("listen = \"nowhere\"", "listen: \"nowhere\""),
            ("[timeouts]\nconnect = \"soon\"", "timeouts.connect: \"soon\""),
            (
                "[[agents]]\nhost = \"a b\"\nurl = \"http://127.0.0.1:1\"",
                "agents.host: invalid host name \"a b\"",
            ),
            ("[[agents]]\nhost = \"a\"\nurl = \"ftp://x\"", "agents.url of a: "),
            // d15: TOML errors name line and column.
            ("[limits]\n  bogus = 1", "line 3, column 3: unknown field `bogus`"),
            ("[limits]\nbody = \"big\"", "line 3, column 8: invalid type: string \"big\""),
            ("[timeouts", "line 2, column 10: "),
            ("[tls]\ncert = \"c\"\nkey = \"k\"\nversions = [\"1.4\"]", "unknown variant `1.4`"),
        ] {
            let message = GatewayConfig::parse(&format!("{base}{extra}\n[auth]\nmode = \"none\"\n"))
                .unwrap_err()
                .to_string();
            assert!(message.contains(error), "{message}");
        }
        assert!(GatewayConfig::parse("").unwrap_err().to_string().starts_with("tls: missing"));
        assert!(
            GatewayConfig::parse("insecure_plaintext = true")
                .unwrap_err()
                .to_string()
                .starts_with("auth: missing")
        );
    }

    /// The first error of type `E` in the chain of `error`.
    fn cause<'a, E: std::error::Error + 'static>(
        error: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a E> {
        std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref::<E>())
    }

    #[test]
    fn a_refused_file_keeps_the_io_or_toml_cause_below_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.toml");
        let missing = GatewayConfig::load(&path).unwrap_err();
        let io = cause::<std::io::Error>(&missing).map(std::io::Error::kind);
        assert_eq!(io, Some(std::io::ErrorKind::NotFound));
        std::fs::write(&path, "insecure_plaintext = true\n[limits\n").unwrap();
        let broken = GatewayConfig::load(&path).unwrap_err();
        assert_eq!(
            cause::<toml::de::Error>(&broken).map(|e| e.message()),
            Some("unclosed table, expected `]`")
        );
        assert_eq!(
            broken.to_string(),
            format!("{}: line 2, column 8: unclosed table, expected `]`", path.display())
        );
    }

    #[test]
    fn d15_overrides_name_the_key() {
        let base = "insecure_plaintext = true\n[auth]\nmode = \"none\"\n";
        let set = |flag: &str| {
            let all = overrides(&[flag.to_owned()], std::iter::empty()).unwrap();
            GatewayConfig::parse_with(base, &all).unwrap_err().to_string()
        };
        assert!(
            set("limits.body=big").starts_with(
                "--set limits.body=big (or SPP_CTL_GW__LIMITS__BODY): invalid type: string \"big\""
            ),
            "{}",
            set("limits.body=big")
        );
        assert!(
            set("limit.body=1")
                .starts_with("--set limit.body=1 (or SPP_CTL_GW__LIMIT__BODY): unknown field `limit`")
        );
        assert!(
            set("insecure_plaintext.x=1")
                .starts_with("--set insecure_plaintext.x: insecure_plaintext is not")
        );
    }
}
