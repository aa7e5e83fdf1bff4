//! The client as users run it: the built binary in a clean environment (its own
//! XDG_CONFIG_HOME, no SPP_CTL_* from the caller), and a TLS+JWT gateway in front of
//! two agents with simulated processes for it to talk to.

use super::certs::Pki;
use super::gateway::{TestGateway, agents_toml, with_auth};
use super::{TestAgent, eventually, test_config};
use spp_ctl::gateway::hosts::State;
use spp_ctl::sim::SimHandle;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub const BIN: &str = env!("CARGO_BIN_EXE_spp-ctl");

/// What one run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn assert_ok(&self) -> &str {
        assert_eq!(self.code, 0, "{self:?}");
        &self.stdout
    }
}

/// Runs `spp-ctl args` with only `env` set (plus a HOME and XDG_CONFIG_HOME of `home`).
pub async fn spp(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let output = tokio::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(env.iter().copied())
        .output()
        .await
        .expect("spp-ctl runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const SECRET: &str = "a client test secret, 32 bytes!!";

/// An HS256 token (key id `hs`) for `scope` whose `exp` is `ttl_s` from now (negative:
/// already expired).
pub fn token(scope: &str, ttl_s: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
    let claims = serde_json::json!({"sub": "tester", "scope": scope, "iat": now - 7200, "exp": now + ttl_s});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("hs".into());
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).expect("HMAC key");
    jsonwebtoken::encode(&header, &claims, &key).expect("token")
}

/// A TLS gateway with JWT auth in front of agents `h1` and `h2`, each with the demo
/// processes (primary, nfv 1, vf 2, mirror 3, pcap 4).
pub struct Cluster {
    pub pki: Pki,
    pub gateway: TestGateway,
    pub agents: Vec<TestAgent>,
    pub sims: Vec<Vec<SimHandle>>,
    /// A token file with an admin token valid for an hour.
    pub token_file: PathBuf,
}

impl Cluster {
    pub async fn start() -> Self {
        let pki = Pki::new();
        pki.server("gw");
        std::fs::write(pki.path("hs.secret"), SECRET).expect("write secret");
        let (mut agents, mut sims) = (Vec::new(), Vec::new());
        for name in ["h1", "h2"] {
            let agent = TestAgent::start_with(spp_ctl::agent::AgentConfig {
                host_name: name.into(),
                ..test_config()
            })
            .await;
            sims.push(agent.attach_all().await);
            agents.push(agent);
        }
        let listed = [("h1", agents[0].addrs.api), ("h2", agents[1].addrs.api)];
        let tls = format!(
            "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
            pki.path("gw.pem").display(),
            pki.path("gw.key").display()
        );
        let auth = format!(
            "[auth]\nmode = \"jwt\"\n[[auth.keys]]\nkid = \"hs\"\nalg = \"HS256\"\nsecret_file = \"{}\"\n",
            pki.path("hs.secret").display()
        );
        let gateway = TestGateway::start(&with_auth(&format!("{}{tls}", agents_toml(&listed)), &auth)).await;
        eventually("both hosts are up", || {
            ["h1", "h2"].iter().all(|h| gateway.running.hosts.get(h).is_some_and(|h| h.state() == State::Up))
        })
        .await;
        let token_file = pki.path("admin.jwt");
        std::fs::write(&token_file, token("spp:admin", 3600)).expect("write token");
        Cluster { pki, gateway, agents, sims, token_file }
    }

    pub fn server(&self) -> String {
        format!("https://localhost:{}", self.gateway.addr.port())
    }

    /// Environment that points the client at the gateway with the admin token.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SPP_CTL_SERVER", self.server()),
            ("SPP_CTL_CACERT", self.pki.ca().display().to_string()),
            ("SPP_CTL_TOKEN_FILE", self.token_file.display().to_string()),
        ]
    }

    /// `spp` with `env()` and `extra` environment.
    pub async fn spp(&self, extra: &[(&str, &str)], args: &[&str]) -> Run {
        let env = self.env();
        let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend_from_slice(extra);
        spp(self.pki.dir.path(), &all, args).await
    }
}
