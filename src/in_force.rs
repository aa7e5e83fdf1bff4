//! Why a configuration cannot be put in force: its file, the certificates, keys and JWKS
//! it names, or the agent URLs it lists. One error for an agent's start and reload, a
//! gateway's reload and `--check` of both, so each prints the same line for the same fault.

use crate::agent::config::AgentConfigError;
use crate::auth::AuthConfigError;
use crate::gateway::config::LoadError;
use crate::gateway::upstream::AgentUrlError;
use crate::tls::TlsConfigError;
use std::fmt::Display;

#[derive(Debug, thiserror::Error)]
pub enum InForceError {
    /// The gateway's configuration file.
    #[error(transparent)]
    Config(#[from] LoadError),
    /// The agent's `--auth-config` file, reread.
    #[error(transparent)]
    AuthFile(#[from] AgentConfigError),
    #[error("no [auth] section")]
    NoAuthSection,
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
    #[error(transparent)]
    Auth(#[from] AuthConfigError),
    #[error(transparent)]
    AgentUrl(#[from] AgentUrlError),
}

/// A role's start-up failure as an `InvalidInput` error with the text only: an `io::Error`
/// holding the error itself would report its causes again, which the text already names.
pub(crate) fn invalid_input(e: impl Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
}
