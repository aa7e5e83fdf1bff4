//! JWT bearer authentication and scope/host authorization, shared by the gateway and the
//! agent. `Verifier::verify` turns an `Authorization` header into a `Principal` or an
//! `AuthError`; key files are reloadable and a broken reload keeps the old keys.

pub(crate) mod claims;
mod config_error;
pub(crate) mod error;
pub(crate) mod guard;
pub(crate) mod jwks;
pub(crate) mod keys;

pub(crate) use claims::Principal;
pub use config_error::{AuthConfigError, KeyError};
pub(crate) use error::AuthError;

use base64::Engine;
use claims::RawClaims;
use jsonwebtoken::{Algorithm, Validation};
use jwks::RemoteJwks;
use keys::{Key, KeySource};
use parking_lot::RwLock;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// The `[auth]` section.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// `jwt` (default) or `none` (no authentication: development only).
    #[serde(default = "default_mode")]
    pub(crate) mode: String,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    #[serde(default = "default_leeway")]
    pub(crate) leeway: String,
    #[serde(default)]
    pub(crate) keys: Vec<KeySource>,
    /// CA that signs the identity provider's certificate (for `jwks_url`).
    pub(crate) jwks_ca: Option<PathBuf>,
}

fn default_mode() -> String {
    "jwt".to_owned()
}
fn default_leeway() -> String {
    "30s".to_owned()
}

impl AuthConfig {
    pub(crate) fn is_none(&self) -> bool {
        self.mode == "none"
    }

    /// Every key file and CA named, for the reload watcher.
    pub(crate) fn files(&self) -> impl Iterator<Item = PathBuf> + '_ {
        let keys = self.keys.iter().flat_map(|k| [&k.secret_file, &k.public_key_file, &k.jwks_file]);
        keys.chain([&self.jwks_ca]).flatten().cloned()
    }
}

/// Verified keys and the rules for one configuration.
struct KeyRing {
    keys: Vec<Key>,
    remotes: Vec<Arc<RemoteJwks>>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    /// Stops the refresh tasks of these remotes when the ring is replaced.
    stop: CancellationToken,
}

pub(crate) struct Verifier {
    ring: RwLock<Arc<KeyRing>>,
    /// Tokens verified recently, until their `exp`: clients resend the same token on
    /// every request, and verifying a signature costs more than proxying the request.
    /// Emptied when the keys change.
    verified: parking_lot::Mutex<std::collections::HashMap<TokenTail, Verified>>,
}

/// The last bytes of a token (its signature's): the cache key. Hashing whole tokens cost
/// more than the rest of the check; the full token is still compared on a hit.
type TokenTail = [u8; 16];

struct Verified {
    token: String,
    principal: Principal,
    until: i64,
}

fn tail(token: &str) -> TokenTail {
    let bytes = token.as_bytes();
    let mut tail = [0; 16];
    let start = bytes.len().saturating_sub(tail.len());
    tail[..bytes.len() - start].copy_from_slice(&bytes[start..]);
    tail
}

/// Bound of the verified-token cache; when full it starts over.
const VERIFIED_CAPACITY: usize = 4096;

impl Verifier {
    /// Loads every key source; remote sets are fetched once now (a failure leaves them
    /// empty until the provider answers) and then refreshed in the background.
    pub(crate) async fn new(config: &AuthConfig) -> Result<Self, AuthConfigError> {
        Ok(Verifier { ring: RwLock::new(Arc::new(build(config).await?)), verified: Default::default() })
    }

    /// Replaces the keys; on error the running ones stay.
    pub(crate) async fn reload(&self, config: &AuthConfig) -> Result<(), AuthConfigError> {
        let ring = Arc::new(build(config).await?);
        let old = std::mem::replace(&mut *self.ring.write(), ring);
        old.stop.cancel();
        self.verified.lock().clear();
        Ok(())
    }

    pub(crate) async fn verify(
        &self,
        authorization: Option<&axum::http::HeaderValue>,
    ) -> Result<Principal, AuthError> {
        let token = bearer(authorization)?;
        if let Some(hit) = self.verified.lock().get(&tail(token))
            && hit.token == token
            && unix_now() < hit.until
        {
            return Ok(hit.principal.clone());
        }
        // Boxed: the cache answers nearly every request, and the signature check (with a
        // possible JWKS fetch) would otherwise make every request's future large.
        let (principal, until) = Box::pin(self.verify_signature(token)).await?;
        let mut verified = self.verified.lock();
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        let entry = Verified { token: token.to_owned(), principal: principal.clone(), until };
        verified.insert(tail(token), entry);
        Ok(principal)
    }

    async fn verify_signature(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        let (alg, kid) = peek_header(token)?;
        let ring = self.ring.read().clone();
        let mut candidates = ring.candidates(kid.as_deref(), alg);
        if candidates.is_empty() && kid.is_some() && !ring.remotes.is_empty() {
            for remote in &ring.remotes {
                remote.refetch_for_unknown_kid().await;
            }
            candidates = ring.candidates(kid.as_deref(), alg);
        }
        if candidates.is_empty() {
            return Err(match kid {
                Some(kid) => AuthError::UnknownKid(crate::echo::echo(&kid)),
                None => AuthError::Algorithm(format!("no key for {alg:?}")),
            });
        }
        let mut refused = AuthError::Signature;
        for key in candidates {
            if key.alg != alg {
                refused = AuthError::Algorithm(format!(
                    "key {:?} verifies {:?} only",
                    key.kid.as_deref().unwrap_or(""),
                    key.alg
                ));
                continue;
            }
            match jsonwebtoken::decode::<RawClaims>(token, &key.key, &ring.validation(alg)) {
                Ok(data) => return ring.admit(data.claims),
                Err(e) => {
                    refused = match e.kind() {
                        jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(_) => ring.missing(token),
                        _ => map_error(e),
                    };
                    // Only a bad signature can be another key's token (rotation).
                    if refused != AuthError::Signature {
                        return Err(refused);
                    }
                }
            }
        }
        Err(refused)
    }
}

impl KeyRing {
    /// Keys with the token's `kid`; without a `kid`, every key of the token's algorithm.
    fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Vec<Key> {
        let remote: Vec<Arc<Vec<Key>>> = self.remotes.iter().map(|r| r.keys()).collect();
        let all = self.keys.iter().chain(remote.iter().flat_map(|k| k.iter()));
        match kid {
            Some(kid) => all.filter(|k| k.kid.as_deref() == Some(kid)).cloned().collect(),
            None => all.filter(|k| k.alg == alg).cloned().collect(),
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&self.required());
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
        }
        validation
    }

    /// The library checks `iss`/`aud` only when a token carries them: a configured
    /// issuer or audience must also make the claim required.
    fn required(&self) -> Vec<&'static str> {
        let mut required = vec!["exp"];
        required.extend(self.issuer.as_ref().map(|_| "iss"));
        required.extend(self.audience.as_ref().map(|_| "aud"));
        required
    }

    /// Every required claim `token` lacks, in a fixed order: the library names one of
    /// them, picked by hash order, so the same token got different answers.
    fn missing(&self, token: &str) -> AuthError {
        let payload = token.split('.').nth(1).and_then(|p| {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok()?;
            serde_json::from_slice::<serde_json::Value>(&bytes).ok()
        });
        let lacks = |claim: &&str| payload.as_ref().is_none_or(|p| p.get(claim).is_none());
        let missing: Vec<&str> = self.required().into_iter().filter(lacks).collect();
        AuthError::Malformed(match missing.as_slice() {
            [one] => format!("{one} is required"),
            [first @ .., last] => format!("{} and {last} are required", first.join(", ")),
            [] => "a required claim is missing".to_owned(),
        })
    }

    /// Checks what the library does not (`iat` must not lie in the future); returns the
    /// caller and the time its token stops being accepted.
    fn admit(&self, claims: RawClaims) -> Result<(Principal, i64), AuthError> {
        let leeway = self.leeway as i64;
        if claims.iat.is_some_and(|iat| iat > unix_now() + leeway) {
            return Err(AuthError::NotYetValid);
        }
        let until = claims.exp.unwrap_or(0) + leeway;
        Ok((Principal::from_claims(claims), until))
    }
}

async fn build(config: &AuthConfig) -> Result<KeyRing, AuthConfigError> {
    let leeway = humantime::parse_duration(&config.leeway).map_err(AuthConfigError::Leeway)?.as_secs();
    let stop = CancellationToken::new();
    let mut keys = Vec::new();
    let mut remotes = Vec::new();
    for source in &config.keys {
        match &source.jwks_url {
            Some(url) => remotes.push(remote(config, source, url, &stop).await?),
            None => keys.extend(keys::load(source).map_err(AuthConfigError::Key)?),
        }
    }
    if keys.is_empty() && remotes.is_empty() {
        return Err(AuthConfigError::NoKeys);
    }
    Ok(KeyRing {
        keys,
        remotes,
        issuer: config.issuer.clone(),
        audience: config.audience.clone(),
        leeway,
        stop,
    })
}

async fn remote(
    config: &AuthConfig,
    source: &KeySource,
    url: &str,
    stop: &CancellationToken,
) -> Result<Arc<RemoteJwks>, AuthConfigError> {
    let interval = |raw: &Option<String>, default: u64| -> Result<Duration, AuthConfigError> {
        raw.as_deref().map_or(Ok(Duration::from_secs(default)), |r| {
            humantime::parse_duration(r)
                .map_err(|source| AuthConfigError::Interval { raw: r.to_owned(), source })
        })
    };
    let files = crate::tls::ClientTlsFiles { ca: config.jwks_ca.clone(), ..Default::default() };
    let tls = crate::tls::client_config_for(&files, "auth.jwks_ca")?;
    let jwks = Arc::new(RemoteJwks::new(
        url,
        tls,
        interval(&source.refresh_interval, 300)?,
        interval(&source.min_refetch_interval, 30)?,
    )?);
    if let Err(e) = jwks.fetch().await {
        warn!(url, error = %e, "identity provider unreachable; its keys will be fetched later");
    }
    tokio::spawn(jwks.clone().run(stop.clone()));
    Ok(jwks)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(authorization: Option<&axum::http::HeaderValue>) -> Result<&str, AuthError> {
    let value = authorization
        .ok_or(AuthError::Missing)?
        .to_str()
        .map_err(|_| AuthError::Malformed("not ASCII".into()))?;
    let (scheme, token) =
        value.split_once(' ').ok_or_else(|| AuthError::Malformed("expected \"Bearer <token>\"".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed("expected \"Bearer <token>\"".into()));
    }
    Ok(token.trim())
}

/// `alg` and `kid` of the token's header, read before choosing a key. `none` is refused
/// here, whatever its spelling.
fn peek_header(token: &str) -> Result<(Algorithm, Option<String>), AuthError> {
    let malformed = |why: &str| AuthError::Malformed(why.to_owned());
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three dot-separated parts"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| malformed("header is not base64url"))?;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| malformed("header is not JSON"))?;
    let alg = header.get("alg").and_then(|a| a.as_str()).ok_or_else(|| malformed("header has no alg"))?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(AuthError::Algorithm("none is never accepted".to_owned()));
    }
    let alg = keys::algorithm(alg).map_err(|e| AuthError::Algorithm(e.to_string()))?;
    let kid = header.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
    Ok((alg, kid))
}

fn map_error(error: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature => AuthError::Signature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::Issuer,
        ErrorKind::InvalidAudience => AuthError::Audience,
        ErrorKind::InvalidAlgorithm => AuthError::Algorithm("does not match the key".to_owned()),
        _ => AuthError::Malformed("cannot be decoded".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{TokenArgs, mint};
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn d15_a_token_without_iss_and_aud_always_gets_the_same_answer() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("hs256.secret");
        std::fs::write(&key, "a secret of thirty-two bytes....").unwrap();
        let config: AuthConfig = toml::from_str(&format!(
            "issuer = \"me\"\naudience = \"spp\"\n[[keys]]\nalg = \"HS256\"\nsecret_file = {key:?}\n"
        ))
        .unwrap();
        let verifier = Verifier::new(&config).await.unwrap();
        let args = TokenArgs {
            key,
            alg: "HS256".into(),
            sub: "ops".into(),
            scope: "spp:read".into(),
            hosts: None,
            ttl: "1h".into(),
            kid: None,
            iss: None,
            aud: None,
        };
        let bearer = HeaderValue::from_str(&format!("Bearer {}", mint(&args).unwrap())).unwrap();
        // The library names one missing claim, chosen by hash order: ask often.
        for _ in 0..32 {
            let refused = verifier.verify(Some(&bearer)).await.unwrap_err();
            assert_eq!(refused.to_string(), "malformed token: iss and aud are required");
        }
    }

    #[tokio::test]
    async fn a_cached_token_is_matched_whole_not_by_its_tail() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("hs256.secret");
        std::fs::write(&key, "a secret of thirty-two bytes....").unwrap();
        let config: AuthConfig =
            toml::from_str(&format!("[[keys]]\nalg = \"HS256\"\nsecret_file = {:?}\n", key)).unwrap();
        let verifier = Verifier::new(&config).await.unwrap();
        let args = |sub: &str, scope: &str| TokenArgs {
            key: key.clone(),
            alg: "HS256".into(),
            sub: sub.into(),
            scope: scope.into(),
            hosts: None,
            ttl: "1h".into(),
            kid: None,
            iss: None,
            aud: None,
        };
        let bearer = |token: &str| HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        let alice = mint(&args("alice", "spp:read")).unwrap();
        assert_eq!(&*verifier.verify(Some(&bearer(&alice))).await.unwrap().sub, "alice");
        // Another token with alice's signature, hence her cache key: refused, not taken
        // for alice's from the cache.
        let mallory = mint(&args("mallory", "spp:admin")).unwrap();
        let (claims, _) = mallory.rsplit_once('.').unwrap();
        let (_, signature) = alice.rsplit_once('.').unwrap();
        let forged = format!("{claims}.{signature}");
        assert_eq!(tail(&forged), tail(&alice));
        assert!(verifier.verify(Some(&bearer(&forged))).await.is_err());
        assert_eq!(&*verifier.verify(Some(&bearer(&alice))).await.unwrap().sub, "alice");
    }
}
