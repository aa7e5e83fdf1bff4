//! The real binary: flags, the original's command line, the demo mode, signals and exit
//! codes.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_spp-ctl");

/// A running spp-ctl whose stderr is read until it reports its listening address (`api=`
/// for the agent, `addr=` for the gateway); later stderr lines are kept in `log`.
struct Running {
    child: Child,
    api: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Running {
    fn start(args: &[&str]) -> Self {
        Self::start_reporting(args, "api=")
    }

    fn start_reporting(args: &[&str], address_key: &str) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn spp-ctl");
        let stderr = child.stderr.take().expect("stderr piped");
        let mut lines = BufReader::new(stderr).lines();
        let api = loop {
            let line = lines.next().expect("spp-ctl exited before listening").expect("stderr readable");
            if let Some(rest) = line.split(address_key).nth(1) {
                break rest.split([' ', '"']).next().expect("address").to_owned();
            }
        };
        // Keep draining stderr so the child never blocks on a full pipe.
        let log = std::sync::Arc::<std::sync::Mutex<Vec<String>>>::default();
        let kept = log.clone();
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| kept.lock().unwrap().push(l)));
        Running { child, api, log }
    }

    fn get(&self, path: &str) -> (u16, String) {
        raw_http::get(&format!("http://{}{}", self.api, path))
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "spp-ctl did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A failing test must not leave its processes running.
impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

mod raw_http {
    /// A tiny blocking GET over a raw socket, to keep this file free of a runtime.
    pub fn get(url: &str) -> (u16, String) {
        request("GET", url, "")
    }

    pub fn request(method: &str, url: &str, body: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).expect("path");
        let mut stream = std::net::TcpStream::connect(host).expect("connect");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let status = response[9..12].parse().expect("status code");
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
        (status, body)
    }
}

fn output(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().expect("run spp-ctl")
}

#[test]
fn version_and_help_list_the_original_flags() {
    let version = output(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("spp-ctl {}", env!("CARGO_PKG_VERSION"))
    );
    let help = String::from_utf8(output(&["agent", "--help"]).stdout).unwrap();
    for flag in [
        "--bind-addr",
        "--pri-port",
        "--sec-port",
        "--api-port",
        "--command-timeout",
        "--simulate",
        "--log-format",
    ] {
        assert!(help.contains(flag), "agent --help lacks {flag}");
    }
}

#[test]
fn a_bad_flag_value_is_one_line_and_a_failure_exit() {
    let run = output(&["agent", "--command-timeout", "soon", "-a", "0", "-p", "0", "-s", "0"]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("spp-ctl: --command-timeout \"soon\""), "{stderr}");
}

#[test]
fn a_busy_port_is_reported_before_anything_runs() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = output(&["-b", "127.0.0.1", "-p", &port, "-s", "0", "-a", "0"]);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains(&format!("cannot bind the primary port 127.0.0.1:{port}")), "{stderr}");
}

#[test]
fn the_original_command_line_serves_and_sigterm_exits_cleanly() {
    let agent = Running::start(&["-b", "127.0.0.1", "-p", "0", "-s", "0", "-a", "0"]);
    assert_eq!(agent.get("/v1/processes"), (200, "[]".to_owned()));
    assert_eq!(agent.get("/healthz").0, 200);
    let status = agent.terminate();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn simulate_attaches_the_demo_processes() {
    let agent = Running::start(&["agent", "--simulate", "-b", "127.0.0.1", "-p", "0", "-s", "0", "-a", "0"]);
    let expected = r#"[{"type": "primary"}, {"type": "nfv", "client-id": 1}, {"type": "vf", "client-id": 2}, {"type": "mirror", "client-id": 3}, {"type": "pcap", "client-id": 4}]"#;
    let deadline = Instant::now() + Duration::from_secs(10);
    while agent.get("/v1/processes").1 != expected {
        assert!(Instant::now() < deadline, "simulated processes did not all register");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(agent.get("/v1/vfs/2").0, 200);
    assert_eq!(agent.terminate().code(), Some(0));
}

#[test]
fn sigterm_turns_readyz_503_during_the_drain_period() {
    let agent = Running::start(&[
        "agent",
        "-b",
        "127.0.0.1",
        "-p",
        "0",
        "-s",
        "0",
        "-a",
        "0",
        "--drain-period",
        "3s",
    ]);
    assert_eq!(agent.get("/readyz"), (200, "ready".to_owned()));
    let pid = agent.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if agent.get("/readyz") == (503, "shutting down".to_owned()) {
            break;
        }
        assert!(Instant::now() < deadline, "/readyz never turned 503");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(agent.get("/v1/processes").0, 200, "still serving while draining");
    assert_eq!(agent.terminate().code(), Some(0));
}

#[test]
fn the_gateway_writes_an_audit_event_for_each_mutating_request() {
    let agent = Running::start(&["agent", "-b", "127.0.0.1", "-p", "0", "-s", "0", "-a", "0", "--simulate"]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ninsecure_plaintext = true\n[limits]\ndrain = \"0s\"\n[auth]\nmode = \"none\"\n\
             [[agents]]\nhost = \"h1\"\nurl = \"http://{}\"\n",
            agent.api
        ),
    )
    .unwrap();
    let gateway = Running::start_reporting(
        &["gateway", "--config", config.to_str().unwrap(), "--log-format", "json"],
        "\"addr\":\"",
    );
    let gateway_url = |path: &str| format!("http://{}{path}", gateway.api);
    let deadline = Instant::now() + Duration::from_secs(10);
    while raw_http::get(&gateway_url("/v1/hosts/h1/nfvs/1")).0 != 200 {
        assert!(Instant::now() < deadline, "the simulated nfv never answered through the gateway");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) =
        raw_http::request("PUT", &gateway_url("/v1/hosts/h1/nfvs/1/forward"), r#"{"action": "start"}"#);
    assert_eq!(status, 204);
    let deadline = Instant::now() + Duration::from_secs(5);
    let audit = loop {
        let log = gateway.log.lock().unwrap().clone();
        let events: Vec<serde_json::Value> = log
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["target"] == "audit")
            .collect();
        if !events.is_empty() {
            break events;
        }
        assert!(Instant::now() < deadline, "no audit event in {log:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(audit.len(), 1, "one event for the PUT, none for the GETs: {audit:?}");
    let fields = &audit[0]["fields"];
    assert_eq!(
        (&fields["sub"], &fields["host"], &fields["method"], &fields["path"], &fields["status"]),
        (
            &serde_json::json!("anonymous"),
            &serde_json::json!("h1"),
            &serde_json::json!("PUT"),
            &serde_json::json!("/v1/hosts/h1/nfvs/1/forward"),
            &serde_json::json!(204)
        )
    );
    assert!(fields["client"].as_str().unwrap().starts_with("127.0.0.1:"), "{fields}");
    assert_eq!(gateway.terminate().code(), Some(0));
    assert_eq!(agent.terminate().code(), Some(0));
}

/// Certificates, keys and a gateway file for the `--check` and error-text tests.
struct Files {
    pki: common::certs::Pki,
}

impl Files {
    fn new() -> Self {
        let pki = common::certs::Pki::new();
        pki.server("gw");
        pki.server("other");
        common::certs::jwt_key(pki.dir.path(), "jwt", "ES256");
        Files { pki }
    }

    fn path(&self, name: &str) -> String {
        self.pki.path(name).display().to_string()
    }

    /// A gateway file with TLS from `cert`/`key` and JWT auth with `public_key`.
    fn gateway(&self, listen: &str, cert: &str, key: &str, public_key: &str) -> String {
        let file = self.pki.path("gateway.toml");
        let text = format!(
            "listen = \"{listen}\"\n[tls]\ncert = \"{}\"\nkey = \"{}\"\n[auth]\nmode = \"jwt\"\nissuer = \"me\"\n\
             [[auth.keys]]\nalg = \"ES256\"\npublic_key_file = \"{}\"\n[[agents]]\nhost = \"h1\"\nurl = \"http://127.0.0.1:7777\"\n",
            self.path(cert),
            self.path(key),
            self.path(public_key)
        );
        std::fs::write(&file, text).unwrap();
        file.display().to_string()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn d16_gateway_check_validates_every_file_and_binds_nothing() {
    let files = Files::new();
    // The port is taken: a check that bound it would fail.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let config = files.gateway(&listen, "gw.pem", "gw.key", "jwt.pub");
    let run = output(&["gateway", "--check", "--config", &config]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let stdout = text(&run.stdout);
    for line in [
        format!("spp-ctl gateway: configuration {config} is valid"),
        format!("listen {listen} (TLS, certificate {})", files.path("gw.pem")),
        "metrics on the main listener".to_owned(),
        "auth jwt: 1 key source(s), issuer me, audience any".to_owned(),
        "agent h1 http://127.0.0.1:7777".to_owned(),
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} not in\n{stdout}");
    }
    for (cert, key, public, error) in [
        (
            "gw.pem",
            "other.key",
            "jwt.pub",
            format!(
                "{} is not the private key of the certificate in {}",
                files.path("other.key"),
                files.path("gw.pem")
            ),
        ),
        (
            "gw.pem",
            "gw.key",
            "jwt.key",
            format!("{}: not a P-256 EC public key in PEM", files.path("jwt.key")),
        ),
        ("gw.key", "gw.key", "jwt.pub", format!("{}: no certificate found", files.path("gw.key"))),
    ] {
        let config = files.gateway(&listen, cert, key, public);
        let run = output(&["gateway", "--check", "--config", &config]);
        assert_eq!(run.status.code(), Some(1));
        let stderr = text(&run.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&error), "{error:?} not in {stderr}");
        assert!(!stderr.contains("KeyMismatch") && !stderr.contains("InvalidKeyFormat"), "{stderr}");
    }
}

#[test]
fn d16_agent_check_validates_tls_and_auth_files_and_binds_nothing() {
    let files = Files::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let auth = files.pki.path("auth.toml");
    let auth_text = |key: &str| {
        format!("[auth]\n[[auth.keys]]\nalg = \"ES256\"\npublic_key_file = \"{}\"\n", files.path(key))
    };
    std::fs::write(&auth, auth_text("jwt.pub")).unwrap();
    let (cert, key, auth_path) = (files.path("gw.pem"), files.path("gw.key"), auth.display().to_string());
    let check = |key: &str| {
        output(&[
            "agent",
            "--check",
            "-b",
            "127.0.0.1",
            "-a",
            &port,
            "--host-name",
            "storage-9",
            "--tls-cert",
            &cert,
            "--tls-key",
            key,
            "--auth-config",
            &auth_path,
        ])
    };
    let run = check(&key);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(
        text(&run.stdout),
        format!(
            "spp-ctl agent: configuration is valid\nprimary port 127.0.0.1:5555, secondary port 127.0.0.1:6666\n\
             API 127.0.0.1:{port} (TLS, certificate {cert})\nauth jwt: 1 key source(s), issuer any, audience any\n\
             host name storage-9\n"
        )
    );
    let run = check(&files.path("other.key"));
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).contains("is not the private key of the certificate"), "{}", text(&run.stderr));
    std::fs::write(&auth, "[auth]\nkeys = 3\n").unwrap();
    let run = check(&key);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        text(&run.stderr),
        format!(
            "spp-ctl: --auth-config {auth_path}: line 2, column 8: invalid type: integer `3`, expected a sequence\n"
        )
    );
}

#[test]
fn d15_startup_errors_are_sentences_in_the_chosen_log_format() {
    let files = Files::new();
    // An unknown level is refused, not silently taken for a target.
    let run = output(&["agent", "--log-level", "verbose", "-a", "0", "-p", "0", "-s", "0"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).starts_with("spp-ctl: --log-level \"verbose\": not a level"),
        "{}",
        text(&run.stderr)
    );
    // TOML errors name line and column; with --log-format json the error is a JSON line.
    let config = files.pki.path("broken.toml");
    std::fs::write(&config, "insecure_plaintext = true\n[limits]\nbody = \"big\"\n").unwrap();
    let run = output(&["gateway", "--config", config.to_str().unwrap(), "--log-format", "json"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = text(&run.stderr);
    let line: serde_json::Value = serde_json::from_str(stderr.trim()).expect("one JSON line");
    assert_eq!(line["level"], "ERROR");
    assert_eq!(
        line["fields"]["message"],
        format!("{}: line 3, column 8: invalid type: string \"big\", expected usize", config.display())
    );
    let run = output(&[
        "gateway",
        "--config",
        config.to_str().unwrap(),
        "--set",
        "limits.body=1",
        "--set",
        "limits.drain=3",
    ]);
    assert!(text(&run.stderr).contains("line 3, column 8"), "the file is at fault, not --set");
    std::fs::write(&config, "insecure_plaintext = true\n[auth]\nmode = \"none\"\n").unwrap();
    let run = output(&["gateway", "--config", config.to_str().unwrap(), "--set", "limits.body=big"]);
    assert!(
        text(&run.stderr).contains("--set limits.body=big (or SPP_CTL_GW__LIMITS__BODY): invalid type"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn d15_a_bad_rust_log_and_usage_errors_follow_the_same_rules() {
    // RUST_LOG wins over --log-level, so a filter it cannot read is refused too.
    let run = Command::new(BIN)
        .args(["agent", "--check", "-a", "0", "-p", "0", "-s", "0"])
        .env("RUST_LOG", "spp_ctl=loud")
        .output()
        .expect("run spp-ctl");
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).starts_with("spp-ctl: RUST_LOG \"spp_ctl=loud\": "), "{}", text(&run.stderr));
    // A usage error with --log-format json is one JSON line, with clap's exit status.
    let run = output(&["agent", "--log-format", "json", "--bogus"]);
    assert_eq!(run.status.code(), Some(2));
    let line: serde_json::Value = serde_json::from_str(text(&run.stderr).trim()).expect("one JSON line");
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["fields"]["message"], "unexpected argument '--bogus' found");
    // Without it, clap's own text; --help stays text either way.
    let run = output(&["agent", "--bogus"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).starts_with("error: unexpected argument '--bogus' found"));
    let run = output(&["agent", "--log-format=json", "--help"]);
    assert_eq!(run.status.code(), Some(0));
    assert!(text(&run.stdout).contains("--bind-addr"));
}

#[test]
fn d15_token_refuses_ttl_zero_and_warns_on_unknown_scopes() {
    let files = Files::new();
    let key = files.path("jwt.key");
    let run = output(&["token", "--key", &key, "--sub", "ops", "--ttl", "0s"]);
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(text(&run.stderr), "spp-ctl: --ttl \"0s\": a token must live at least one second\n");
    let run = output(&["token", "--key", &key, "--sub", "ops", "--scope", "spp:read spp:wirte"]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        text(&run.stderr),
        "spp-ctl: warning: scope \"spp:wirte\" grants nothing (known: spp:read, spp:write, spp:admin)\n"
    );
    assert_eq!(text(&run.stdout).trim().split('.').count(), 3, "the token is still printed");
    let run = output(&["token", "--key", &files.path("jwt.pub"), "--sub", "ops"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(text(&run.stderr).contains("not a P-256 EC private key in PEM"), "{}", text(&run.stderr));
}

/// Reads `child`'s stderr until a line contains `needle`.
fn line_with(child: &mut Child, needle: &str) -> String {
    let stderr = child.stderr.take().expect("stderr piped");
    let found = BufReader::new(stderr).lines().map_while(Result::ok).find(|l| l.contains(needle));
    let _ = child.kill();
    let _ = child.wait();
    found.unwrap_or_else(|| panic!("no line with {needle:?}"))
}

#[test]
fn d15_sim_takes_log_flags_and_warns_on_a_refused_connection() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let mut sim = Command::new(BIN)
        .args(["sim", "-p", &port, "--primary", "--log-format", "json", "--log-level", "warn"])
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line: serde_json::Value = serde_json::from_str(&line_with(&mut sim, "controller")).unwrap();
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["fields"]["message"], "cannot connect to the controller; retrying every second");
}

#[test]
fn d15_the_gateway_logs_no_rust_debug_text() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\ninsecure_plaintext = true\n[auth]\nmode = \"none\"\n")
        .unwrap();
    let mut gateway = Command::new(BIN)
        .args(["gateway", "--config", config.to_str().unwrap(), "--log-format", "json"])
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line: serde_json::Value =
        serde_json::from_str(&line_with(&mut gateway, "gateway listening")).unwrap();
    assert_eq!(line["fields"]["metrics"], "on the main listener");
}
