//! The HTTP server loop shared by the roles: a connection limit, a deadline for request
//! heads, optional TLS (rustls; the configuration is read per handshake, so a reload
//! applies to new connections only), HTTP/1.1 and, over TLS with ALPN, HTTP/2, and
//! graceful shutdown (stop accepting, let in-flight requests finish within the grace
//! period).
//!
//! axum's own `serve` has no header timeout, connection limit nor TLS, hence this loop.

use crate::tls::ReloadableServerConfig;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::{Service, ServiceExt};
use tracing::{debug, info, warn};

#[derive(Clone, Debug)]
pub struct ServerLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    pub grace_period: Duration,
}

/// Who is calling: the peer address, in the request's extensions.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

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
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let tracker = TaskTracker::new();
    loop {
        // Waiting for a slot before accepting leaves excess clients in the backlog.
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (app, shutdown, limits, tls) = (app.clone(), shutdown.clone(), limits.clone(), tls.clone());
        tracker.spawn(async move {
            match tls {
                None => connection(stream, peer, app, &limits, shutdown).await,
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, peer, app, &limits, shutdown).await,
                        Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    tracker.close();
    if tokio::time::timeout(limits.grace_period, tracker.wait()).await.is_err() {
        warn!(remaining = tracker.len(), "grace period over; abandoning in-flight requests");
    } else {
        info!("HTTP server drained");
    }
}

async fn connection<I, S>(io: I, peer: SocketAddr, app: S, limits: &ServerLimits, shutdown: CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(Peer(peer));
        app.clone().oneshot(request)
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}
