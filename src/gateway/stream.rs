//! Answers read as they come, for event streams: the head within the request deadline,
//! then the body piece by piece with no deadline at all (`Upstream`), and a response
//! body fed by a task through a bounded channel (`ChannelBody`): a client that reads
//! slowly holds the task, and the task the agent, through TCP flow control.

use crate::gateway::hosts::Host;
use crate::gateway::http1::{self, Dechunker, Framing};
use crate::gateway::pool::{ConnError, Failure, Outgoing, Pool, Stream};
use crate::gateway::upstream::UpstreamError;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use hyper::body::{Body as HttpBody, Frame};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// The most a single chunk of a streamed answer may hold.
const MAX_CHUNK: usize = 1 << 20;
const READ_SIZE: usize = 16 * 1024;

/// The body of an agent's answer, read as it comes.
pub(crate) struct Upstream {
    io: Stream,
    /// Body bytes received and not yet returned (still chunk-encoded when chunked).
    raw: Vec<u8>,
    framing: Framing,
    chunks: Dechunker,
    done: bool,
}

/// An answer's status and returned headers, and its body to read.
pub(crate) struct Opened {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Upstream,
}

/// Sends `GET target` to `host` on a connection of its own and reads the answer head
/// within `deadline` (connecting within the pool's connect timeout).
pub(crate) async fn open(
    pool: &Pool,
    host: &Host,
    target: &str,
    headers: &HeaderMap,
    deadline: Duration,
) -> Result<Opened, UpstreamError> {
    let mut conn = pool.checkout(host).await.map_err(UpstreamError::Connect)?;
    let request = Outgoing { method: &Method::GET, target, headers, body: &[] };
    let reading = async {
        conn.send(&request, host).await.map_err(|(Failure::Unsent(e) | Failure::Broken(e))| e)?;
        let (mut io, mut raw) = conn.into_io();
        let head = loop {
            match http1::parse_head(&raw, false)? {
                Some(head) if head.status.is_informational() => _ = raw.drain(..head.len),
                Some(head) => break head,
                None => {
                    if io.read_buf(&mut raw).await? == 0 {
                        return Err(ConnError::Closed("before its answer"));
                    }
                }
            }
        };
        raw.drain(..head.len);
        let body = Upstream { io, raw, framing: head.framing, chunks: Dechunker::default(), done: false };
        Ok::<_, ConnError>(Opened { status: head.status, headers: head.headers, body })
    };
    match tokio::time::timeout(deadline, reading).await {
        Ok(result) => result.map_err(UpstreamError::Broken),
        Err(_) => Err(UpstreamError::Timeout(deadline.as_millis())),
    }
}

impl Upstream {
    /// The next body bytes, as soon as any are complete; `None` at the end of the body.
    pub(crate) async fn next(&mut self) -> Result<Option<Bytes>, ConnError> {
        loop {
            if self.done {
                return Ok(None);
            }
            if let Some(piece) = self.take()? {
                return Ok(Some(piece));
            }
            if self.done {
                return Ok(None);
            }
            self.raw.reserve(READ_SIZE);
            if self.io.read_buf(&mut self.raw).await? == 0 {
                return match self.framing {
                    Framing::UntilClose => {
                        self.done = true;
                        Ok(None)
                    }
                    _ => Err(ConnError::Closed("in the middle of its stream")),
                };
            }
        }
    }

    /// What the bytes received so far complete.
    fn take(&mut self) -> Result<Option<Bytes>, ConnError> {
        let piece = match self.framing {
            Framing::Empty => {
                self.done = true;
                return Ok(None);
            }
            Framing::Chunked => {
                self.done = self.chunks.advance(&self.raw, MAX_CHUNK)?;
                self.raw.drain(..self.chunks.consumed);
                self.chunks.consumed = 0;
                std::mem::take(&mut self.chunks.body)
            }
            Framing::Length(left) => {
                let piece: Vec<u8> = self.raw.drain(..left.min(self.raw.len())).collect();
                self.framing = Framing::Length(left - piece.len());
                self.done = left == piece.len();
                piece
            }
            Framing::UntilClose => std::mem::take(&mut self.raw),
        };
        Ok((!piece.is_empty()).then(|| Bytes::from(piece)))
    }
}

/// A response body whose pieces a task sends; it ends when the task drops its sender.
pub(crate) struct ChannelBody(pub mpsc::Receiver<Bytes>);

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|piece| piece.map(|bytes| Ok(Frame::data(bytes))))
    }
}
