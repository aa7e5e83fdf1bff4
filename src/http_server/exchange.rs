//! One request through the server: in flight on its connection while the app works on it,
//! its body given a deadline (408 and a close when it does not arrive in time), and a
//! body the app answered without reading skipped before the answer goes out, or the
//! close announced with `Connection: close` when skipping is not worth it (RFC 9112
//! §9.6): either way the client's next request does not meet a closed socket.

use super::connections::{Activity, Busy};
use super::trace;
use super::{CUT_GRACE, CutOff, Peer};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::time::Sleep;
use tower::{Service, ServiceExt};
use tracing::{Instrument, debug};

/// The most of an unread body skipped to keep a connection; a larger one costs more to
/// read than a new connection does.
const SKIP_LIMIT: usize = 64 * 1024;

const TIMED_OUT: &str = "Request body timed out.";

/// What every request on one connection shares.
#[derive(Clone)]
pub(super) struct Exchange<S> {
    pub(crate) app: S,
    pub(crate) peer: SocketAddr,
    pub(crate) activity: Arc<Activity>,
    pub(crate) body_timeout: Duration,
}

impl<S> Exchange<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send,
{
    pub(super) async fn serve(self, request: hyper::Request<Incoming>) -> Result<Response, Infallible> {
        let span = trace::request_span(request.method());
        let started = (!span.is_disabled()).then(Instant::now);
        let activity = self.activity.clone();
        let busy = activity.begin();
        let response = self.answer(request).instrument(span.clone()).await?;
        trace::finish(&span, response.status().as_u16(), started);
        Ok(streamed(response, busy, &activity))
    }

    async fn answer(self, request: hyper::Request<Incoming>) -> Result<Response, Infallible> {
        let (mut parts, incoming) = request.into_parts();
        if crate::audit::is_mutating(&parts.method) {
            parts.extensions.insert(Peer(self.peer));
        }
        if incoming.is_end_stream() {
            return self.app.oneshot(Request::from_parts(parts, Body::new(incoming))).await;
        }
        let framing = Framing {
            peer: self.peer,
            http1: parts.version < Version::HTTP_2,
            expects_continue: parts.headers.contains_key(header::EXPECT),
            body_timeout: self.body_timeout,
        };
        let (body, mut outcome) = TimedBody::new(incoming, self.body_timeout);
        let answer = self.app.oneshot(Request::from_parts(parts, Body::new(body)));
        tokio::pin!(answer);
        let leftover = tokio::select! {
            biased;
            response = &mut answer => return Ok(framing.finish(response?, outcome.try_recv().ok()).await),
            leftover = &mut outcome => leftover.ok(),
        };
        if let Some(Leftover::TimedOut) = leftover {
            // The app's future goes with its body: it never acts on a body cut short.
            return Ok(framing.timed_out());
        }
        let response = answer.await?;
        Ok(framing.finish(response, leftover).await)
    }
}

/// A response of unknown length (a stream) keeps its request in flight until its body
/// ends, so that neither the idle timeout nor a full server closes the connection under
/// it. A known length is written at once.
fn streamed(mut response: Response, busy: Busy, activity: &Activity) -> Response {
    if response.body().size_hint().exact().is_some() {
        return response;
    }
    if let Some(CutOff(cut)) = response.extensions_mut().remove::<CutOff>() {
        let abort = activity.abort_token().clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = abort.cancelled() => {}
                _ = async { cut.cancelled().await; tokio::time::sleep(CUT_GRACE).await } => abort.cancel(),
            }
        });
    }
    // The closure owns `busy`: it goes when hyper drops the body, at its end or the close.
    response.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _in_flight = &busy;
            frame
        }))
    })
}

/// What a request body left behind when the app let go of it.
enum Leftover {
    TimedOut,
    Unread(Incoming),
}

/// What of a request decides how to end its exchange.
struct Framing {
    peer: SocketAddr,
    http1: bool,
    expects_continue: bool,
    body_timeout: Duration,
}

impl Framing {
    async fn finish(&self, mut response: Response, leftover: Option<Leftover>) -> Response {
        match leftover {
            None => response,
            Some(Leftover::TimedOut) => self.timed_out(),
            // HTTP/2 ends the stream by itself; only HTTP/1 shares the byte stream.
            Some(Leftover::Unread(rest)) if self.http1 => {
                if !self.skip(rest).await {
                    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                response
            }
            Some(Leftover::Unread(_)) => response,
        }
    }

    /// Reads and drops the rest of a body within the body timeout; false when it is too
    /// large, late, broken, or not even sent yet (the client waits for `100 Continue`).
    async fn skip(&self, mut rest: Incoming) -> bool {
        if self.expects_continue || rest.size_hint().lower() > SKIP_LIMIT as u64 {
            return false;
        }
        let discard = async move {
            let mut left = SKIP_LIMIT;
            while let Some(frame) = rest.frame().await {
                let Ok(frame) = frame else { return false };
                let size = frame.data_ref().map_or(0, Bytes::len);
                let Some(remaining) = left.checked_sub(size) else { return false };
                left = remaining;
            }
            true
        };
        tokio::time::timeout(self.body_timeout, discard).await.unwrap_or(false)
    }

    fn timed_out(&self) -> Response {
        debug!(peer = %self.peer, "request body timed out");
        let mut response = crate::respond::text(StatusCode::REQUEST_TIMEOUT, TIMED_OUT);
        if self.http1 {
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A request body with a deadline, counted from the first time the app waits for it. At
/// the deadline it reports `TimedOut` and stays pending: the server answers in the app's
/// place. Dropped before its end, it hands the rest back.
struct TimedBody {
    /// An `Option` only so that `drop` can hand it back.
    inner: Option<Incoming>,
    timeout: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    /// Taken at the deadline, or with `inner` at the end of the body or an error.
    report: Option<oneshot::Sender<Leftover>>,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration) -> (Self, oneshot::Receiver<Leftover>) {
        let (report, outcome) = oneshot::channel();
        (TimedBody { inner: Some(inner), timeout, deadline: None, report: Some(report) }, outcome)
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else { return Poll::Ready(None) };
        if this.report.is_none() {
            // Timed out: the server is about to drop the app's future.
            return Poll::Pending;
        }
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(end) => {
                (this.inner, this.report) = (None, None);
                Poll::Ready(end)
            }
            Poll::Pending => {
                let timeout = this.timeout;
                let deadline = this.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if deadline.as_mut().poll(cx).is_ready()
                    && let Some(report) = this.report.take()
                {
                    let _ = report.send(Leftover::TimedOut);
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map_or(SizeHint::with_exact(0), Incoming::size_hint)
    }
}

impl Drop for TimedBody {
    fn drop(&mut self) {
        if let (Some(report), Some(rest)) = (self.report.take(), self.inner.take()) {
            let _ = report.send(Leftover::Unread(rest));
        }
    }
}
