//! An HS256 token issuer made at test time: gateways and agents that accept its tokens,
//! tokens with chosen subject, scope, hosts and key id, and a client sending them.

use super::gateway::{TestGateway, agents_toml, with_auth};
use super::{TestAgent, test_config};
use spp_ctl::token::{TokenArgs, mint};
use std::net::SocketAddr;
use std::path::PathBuf;

/// What a client saw of an answer.
pub struct Seen {
    pub status: u16,
    pub challenge: Option<String>,
    pub body: String,
}

/// One request, with `Authorization: Bearer <token>` when given; fails after 10 s.
pub async fn call(url: &str, method: reqwest::Method, token: Option<&str>) -> Seen {
    let http =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().expect("client");
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("answered within 10 s");
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().expect("ASCII").to_owned());
    Seen { status: response.status().as_u16(), challenge, body: response.text().await.expect("body") }
}

pub struct Issuer {
    dir: tempfile::TempDir,
}

impl Issuer {
    pub fn new() -> Self {
        let issuer = Issuer { dir: tempfile::tempdir().expect("temp dir") };
        std::fs::write(issuer.secret(), "a test secret of thirty-two bytes!").expect("write secret");
        issuer
    }

    fn secret(&self) -> PathBuf {
        self.dir.path().join("hs.secret")
    }

    /// The `[auth]` section accepting this issuer's tokens (key id `hs`).
    pub fn auth_toml(&self) -> String {
        format!(
            "[auth]\nmode = \"jwt\"\n[[auth.keys]]\nkid = \"hs\"\nalg = \"HS256\"\nsecret_file = \"{}\"\n",
            self.secret().display()
        )
    }

    /// A gateway in front of `agents` accepting this issuer's tokens.
    pub async fn gateway(&self, agents: &[(&str, SocketAddr)]) -> TestGateway {
        TestGateway::start(&with_auth(&agents_toml(agents), &self.auth_toml())).await
    }

    /// An agent named `host_name` whose `--auth-config` accepts this issuer's tokens.
    pub async fn agent(&self, host_name: &str) -> TestAgent {
        let file = self.dir.path().join("auth.toml");
        std::fs::write(&file, self.auth_toml()).expect("write auth config");
        let auth = spp_ctl::agent::config::auth_section(&file).expect("valid auth config");
        let config =
            spp_ctl::agent::AgentConfig { host_name: host_name.into(), auth: Some(auth), ..test_config() };
        TestAgent::start_with(config).await
    }

    /// A token for `sub` with `scope`, limited to `hosts` (comma-separated) if given.
    pub fn token(&self, sub: &str, scope: &str, hosts: Option<&str>) -> String {
        self.token_with_kid(sub, scope, hosts, "hs")
    }

    pub fn token_with_kid(&self, sub: &str, scope: &str, hosts: Option<&str>, kid: &str) -> String {
        mint(&TokenArgs {
            key: self.secret(),
            alg: "HS256".into(),
            sub: sub.into(),
            scope: scope.into(),
            hosts: hosts.map(str::to_owned),
            ttl: "5m".into(),
            kid: Some(kid.into()),
            iss: None,
            aud: None,
        })
        .expect("token minted")
    }
}
