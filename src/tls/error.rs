//! Why a TLS configuration cannot be built from its settings and files. Each text names
//! the file (or the setting) at fault and keeps the library's cause as the source;
//! `explain.rs` words the causes rustls names only by a code.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("tls.versions: empty; list \"1.2\", \"1.3\" or both")]
    NoVersions,
    /// A PEM file that cannot be read, or whose certificates cannot be parsed.
    #[error("{}: {source}", path.display())]
    Pem { path: PathBuf, source: rustls_pki_types::pem::Error },
    #[error("{}: no certificate found", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{}: no private key in PEM ({source}): give the key file, not the certificate", path.display())]
    NoKey { path: PathBuf, source: rustls_pki_types::pem::Error },
    /// A CA certificate that rustls does not accept as a trust anchor.
    #[error("{}: {source}", path.display())]
    Anchor { path: PathBuf, source: rustls::Error },
    #[error("{}: {source}", path.display())]
    Verifier { path: PathBuf, source: rustls::server::VerifierBuilderError },
    #[error(
        "{} is not the private key of the certificate in {}: give the key the certificate \
         was issued for (or issue a new certificate for this key)",
        key.display(),
        cert.display()
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// A certificate/key pair that rustls refused for another reason.
    #[error("{} / {}: {source}", cert.display(), key.display())]
    Pair { cert: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("client_cert and client_key go together")]
    HalfPair,
    #[error("{}: cannot read the validity of the certificate", path.display())]
    NoValidity { path: PathBuf },
    /// rustls's own refusals (protocol versions, the ticketer), which name no file.
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
}
