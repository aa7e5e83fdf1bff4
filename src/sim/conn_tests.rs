//! Socket tests: a simulated process against a `TcpListener` on 127.0.0.1:0, checking the
//! handshake bytes, exchanges, reconnects and every fault.

use super::faults::{Faults, GARBAGE};
use super::{SimHandle, SimSpec, spawn};
use crate::proc_type::ProcType;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(5);
const OK: &[u8] = br#"{ "results": [ { "result": "success" } ] }"#;

struct Rig {
    listener: TcpListener,
    sim: SimHandle,
    shutdown: CancellationToken,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn rig(spec: SimSpec) -> Rig {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = CancellationToken::new();
    let sim = spawn(spec, addr, shutdown.clone());
    Rig { listener, sim, shutdown }
}

impl Rig {
    async fn accept(&self) -> TcpStream {
        timeout(WAIT, self.listener.accept()).await.expect("process connects").expect("accept").0
    }

    /// Accepts and completes the handshake of a vf-style process.
    async fn registered(&self) -> TcpStream {
        let mut s = self.accept().await;
        let reply = exchange(&mut s, "_get_client_id").await;
        assert!(reply.starts_with(br#"{ "results": [ { "result": "success" } ], "client_id""#));
        s
    }
}

/// Reads one spaced-style reply: bytes until braces balance.
async fn read_json(s: &mut TcpStream) -> Vec<u8> {
    read_json_after(s, Vec::new()).await
}

/// Like `read_json` when `out` already holds the start of the reply.
async fn read_json_after(s: &mut TcpStream, mut out: Vec<u8>) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    loop {
        let n = timeout(WAIT, s.read(&mut buf)).await.expect("reply in time").expect("read");
        assert!(n > 0, "EOF inside a reply");
        out.extend_from_slice(&buf[..n]);
        let depth: i64 = out.iter().map(|b| i64::from(*b == b'{') - i64::from(*b == b'}')).sum();
        if depth == 0 {
            return out;
        }
    }
}

async fn exchange(s: &mut TcpStream, cmd: &str) -> Vec<u8> {
    s.write_all(cmd.as_bytes()).await.expect("write");
    read_json(s).await
}

async fn read_exact(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    timeout(WAIT, s.read_exact(&mut out)).await.expect("frame in time").expect("read frame");
    out
}

async fn assert_eof(s: &mut TcpStream) {
    let mut b = [0u8; 1];
    let n = timeout(WAIT, s.read(&mut b)).await.expect("EOF in time").unwrap_or(0);
    assert_eq!(n, 0, "expected EOF");
}

async fn assert_silent(s: &mut TcpStream, for_: Duration) {
    let mut b = [0u8; 1];
    assert!(timeout(for_, s.read(&mut b)).await.is_err(), "expected no bytes");
}

#[tokio::test]
async fn handshakes_are_byte_exact() {
    for (ty, id, want) in [
        (
            ProcType::Vf,
            2,
            &br#"{ "results": [ { "result": "success" } ], "client_id": 2, "process_type": "vf" }"#[..],
        ),
        (
            ProcType::Mirror,
            3,
            br#"{ "results": [ { "result": "success" } ], "client_id": 3, "process_type": "mirror" }"#,
        ),
        (
            ProcType::Pcap,
            4,
            br#"{ "results": [ { "result": "success" } ], "client_id": 4, "process_type": "pcap" }"#,
        ),
    ] {
        let rig = rig(SimSpec::new(ty, id)).await;
        let mut s = rig.accept().await;
        assert_eq!(exchange(&mut s, "_get_client_id").await, want);
        assert_silent(&mut s, Duration::from_millis(50)).await;
    }
    let rig = rig(SimSpec::new(ProcType::Nfv, 1)).await;
    let mut s = rig.accept().await;
    s.write_all(b"_get_client_id").await.expect("write");
    let frame = read_exact(&mut s, 32768).await;
    let json = br#"{"results":[{"result":"success"}],"client_id":1,"process_type":"nfv"}"#;
    assert_eq!(&frame[..json.len()], json);
    assert!(frame[json.len()..].iter().all(|b| *b == 0));
    assert_eq!(rig.sim.received(), vec!["_get_client_id"]);
}

#[tokio::test]
async fn primary_echoes_patch_reset_in_one_frame() {
    let mut spec = SimSpec::new(ProcType::Primary, 0);
    spec.frame_size = 2048;
    let rig = rig(spec).await;
    let mut s = rig.accept().await;
    s.write_all(b"patch reset").await.expect("write");
    let frame = read_exact(&mut s, 2048).await;
    assert_eq!(&frame[..12], b"patch\0reset\0");
    assert!(frame[12..].iter().all(|b| *b == 0));
    assert_silent(&mut s, Duration::from_millis(50)).await;
}

#[tokio::test]
async fn reconnects_after_the_controller_drops_it() {
    let rig = rig(SimSpec::new(ProcType::Vf, 2)).await;
    let mut s = rig.registered().await;
    assert_eq!(exchange(&mut s, "component start a 2 forward").await, OK);
    drop(s);
    let mut s = rig.registered().await;
    assert_eq!(rig.sim.connections(), 2);
    // State survives the reconnect, as in the real process.
    let status = exchange(&mut s, "status").await;
    assert!(String::from_utf8_lossy(&status).contains(r#""name": "a""#));
    assert_eq!(rig.sim.max_in_flight(), 1);
}

#[tokio::test]
async fn delay_garbage_and_split() {
    let rig = rig(SimSpec::new(ProcType::Vf, 2)).await;
    let mut s = rig.registered().await;
    rig.sim.set_faults(Faults { delay: Duration::from_millis(300), ..Faults::default() });
    s.write_all(b"status").await.expect("write");
    assert_silent(&mut s, Duration::from_millis(100)).await;
    assert!(read_json(&mut s).await.starts_with(br#"{ "results""#));

    rig.sim.set_faults(Faults { garbage: true, ..Faults::default() });
    s.write_all(b"status").await.expect("write");
    assert_eq!(read_exact(&mut s, GARBAGE.len()).await, GARBAGE);

    rig.sim.set_faults(Faults { split: Some((usize::MAX, Duration::from_millis(20))), ..Faults::default() });
    s.write_all(b"exit 1").await.expect("write");
    let mut first = [0u8; 128];
    let n = timeout(WAIT, s.read(&mut first)).await.expect("first byte").expect("read");
    let whole = read_json_after(&mut s, first[..n].to_vec()).await;
    let want = br#"{ "results": [ { "result": "error", "error_details": { "message": "Wrong message format" } } ] }"#;
    assert_eq!(whole, want);
    // 1-byte writes 20 ms apart: the first read cannot have seen the whole reply.
    assert!(n < want.len() / 2, "first read got {n} bytes");
    assert_eq!(rig.sim.max_in_flight(), 1);
}

#[tokio::test]
async fn no_reply_keeps_the_connection_open() {
    let rig = rig(SimSpec::new(ProcType::Pcap, 4)).await;
    let mut s = rig.registered().await;
    rig.sim.set_faults(Faults { no_reply: true, ..Faults::default() });
    s.write_all(b"status").await.expect("write");
    assert_silent(&mut s, Duration::from_millis(200)).await;
    rig.sim.set_faults(Faults::default());
    assert_eq!(exchange(&mut s, "start").await, OK);
    // The second command arrived while the first was still unanswered.
    assert_eq!(rig.sim.max_in_flight(), 2);
    assert_eq!(rig.sim.received(), vec!["_get_client_id", "status", "start"]);
}

#[tokio::test]
async fn oversize_status_is_valid_json_over_64k() {
    let rig = rig(SimSpec::new(ProcType::Vf, 2)).await;
    let mut s = rig.registered().await;
    rig.sim.set_faults(Faults { oversize: 65536, ..Faults::default() });
    let status = exchange(&mut s, "status").await;
    assert!(status.len() > 65536);
    let v: serde_json::Value = serde_json::from_slice(&status).expect("valid JSON");
    assert_eq!(v["info"]["client-id"], 2);
}

#[tokio::test]
async fn oversize_primary_frame_grows_to_whole_frames() {
    let rig = rig(SimSpec::new(ProcType::Primary, 0)).await;
    let mut s = rig.accept().await;
    rig.sim.set_faults(Faults { oversize: 65536, ..Faults::default() });
    s.write_all(b"status").await.expect("write");
    let frames = read_exact(&mut s, 3 * 32768).await;
    let text = frames.split(|b| *b == 0).next().unwrap_or_default();
    assert!(text.len() > 65536);
    serde_json::from_slice::<serde_json::Value>(text).expect("valid JSON");
    assert_silent(&mut s, Duration::from_millis(50)).await;
}

#[tokio::test]
async fn disconnects_and_the_handshake_is_never_faulty() {
    let rig = rig(SimSpec::new(ProcType::Mirror, 3)).await;
    rig.sim.set_faults(Faults { disconnect_after: Some(1), garbage: true, ..Faults::default() });
    // Garbage does not apply to the handshake, and it does not count as a command.
    let mut s = rig.registered().await;
    s.write_all(b"status").await.expect("write");
    assert_eq!(read_exact(&mut s, GARBAGE.len()).await, GARBAGE);
    assert_eof(&mut s).await;

    rig.sim.set_faults(Faults { disconnect_before_reply: true, ..Faults::default() });
    let mut s = rig.registered().await;
    s.write_all(b"status").await.expect("write");
    assert_eof(&mut s).await;
    let _s = rig.registered().await;
    assert_eq!(rig.sim.connections(), 3);
}

#[tokio::test]
async fn exit_and_real_crash_terminate_the_process() {
    let rig = rig(SimSpec::new(ProcType::Pcap, 4)).await;
    let mut s = rig.registered().await;
    assert_eq!(exchange(&mut s, "exit").await, OK);
    assert_eof(&mut s).await;
    assert!(rig.sim.exited());
    assert!(timeout(Duration::from_millis(1500), rig.listener.accept()).await.is_err(), "no reconnect");

    let rig = super::conn_tests::rig(SimSpec::new(ProcType::Primary, 0)).await;
    let mut s = rig.accept().await;
    s.write_all(b"add ring").await.expect("write");
    assert_eq!(&read_exact(&mut s, 32768).await[..9], b"add\0ring\0");
    assert!(!rig.sim.exited(), "safe by default");
    rig.sim.set_faults(Faults { real_crash: true, ..Faults::default() });
    s.write_all(b"add ring").await.expect("write");
    assert_eq!(&read_exact(&mut s, 32768).await[..9], b"add\0ring\0");
    assert_eof(&mut s).await;
    assert!(rig.sim.exited());
}

#[tokio::test]
async fn primary_launch_starts_the_secondary() {
    let rig = rig(SimSpec::new(ProcType::Primary, 0)).await;
    let secondary = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = secondary.local_addr().expect("addr").port();
    let mut s = rig.accept().await;
    let cmd = format!("launch 7 spp_mirror -l 1,2 -- --client-id 7 -s 127.0.0.1:{port}");
    s.write_all(cmd.as_bytes()).await.expect("write");
    let frame = read_exact(&mut s, 32768).await;
    assert!(frame.starts_with(br#"{"result":"succeeded","command":"launch"}"#));
    let mut child = timeout(WAIT, secondary.accept()).await.expect("child connects").expect("accept").0;
    let reply = exchange(&mut child, "_get_client_id").await;
    assert_eq!(
        reply,
        br#"{ "results": [ { "result": "success" } ], "client_id": 7, "process_type": "mirror" }"#
    );
}
