//! Accept loops of the primary and secondary ports.
//!
//! Every accepted connection gets its own task, so a slow or silent peer never holds
//! the accept loop. On the secondary port that task runs the `_get_client_id`
//! handshake under a deadline and registers the peer under the id it reports.

use crate::agent::actor::{self, ActorSettings};
use crate::agent::codec::{FrameError, Progress, RawReply, ReplyDecoder};
use crate::agent::process::ProcessHandle;
use crate::agent::registry::Registry;
use crate::proc_type::{ProcName, ProcType};
use bytes::{Buf, BytesMut};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// What the accept loops need.
#[derive(Clone)]
pub(crate) struct PortContext {
    pub(crate) registry: Registry,
    pub(crate) actor: ActorSettings,
    pub(crate) frame_size: usize,
    pub(crate) handshake_timeout: Duration,
    /// Processes seen since start, to tell a reconnect from a first connect.
    pub(crate) seen: Arc<Mutex<HashSet<ProcName>>>,
}

impl PortContext {
    fn count_connection(&self, name: ProcName) {
        let event = if self.seen.lock().insert(name) { "connect" } else { "reconnect" };
        self.actor.metrics.connection(name.ty.as_str(), event);
    }
}

/// A connected, identified process: its stream, the decoder that read its handshake
/// (if any) and bytes already read past it.
struct Connection {
    name: ProcName,
    peer: String,
    stream: TcpStream,
    decoder: ReplyDecoder,
    pending: BytesMut,
}

impl Connection {
    /// Hands the connection to its actor; returns the registry entry it replaces.
    fn attach(self, ctx: &PortContext) -> Option<ProcessHandle> {
        ctx.count_connection(self.name);
        let Connection { name, peer, stream, decoder, pending } = self;
        actor::attach((name, &peer), stream, decoder, pending, &ctx.registry, &ctx.actor)
    }
}

/// Accepts primary connections until `shutdown`; each one is the primary.
pub(crate) async fn serve_primary(listener: TcpListener, ctx: PortContext, shutdown: CancellationToken) {
    while let Some((stream, peer)) = accept(&listener, &shutdown).await {
        let conn = Connection {
            name: ProcName::primary(),
            peer: peer.to_string(),
            stream,
            decoder: ReplyDecoder::new(Some(ctx.frame_size)),
            pending: BytesMut::new(),
        };
        if let Some(old) = conn.attach(&ctx) {
            warn!(%peer, "a new primary connection replaces the previous one");
            old.invalidate();
        }
    }
}

/// Accepts secondary connections until `shutdown`; identification runs per connection.
pub(crate) async fn serve_secondary(listener: TcpListener, ctx: PortContext, shutdown: CancellationToken) {
    while let Some((stream, peer)) = accept(&listener, &shutdown).await {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            match timeout(ctx.handshake_timeout, identify(stream, peer.to_string(), ctx.frame_size)).await {
                Ok(Ok(conn)) => register_secondary(conn, &ctx),
                Ok(Err(reason)) => {
                    ctx.actor.metrics.connection("unknown", "rejected");
                    warn!(%peer, %reason, "unidentifiable secondary dropped");
                }
                Err(_) => {
                    ctx.actor.metrics.connection("unknown", "rejected");
                    warn!(%peer, "secondary did not identify itself in time; dropped");
                }
            }
        });
    }
}

fn register_secondary(conn: Connection, ctx: &PortContext) {
    let name = conn.name;
    info!(proc = %name, peer = %conn.peer, "secondary identified");
    if let Some(old) = conn.attach(ctx) {
        if old.name().ty == name.ty {
            warn!(proc = %name, "a new connection replaces the previous one with the same id");
        } else {
            warn!(proc = %name, old = %old.name(), "secondary id reused by another process type");
        }
        old.invalidate();
    }
}

async fn accept(
    listener: &TcpListener,
    shutdown: &CancellationToken,
) -> Option<(TcpStream, std::net::SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return None,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // One command must reach the process in one segment.
                if let Err(e) = stream.set_nodelay(true) {
                    warn!(%peer, error = %e, "cannot set TCP_NODELAY");
                }
                return Some((stream, peer));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Why a secondary could not be identified; the connection is dropped.
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("closed during the handshake")]
    Closed,
    #[error("{0}")]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// Why a complete `_get_client_id` reply names no secondary.
#[derive(Debug, PartialEq, thiserror::Error)]
enum IdentityError {
    #[error("the reply to _get_client_id is not JSON")]
    NotJson,
    /// serde_json's message (its error type is neither `Clone` nor comparable).
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("_get_client_id did not succeed")]
    Failed,
    #[error("no valid client_id and process_type in the reply")]
    NoIdentity,
}

/// Sends `_get_client_id` and reads the reply (`docs/wire-protocol.md` §2.2).
async fn identify(
    mut stream: TcpStream,
    peer: String,
    frame_size: usize,
) -> Result<Connection, HandshakeError> {
    stream.write_all(b"_get_client_id").await?;
    let mut decoder = ReplyDecoder::new(None);
    decoder.begin();
    let mut pending = BytesMut::with_capacity(4096);
    let raw = loop {
        let n = stream.read_buf(&mut pending).await?;
        if n == 0 {
            return Err(HandshakeError::Closed);
        }
        let (used, progress) = decoder.feed(&pending)?;
        pending.advance(used);
        match progress {
            Progress::Complete(raw) => break raw,
            // Not JSON: a primary on the wrong port echoes the command.
            Progress::TextPadding => break decoder.finish_text(),
            Progress::Incomplete => {}
        }
    };
    let (ty, id) = parse_identity(&raw)?;
    if ty.uses_frames() {
        // The rest of its first frame is still on its way.
        decoder.adopt_frames(frame_size, decoder.frame_bytes_seen());
    }
    Ok(Connection { name: ProcName::secondary(ty, id), peer, stream, decoder, pending })
}

/// Type and client id from a `_get_client_id` reply.
fn parse_identity(raw: &RawReply) -> Result<(ProcType, u32), IdentityError> {
    let RawReply::Json(bytes) = raw else { return Err(IdentityError::NotJson) };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| IdentityError::InvalidJson(e.to_string()))?;
    if value.pointer("/results/0/result").and_then(Value::as_str) != Some("success") {
        return Err(IdentityError::Failed);
    }
    let id = value.get("client_id").and_then(Value::as_u64).and_then(|id| u32::try_from(id).ok());
    let ty = value.get("process_type").and_then(Value::as_str).and_then(ProcType::from_secondary);
    match (ty, id) {
        (Some(ty), Some(id)) => Ok((ty, id)),
        _ => Err(IdentityError::NoIdentity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> RawReply {
        RawReply::Json(s.as_bytes().to_vec())
    }

    #[test]
    fn identities_of_every_secondary_style() {
        let nfv = r#"{"results":[{"result":"success"}],"client_id":1,"process_type":"nfv"}"#;
        let vf = r#"{ "results": [ { "result": "success" } ], "client_id": 2, "process_type": "vf" }"#;
        assert_eq!(parse_identity(&json(nfv)), Ok((ProcType::Nfv, 1)));
        assert_eq!(parse_identity(&json(vf)), Ok((ProcType::Vf, 2)));
    }

    #[test]
    fn unidentifiable_replies_are_refused() {
        for bad in [
            r#"{"results":[{"result":"error"}],"client_id":1,"process_type":"nfv"}"#,
            r#"{"results":[{"result":"success"}],"client_id":-1,"process_type":"nfv"}"#,
            r#"{"results":[{"result":"success"}],"client_id":"1","process_type":"nfv"}"#,
            r#"{"results":[{"result":"success"}],"client_id":1,"process_type":"primary"}"#,
            r#"{"results":[{"result":"success"}],"client_id":1}"#,
            r#"[1,2]"#,
        ] {
            assert!(parse_identity(&json(bad)).is_err(), "{bad}");
        }
        assert!(parse_identity(&RawReply::Text("_get_client_id".into())).is_err());
    }
}
