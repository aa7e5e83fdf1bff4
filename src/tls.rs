//! TLS for both roles, with rustls and its ring provider: listener configurations (TLS
//! 1.2/1.3, ALPN h2 + http/1.1, optional client-certificate authentication) that can be
//! reloaded without dropping established connections, client configurations for the
//! gateway's connections to agents (custom CA, optional client certificate), and the
//! expiry of a certificate for the metrics.

mod error;
mod explain;

pub use error::TlsConfigError;

use parking_lot::RwLock;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::hash::HashAlgorithm;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Makes ring the process-wide rustls provider (idempotent), so nothing can pick
/// another one by accident.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ring's suites with the SHA-384 ones last, for listeners that choose by their own order.
/// Every handshake, resumed ones too, runs a key schedule of a few dozen HMACs; with
/// SHA-384 (AES-256-GCM, which OpenSSL clients list first) they were 30 % of a resumed
/// handshake's instructions, and SHA-256 runs on the CPU's SHA extensions. AES-128-GCM
/// is TLS 1.3's mandatory suite; Go's crypto/tls server prefers it the same way.
fn listener_provider() -> Arc<rustls::crypto::CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|suite| {
        let common = match suite {
            SupportedCipherSuite::Tls13(suite) => &suite.common,
            SupportedCipherSuite::Tls12(suite) => &suite.common,
        };
        common.hash_provider.algorithm() == HashAlgorithm::SHA384
    });
    Arc::new(provider)
}

/// Files of a TLS listener.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsFiles {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    /// Require client certificates signed by this CA (mTLS).
    pub(crate) client_ca: Option<PathBuf>,
    /// Protocol versions offered, like nginx's `ssl_protocols`.
    #[serde(default = "TlsVersion::all")]
    pub(crate) versions: Vec<TlsVersion>,
}

/// A TLS protocol version a listener may speak. Resuming a TLS 1.2 session needs no key
/// exchange, a TLS 1.3 one does: a listener for clients that open a connection per
/// request may prefer 1.2 only.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub(crate) enum TlsVersion {
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

impl TlsVersion {
    pub(crate) fn all() -> Vec<TlsVersion> {
        vec![TlsVersion::Tls13, TlsVersion::Tls12]
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// Files for connecting to TLS servers.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientTlsFiles {
    pub ca: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl ServerTlsFiles {
    /// A listener's files, speaking every version.
    pub fn new(cert: PathBuf, key: PathBuf, client_ca: Option<PathBuf>) -> Self {
        ServerTlsFiles { cert, key, client_ca, versions: TlsVersion::all() }
    }

    /// Every file named, for the reload watcher.
    pub(crate) fn files(&self) -> impl Iterator<Item = PathBuf> + '_ {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()].into_iter().flatten().cloned()
    }
}

impl ClientTlsFiles {
    /// Every file named, for the reload watcher.
    pub(crate) fn files(&self) -> impl Iterator<Item = PathBuf> + '_ {
        [&self.ca, &self.client_cert, &self.client_key].into_iter().flatten().cloned()
    }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let pem = |source| TlsConfigError::Pem { path: path.to_owned(), source };
    let certs: Vec<_> =
        CertificateDer::pem_file_iter(path).map_err(pem)?.collect::<Result<_, _>>().map_err(pem)?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate { path: path.to_owned() });
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|source| TlsConfigError::NoKey { path: path.to_owned(), source })
}

fn roots(path: &Path) -> Result<Arc<RootCertStore>, TlsConfigError> {
    let mut store = RootCertStore::empty();
    for cert in certificates(path)? {
        store.add(cert).map_err(|source| TlsConfigError::Anchor { path: path.to_owned(), source })?;
    }
    Ok(Arc::new(store))
}

fn verifier_error(path: &Path) -> impl FnOnce(rustls::server::VerifierBuilderError) -> TlsConfigError {
    move |source| TlsConfigError::Verifier { path: path.to_owned(), source }
}

/// A listener configuration from its files; errors name the file and the cause.
pub(crate) fn server_config(files: &ServerTlsFiles) -> Result<Arc<ServerConfig>, TlsConfigError> {
    if files.versions.is_empty() {
        return Err(TlsConfigError::NoVersions);
    }
    let versions: Vec<_> = files.versions.iter().map(|v| v.rustls()).collect();
    let builder =
        ServerConfig::builder_with_provider(listener_provider()).with_protocol_versions(&versions)?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca)?, provider())
                .build()
                .map_err(verifier_error(ca))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certificates(&files.cert)?, private_key(&files.key)?)
        .map_err(|e| explain::pair_error(&files.cert, &files.key, e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Stateless tickets: resumption for any number of clients without a shared cache
    // (rustls's default holds 256 sessions behind one lock for all workers), and one
    // ticket per handshake, as a client that reconnects uses one at a time (the default 2
    // costs a second ticket's encryption on every handshake). A reload makes a new
    // ticketer, so a reloaded `client_ca` cannot be bypassed by resuming an older session.
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    config.send_tls13_tickets = 1;
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// A client configuration: the given CA (else no server is trusted), and a client
/// certificate when both its files are given.
pub fn client_config(files: &ClientTlsFiles) -> Result<Arc<ClientConfig>, TlsConfigError> {
    client_config_for(files, "ca")
}

/// `client_config`; a refused server certificate names `ca_setting`, the key that sets
/// the CA (`upstream_tls.ca`, `auth.jwks_ca`).
pub(crate) fn client_config_for(
    files: &ClientTlsFiles,
    ca_setting: &'static str,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    // No CA is allowed: https to agents then fails, with a reason, until one is set.
    let inner = match &files.ca {
        Some(ca) => Some(
            WebPkiServerVerifier::builder_with_provider(roots(ca)?, provider())
                .build()
                .map_err(verifier_error(ca))?,
        ),
        None => None,
    };
    let ca = files.ca.as_ref().map(|ca| ca.display().to_string());
    let verifier = explain::ExplainingVerifier { inner, provider: provider(), ca, ca_setting };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = match (&files.client_cert, &files.client_key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(certificates(cert)?, private_key(key)?)
            .map_err(|e| explain::pair_error(cert, key, e))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsConfigError::HalfPair),
    };
    Ok(Arc::new(config))
}

/// A listener configuration that SIGHUP can replace: new handshakes use the new one,
/// established connections keep theirs, and broken files leave the old one in force.
pub struct ReloadableServerConfig {
    files: RwLock<ServerTlsFiles>,
    current: RwLock<Arc<ServerConfig>>,
}

impl ReloadableServerConfig {
    pub fn load(files: ServerTlsFiles) -> Result<Self, TlsConfigError> {
        let config = server_config(&files)?;
        Ok(ReloadableServerConfig { files: RwLock::new(files), current: RwLock::new(config) })
    }

    /// The files in force.
    pub(crate) fn files(&self) -> ServerTlsFiles {
        self.files.read().clone()
    }

    pub(crate) fn current(&self) -> Arc<ServerConfig> {
        self.current.read().clone()
    }

    /// Rereads the files (or new ones); on error the running configuration stays.
    pub(crate) fn reload(&self, files: Option<ServerTlsFiles>) -> Result<(), TlsConfigError> {
        let files = files.unwrap_or_else(|| self.files.read().clone());
        let config = server_config(&files)?;
        *self.current.write() = config;
        *self.files.write() = files;
        Ok(())
    }

    /// notAfter of the served certificate, Unix seconds.
    pub(crate) fn not_after(&self) -> Result<i64, TlsConfigError> {
        not_after(&self.files.read().cert)
    }
}

/// notAfter of the first certificate in a PEM file, as Unix seconds; the error as text,
/// for callers outside the crate that compare results.
pub fn cert_not_after(path: &Path) -> Result<i64, String> {
    not_after(path).map_err(|e| e.to_string())
}

fn not_after(path: &Path) -> Result<i64, TlsConfigError> {
    let cert = certificates(path)?.remove(0);
    der::not_after(cert.as_ref()).ok_or_else(|| TlsConfigError::NoValidity { path: path.to_owned() })
}

/// Just enough DER to find `tbsCertificate.validity.notAfter` (RFC 5280 §4.1).
mod der {
    /// Splits one TLV off `input`: (tag, contents, rest).
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            (rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), &rest[n..])
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }

    pub(crate) fn not_after(cert: &[u8]) -> Option<i64> {
        let (_, certificate, _) = tlv(cert)?;
        let (_, tbs, _) = tlv(certificate)?;
        let mut rest = tbs;
        let (tag, _, after) = tlv(rest)?;
        if tag == 0xa0 {
            rest = after; // explicit version
        }
        for _ in 0..3 {
            rest = tlv(rest)?.2; // serialNumber, signature, issuer
        }
        let (_, validity, _) = tlv(rest)?;
        let (_, _, after_not_before) = tlv(validity)?;
        let (tag, time, _) = tlv(after_not_before)?;
        parse_time(tag, std::str::from_utf8(time).ok()?)
    }

    /// UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ`.
    fn parse_time(tag: u8, text: &str) -> Option<i64> {
        let digits = text.strip_suffix('Z')?;
        let (year, rest) = match (tag, digits.len()) {
            (0x17, 12) => {
                let yy: i64 = digits[..2].parse().ok()?;
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
            }
            (0x18, 14) => (digits[..4].parse().ok()?, &digits[4..]),
            _ => return None,
        };
        let field = |i: usize| rest.get(i..i + 2)?.parse::<i64>().ok();
        let (month, day, hour, minute, second) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
        Some(days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn times_of_both_kinds() {
            assert_eq!(super::parse_time(0x17, "700101000000Z"), Some(0));
            assert_eq!(super::parse_time(0x17, "491231235959Z"), Some(2524607999));
            assert_eq!(super::parse_time(0x18, "20380119031408Z"), Some(2147483648));
            assert_eq!(super::parse_time(0x18, "2038011903140Z"), None);
        }
    }
}
