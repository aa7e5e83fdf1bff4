//! Sentences instead of library names: a server certificate refused by rustls reads
//! "invalid peer certificate: UnknownIssuer", a key that does not match its certificate
//! "KeyMismatch". These say which file is at fault and what to do.

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::path::Path;
use std::sync::Arc;

/// A certificate/key pair that rustls refused.
pub fn pair_error(cert: &Path, key: &Path, error: rustls::Error) -> String {
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => format!(
            "{} is not the private key of the certificate in {}: give the key the certificate \
             was issued for (or issue a new certificate for this key)",
            key.display(),
            cert.display()
        ),
        other => format!("{} / {}: {other}", cert.display(), key.display()),
    }
}

/// Checks server certificates as webpki does (`inner`; `None` when no CA is configured)
/// and words a refusal with the CA file and the setting `ca_setting` that names it.
#[derive(Debug)]
pub struct ExplainingVerifier {
    pub inner: Option<Arc<WebPkiServerVerifier>>,
    pub provider: Arc<CryptoProvider>,
    pub ca: Option<String>,
    pub ca_setting: &'static str,
}

impl ExplainingVerifier {
    fn explain(&self, cause: &CertificateError) -> String {
        let ca = match &self.ca {
            Some(ca) => ca,
            None => {
                return format!(
                    "no CA is configured to check the server's certificate: set {} to the CA \
                     that issued it",
                    self.ca_setting
                );
            }
        };
        match cause {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not issued by the CA in {ca}: set {} to the CA \
                 that issued it, or give the server a certificate from this CA",
                self.ca_setting
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("{cause}: use a URL with a name the certificate lists, or reissue it")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("{cause}: renew the server's certificate")
            }
            other => format!("{other} (checked against the CA in {ca}, {})", self.ca_setting),
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
            rustls::Error::InvalidCertificate(cause) => {
                let sentence: Box<dyn std::error::Error + Send + Sync> = self.explain(&cause).into();
                CertificateError::Other(OtherError(Arc::from(sentence))).into()
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
