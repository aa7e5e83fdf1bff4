//! Sentences instead of library names: a server certificate refused by rustls reads
//! "invalid peer certificate: UnknownIssuer", a key that does not match its certificate
//! "KeyMismatch". These say which file is at fault and what to do.

use super::TlsConfigError;
use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::Path;
use std::sync::Arc;

/// A certificate/key pair that rustls refused; a key of another certificate is said so.
pub(crate) fn pair_error(cert: &Path, key: &Path, error: rustls::Error) -> TlsConfigError {
    let (cert, key) = (cert.to_owned(), key.to_owned());
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsConfigError::KeyMismatch { cert, key }
        }
        source => TlsConfigError::Pair { cert, key, source },
    }
}

/// Checks server certificates as webpki does (`inner`; `None` when no CA is configured)
/// and words a refusal with the CA file and the setting `ca_setting` that names it.
#[derive(Debug)]
pub(crate) struct ExplainingVerifier {
    pub(crate) inner: Option<Arc<WebPkiServerVerifier>>,
    pub(crate) provider: Arc<CryptoProvider>,
    pub(crate) ca: Option<String>,
    pub(crate) ca_setting: &'static str,
}

impl ExplainingVerifier {
    fn explain(&self, cause: &CertificateError) -> String {
        let ca = match &self.ca {
            Some(ca) => ca,
            None => {
                return format!(
                    "server certificate refused: no CA is configured to check it: set {} to \
                     the CA that issued it",
                    self.ca_setting
                );
            }
        };
        match cause {
            CertificateError::UnknownIssuer => format!(
                "server certificate refused: it is not issued by the CA in {ca}: set {} to \
                 the CA that issued it, or give the server a certificate from this CA",
                self.ca_setting
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("server certificate refused: {cause}: use a URL with a name it lists")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("server certificate refused: {cause}: renew it")
            }
            other => format!("server certificate refused: {other} (CA {ca}, {})", self.ca_setting),
        }
    }
}

impl ServerCertVerifier for ExplainingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let outcome = match &self.inner {
            Some(inner) => {
                inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(CertificateError::UnknownIssuer.into()),
        };
        outcome.map_err(|error| match error {
            // Not `InvalidCertificate(Other(..))`: rustls prints that one with `Debug`.
            rustls::Error::InvalidCertificate(cause) => {
                let sentence: Box<dyn std::error::Error + Send + Sync> = self.explain(&cause).into();
                rustls::Error::Other(OtherError(Arc::from(sentence)))
            }
            other => other,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use crate::tls::{ClientTlsFiles, ServerTlsFiles, client_config_for, server_config};
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use std::path::Path;

    /// A CA in `dir` as `<name>-ca.pem`; with `leaf`, a localhost certificate it issued.
    fn ca(dir: &Path, name: &str, leaf: bool) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        std::fs::write(dir.join(format!("{name}-ca.pem")), params.self_signed(&key).unwrap().pem()).unwrap();
        if leaf {
            let issuer = Issuer::new(params, key);
            let key = KeyPair::generate().unwrap();
            let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &issuer);
            std::fs::write(dir.join("server.pem"), cert.unwrap().pem()).unwrap();
            std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
        }
    }

    /// The client's error of a handshake with a server whose CA the client lacks.
    async fn refusal(dir: &Path, client_ca: Option<&str>) -> String {
        crate::tls::install_crypto_provider();
        let files = ServerTlsFiles::new(dir.join("server.pem"), dir.join("server.key"), None);
        let acceptor = tokio_rustls::TlsAcceptor::from(server_config(&files).unwrap());
        let ca = client_ca.map(|name| dir.join(format!("{name}-ca.pem")));
        let client =
            client_config_for(&ClientTlsFiles { ca, ..Default::default() }, "upstream_tls.ca").unwrap();
        let (near, far) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move { acceptor.accept(far).await });
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let refused = tokio_rustls::TlsConnector::from(client).connect(name, near).await;
        refused.map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn a_listener_without_versions_is_refused_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        ca(dir.path(), "real", true);
        let mut files =
            ServerTlsFiles::new(dir.path().join("server.pem"), dir.path().join("server.key"), None);
        files.versions.clear();
        assert_eq!(
            server_config(&files).map(|_| ()).unwrap_err().to_string(),
            "tls.versions: empty; list \"1.2\", \"1.3\" or both"
        );
    }

    #[test]
    fn a_certificate_given_as_the_key_is_refused_with_the_pem_cause() {
        let dir = tempfile::tempdir().unwrap();
        ca(dir.path(), "real", true);
        let cert = dir.path().join("server.pem");
        let error =
            server_config(&ServerTlsFiles::new(cert.clone(), cert.clone(), None)).map(|_| ()).unwrap_err();
        let cause =
            std::error::Error::source(&error).and_then(|e| e.downcast_ref::<rustls_pki_types::pem::Error>());
        assert!(matches!(cause, Some(rustls_pki_types::pem::Error::NoItemsFound)), "{cause:?}");
        assert_eq!(
            error.to_string(),
            format!(
                "{}: no private key in PEM (no items found): give the key file, not the certificate",
                cert.display()
            )
        );
    }

    #[tokio::test]
    async fn d15_an_untrusted_server_certificate_names_the_ca_file_and_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        ca(dir.path(), "real", true);
        ca(dir.path(), "other", false);
        let other = dir.path().join("other-ca.pem");
        assert_eq!(
            refusal(dir.path(), Some("other")).await,
            format!(
                "other error: server certificate refused: it is not issued by the CA in {}: set \
                 upstream_tls.ca to the CA that issued it, or give the server a certificate from this CA",
                other.display()
            )
        );
        assert_eq!(
            refusal(dir.path(), None).await,
            "other error: server certificate refused: no CA is configured to check it: set \
             upstream_tls.ca to the CA that issued it"
        );
    }
}
