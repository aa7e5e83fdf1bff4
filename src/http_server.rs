//! The HTTP/1.1 server loop shared by the roles: a connection limit, a deadline for
//! request heads, and graceful shutdown (stop accepting, let in-flight requests finish
//! within the grace period).
//!
//! axum's own `serve` has no header timeout nor connection limit, hence this loop.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
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

/// Serves `app` (a `Router`, possibly wrapped in tower layers) on `listener` until
/// `shutdown`, then drains.
pub async fn serve<S>(listener: TcpListener, app: S, limits: ServerLimits, shutdown: CancellationToken)
where
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
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            app.clone().oneshot(request.map(Body::new))
        });
        let shutdown = shutdown.clone();
        let header_timeout = limits.header_timeout;
        tracker.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
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
