//! Certificates and keys made at test time (never committed): a CA, server and client
//! certificates signed by it, and JWT signing keys of every kind.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use std::path::{Path, PathBuf};

pub struct Pki {
    pub dir: tempfile::TempDir,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "spp-ctl test CA");
        let cert = params.self_signed(&key).expect("CA certificate");
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).expect("write CA");
        Pki { dir, issuer: Issuer::new(params, key) }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// A server certificate for localhost/127.0.0.1 as `<name>.pem` and `<name>.key`;
    /// returns the DER of the certificate.
    pub fn server(&self, name: &str) -> Vec<u8> {
        self.leaf(name, &["localhost"], true)
    }

    /// A client certificate (for mTLS).
    pub fn client(&self, name: &str) -> Vec<u8> {
        self.leaf(name, &[], false)
    }

    fn leaf(&self, name: &str, dns: &[&str], server: bool) -> Vec<u8> {
        let key = KeyPair::generate().expect("leaf key");
        let mut params =
            CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>()).expect("params");
        if server {
            params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().expect("IP")));
        }
        params.distinguished_name.push(DnType::CommonName, name);
        params.not_after = rcgen::date_time_ymd(2031, 1, 1);
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        std::fs::write(self.path(&format!("{name}.pem")), cert.pem()).expect("write cert");
        std::fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).expect("write key");
        cert.der().to_vec()
    }
}

/// `(private PEM path, public PEM path)` of a fresh key for `alg` (ES256, ES384, EdDSA,
/// RS256), written into `dir` under `name`.
pub fn jwt_key(dir: &Path, name: &str, alg: &str) -> (PathBuf, PathBuf) {
    let (private, public) = (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")));
    if alg.starts_with("RS") || alg.starts_with("PS") {
        let run = |args: &[&str]| {
            let status = std::process::Command::new("openssl").args(args).status().expect("openssl runs");
            assert!(status.success(), "openssl {args:?}");
        };
        run(&[
            "genpkey",
            "-quiet",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            private.to_str().unwrap(),
        ]);
        run(&["pkey", "-in", private.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
        return (private, public);
    }
    let algorithm = match alg {
        "ES256" => &rcgen::PKCS_ECDSA_P256_SHA256,
        "ES384" => &rcgen::PKCS_ECDSA_P384_SHA384,
        "EdDSA" => &rcgen::PKCS_ED25519,
        other => panic!("no test key for {other}"),
    };
    let key = KeyPair::generate_for(algorithm).expect("key pair");
    std::fs::write(&private, key.serialize_pem()).expect("write private key");
    std::fs::write(&public, key.public_key_pem()).expect("write public key");
    (private, public)
}

/// A hyper client over rustls trusting `pki`'s CA, with the client certificate
/// `<client_cert>.pem` when given.
pub type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<axum::body::Bytes>,
>;

pub fn https_client(pki: &Pki, client_cert: Option<&str>) -> HttpsClient {
    let files = spp_ctl::tls::ClientTlsFiles {
        ca: Some(pki.ca()),
        client_cert: client_cert.map(|n| pki.path(&format!("{n}.pem"))),
        client_key: client_cert.map(|n| pki.path(&format!("{n}.key"))),
    };
    let config = (*spp_ctl::tls::client_config(&files).expect("client TLS")).clone();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .build();
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}
