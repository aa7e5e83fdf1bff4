//! Verification keys: HMAC secrets, RSA/EC/Ed25519 public keys (PEM files), and JSON Web
//! Key Sets (a local file, or a provider's `jwks_uri` — see `jwks.rs`). Each key carries
//! the one algorithm it may verify, so a token cannot choose another (alg confusion).

use super::KeyError;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use std::path::PathBuf;
use std::str::FromStr;

/// One `[[auth.keys]]` entry: exactly one of the four sources.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeySource {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<String>,
    pub(crate) secret_file: Option<PathBuf>,
    pub(crate) public_key_file: Option<PathBuf>,
    pub(crate) jwks_file: Option<PathBuf>,
    pub(crate) jwks_url: Option<String>,
    /// Remote JWKS: how often to refresh (default 5m).
    pub(crate) refresh_interval: Option<String>,
    /// Remote JWKS: the least time between two fetches caused by unknown key ids (30s).
    pub(crate) min_refetch_interval: Option<String>,
}

#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for Key {
    // Key material never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

pub(crate) fn algorithm(name: &str) -> Result<Algorithm, KeyError> {
    // Named in a token's header too: echoed, not quoted whole.
    Algorithm::from_str(name).map_err(|_| KeyError::UnknownAlgorithm { echoed: crate::echo::echo(name) })
}

/// Loads a file-based source (secret, public key or JWKS file).
pub(crate) fn load(source: &KeySource) -> Result<Vec<Key>, KeyError> {
    let read =
        |path: &PathBuf| std::fs::read(path).map_err(|source| KeyError::Read { path: path.clone(), source });
    if let Some(path) = &source.jwks_file {
        let set: JwkSet = serde_json::from_slice(&read(path)?)
            .map_err(|source| KeyError::Jwks { path: path.clone(), source })?;
        return Ok(from_jwks(&set));
    }
    let alg = algorithm(source.alg.as_deref().ok_or(KeyError::NoAlgorithm)?)?;
    let key = match (&source.secret_file, &source.public_key_file) {
        (Some(path), None) => {
            let mut secret = read(path)?;
            if secret.last() == Some(&b'\n') {
                secret.pop();
            }
            if !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
                return Err(KeyError::SecretAlgorithm { path: path.clone(), alg });
            }
            DecodingKey::from_secret(&secret)
                .map_err(|source| KeyError::Secret { path: path.clone(), source })?
        }
        (None, Some(path)) => public_key(alg, &read(path)?).map_err(|source| KeyError::PublicKey {
            path: path.clone(),
            alg,
            source,
        })?,
        _ => return Err(KeyError::NoSource),
    };
    Ok(vec![Key { kid: source.kid.clone(), alg, key }])
}

/// Why a key file does not load, as a sentence with the fix: the library's own error
/// (`InvalidKeyFormat`) says neither. `half` is "public" or "private".
pub(crate) fn explain(alg: Algorithm, error: &jsonwebtoken::errors::Error, half: &str) -> String {
    let family = match alg {
        Algorithm::ES256 => "a P-256 EC",
        Algorithm::ES384 => "a P-384 EC",
        Algorithm::EdDSA => "an Ed25519",
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => return error.to_string(),
        _ => "an RSA",
    };
    match error.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => format!("{alg:?} does not take a {half} key"),
        _ => format!(
            "not {family} {half} key in PEM, which alg {alg:?} needs: check alg, and that the file \
             holds the {half} key (openssl pkey -in KEY -pubout makes the public one)"
        ),
    }
}

fn public_key(alg: Algorithm, pem: &[u8]) -> jsonwebtoken::errors::Result<DecodingKey> {
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => DecodingKey::from_rsa_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
        _ => Err(jsonwebtoken::errors::ErrorKind::InvalidAlgorithm.into()),
    }
}

/// The usable keys of a JWKS: each needs an algorithm, stated or implied by its type.
pub(crate) fn from_jwks(set: &JwkSet) -> Vec<Key> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            Some(Key {
                kid: jwk.common.key_id.clone(),
                alg: jwk_algorithm(jwk)?,
                key: DecodingKey::from_jwk(jwk).ok()?,
            })
        })
        .collect()
}

fn jwk_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if let Some(stated) = &jwk.common.key_algorithm {
        let name = serde_json::to_value(stated).ok()?;
        return algorithm(name.as_str()?).ok();
    }
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => Some(Algorithm::ES256),
            EllipticCurve::P384 => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
        // Secrets (and any future key type) must state their algorithm.
        _ => None,
    }
}
