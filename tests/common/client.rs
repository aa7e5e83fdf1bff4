//! The client as users run it: the built binary in a clean environment (its own
//! XDG_CONFIG_HOME, no SPP_CTL_* from the caller), and a TLS+JWT gateway in front of
//! two agents with simulated processes for it to talk to.

use super::certs::Pki;
use super::gateway::{TestGateway, agents_toml, with_auth};
use super::{TestAgent, eventually, test_config};
use spp_ctl::gateway::hosts::State;
use spp_ctl::sim::SimHandle;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::ChildStdout;

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
    let output = command(home, env, args).output().await.expect("spp-ctl runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `spp-ctl args` with only `env` set, plus a HOME and XDG_CONFIG_HOME of `home`.
fn command(home: &Path, env: &[(&str, &str)], args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .envs(env.iter().copied());
    command
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
        Self::start_named(["h1", "h2"]).await
    }

    /// The same with agents of other names (`compute-1`…), in this order.
    pub async fn start_named(names: [&str; 2]) -> Self {
        let pki = Pki::new();
        pki.server("gw");
        std::fs::write(pki.path("hs.secret"), SECRET).expect("write secret");
        let (mut agents, mut sims) = (Vec::new(), Vec::new());
        for name in names {
            let agent = TestAgent::start_with(spp_ctl::agent::AgentConfig {
                host_name: name.into(),
                ..test_config()
            })
            .await;
            sims.push(agent.attach_all().await);
            agents.push(agent);
        }
        let listed = [(names[0], agents[0].addrs.api), (names[1], agents[1].addrs.api)];
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
            names.iter().all(|h| gateway.running.hosts.get(h).is_some_and(|h| h.state() == State::Up))
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

    /// `follow` with `env()`.
    pub fn follow(&self, args: &[&str]) -> Follower {
        let env = self.env();
        let all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Follower::spawn(self.pki.dir.path(), &all, args)
    }
}

/// A running `spp-ctl` (`events`, `wait`) whose stdout is read line by line as it
/// comes; killed when dropped.
pub struct Follower {
    pub child: tokio::process::Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Follower {
    /// Starts `spp-ctl args` as `spp` runs it, stdout and stderr piped.
    pub fn spawn(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut child = command(home, env, args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spp-ctl runs");
        let stdout = child.stdout.take().expect("piped stdout");
        Follower { child, lines: BufReader::new(stdout).lines() }
    }

    /// The next line; fails the test after 10 s or at the end of the output.
    pub async fn line(&mut self) -> String {
        let next = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line()).await;
        next.expect("a line within 10 s").expect("stdout read").expect("a line, not the end of stdout")
    }

    /// Every line up to and including the first one for which `wanted` holds.
    pub async fn until(&mut self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = vec![self.line().await];
        while !wanted(&lines[lines.len() - 1]) {
            lines.push(self.line().await);
        }
        lines
    }

    /// Waits for the exit (10 s at most): its code, the rest of stdout, and stderr.
    pub async fn finish(mut self) -> Run {
        let ended = async {
            let mut stdout = String::new();
            while let Some(line) = self.lines.next_line().await.expect("stdout read") {
                stdout.push_str(&line);
                stdout.push('\n');
            }
            let mut stderr = String::new();
            if let Some(mut pipe) = self.child.stderr.take() {
                pipe.read_to_string(&mut stderr).await.expect("stderr read");
            }
            let code = self.child.wait().await.expect("wait").code().expect("exited, not killed");
            Run { code, stdout, stderr }
        };
        tokio::time::timeout(Duration::from_secs(10), ended).await.expect("exits within 10 s")
    }
}
