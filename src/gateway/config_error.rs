//! Why the gateway's configuration is refused: `LoadError` names the file, `ConfigError`
//! the key at fault, `OverrideError` a `--set` that cannot be applied. `TomlError` places
//! a TOML error at its line and column (the agent's `--auth-config` uses it too).

use crate::gateway::upstream::AgentUrlError;
use std::fmt;
use std::net::AddrParseError;
use std::path::PathBuf;

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Invalid { path: PathBuf, source: ConfigError },
}

/// What is wrong in a configuration, by key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Toml(#[from] TomlError),
    #[error(transparent)]
    Override(#[from] OverrideError),
    /// The first override after which the configuration no longer deserializes.
    #[error("--set {key}={value} (or {}): {}", variable(key), .source.message())]
    Overridden { key: String, value: String, source: Box<toml::de::Error> },
    #[error("tls: missing; set insecure_plaintext = true to serve plain HTTP")]
    NoTls,
    #[error("auth: missing; set mode = \"none\" to run without authentication")]
    NoAuth,
    #[error("auth.mode: {mode:?}: expected \"jwt\" or \"none\"")]
    AuthMode { mode: String },
    #[error("agents.host: invalid host name {host:?}")]
    HostName { host: String },
    #[error("agents.host: {host:?} is listed twice")]
    HostTwice { host: String },
    #[error("agents.url of {host}: {source}")]
    AgentUrl { host: String, source: AgentUrlError },
    #[error("discovery.scheme: {scheme:?}: expected http or https")]
    Scheme { scheme: String },
    #[error("{key}: {raw:?}: {source}")]
    Address { key: &'static str, raw: String, source: AddrParseError },
    #[error("{key}: {raw:?}: {source}")]
    Duration { key: &'static str, raw: String, source: humantime::DurationError },
    #[error("{key}: must be longer than zero")]
    ZeroDuration { key: &'static str },
}

/// The environment variable that sets `key` (`timeouts.request`:
/// `SPP_CTL_GW__TIMEOUTS__REQUEST`).
fn variable(key: &str) -> String {
    format!("SPP_CTL_GW__{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// A `--set` flag (or `SPP_CTL_GW__*` variable) that names no key.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("--set {flag:?}: expected KEY=VALUE, e.g. timeouts.request=5s")]
    NoValue { flag: String },
    #[error("--set {key:?}: empty key")]
    EmptyKey { key: String },
    #[error("--set {key}: {part} is not a section")]
    NotASection { key: String, part: String },
}

/// A TOML error as `line L, column C: message`, or the message alone when the error has
/// no place (a value typed after the overrides were applied).
#[derive(Debug)]
pub struct TomlError {
    at: Option<(usize, usize)>,
    source: Box<toml::de::Error>,
}

impl TomlError {
    /// `source`, placed in `text`.
    pub(crate) fn in_text(text: &str, source: toml::de::Error) -> Self {
        let at = source.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        });
        TomlError { at, source: Box::new(source) }
    }

    pub(crate) fn unplaced(source: toml::de::Error) -> Self {
        TomlError { at: None, source: Box::new(source) }
    }
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.at {
            write!(f, "line {line}, column {column}: ")?;
        }
        f.write_str(self.source.message())
    }
}

impl std::error::Error for TomlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}
