//! Typed, validated settings of the agent (built from the command line in `cli.rs`).

use crate::defaults;
use crate::gateway::config::TomlError;
use std::net::AddrParseError;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Deadline of every SPP command (`--command-timeout`).
    pub command_timeout: Duration,
    /// Deadline of `exit`, after which the process counts as gone anyway.
    pub exit_timeout: Duration,
    /// Deadline of the `_get_client_id` handshake on the secondary port.
    pub handshake_timeout: Duration,
    /// Commands that may wait for one process before further ones get 503.
    pub queue_depth: usize,
    /// Size of the NUL-padded reply frames of primary and nfv (32768; 2048 for old SPP).
    pub frame_size: usize,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Time a client has to send a complete request head, and a new connection to
    /// begin its first request.
    pub header_timeout: Duration,
    /// Time a client has to send a request body.
    pub body_timeout: Duration,
    /// Time a connection may stay open without a request, after its first.
    pub idle_timeout: Duration,
    /// Concurrent HTTP connections; when full, the oldest idle one is closed to admit a
    /// new one, and with none idle, new ones wait in the kernel backlog.
    pub max_connections: usize,
    /// Name reported by `GET /info` (the gateway names hosts by it).
    pub host_name: String,
    /// How long in-flight requests may run after SIGTERM.
    pub grace_period: Duration,
    /// How long `/readyz` answers 503 before the listeners close.
    pub drain_period: Duration,
    /// Deadline of the `status` reads behind one `GET /metrics`.
    pub scrape_timeout: Duration,
    /// TLS on the API port (off by default, as in the original).
    pub tls: Option<crate::tls::ServerTlsFiles>,
    /// The `[auth]` section of `--auth-config` (off by default).
    pub auth: Option<crate::auth::AuthConfig>,
    /// The plain listener of `/metrics` and the probes (`--metrics-addr`; off by default).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// The `--auth-config` file, reread when it changes.
    pub auth_file: Option<std::path::PathBuf>,
    /// Sizes and keep-alive period of `GET /v1/events` (`--event-buffer`).
    pub events: crate::agent::events::HubSettings,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            command_timeout: defaults::COMMAND_TIMEOUT,
            exit_timeout: defaults::EXIT_TIMEOUT,
            handshake_timeout: defaults::HANDSHAKE_TIMEOUT,
            queue_depth: defaults::QUEUE_DEPTH,
            frame_size: defaults::FRAME_SIZE,
            body_limit: defaults::BODY_LIMIT,
            header_timeout: defaults::HEADER_TIMEOUT,
            body_timeout: defaults::BODY_TIMEOUT,
            idle_timeout: defaults::IDLE_TIMEOUT,
            max_connections: defaults::MAX_CONNECTIONS,
            host_name: "localhost".to_owned(),
            grace_period: defaults::GRACE,
            drain_period: defaults::AGENT_DRAIN,
            scrape_timeout: defaults::SCRAPE_TIMEOUT,
            tls: None,
            auth: None,
            metrics_addr: None,
            auth_file: None,
            events: crate::agent::events::HubSettings::default(),
        }
    }
}

/// A flag of the agent that does not validate, named as given.
#[derive(Debug, thiserror::Error)]
pub enum AgentConfigError {
    #[error("--frame-size must be at least 64")]
    FrameSize,
    #[error("--{flag} must be at least 1")]
    NotPositive { flag: &'static str },
    #[error("--{flag} must be longer than zero")]
    ZeroDuration { flag: &'static str },
    #[error("--{flag} {raw:?}: {source}")]
    Duration { flag: &'static str, raw: String, source: humantime::DurationError },
    #[error("--metrics-addr {raw:?}: {source}")]
    MetricsAddr { raw: String, source: AddrParseError },
    #[error("--tls-cert and --tls-key go together (and --tls-client-ca needs both)")]
    TlsPair,
    #[error("--auth-config {}: {source}", path.display())]
    AuthRead { path: PathBuf, source: std::io::Error },
    #[error("--auth-config {}: {source}", path.display())]
    AuthToml { path: PathBuf, source: TomlError },
}

impl AgentConfig {
    /// Validates the raw flags, naming the flag at fault.
    pub fn from_args(args: &crate::cli::AgentArgs) -> Result<Self, AgentConfigError> {
        let defaults = AgentConfig::default();
        let positive = |flag: &'static str, value: usize| {
            if value == 0 { Err(AgentConfigError::NotPositive { flag }) } else { Ok(value) }
        };
        if args.frame_size < 64 {
            return Err(AgentConfigError::FrameSize);
        }
        Ok(AgentConfig {
            command_timeout: duration("command-timeout", &args.command_timeout)?,
            exit_timeout: duration("exit-timeout", &args.exit_timeout)?,
            handshake_timeout: duration("handshake-timeout", &args.handshake_timeout)?,
            queue_depth: positive("queue-depth", args.queue_depth)?,
            frame_size: args.frame_size,
            body_limit: args.body_limit,
            header_timeout: duration("header-timeout", &args.header_timeout)?,
            body_timeout: duration("body-timeout", &args.body_timeout)?,
            idle_timeout: duration("idle-timeout", &args.idle_timeout)?,
            max_connections: positive("max-connections", args.max_connections)?,
            host_name: args
                .host_name
                .clone()
                .unwrap_or_else(|| system_host_name().unwrap_or(defaults.host_name)),
            grace_period: duration("grace-period", &args.grace_period)?,
            drain_period: humantime::parse_duration(&args.drain_period).map_err(|source| {
                AgentConfigError::Duration { flag: "drain-period", raw: args.drain_period.clone(), source }
            })?,
            scrape_timeout: duration("scrape-timeout", &args.scrape_timeout)?,
            tls: tls_files(args)?,
            auth: args.auth_config.as_deref().map(auth_section).transpose()?,
            metrics_addr: args
                .metrics_addr
                .as_deref()
                .map(|raw| {
                    raw.parse()
                        .map_err(|source| AgentConfigError::MetricsAddr { raw: raw.to_owned(), source })
                })
                .transpose()?,
            auth_file: args.auth_config.clone(),
            events: crate::agent::events::HubSettings {
                buffer: positive("event-buffer", args.event_buffer)?,
                ..defaults.events
            },
        })
    }
}

fn tls_files(args: &crate::cli::AgentArgs) -> Result<Option<crate::tls::ServerTlsFiles>, AgentConfigError> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Ok(Some(crate::tls::ServerTlsFiles::new(cert.clone(), key.clone(), args.tls_client_ca.clone())))
        }
        (None, None) if args.tls_client_ca.is_none() => Ok(None),
        _ => Err(AgentConfigError::TlsPair),
    }
}

/// The `[auth]` section of a TOML file (the same section as the gateway's).
pub fn auth_section(path: &Path) -> Result<crate::auth::AuthConfig, AgentConfigError> {
    #[derive(serde::Deserialize)]
    struct File {
        auth: crate::auth::AuthConfig,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|source| AgentConfigError::AuthRead { path: path.to_owned(), source })?;
    let file: File = toml::from_str(&text).map_err(|e| AgentConfigError::AuthToml {
        path: path.to_owned(),
        source: TomlError::in_text(&text, e),
    })?;
    Ok(file.auth)
}

/// A non-zero duration such as `5s` or `250ms`.
fn duration(flag: &'static str, raw: &str) -> Result<Duration, AgentConfigError> {
    match humantime::parse_duration(raw) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(AgentConfigError::ZeroDuration { flag }),
        Err(source) => Err(AgentConfigError::Duration { flag, raw: raw.to_owned(), source }),
    }
}

fn system_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        agent: crate::cli::AgentArgs,
    }

    fn config(args: &[&str]) -> Result<AgentConfig, AgentConfigError> {
        let flags = Flags::try_parse_from(std::iter::once("agent").chain(args.iter().copied())).unwrap();
        AgentConfig::from_args(&flags.agent)
    }

    #[test]
    fn the_event_buffer_is_a_positive_count() {
        assert_eq!(config(&[]).unwrap().events.buffer, 1024);
        assert_eq!(config(&["--event-buffer", "16"]).unwrap().events.buffer, 16);
        assert_eq!(
            config(&["--event-buffer", "0"]).unwrap_err().to_string(),
            "--event-buffer must be at least 1"
        );
    }
}
