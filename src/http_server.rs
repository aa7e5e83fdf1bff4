//! The HTTP server loop shared by the roles: a connection limit that closes idle
//! connections to admit new ones, deadlines for request heads, bodies and idle
//! connections (`connections`, `exchange`), optional TLS (rustls; the configuration is
//! read per handshake, so a reload applies to new connections only), HTTP/1.1 and, over
//! TLS with ALPN, HTTP/2, and graceful shutdown (stop accepting, let in-flight requests
//! finish within the grace period).
//!
//! axum's own `serve` has no header timeout, connection limit nor TLS, hence this loop.
//!
//! With `workers > 0` connections are served on that many threads, each running its own
//! single-threaded runtime, and handed out round-robin: a connection and everything its
//! requests do (TLS, the handler, the gateway's agent connections) stay on one thread, as
//! in nginx's worker model. The multi-threaded runtime bounced each proxied request
//! between threads and cost a third more CPU per request.

mod connections;
mod exchange;
pub(crate) mod trace;

use crate::tls::ReloadableServerConfig;
use axum::extract::Request;
use axum::response::Response;
use connections::{Activity, Connections, Slot};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::cell::Cell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::{AbortOnDropHandle, TaskTracker};
use tower::Service;
use tracing::{debug, info, warn};

#[derive(Clone, Debug)]
pub struct ServerLimits {
    /// For a request head; a new connection must also begin its first request within it.
    pub header_timeout: Duration,
    /// For a request body, from when the app first waits for it.
    pub body_timeout: Duration,
    /// For a connection with no request in flight, after its first.
    pub idle_timeout: Duration,
    /// Beyond it, the oldest idle connection is closed to admit a new one.
    pub max_connections: usize,
    pub grace_period: Duration,
    /// Threads that serve connections; 0 serves them on the caller's runtime.
    pub workers: usize,
}

thread_local! {
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The index of the worker thread this code runs on, if it runs on one.
pub fn worker_index() -> Option<usize> {
    WORKER.get()
}

/// In the extensions of a streamed response: once the token is cancelled (the app gave
/// up on a client that does not read), the connection is dropped after `CUT_GRACE`, even
/// if the client never reads what is left.
#[derive(Clone, Debug)]
pub(crate) struct CutOff(pub CancellationToken);

/// Time a cut-off stream's client has to read its last bytes.
pub(crate) const CUT_GRACE: Duration = Duration::from_secs(1);

/// Who is calling: the peer address, in the extensions of requests other than GET and
/// HEAD (the audit log names it). Reads go without: inserting an extension allocates, on
/// every request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub SocketAddr);

/// Serves `app` (a `Router`, possibly wrapped in tower layers) on `listener` until
/// `shutdown`, then drains. With `tls`, every connection starts with a TLS handshake.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: ServerLimits,
    tls: Option<Arc<ReloadableServerConfig>>,
    shutdown: CancellationToken,
) where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let connections = Connections::new(limits.max_connections, limits.header_timeout, limits.idle_timeout);
    let _sweep = AbortOnDropHandle::new(tokio::spawn(connections.clone().sweep()));
    let tracker = TaskTracker::new();
    let abandon = CancellationToken::new();
    // Returning, drained or not, ends the workers and cancels what they still run.
    let _abandon_on_return = abandon.clone().drop_guard();
    let serving = Serving { app, limits, tls, shutdown };
    let workers: Vec<_> = (0..serving.limits.workers)
        .map(|index| {
            let (tracker, abandon) = (tracker.clone(), abandon.clone());
            Worker { index, serving: serving.clone(), tracker, abandon }.start()
        })
        .collect();
    let shutdown = &serving.shutdown;
    let mut next = 0;
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                accept_failed(&e, &connections).await;
                continue;
            }
        };
        // Accepting before waiting for a slot: a full server closes an idle connection
        // only for a client that is there. With none idle, the rest wait in the backlog.
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = connections.admit() => slot,
        };
        let _ = stream.set_nodelay(true);
        if workers.is_empty() {
            tracker.spawn(serving.clone().handle(stream, peer, slot));
        } else if let Ok(stream) = stream.into_std() {
            next = (next + 1) % workers.len();
            // A worker's receiver lives until this sender is dropped, below.
            let _ = workers[next].send(Accepted { stream, peer, slot });
        }
    }
    drop(workers);
    tracker.close();
    if tokio::time::timeout(serving.limits.grace_period, tracker.wait()).await.is_err() {
        warn!(remaining = tracker.len(), "grace period over; abandoning in-flight requests");
    } else {
        info!("HTTP server drained");
    }
}

/// Out of file descriptors, an idle connection gives one back; otherwise the error
/// may last, so the loop pauses.
async fn accept_failed(e: &std::io::Error, connections: &Connections) {
    let out_of_files = matches!(
        rustix::io::Errno::from_io_error(e),
        Some(rustix::io::Errno::MFILE | rustix::io::Errno::NFILE)
    );
    if out_of_files && connections.close_oldest_idle() {
        debug!(error = %e, "accept failed; closing the oldest idle connection");
        tokio::time::sleep(Duration::from_millis(1)).await;
    } else {
        warn!(error = %e, "accept failed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What serving a connection takes.
#[derive(Clone)]
struct Serving<S> {
    app: S,
    limits: ServerLimits,
    tls: Option<Arc<ReloadableServerConfig>>,
    shutdown: CancellationToken,
}

impl<S> Serving<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    /// One accepted connection: the TLS handshake if any, then HTTP until it closes.
    async fn handle(self, stream: TcpStream, peer: SocketAddr, slot: Slot) {
        let Serving { app, limits, tls, shutdown } = self;
        let activity = &slot.activity;
        match tls {
            None => connection(stream, peer, app, &limits, shutdown, activity).await,
            Some(tls) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
                let handshake = unless_closed(activity, acceptor.accept(stream));
                match tokio::time::timeout(limits.header_timeout, handshake).await {
                    Ok(Ok(stream)) => connection(stream, peer, app, &limits, shutdown, activity).await,
                    Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => debug!(%peer, "TLS handshake timed out"),
                }
            }
        }
        drop(slot);
    }
}

/// `io` unless the connection is to close first (to admit another).
async fn unless_closed<T>(
    activity: &Activity,
    io: impl Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::select! {
        result = io => result,
        _ = activity.close_requested() => Err(std::io::Error::other("closed to admit another connection")),
    }
}

struct Accepted {
    stream: std::net::TcpStream,
    peer: SocketAddr,
    slot: Slot,
}

struct Worker<S> {
    index: usize,
    serving: Serving<S>,
    tracker: TaskTracker,
    /// Cancelled when the server gives up on in-flight requests.
    abandon: CancellationToken,
}

impl<S> Worker<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    /// Starts the thread; connections sent to the returned channel are served there. The
    /// thread ends once the channel is closed and its connections are done, or abandoned.
    fn start(self) -> mpsc::UnboundedSender<Accepted> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let name = format!("http-worker-{}", self.index);
        if let Err(e) = std::thread::Builder::new().name(name).spawn(move || self.run(receiver)) {
            // The receiver went with the closure: connections sent to this worker are
            // closed at once, and the log says why.
            warn!(error = %e, "cannot start an HTTP worker thread");
        }
        sender
    }

    fn run(self, mut receiver: mpsc::UnboundedReceiver<Accepted>) {
        WORKER.set(Some(self.index));
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => return warn!(error = %e, "cannot start an HTTP worker runtime"),
        };
        runtime.block_on(async {
            // Tokio interrupts the event loop (an eventfd write) whenever a new timer is due
            // before the earliest one it knows of, and each request arms one (hyper's head
            // deadline). A timer that is always at most a second away makes those later
            // and spares a system call per request or so.
            let heartbeat = tokio::spawn(async {
                let mut ticks = tokio::time::interval(Duration::from_secs(1));
                loop {
                    ticks.tick().await;
                }
            });
            while let Some(Accepted { stream, peer, slot }) = receiver.recv().await {
                match TcpStream::from_std(stream) {
                    Ok(stream) => _ = self.tracker.spawn(self.serving.clone().handle(stream, peer, slot)),
                    Err(e) => debug!(%peer, error = %e, "cannot register a connection"),
                }
            }
            tokio::select! {
                _ = self.tracker.wait() => {}
                _ = self.abandon.cancelled() => {}
            }
            heartbeat.abort();
        });
    }
}

async fn connection<I, S>(
    io: I,
    peer: SocketAddr,
    app: S,
    limits: &ServerLimits,
    shutdown: CancellationToken,
    activity: &Arc<Activity>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let exchange =
        exchange::Exchange { app, peer, activity: activity.clone(), body_timeout: limits.body_timeout };
    let service = hyper::service::service_fn(move |request| exchange.clone().serve(request));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let abort = activity.abort_token().clone();
    // Also ends the waits of `CutOff`s on this connection.
    let _abort_on_return = abort.clone().drop_guard();
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = abort.cancelled() => Ok(()),
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
        _ = activity.close_requested() => {
            conn.as_mut().graceful_shutdown();
            loop {
                match tokio::time::timeout(limits.grace_period, conn.as_mut()).await {
                    Ok(result) => break result,
                    // A client may hold up a graceful close (HTTP/2 awaits a ping's
                    // answer); a request that slipped in meanwhile is still served.
                    Err(_) if activity.is_idle() => break Ok(()),
                    Err(_) => {}
                }
            }
        }
    };
    if let Err(e) = result {
        debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}
