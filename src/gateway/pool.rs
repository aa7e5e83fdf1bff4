//! Keep-alive connections to agents, each driven by the task that uses it.
//!
//! hyper's pooled client runs every connection in a task of its own and hands each
//! request to it through a channel, so a proxied request crosses two tasks. Here a
//! request takes an idle connection out of the pool, drives it itself while its exchange
//! runs, and puts it back: one task from client to agent and back, as in nginx.
//!
//! A connection is used by one request at a time, so a reply can only reach the request
//! that asked for it; a request abandoned mid-exchange drops its connection.

use crate::gateway::hosts::Host;
use axum::body::Bytes;
use axum::http::Uri;
use http_body_util::Full;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tower::Service;

pub type Driver = Connection<MaybeHttpsStream<TokioIo<TcpStream>>, Full<Bytes>>;

/// Idle connections older than this are closed: the agent may have dropped them.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per agent; more are closed when they come back.
const MAX_IDLE_PER_AGENT: usize = 256;

/// One open connection to an agent.
pub struct Conn {
    pub sender: SendRequest<Full<Bytes>>,
    /// `None` once the connection has ended.
    pub driver: Option<Driver>,
    idle_since: Instant,
    /// The pool's TLS generation when this connection was made.
    generation: u64,
}

/// The connector for http and https agents; `tls` holds the CA (and client certificate,
/// for mTLS) used with https agents.
fn connector(connect_timeout: Duration, tls: &rustls::ClientConfig) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    http.enforce_http(false);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// Idle connections by agent URL. Boxed: a connection is large, and moving it in and out
/// of the pool and through the request's future showed up as memcpy in the profile.
pub struct Pool {
    connect_timeout: Duration,
    connector: Mutex<HttpsConnector<HttpConnector>>,
    /// Bumped when the TLS files are reloaded.
    generation: AtomicU64,
    #[expect(clippy::vec_box, reason = "taking a connection out moves a pointer, not the connection")]
    idle: Mutex<HashMap<String, Vec<Box<Conn>>>>,
}

/// Why no connection could be had.
pub struct ConnectError(pub Box<dyn std::error::Error + Send + Sync>);

impl Pool {
    pub fn new(connect_timeout: Duration, tls: Arc<rustls::ClientConfig>) -> Self {
        let connector = Mutex::new(connector(connect_timeout, &tls));
        Pool { connect_timeout, connector, generation: AtomicU64::new(0), idle: Mutex::default() }
    }

    /// New TLS files: new connections use them, and connections made with the old ones
    /// are closed once idle.
    pub fn set_tls(&self, tls: &rustls::ClientConfig) {
        *self.connector.lock() = connector(self.connect_timeout, tls);
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.idle.lock().clear();
    }

    /// An idle connection to `host` that is still open and ready, or a new one.
    pub async fn checkout(&self, host: &Host) -> Result<Box<Conn>, ConnectError> {
        while let Some(mut conn) = self.take(&host.url) {
            if conn.ready().await {
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

    async fn connect(&self, base: &Uri) -> Result<Box<Conn>, ConnectError> {
        let generation = self.generation.load(Ordering::Relaxed);
        let mut connector = self.connector.lock().clone();
        poll_fn(|cx| connector.poll_ready(cx)).await.map_err(ConnectError)?;
        let stream = connector.call(base.clone()).await.map_err(ConnectError)?;
        let (sender, driver) =
            hyper::client::conn::http1::handshake(stream).await.map_err(|e| ConnectError(e.into()))?;
        Ok(Box::new(Conn { sender, driver: Some(driver), idle_since: Instant::now(), generation }))
    }

    /// Returns a connection after a complete exchange.
    pub fn put(&self, host: &Host, mut conn: Box<Conn>) {
        if conn.driver.is_none()
            || conn.sender.is_closed()
            || conn.generation != self.generation.load(Ordering::Relaxed)
        {
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
    pub fn sweep(&self) {
        let expired = |conn: &Conn| conn.idle_since.elapsed() >= IDLE_TIMEOUT;
        let mut idle = self.idle.lock();
        idle.values_mut().for_each(|conns| conns.retain(|c| !expired(c)));
        idle.retain(|_, conns| !conns.is_empty());
    }
}

impl Conn {
    /// Whether the connection can take a request. Polling the connection first lets it
    /// finish the previous exchange and notice an agent that closed it while it was idle,
    /// so a request is not written to a dead connection.
    async fn ready(&mut self) -> bool {
        poll_fn(|cx| {
            if let Some(driver) = &mut self.driver
                && Pin::new(driver).poll(cx).is_ready()
            {
                self.driver = None;
            }
            if self.driver.is_none() {
                return Poll::Ready(false);
            }
            self.sender.poll_ready(cx).map(|ready| ready.is_ok())
        })
        .await
    }
}

/// Runs `work` (a request on the connection, or waiting for it to be ready) while driving
/// the connection's I/O in the same task. When the connection ends first, it is dropped:
/// hyper then fails whatever `work` waits for, and the connection is not reused.
pub async fn drive<F: Future>(driver: &mut Option<Driver>, work: F) -> F::Output {
    let mut work = pin!(work);
    poll_fn(|cx| {
        if let Poll::Ready(output) = work.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        let Some(connection) = driver else { return Poll::Pending };
        if Pin::new(connection).poll(cx).is_ready() {
            *driver = None;
        }
        // What the connection just did (sent the request, read the reply) may have
        // completed `work`: look now, not after a round through the scheduler.
        work.as_mut().poll(cx)
    })
    .await
}
