//! JWT authentication and authorization at the gateway, with keys made at test time:
//! every refusal reason, scopes, host claims, key rotation, every key type, and a remote
//! JWKS served over real TLS.

mod common;

use common::certs::{Pki, jwt_key};
use common::gateway::{TestGateway, agents_toml, with_auth};
use common::jwt::Seen;
use common::{TestAgent, eventually};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use spp_ctl::token::{TokenArgs, mint};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ISS: &str = "https://idp.test";
const AUD: &str = "spp";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Self {
        let keys = Keys { dir: tempfile::tempdir().unwrap() };
        std::fs::write(keys.path("hs1.secret"), "first-secret-of-32-bytes-or-more!!\n").unwrap();
        std::fs::write(keys.path("hs2.secret"), "second-secret-of-32-bytes-or-more!").unwrap();
        for (name, alg) in [("es", "ES256"), ("rs", "RS256"), ("ed", "EdDSA")] {
            jwt_key(keys.dir.path(), name, alg);
        }
        keys
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn auth_toml(&self) -> String {
        let key = |kid: &str, alg: &str, kind: &str, file: &str| {
            format!(
                "[[auth.keys]]\nkid = \"{kid}\"\nalg = \"{alg}\"\n{kind} = \"{}\"\n",
                self.path(file).display()
            )
        };
        format!(
            "[auth]\nmode = \"jwt\"\nissuer = \"{ISS}\"\naudience = \"{AUD}\"\nleeway = \"5s\"\n{}{}{}{}{}",
            key("hs-1", "HS256", "secret_file", "hs1.secret"),
            key("hs-2", "HS256", "secret_file", "hs2.secret"),
            key("es-1", "ES256", "public_key_file", "es.pub"),
            key("rs-1", "RS256", "public_key_file", "rs.pub"),
            key("ed-1", "EdDSA", "public_key_file", "ed.pub"),
        )
    }

    /// A token from `spp-ctl token`.
    fn token(&self, file: &str, alg: &str, kid: Option<&str>, scope: &str, hosts: Option<&str>) -> String {
        mint(&TokenArgs {
            key: self.path(file),
            alg: alg.into(),
            sub: "alice".into(),
            scope: scope.into(),
            hosts: hosts.map(str::to_owned),
            ttl: "5m".into(),
            kid: kid.map(str::to_owned),
            iss: Some(ISS.into()),
            aud: Some(AUD.into()),
        })
        .expect("token minted")
    }

    /// An HS256 token with arbitrary claims, signed with hs1.secret.
    fn custom(&self, claims: Value) -> String {
        let secret = std::fs::read(self.path("hs1.secret")).unwrap();
        let key = EncodingKey::from_secret(secret.strip_suffix(b"\n").unwrap()).unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("hs-1".into());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

fn claims(extra: Value) -> Value {
    let mut base =
        json!({"sub": "bob", "scope": "spp:admin", "iss": ISS, "aud": AUD, "exp": now() + 300, "iat": now()});
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    base
}

async fn call(gateway: &TestGateway, method: reqwest::Method, path: &str, token: Option<&str>) -> Seen {
    common::jwt::call(&gateway.url(path), method, token).await
}

async fn gateway_with(keys: &Keys, agents: &[(&str, std::net::SocketAddr)]) -> TestGateway {
    TestGateway::start(&with_auth(&agents_toml(agents), &keys.auth_toml())).await
}

#[tokio::test]
async fn every_refusal_reason_with_its_status_and_challenge() {
    let keys = Keys::new();
    let agent = TestAgent::start().await;
    let gateway = gateway_with(&keys, &[("h1", agent.addrs.api)]).await;
    let path = "/v1/hosts/h1/processes";
    let rsa_public = std::fs::read(keys.path("rs.pub")).unwrap();
    let confused = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rs-1".into());
        jsonwebtoken::encode(&header, &claims(json!({})), &EncodingKey::from_secret(&rsa_public).unwrap())
            .unwrap()
    };
    let none = {
        use base64::Engine;
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims(json!({}))))
    };
    let wrong_secret = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("hs-1".into());
        jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(b"not-the-secret").unwrap(),
        )
        .unwrap()
    };
    let cases: Vec<(Option<String>, &str, &str)> = vec![
        (None, "missing bearer token", "missing"),
        (Some("not-a-jwt".into()), "malformed token: not three dot-separated parts", "malformed"),
        (Some(wrong_secret), "token signature does not verify", "signature"),
        (Some(keys.custom(claims(json!({"exp": now() - 60})))), "token expired", "expired"),
        (Some(keys.custom(claims(json!({"nbf": now() + 60})))), "token not valid yet", "not_yet_valid"),
        (Some(keys.custom(claims(json!({"iat": now() + 60})))), "token not valid yet", "not_yet_valid"),
        (
            Some(keys.custom(claims(json!({"iss": "https://evil.test"})))),
            "token issuer not accepted",
            "issuer",
        ),
        (Some(keys.custom(claims(json!({"aud": "other"})))), "token audience not accepted", "audience"),
        (
            Some(keys.custom(json!({"sub": "x", "scope": "spp:admin", "aud": AUD, "exp": now() + 60}))),
            "malformed token: iss is required",
            "malformed",
        ),
        (
            Some(keys.custom(json!({"sub": "x", "scope": "spp:admin", "iss": ISS, "exp": now() + 60}))),
            "malformed token: aud is required",
            "malformed",
        ),
        (
            Some(keys.custom(json!({"sub": "x", "scope": "spp:admin", "iss": ISS, "aud": AUD}))),
            "malformed token: exp is required",
            "malformed",
        ),
        (Some(none), "token algorithm not accepted: none is never accepted", "algorithm"),
        (Some(confused), "token algorithm not accepted: key \"rs-1\" verifies RS256 only", "algorithm"),
        (
            Some(keys.token("es.key", "ES256", Some("es-9"), "spp:read", None)),
            "unknown key id \"es-9\"",
            "unknown_kid",
        ),
    ];
    for (token, body, reason) in &cases {
        let seen = call(&gateway, reqwest::Method::GET, path, token.as_deref()).await;
        assert_eq!((seen.status, seen.body.as_str()), (401, *body), "{reason}");
        let challenge = seen.challenge.unwrap();
        if *reason == "missing" {
            assert_eq!(challenge, r#"Bearer realm="spp-ctl""#);
        } else {
            assert!(
                challenge
                    .starts_with(r#"Bearer realm="spp-ctl", error="invalid_token", error_description=""#),
                "{challenge}"
            );
        }
        if let Some(token) = token {
            assert!(
                !seen.body.contains(token.as_str()) && !challenge.contains(token.as_str()),
                "the token is echoed"
            );
        }
    }
    let metrics = reqwest::get(gateway.url("/metrics")).await.unwrap().text().await.unwrap();
    for (reason, count) in
        [("missing", 1), ("malformed", 4), ("not_yet_valid", 2), ("algorithm", 2), ("unknown_kid", 1)]
    {
        let line = format!("spp_gateway_auth_failures_total{{reason=\"{reason}\"}} {count}");
        assert!(metrics.contains(&line), "missing {line} in\n{metrics}");
    }
}

#[tokio::test]
async fn every_key_type_and_rotation_verify() {
    let keys = Keys::new();
    let agent = TestAgent::start().await;
    let gateway = gateway_with(&keys, &[("h1", agent.addrs.api)]).await;
    for (file, alg, kid) in [
        ("hs1.secret", "HS256", Some("hs-1")),
        ("hs2.secret", "HS256", Some("hs-2")),
        // Without a kid every key of the algorithm is tried: the second secret still works.
        ("hs2.secret", "HS256", None),
        ("es.key", "ES256", Some("es-1")),
        ("es.key", "ES256", None),
        ("rs.key", "RS256", Some("rs-1")),
        ("ed.key", "EdDSA", Some("ed-1")),
    ] {
        let token = keys.token(file, alg, kid, "spp:read", None);
        let seen = call(&gateway, reqwest::Method::GET, "/v1/hosts/h1/processes", Some(&token)).await;
        assert_eq!((seen.status, seen.body.as_str()), (200, "[]"), "{alg} {kid:?}");
    }
}

#[tokio::test]
async fn scopes_and_host_claims_authorize() {
    let keys = Keys::new();
    let one = TestAgent::start().await;
    let two = TestAgent::start().await;
    let gateway = gateway_with(&keys, &[("compute-1", one.addrs.api), ("edge-1", two.addrs.api)]).await;
    let reader = keys.token("es.key", "ES256", Some("es-1"), "spp:read", Some("compute-*"));
    let seen =
        call(&gateway, reqwest::Method::PUT, "/v1/hosts/compute-1/nfvs/1/forward", Some(&reader)).await;
    assert_eq!((seen.status, seen.body.as_str()), (403, "insufficient scope: spp:write needed"));
    assert_eq!(
        seen.challenge.as_deref(),
        Some(r#"Bearer realm="spp-ctl", error="insufficient_scope", scope="spp:write""#)
    );
    let seen = call(&gateway, reqwest::Method::GET, "/v1/hosts/edge-1/processes", Some(&reader)).await;
    assert_eq!((seen.status, seen.body.as_str()), (403, "token does not allow host edge-1"));
    let seen = call(&gateway, reqwest::Method::GET, "/v1/cluster/processes", Some(&reader)).await;
    assert_eq!((seen.status, seen.body.as_str()), (200, r#"{"processes": [], "errors": []}"#));
    eventually("both hosts listed", || gateway.running.hosts.len() == 2).await;
    let listed: Value =
        serde_json::from_str(&call(&gateway, reqwest::Method::GET, "/v1/hosts", Some(&reader)).await.body)
            .unwrap();
    assert_eq!(
        listed.as_array().unwrap().iter().map(|h| h["host"].as_str().unwrap()).collect::<Vec<_>>(),
        ["compute-1"]
    );
    let writer = keys.token("es.key", "ES256", Some("es-1"), "spp:write", None);
    let seen = call(&gateway, reqwest::Method::PUT, "/v1/hosts/edge-1/nfvs/1/forward", Some(&writer)).await;
    assert_eq!((seen.status, seen.body.as_str()), (404, "sec_id 1 not found."), "the agent answered");
    let anonymous = call(&gateway, reqwest::Method::GET, "/healthz", None).await;
    assert_eq!(anonymous.status, 200, "health needs no token");
}

#[tokio::test]
async fn a_broken_key_file_on_reload_keeps_the_old_keys() {
    let keys = Keys::new();
    let agent = TestAgent::start().await;
    let gateway = gateway_with(&keys, &[("h1", agent.addrs.api)]).await;
    let token = keys.token("es.key", "ES256", Some("es-1"), "spp:read", None);
    std::fs::write(keys.path("es.pub"), "-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n")
        .unwrap();
    let refused = spp_ctl::gateway::reload::reload(
        &gateway.running,
        &spp_ctl::gateway::reload::Source::file(&gateway.config_file),
    )
    .await;
    assert!(refused.unwrap_err().contains("es.pub"), "the error names the file");
    let seen = call(&gateway, reqwest::Method::GET, "/v1/hosts/h1/processes", Some(&token)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
}

/// An HTTPS server of a JWKS whose content the test changes, counting fetches.
struct Idp {
    jwks: Arc<parking_lot::Mutex<String>>,
    fetches: Arc<AtomicUsize>,
    stop: tokio_util::sync::CancellationToken,
    url: String,
}

async fn idp(pki: &Pki) -> Idp {
    pki.server("idp");
    let tls = spp_ctl::tls::ReloadableServerConfig::load(spp_ctl::tls::ServerTlsFiles::new(
        pki.path("idp.pem"),
        pki.path("idp.key"),
        None,
    ))
    .unwrap();
    let jwks = Arc::new(parking_lot::Mutex::new(r#"{"keys": []}"#.to_owned()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (served, counted) = (jwks.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            let body = served.lock().clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/jwks", listener.local_addr().unwrap().port());
    let stop = tokio_util::sync::CancellationToken::new();
    let limits = spp_ctl::http_server::ServerLimits {
        header_timeout: std::time::Duration::from_secs(5),
        body_timeout: std::time::Duration::from_secs(5),
        idle_timeout: std::time::Duration::from_secs(5),
        max_connections: 16,
        grace_period: std::time::Duration::from_millis(100),
        workers: 0,
    };
    tokio::spawn(spp_ctl::http_server::serve(listener, app, limits, Some(Arc::new(tls)), stop.clone()));
    Idp { jwks, fetches, stop, url }
}

fn jwk_set(dir: &Path, kids: &[&str]) -> String {
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| {
            let pem = std::fs::read(dir.join(format!("{kid}.key"))).unwrap();
            let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(
                &EncodingKey::from_ec_pem(&pem).unwrap(),
                Algorithm::ES256,
            )
            .unwrap();
            jwk.common.key_id = Some((*kid).to_owned());
            serde_json::to_value(jwk).unwrap()
        })
        .collect();
    json!({"keys": keys}).to_string()
}

#[tokio::test]
async fn remote_jwks_refetches_once_per_interval_and_survives_the_provider() {
    let pki = Pki::new();
    let dir = pki.dir.path();
    for kid in ["a", "b"] {
        jwt_key(dir, kid, "ES256");
    }
    let provider = idp(&pki).await;
    *provider.jwks.lock() = jwk_set(dir, &["a"]);
    let auth = format!(
        "[auth]\nmode = \"jwt\"\njwks_ca = \"{}\"\n[[auth.keys]]\njwks_url = \"{}\"\nrefresh_interval = \"1h\"\nmin_refetch_interval = \"1s\"\n",
        pki.ca().display(),
        provider.url
    );
    let agent = TestAgent::start().await;
    let gateway = TestGateway::start(&with_auth(&agents_toml(&[("h1", agent.addrs.api)]), &auth)).await;
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 1, "fetched once at start");
    let token = |kid: &str| {
        mint(&TokenArgs {
            key: dir.join(format!("{kid}.key")),
            alg: "ES256".into(),
            sub: "svc".into(),
            scope: "spp:read".into(),
            hosts: None,
            ttl: "5m".into(),
            kid: Some(kid.into()),
            iss: None,
            aud: None,
        })
        .unwrap()
    };
    let get = |t: String| {
        let gateway = &gateway;
        async move { call(gateway, reqwest::Method::GET, "/v1/hosts/h1/processes", Some(&t)).await.status }
    };
    assert_eq!(get(token("a")).await, 200);
    // The provider rotates in key b; a token with kid b causes one refetch.
    *provider.jwks.lock() = jwk_set(dir, &["a", "b"]);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(get(token("b")).await, 200);
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);
    // A flood of unknown kids within the interval: at most one more fetch.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let signed_by_a = |kid: String| {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid);
        let pem = std::fs::read(dir.join("a.key")).unwrap();
        let claims = json!({"sub": "x", "scope": "spp:read", "exp": now() + 60});
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(&pem).unwrap()).unwrap()
    };
    // Signed beforehand: in a debug build signing 50 tokens can take longer than the
    // interval, which would let a second refetch through.
    let flood: Vec<String> = (0..50).map(|i| signed_by_a(format!("bogus-{i}"))).collect();
    for t in flood {
        assert_eq!(get(t).await, 401);
    }
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 3, "50 unknown kids, one fetch");
    // The provider goes away: cached keys keep working.
    provider.stop.cancel();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(get(signed_by_a("zz-unknown".into())).await, 401);
    assert_eq!(get(token("a")).await, 200);
    assert_eq!(get(token("b")).await, 200);
}
