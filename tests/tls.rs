//! Real TLS with certificates made at test time: the gateway's listener (HTTP/1.1 and
//! HTTP/2 by ALPN), certificate reload under a live keep-alive connection, a broken key
//! refused, the agent's own TLS, mTLS from gateway to agent, the agent's JWT auth, and
//! session resumption on new connections.

mod common;

use axum::body::Bytes;
use common::certs::{Pki, jwt_key};
use common::gateway::{TestGateway, agents_toml, with_auth};
use common::{TestAgent, test_config};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::ServerName;
use spp_ctl::tls::{ClientTlsFiles, ServerTlsFiles};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type HttpsClient =
    Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Empty<Bytes>>;

fn https_client(pki: &Pki, client_cert: Option<&str>, http2: bool) -> HttpsClient {
    let files = ClientTlsFiles {
        ca: Some(pki.ca()),
        client_cert: client_cert.map(|n| pki.path(&format!("{n}.pem"))),
        client_key: client_cert.map(|n| pki.path(&format!("{n}.key"))),
    };
    let config = (*spp_ctl::tls::client_config(&files).unwrap()).clone();
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_only();
    let connector = if http2 { builder.enable_http2().build() } else { builder.enable_http1().build() };
    Client::builder(TokioExecutor::new()).http2_only(http2).build(connector)
}

async fn get(
    client: &HttpsClient,
    url: &str,
    token: Option<&str>,
) -> Result<(u16, axum::http::Version, String), String> {
    let mut request = axum::http::Request::get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = client.request(request.body(Empty::new()).unwrap()).await.map_err(|e| format!("{e:?}"))?;
    let (status, version) = (response.status().as_u16(), response.version());
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, version, String::from_utf8_lossy(&body).into_owned()))
}

/// The certificate a fresh TLS connection to `port` is served.
async fn served_certificate(pki: &Pki, port: u16) -> Result<Vec<u8>, String> {
    let config =
        spp_ctl::tls::client_config(&ClientTlsFiles { ca: Some(pki.ca()), ..Default::default() }).unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| e.to_string())?;
    let (_, session) = tls.get_ref();
    Ok(session.peer_certificates().ok_or("no certificate")?[0].to_vec())
}

fn tls_section(pki: &Pki, name: &str) -> String {
    format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        pki.path(&format!("{name}.pem")).display(),
        pki.path(&format!("{name}.key")).display()
    )
}

#[tokio::test]
async fn gateway_tls_reloads_certificates_without_dropping_connections() {
    let pki = Pki::new();
    let first = pki.server("gw");
    let agent = TestAgent::start().await;
    let toml = with_auth(
        &format!("{}{}", agents_toml(&[("h1", agent.addrs.api)]), tls_section(&pki, "gw")),
        "[auth]\nmode = \"none\"\n",
    );
    let gateway = TestGateway::start(&toml).await;
    let port = gateway.addr.port();
    let url = |path: &str| format!("https://localhost:{port}{path}");

    let h1 = https_client(&pki, None, false);
    let (status, version, body) = get(&h1, &url("/v1/hosts/h1/processes"), None).await.unwrap();
    assert_eq!((status, version, body.as_str()), (200, axum::http::Version::HTTP_11, "[]"));
    let h2 = https_client(&pki, None, true);
    let (status, version, _) = get(&h2, &url("/healthz"), None).await.unwrap();
    assert_eq!((status, version), (200, axum::http::Version::HTTP_2), "ALPN h2");
    assert_eq!(served_certificate(&pki, port).await.unwrap(), first);

    // New certificate files: new handshakes see them, the pooled connection goes on.
    let second = pki.server("gw");
    assert_ne!(first, second);
    spp_ctl::gateway::reload::reload(
        &gateway.running,
        &spp_ctl::gateway::reload::Source::file(&gateway.config_file),
    )
    .await
    .unwrap();
    assert_eq!(served_certificate(&pki, port).await.unwrap(), second);
    assert_eq!(get(&h1, &url("/healthz"), None).await.unwrap().0, 200);
    assert_eq!(get(&h2, &url("/healthz"), None).await.unwrap().0, 200);

    // A broken key is refused and the running certificate stays.
    std::fs::write(pki.path("gw.key"), "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        .unwrap();
    let refused = spp_ctl::gateway::reload::reload(
        &gateway.running,
        &spp_ctl::gateway::reload::Source::file(&gateway.config_file),
    )
    .await;
    assert!(refused.unwrap_err().contains("gw.key"));
    assert_eq!(served_certificate(&pki, port).await.unwrap(), second);

    // The expiry of the served certificate is exported (2031-01-01).
    let metrics = get(&h1, &url("/metrics"), None).await.unwrap().2;
    assert!(metrics.contains("spp_ctl_tls_cert_expiry_timestamp_seconds 1924992000"), "{metrics}");
}

/// Polls `state` until it is `want`, failing after 10 s: files are looked at every 2 s.
async fn until<T, F>(what: &str, want: T, mut state: impl FnMut() -> F)
where
    T: PartialEq + std::fmt::Debug,
    F: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = state().await;
        if now == want {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: still {now:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Two ES256 signing keys `a` and `b`, `jwt.pub` holding a's public key, and a token
/// from each.
struct Rotation {
    tokens: [String; 2],
    public: [std::path::PathBuf; 2],
}

impl Rotation {
    /// The status of a GET of `url` with each token (or why it failed).
    async fn statuses(&self, client: &HttpsClient, url: &str) -> Vec<Result<u16, String>> {
        let mut seen = Vec::new();
        for token in &self.tokens {
            seen.push(get(client, url, Some(token)).await.map(|a| a.0));
        }
        seen
    }
}

fn rotation(pki: &Pki) -> Rotation {
    let mint = |name: &str| {
        let (private, public) = jwt_key(pki.dir.path(), name, "ES256");
        let args = spp_ctl::token::TokenArgs {
            key: private,
            alg: "ES256".into(),
            sub: "ops".into(),
            scope: "spp:read".into(),
            hosts: None,
            ttl: "10m".into(),
            kid: None,
            iss: None,
            aud: None,
        };
        (spp_ctl::token::mint(&args).unwrap(), public)
    };
    let ((a, a_pub), (b, b_pub)) = (mint("jwt-a"), mint("jwt-b"));
    std::fs::copy(&a_pub, pki.path("jwt.pub")).unwrap();
    Rotation { tokens: [a, b], public: [a_pub, b_pub] }
}

/// Replaces `to` the way tools do: write aside, rename over.
fn replace(from: &std::path::Path, to: &std::path::Path) {
    let aside = to.with_extension("new");
    std::fs::copy(from, &aside).unwrap();
    std::fs::rename(&aside, to).unwrap();
}

const JWT_AUTH: &str = "[auth]\nmode = \"jwt\"\n[[auth.keys]]\nalg = \"ES256\"\npublic_key_file = ";

#[tokio::test]
async fn d6_the_gateway_follows_key_and_certificate_files_changed_on_disk() {
    let pki = Pki::new();
    pki.server("gw");
    let keys = rotation(&pki);
    let agent = TestAgent::start().await;
    let auth = format!("{JWT_AUTH}\"{}\"\n", pki.path("jwt.pub").display());
    let gateway = TestGateway::start(&with_auth(
        &format!("{}{}", agents_toml(&[("h1", agent.addrs.api)]), tls_section(&pki, "gw")),
        &auth,
    ))
    .await;
    let port = gateway.addr.port();
    let client = https_client(&pki, None, false);
    let url = format!("https://localhost:{port}/v1/hosts/h1/processes");
    let statuses = || keys.statuses(&client, &url);
    assert_eq!(statuses().await, [Ok(200), Ok(401)]);

    // Key a revoked by replacing the file, and a new certificate: no SIGHUP.
    replace(&keys.public[1], &pki.path("jwt.pub"));
    let renewed = pki.server("gw");
    until("key b in force", vec![Ok(401), Ok(200)], statuses).await;
    until("the new certificate served", Ok(renewed), || served_certificate(&pki, port)).await;

    // A broken key file is refused and the running keys stay.
    std::fs::write(pki.path("jwt.pub"), "-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n")
        .unwrap();
    let refused = || async { gateway.running.metrics.config_reloads.with_label_values(&["error"]).get() };
    until("the broken file refused", 1, refused).await;
    assert_eq!(statuses().await, [Ok(401), Ok(200)]);
}

#[tokio::test]
async fn d6_the_agent_follows_key_certificate_and_auth_files_changed_on_disk() {
    let pki = Pki::new();
    let keys = rotation(&pki);
    let auth_file = pki.path("auth.toml");
    let point_at = |public: &std::path::Path| {
        std::fs::write(&auth_file, format!("{JWT_AUTH}\"{}\"\n", public.display())).unwrap()
    };
    point_at(&pki.path("jwt.pub"));
    let auth = spp_ctl::agent::config::auth_section(&auth_file).unwrap();
    pki.server("agent");
    let tls = ServerTlsFiles::new(pki.path("agent.pem"), pki.path("agent.key"), None);
    let config = spp_ctl::agent::AgentConfig {
        tls: Some(tls),
        auth: Some(auth),
        auth_file: Some(auth_file.clone()),
        ..test_config()
    };
    let agent = TestAgent::start_on(config, common::bind().await).await;
    let port = agent.addrs.api.port();
    let client = https_client(&pki, None, false);
    let url = format!("https://localhost:{port}/v1/processes");
    let statuses = || keys.statuses(&client, &url);
    assert_eq!(statuses().await, [Ok(200), Ok(401)]);

    replace(&keys.public[1], &pki.path("jwt.pub"));
    until("key b in force", vec![Ok(401), Ok(200)], statuses).await;
    // The key file broken, then a new certificate: once that is served, the reload that
    // read the broken key file has run, and refused it.
    std::fs::write(pki.path("jwt.pub"), "not a key\n").unwrap();
    let renewed = pki.server("agent");
    until("the new certificate served", Ok(renewed), || served_certificate(&pki, port)).await;
    assert_eq!(statuses().await, [Ok(401), Ok(200)]);
    // --auth-config itself is reread: it now names key a's file.
    point_at(&keys.public[0]);
    until("key a in force again", vec![Ok(200), Ok(401)], statuses).await;
}

async fn tls_agent(pki: &Pki, client_ca: bool) -> TestAgent {
    pki.server("agent");
    let tls = ServerTlsFiles::new(pki.path("agent.pem"), pki.path("agent.key"), client_ca.then(|| pki.ca()));
    TestAgent::start_on(spp_ctl::agent::AgentConfig { tls: Some(tls), ..test_config() }, common::bind().await)
        .await
}

#[tokio::test]
async fn agent_mtls_refuses_a_gateway_without_a_client_certificate() {
    let pki = Pki::new();
    pki.client("gw-client");
    let agent = tls_agent(&pki, true).await;
    let agents =
        format!("[[agents]]\nhost = \"h1\"\nurl = \"https://localhost:{}\"\n", agent.addrs.api.port());
    let upstream = |cert: bool| {
        let mut section = format!("[upstream_tls]\nca = \"{}\"\n", pki.ca().display());
        if cert {
            section += &format!(
                "client_cert = \"{}\"\nclient_key = \"{}\"\n",
                pki.path("gw-client.pem").display(),
                pki.path("gw-client.key").display()
            );
        }
        with_auth(&format!("{agents}{section}"), "[auth]\nmode = \"none\"\n")
    };
    let http = reqwest::Client::new();
    let without = TestGateway::start(&upstream(false)).await;
    let seen = http.get(without.url("/v1/hosts/h1/processes")).send().await.unwrap();
    let status = seen.status().as_u16();
    let body = seen.text().await.unwrap();
    assert!(matches!(status, 502 | 503), "{status} {body}");
    assert!(body.starts_with("host h1"), "{body}");
    // The client certificate, added by a reload: no restart needed.
    std::fs::write(&without.config_file, upstream(true)).unwrap();
    let source = spp_ctl::gateway::reload::Source::file(&without.config_file);
    spp_ctl::gateway::reload::reload(&without.running, &source).await.unwrap();
    // The host may be marked down by a health check meanwhile; the next one brings it back.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = http.get(without.url("/v1/hosts/h1/processes")).send().await.unwrap();
        let status = seen.status().as_u16();
        let body = seen.text().await.unwrap();
        if status == 200 {
            assert_eq!(body, "[]");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status} {body} after the reload");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Directly, the agent also wants a client certificate.
    let url = format!("https://localhost:{}/v1/processes", agent.addrs.api.port());
    assert!(get(&https_client(&pki, None, false), &url, None).await.is_err());
    assert_eq!(get(&https_client(&pki, Some("gw-client"), false), &url, None).await.unwrap().0, 200);
}

#[tokio::test]
async fn agent_auth_guards_v1_and_leaves_health_open() {
    let pki = Pki::new();
    let (private, public) = jwt_key(pki.dir.path(), "agent-jwt", "ES256");
    let auth_file = pki.path("auth.toml");
    std::fs::write(
        &auth_file,
        format!(
            "[auth]\nmode = \"jwt\"\n[[auth.keys]]\nalg = \"ES256\"\npublic_key_file = \"{}\"\n",
            public.display()
        ),
    )
    .unwrap();
    let auth = spp_ctl::agent::config::auth_section(&auth_file).unwrap();
    let agent = tls_agent_with(&pki, auth).await;
    let client = https_client(&pki, None, false);
    let url = |path: &str| format!("https://localhost:{}{path}", agent.addrs.api.port());
    assert_eq!(get(&client, &url("/v1/processes"), None).await.unwrap().0, 401);
    assert_eq!(get(&client, &url("/healthz"), None).await.unwrap().0, 200);
    let token = spp_ctl::token::mint(&spp_ctl::token::TokenArgs {
        key: private,
        alg: "ES256".into(),
        sub: "ops".into(),
        scope: "spp:read".into(),
        hosts: None,
        ttl: "1m".into(),
        kid: None,
        iss: None,
        aud: None,
    })
    .unwrap();
    assert_eq!(
        get(&client, &url("/v1/processes"), Some(&token)).await.unwrap(),
        (200, axum::http::Version::HTTP_11, "[]".to_owned())
    );
}

async fn tls_agent_with(pki: &Pki, auth: spp_ctl::auth::AuthConfig) -> TestAgent {
    pki.server("agent");
    let tls = ServerTlsFiles::new(pki.path("agent.pem"), pki.path("agent.key"), None);
    let config = spp_ctl::agent::AgentConfig { tls: Some(tls), auth: Some(auth), ..test_config() };
    TestAgent::start_on(config, common::bind().await).await
}

#[test]
fn certificate_expiry_is_read_from_the_pem() {
    let pki = Pki::new();
    pki.server("x");
    assert_eq!(spp_ctl::tls::cert_not_after(&pki.path("x.pem")), Ok(1924992000));
    assert!(spp_ctl::tls::cert_not_after(&pki.path("x.key")).is_err());
}

/// rustls's own client session store, counting the TLS 1.3 tickets it is given.
#[derive(Debug)]
struct CountedTickets {
    store: rustls::client::ClientSessionMemoryCache,
    tickets: std::sync::atomic::AtomicUsize,
}

impl CountedTickets {
    fn taken(&self) -> usize {
        self.tickets.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

impl rustls::client::ClientSessionStore for CountedTickets {
    fn set_kx_hint(&self, name: ServerName<'static>, group: rustls::NamedGroup) {
        self.store.set_kx_hint(name, group)
    }
    fn kx_hint(&self, name: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.store.kx_hint(name)
    }
    fn set_tls12_session(&self, name: ServerName<'static>, value: rustls::client::Tls12ClientSessionValue) {
        self.store.set_tls12_session(name, value)
    }
    fn tls12_session(&self, name: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.store.tls12_session(name)
    }
    fn remove_tls12_session(&self, name: &ServerName<'static>) {
        self.store.remove_tls12_session(name)
    }
    fn insert_tls13_ticket(&self, name: ServerName<'static>, value: rustls::client::Tls13ClientSessionValue) {
        self.tickets.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.store.insert_tls13_ticket(name, value)
    }
    fn take_tls13_ticket(
        &self,
        name: &ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.store.take_tls13_ticket(name)
    }
}

/// One request on a new connection, as `curl` in a loop makes them: the kind of
/// handshake, the cipher suite and the response's status line.
async fn request_on_new_connection(
    config: &Arc<rustls::ClientConfig>,
    port: u16,
) -> (Option<rustls::HandshakeKind>, Option<rustls::CipherSuite>, String) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(config.clone()).connect(name, tcp).await.unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    let session = tls.get_ref().1;
    let (kind, suite) = (session.handshake_kind(), session.negotiated_cipher_suite().map(|s| s.suite()));
    (kind, suite, response.lines().next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn new_connections_resume_with_one_ticket_and_a_sha256_suite_until_a_reload() {
    let pki = Pki::new();
    pki.server("gw");
    let toml = with_auth(&tls_section(&pki, "gw"), "[auth]\nmode = \"none\"\n");
    let gateway = TestGateway::start(&toml).await;
    let port = gateway.addr.port();
    let tickets = Arc::new(CountedTickets {
        store: rustls::client::ClientSessionMemoryCache::new(8),
        tickets: Default::default(),
    });
    let files = ClientTlsFiles { ca: Some(pki.ca()), ..Default::default() };
    let mut config = (*spp_ctl::tls::client_config(&files).unwrap()).clone();
    config.resumption = rustls::client::Resumption::store(tickets.clone());
    let config = Arc::new(config);

    // The client lists AES-256-GCM-SHA384 first, like OpenSSL; the gateway picks the
    // suite whose key schedule is cheaper.
    let client_order: Vec<_> = config.crypto_provider().cipher_suites.iter().map(|s| s.suite()).collect();
    assert_eq!(client_order[0], rustls::CipherSuite::TLS13_AES_256_GCM_SHA384);
    let (full, resumed) = (Some(rustls::HandshakeKind::Full), Some(rustls::HandshakeKind::Resumed));
    let expected =
        |kind| (kind, Some(rustls::CipherSuite::TLS13_AES_128_GCM_SHA256), "HTTP/1.1 200 OK".to_owned());
    let first = request_on_new_connection(&config, port).await;
    assert_eq!((first, tickets.taken()), (expected(full), 1));
    for _ in 0..3 {
        let next = request_on_new_connection(&config, port).await;
        assert_eq!((next, tickets.taken()), (expected(resumed), 1));
    }
    // Tickets from before a reload are refused: the reloaded configuration (a new
    // certificate, perhaps a new client CA) applies to every later connection.
    spp_ctl::gateway::reload::reload(
        &gateway.running,
        &spp_ctl::gateway::reload::Source::file(&gateway.config_file),
    )
    .await
    .unwrap();
    let after = request_on_new_connection(&config, port).await;
    assert_eq!((after, tickets.taken()), (expected(full), 1));
}

#[tokio::test]
async fn a_listener_limited_to_tls12_resumes_without_a_key_exchange_and_refuses_tls13_clients() {
    let pki = Pki::new();
    pki.server("gw");
    let section = format!("{}versions = [\"1.2\"]\n", tls_section(&pki, "gw"));
    let gateway = TestGateway::start(&with_auth(&section, "[auth]\nmode = \"none\"\n")).await;
    let port = gateway.addr.port();
    let files = ClientTlsFiles { ca: Some(pki.ca()), ..Default::default() };
    let config = spp_ctl::tls::client_config(&files).unwrap();

    let suite = Some(rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    let expected = |kind| (Some(kind), suite, "HTTP/1.1 200 OK".to_owned());
    let first = request_on_new_connection(&config, port).await;
    assert_eq!(first, expected(rustls::HandshakeKind::Full));
    // A TLS 1.2 resumption is the abbreviated handshake: no key exchange on either side.
    let next = request_on_new_connection(&config, port).await;
    assert_eq!(next, expected(rustls::HandshakeKind::Resumed));

    let only13 = rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13])
        .with_root_certificates(config_roots(&pki))
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let refused = tokio_rustls::TlsConnector::from(Arc::new(only13)).connect(name, tcp).await;
    assert!(refused.is_err(), "a TLS 1.3-only client was served");
}

fn config_roots(pki: &Pki) -> rustls::RootCertStore {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(pki.ca()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}
