//! The real binary: flags, the original's command line, the demo mode, signals and exit
//! codes.

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
