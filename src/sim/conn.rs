//! The connection side of a simulated process: connect (and reconnect every second),
//! read commands the way the real process reads them, and write replies the way it
//! writes them — frames for primary/nfv, bare text otherwise — with faults applied.

use super::faults::{self, Faults};
use super::handle::Shared;
use super::launch::Launch;
use super::model::{Model, Reply, tokenized};
use super::spec::SimSpec;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// `CONN_RETRY_USEC` of the real processes.
const RETRY: Duration = Duration::from_secs(1);

/// Why a connection ended.
enum End {
    /// EOF, an I/O error or a fault: reconnect.
    Closed,
    /// The process terminated (`exit`, or a crash): never reconnect.
    Exited,
}

/// Runs one simulated process until shutdown or until it terminates.
pub(super) async fn run(spec: SimSpec, ctl: SocketAddr, shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut model = spec.model();
    // A refused connection is worth a warning once per outage, not once per retry.
    let mut warned = false;
    while !shutdown.is_cancelled() {
        match connect(ctl).await {
            Ok(mut stream) => {
                warned = false;
                shared.connected();
                info!(%ctl, "connected");
                let end = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    end = serve(&mut stream, model.as_mut(), &spec, &shared, &shutdown) => end,
                };
                drop(stream);
                if let End::Exited = end {
                    info!("process terminated");
                    shared.set_exited();
                    return;
                }
                info!("disconnected");
            }
            Err(e) if warned => debug!(%ctl, error = %e, "connect failed"),
            Err(e) => {
                warn!(%ctl, error = %e, "cannot connect to the controller; retrying every second");
                warned = true;
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

async fn connect(ctl: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(ctl).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One connection: each read is one command, each command at most one reply.
async fn serve(
    stream: &mut TcpStream,
    model: &mut dyn Model,
    spec: &SimSpec,
    shared: &Shared,
    shutdown: &CancellationToken,
) -> End {
    let mut buf = vec![0u8; spec.read_size()];
    let mut replied = 0u64;
    let mut unanswered = false;
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return End::Closed,
            Ok(n) => n,
        };
        let raw = &buf[..n];
        let cmd = String::from_utf8_lossy(raw).into_owned();
        debug!(command = %cmd.escape_debug(), "received");
        shared.record(cmd.clone());
        shared.in_flight(if unanswered { 2 } else { 1 });
        // The handshake is never faulty, so that a faulty process still registers.
        let faults = if cmd == "_get_client_id" { Faults::default() } else { shared.faults() };
        if faults.disconnect_before_reply {
            return End::Closed;
        }
        model.set_oversize(faults.oversize);
        let reply = model.handle(&cmd, Instant::now()).resolve(faults.real_crash);
        for launch in model.take_launches() {
            start_launched(launch, spec, shutdown);
        }
        let (bytes, exits) = match reply {
            Reply::Exit(None) => return End::Exited,
            Reply::Exit(Some(reply)) => (render(*reply, raw, spec), true),
            reply => (render(reply, raw, spec), false),
        };
        if faults.no_reply && !exits {
            unanswered = true;
            continue;
        }
        let bytes = if faults.garbage { frame(faults::GARBAGE.to_vec(), spec) } else { bytes };
        if write_reply(stream, &bytes, &faults, shared).await.is_err() {
            return End::Closed;
        }
        if exits {
            let _ = stream.shutdown().await;
            return End::Exited;
        }
        replied += 1;
        if faults.disconnect_after.is_some_and(|n| replied >= n) {
            return End::Closed;
        }
    }
}

/// Starts a secondary asked for by the primary's `launch`, on the same simulated host.
fn start_launched(launch: Launch, spec: &SimSpec, shutdown: &CancellationToken) {
    info!(proc = %launch.ty, client_id = launch.client_id, ctl = %launch.ctl, "launching");
    let mut child = SimSpec::new(launch.ty, launch.client_id);
    child.frame_size = spec.frame_size;
    child.seed = spec.seed;
    child.phy_queues = spec.phy_queues.clone();
    child.rings = spec.rings;
    child.counters = spec.counters.clone();
    super::spawn(child, launch.ctl, shutdown.clone());
}

/// The bytes of a reply: text, or for primary/nfv the echo of the tokenized command, in
/// a frame where the process uses frames.
fn render(reply: Reply, raw: &[u8], spec: &SimSpec) -> Vec<u8> {
    let body = match reply {
        Reply::Text(t) => t.into_bytes(),
        // Only `Exit` and `Fatal` carry nested replies, and both are resolved by now.
        Reply::Echo | Reply::Exit(_) | Reply::Fatal { .. } => tokenized(raw),
    };
    frame(body, spec)
}

/// primary/nfv: pad with NULs to the frame size (an oversized reply to the next multiple).
fn frame(mut body: Vec<u8>, spec: &SimSpec) -> Vec<u8> {
    if spec.ty.uses_frames() {
        let f = spec.frame_size.max(1);
        body.resize(body.len().div_ceil(f).max(1) * f, 0);
    }
    body
}

async fn write_reply(
    stream: &mut TcpStream,
    bytes: &[u8],
    faults: &Faults,
    shared: &Shared,
) -> io::Result<()> {
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    let (pieces, pause) = match faults.split {
        Some((n, pause)) => (faults::split_pieces(bytes, n), pause),
        None => (vec![bytes], Duration::ZERO),
    };
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        // Anything readable before the last byte is written is a command that overlaps.
        if command_waiting(stream) {
            shared.in_flight(2);
        }
        stream.write_all(piece).await?;
    }
    let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
    debug!(bytes = bytes.len(), reply = %String::from_utf8_lossy(text).escape_debug(), "replied");
    Ok(())
}

/// True when bytes from the controller are waiting, without consuming them.
fn command_waiting(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    let mut cx = Context::from_waker(Waker::noop());
    matches!(stream.poll_peek(&mut cx, &mut buf), Poll::Ready(Ok(n)) if n > 0)
}
