//! Why an `[auth]` section cannot be put in force: `KeyError` for one key source (the file
//! and the library's cause), `AuthConfigError` for the section. Refusals of a request are
//! `AuthError`, in `error.rs`.

use crate::tls::TlsConfigError;
use jsonwebtoken::Algorithm;
use std::path::PathBuf;

/// A `[[auth.keys]]` entry that does not load.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The name as `echo` quotes it: it may come from a token's header.
    #[error("unknown algorithm \"{echoed}\"")]
    UnknownAlgorithm { echoed: String },
    #[error("alg is required with secret_file and public_key_file")]
    NoAlgorithm,
    #[error("a key needs exactly one of secret_file, public_key_file, jwks_file, jwks_url")]
    NoSource,
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not a JSON Web Key Set ({source})", path.display())]
    Jwks { path: PathBuf, source: serde_json::Error },
    #[error("{}: a secret needs an HS* algorithm, not {alg:?}", path.display())]
    SecretAlgorithm { path: PathBuf, alg: Algorithm },
    #[error("{}: {source}", path.display())]
    Secret { path: PathBuf, source: jsonwebtoken::errors::Error },
    #[error("{}: {}", path.display(), super::keys::explain(*alg, source, "public"))]
    PublicKey { path: PathBuf, alg: Algorithm, source: jsonwebtoken::errors::Error },
}

/// An `[auth]` section whose keys cannot be put in force.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("auth.leeway: {0}")]
    Leeway(#[source] humantime::DurationError),
    #[error("auth.keys: {0}")]
    Key(#[source] KeyError),
    #[error("auth.keys: no key configured (or set auth.mode = \"none\")")]
    NoKeys,
    /// A remote key set's `refresh_interval` or `min_refetch_interval`.
    #[error("auth.keys: {raw:?}: {source}")]
    Interval { raw: String, source: humantime::DurationError },
    #[error("jwks_url {url:?}: {source}")]
    JwksUrl { url: String, source: axum::http::uri::InvalidUri },
    #[error("jwks_url {url}: must be https")]
    JwksNotHttps { url: axum::http::Uri },
    /// The `jwks_ca` file.
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
}
