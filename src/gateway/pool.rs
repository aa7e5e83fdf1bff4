//! Keep-alive connections to agents, each used by one request at a time.
//!
//! A request takes an idle connection out of the pool, writes its request and reads the
//! whole answer in its own task, and puts the connection back: one task from client to
//! agent and back, as in nginx, and a reply can only reach the request that asked for it.
//! A request abandoned mid-exchange drops its connection.

use crate::gateway::hosts::Host;
use crate::gateway::http1::{self, Dechunker, Framing, FramingError};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use parking_lot::Mutex;
use rustls_pki_types::ServerName;
use std::collections::HashMap;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;

/// Idle connections older than this are closed: the agent may have dropped them.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per agent; more are closed when they come back.
const MAX_IDLE_PER_AGENT: usize = 256;
/// The largest answer head and body read from an agent.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Read buffer growth, and the free space below which it grows before a read.
const READ_CHUNK: usize = 8 * 1024;
const MIN_READ: usize = 1024;
/// Buffer capacity an idle connection may keep: one large answer (a metrics page) or
/// request must not pin its size for the life of the connection.
const KEPT_BUFFER: usize = 64 * 1024;

pub(crate) type Stream = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// One open connection to an agent, with its buffers (kept across requests).
pub(crate) struct Conn {
    stream: Stream,
    read: Vec<u8>,
    write: Vec<u8>,
    idle_since: Instant,
    /// The pool's TLS generation when this connection was made; `None` for plain TCP,
    /// which no TLS file affects.
    generation: Option<u64>,
}

/// A complete answer of an agent: its status, the headers the gateway passes on, and
/// the body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Why a connection to an agent could not be made or carry an exchange. The texts are
/// those of the gateway's error bodies.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("timed out after {0} ms")]
    ConnectTimeout(u128),
    #[error("{0}")]
    Refused(#[source] io::Error),
    /// Reset, aborted or a broken pipe: the agent or the network dropped the connection.
    #[error("{0}")]
    Reset(#[source] io::Error),
    /// The agent closed the connection cleanly (`while` says when).
    #[error("the agent closed the connection {0}")]
    Closed(&'static str),
    #[error("connection closed")]
    WriteClosed,
    #[error("{0}")]
    Io(#[source] io::Error),
    #[error("{host}: {source}")]
    ServerName { host: String, source: rustls_pki_types::InvalidDnsNameError },
    #[error("TLS: {0}")]
    Tls(#[source] io::Error),
    #[error(transparent)]
    Framing(#[from] FramingError),
}

impl From<io::Error> for ConnError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => ConnError::Refused(e),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => {
                ConnError::Reset(e)
            }
            _ => ConnError::Io(e),
        }
    }
}

/// How an exchange failed.
pub(crate) enum Failure {
    /// Nothing of the request reached the connection: sending it again is safe.
    Unsent(ConnError),
    Broken(ConnError),
}

/// What an exchange sends.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'a Method,
    pub(crate) target: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

/// Idle connections by agent URL. Boxed: taking a connection out of the pool, and
/// moving it through the request's future, then moves a pointer.
pub(crate) struct Pool {
    connect_timeout: Duration,
    tls: Mutex<TlsConnector>,
    /// Bumped when the TLS files are reloaded.
    generation: AtomicU64,
    #[expect(clippy::vec_box, reason = "taking a connection out moves a pointer, not the connection")]
    idle: Mutex<HashMap<String, Vec<Box<Conn>>>>,
}

/// Agents speak HTTP/1.1 here, over TLS too.
fn tls_connector(tls: &rustls::ClientConfig) -> TlsConnector {
    let mut tls = tls.clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(tls))
}

impl Pool {
    pub(crate) fn new(connect_timeout: Duration, tls: &rustls::ClientConfig) -> Self {
        let tls = Mutex::new(tls_connector(tls));
        Pool { connect_timeout, tls, generation: AtomicU64::new(0), idle: Mutex::default() }
    }

    /// New TLS files: new connections use them, and TLS connections made with the old
    /// ones are closed once idle. Plain TCP connections stay.
    pub(crate) fn set_tls(&self, tls: &rustls::ClientConfig) {
        *self.tls.lock() = tls_connector(tls);
        self.generation.fetch_add(1, Ordering::Relaxed);
        let mut idle = self.idle.lock();
        idle.values_mut().for_each(|conns| conns.retain(|c| c.generation.is_none()));
    }

    /// An idle connection to `host` that is still open, or a new one.
    pub(crate) async fn checkout(&self, host: &Host) -> Result<Box<Conn>, ConnError> {
        while let Some(mut conn) = self.take(&host.url) {
            if poll_fn(|cx| Poll::Ready(conn.is_open(cx))).await {
                return Ok(conn);
            }
        }
        // Boxed: connecting is rare, and its future would otherwise bloat (and be copied
        // with) every request's future.
        Box::pin(self.connect(&host.base)).await
    }

    fn take(&self, url: &str) -> Option<Box<Conn>> {
        let mut idle = self.idle.lock();
        let conns = idle.get_mut(url)?;
        while let Some(conn) = conns.pop() {
            if conn.idle_since.elapsed() < IDLE_TIMEOUT {
                return Some(conn);
            }
        }
        None
    }

    async fn connect(&self, base: &Uri) -> Result<Box<Conn>, ConnError> {
        let tls = (base.scheme_str() == Some("https")).then(|| self.tls.lock().clone());
        let generation = tls.is_some().then(|| self.generation.load(Ordering::Relaxed));
        let host = base.host().unwrap_or_default();
        let port = base.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
        // An IPv6 address comes bracketed in a URI, and without brackets to a resolver.
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let connecting = async {
            let tcp = TcpStream::connect((host, port)).await?;
            let _ = tcp.set_nodelay(true);
            let Some(tls) = tls else { return Ok::<Stream, ConnError>(Either::Left(tcp)) };
            let name = ServerName::try_from(host.to_owned())
                .map_err(|source| ConnError::ServerName { host: host.to_owned(), source })?;
            let stream = tls.connect(name, tcp).await.map_err(ConnError::Tls)?;
            Ok(Either::Right(Box::new(stream)))
        };
        let stream = tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| ConnError::ConnectTimeout(self.connect_timeout.as_millis()))??;
        let conn =
            Conn { stream, read: Vec::new(), write: Vec::new(), idle_since: Instant::now(), generation };
        Ok(Box::new(conn))
    }

    /// Returns a connection after an exchange that left it reusable.
    pub(crate) fn put(&self, host: &Host, mut conn: Box<Conn>) {
        if conn.generation.is_some_and(|g| g != self.generation.load(Ordering::Relaxed)) {
            return;
        }
        conn.idle_since = Instant::now();
        let mut idle = self.idle.lock();
        let conns = match idle.get_mut(&host.url) {
            Some(conns) => conns,
            None => idle.entry(host.url.clone()).or_default(),
        };
        if conns.len() < MAX_IDLE_PER_AGENT {
            conns.push(conn);
        }
    }

    /// Closes connections idle for too long, and forgets agents with none left.
    pub(crate) fn sweep(&self) {
        let expired = |conn: &Conn| conn.idle_since.elapsed() >= IDLE_TIMEOUT;
        let mut idle = self.idle.lock();
        idle.values_mut().for_each(|conns| conns.retain(|c| !expired(c)));
        idle.retain(|_, conns| !conns.is_empty());
    }
}

impl Conn {
    /// Whether an idle connection is still open. An agent sends nothing unasked, so
    /// anything to read (an end of stream, an error, stray bytes) means it closed or broke
    /// the connection, and a request must not be written to it. Free when nothing came:
    /// the runtime knows the socket has not been readable since the last answer.
    fn is_open(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        let mut probe = [0; 1];
        let mut probe = ReadBuf::new(&mut probe);
        Pin::new(&mut self.stream).poll_read(cx, &mut probe).is_pending()
    }

    /// Sends one request and reads its whole answer; `Ok` also says whether the
    /// connection can carry another request.
    pub(crate) async fn exchange(
        &mut self,
        request: &Outgoing<'_>,
        host: &Host,
    ) -> Result<(Answer, bool), Failure> {
        self.send(request, host).await?;
        self.read_answer(*request.method == Method::HEAD).await.map_err(Failure::Broken)
    }

    /// Writes one request, leaving its answer unread.
    pub(crate) async fn send(&mut self, request: &Outgoing<'_>, host: &Host) -> Result<(), Failure> {
        self.write.clear();
        let Outgoing { method, target, headers, body } = *request;
        http1::encode_request(&mut self.write, method, target, &host.authority, headers, body);
        let mut written = 0;
        while written < self.write.len() {
            match self.stream.write(&self.write[written..]).await {
                Ok(n) if n > 0 => written += n,
                Ok(_) => return Err(failure(written, ConnError::WriteClosed)),
                Err(e) => return Err(failure(written, e.into())),
            }
        }
        self.stream.flush().await.map_err(|e| Failure::Broken(e.into()))
    }

    /// The socket and the bytes read from it so far, for an answer read as it comes
    /// (`stream`): the connection never goes back to the pool.
    pub(crate) fn into_io(self) -> (Stream, Vec<u8>) {
        (self.stream, self.read)
    }

    async fn read_answer(&mut self, head_request: bool) -> Result<(Answer, bool), ConnError> {
        let head = loop {
            match http1::parse_head(&self.read, head_request)? {
                // 100 Continue and the like come before the answer.
                Some(head) if head.status.is_informational() => _ = self.read.drain(..head.len),
                Some(head) => break head,
                None if self.read.len() > MAX_HEAD => {
                    return Err(FramingError::HeadTooLarge(MAX_HEAD).into());
                }
                None => self.fill("before its answer").await?,
            }
        };
        let start = head.len;
        let (body, end) = match head.framing {
            Framing::Empty => (Bytes::new(), start),
            Framing::Length(length) if length > MAX_BODY => {
                return Err(FramingError::TooLarge(MAX_BODY).into());
            }
            Framing::Length(length) => {
                while self.read.len() < start + length {
                    self.fill("in the middle of the answer").await?;
                }
                (Bytes::copy_from_slice(&self.read[start..start + length]), start + length)
            }
            Framing::Chunked => {
                let mut chunks = Dechunker::default();
                while !chunks.advance(&self.read[start..], MAX_BODY)? {
                    self.fill("in the middle of the answer").await?;
                }
                (Bytes::from(chunks.body), start + chunks.consumed)
            }
            Framing::UntilClose => {
                while self.read_more().await? > 0 {
                    if self.read.len() - start > MAX_BODY {
                        return Err(FramingError::TooLarge(MAX_BODY).into());
                    }
                }
                (Bytes::copy_from_slice(&self.read[start..]), self.read.len())
            }
        };
        // Bytes after the answer were not asked for: the connection is out of step.
        let reusable = head.keep_alive && end == self.read.len();
        self.read.clear();
        self.read.shrink_to(KEPT_BUFFER);
        self.write.clear();
        self.write.shrink_to(KEPT_BUFFER);
        Ok((Answer { status: head.status, headers: head.headers, body }, reusable))
    }

    /// Reads more of an answer that the agent must still send.
    async fn fill(&mut self, context: &'static str) -> Result<(), ConnError> {
        match self.read_more().await {
            Ok(0) => Err(ConnError::Closed(context)),
            Ok(_) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn read_more(&mut self) -> io::Result<usize> {
        if self.read.capacity() - self.read.len() < MIN_READ {
            self.read.reserve(READ_CHUNK);
        }
        self.stream.read_buf(&mut self.read).await
    }
}

/// A write failure, `written` bytes into the request.
fn failure(written: usize, error: ConnError) -> Failure {
    if written == 0 { Failure::Unsent(error) } else { Failure::Broken(error) }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
