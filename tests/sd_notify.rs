//! The real binary under a fake systemd: a unix datagram socket as `NOTIFY_SOCKET`
//! receives what `Type=notify` units rely on — READY=1 once the API answers,
//! RELOADING=1 … READY=1 around SIGHUP, STOPPING=1 on SIGTERM, and watchdog pings.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_spp-ctl");

/// The service manager's end, and the service it started.
struct Service {
    socket: UnixDatagram,
    child: Child,
    /// The listening address the service logged.
    addr: String,
    _dir: tempfile::TempDir,
}

impl Service {
    fn start(args: &[&str], address_key: &str, envs: &[(&str, &str)], dir: tempfile::TempDir) -> Self {
        let path = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut child = Command::new(BIN)
            .args(args)
            .env("NOTIFY_SOCKET", &path)
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .envs(envs.iter().copied())
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("spp-ctl exited before listening").unwrap();
            if let Some(rest) = line.split(address_key).nth(1) {
                break rest.split([' ', '"']).next().unwrap().to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Service { socket, child, addr, _dir: dir }
    }

    /// The next message other than a watchdog ping, within 10 s.
    fn next(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        loop {
            assert!(Instant::now() < deadline, "no notification within 10 s");
            let Ok(n) = self.socket.recv(&mut buf) else { continue };
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            if message != "WATCHDOG=1\n" {
                return message;
            }
        }
    }

    /// The next message, which must be a watchdog ping; `None` after `wait`.
    fn ping(&self, wait: Duration) -> Option<Instant> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.socket.recv(&mut buf) {
                assert_eq!(&buf[..n], b"WATCHDOG=1\n", "only pings while nothing happens");
                return Some(Instant::now());
            }
        }
        None
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([name, &pid]).status().unwrap().success());
    }

    fn get(&self, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    fn exit_code(mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "spp-ctl did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// READY=1 with the API answering, a SIGHUP reload framed by RELOADING=1 (with
/// MONOTONIC_USEC) and READY=1, STOPPING=1 on SIGTERM, then a clean exit.
fn lifecycle(service: Service) {
    assert_eq!(service.next(), "READY=1\n");
    assert!(service.get("/readyz").starts_with("HTTP/1.1 200"), "the API answers once READY=1 is sent");
    service.signal("-HUP");
    let reloading = service.next();
    let lines: Vec<&str> = reloading.lines().collect();
    assert_eq!(lines.len(), 2, "{reloading:?}");
    assert_eq!(lines[0], "RELOADING=1");
    let usec: u64 = lines[1].strip_prefix("MONOTONIC_USEC=").expect(&reloading).parse().unwrap();
    assert!(usec > 0);
    assert_eq!(service.next(), "READY=1\n");
    assert!(service.get("/healthz").starts_with("HTTP/1.1 200"), "SIGHUP did not stop the process");
    service.signal("-TERM");
    assert_eq!(service.next(), "STOPPING=1\n");
    assert_eq!(service.exit_code(), Some(0));
}

const AGENT: &[&str] = &["agent", "-b", "127.0.0.1", "-p", "0", "-s", "0", "-a", "0"];

#[test]
fn the_agent_notifies_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    lifecycle(Service::start(AGENT, "api=", &[], dir));
}

#[test]
fn the_gateway_notifies_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ninsecure_plaintext = true\n[limits]\ndrain = \"0s\"\n[auth]\nmode = \"none\"\n",
    )
    .unwrap();
    let args = ["gateway", "--config", config.to_str().unwrap()];
    lifecycle(Service::start(&args, "addr=", &[], dir));
}

#[test]
fn watchdog_pings_come_at_half_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    // 600 ms: a ping every 300 ms, so five gaps take 1.5 s (3 s at the full interval).
    let service = Service::start(AGENT, "api=", &[("WATCHDOG_USEC", "600000")], dir);
    assert_eq!(service.next(), "READY=1\n");
    let first = service.ping(Duration::from_secs(5)).expect("a first ping");
    let pings: Vec<Instant> = (0..5).map(|_| service.ping(Duration::from_secs(5)).expect("a ping")).collect();
    let five_gaps = pings[4] - first;
    assert!(
        Duration::from_millis(1400) <= five_gaps && five_gaps < Duration::from_millis(2700),
        "five pings took {five_gaps:?} at a 300 ms period"
    );
}

#[test]
fn without_a_watchdog_interval_nothing_pings() {
    let dir = tempfile::tempdir().unwrap();
    let service = Service::start(AGENT, "api=", &[], dir);
    assert_eq!(service.next(), "READY=1\n");
    assert_eq!(service.ping(Duration::from_millis(600)), None);
}
