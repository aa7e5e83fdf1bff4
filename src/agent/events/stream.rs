//! `GET /v1/events`: the hub's events as Server-Sent Events. The body is polled by the
//! HTTP server as the socket takes bytes; it never waits on the hub, and the hub never
//! waits on it. A stream the hub cut off ends with `dropped`, and its connection is
//! closed shortly after even if the client reads nothing (`http_server::CutOff`).

use super::hub::Subscription;
use crate::agent::api::AppState;
use crate::http_server::CutOff;
use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use serde_json::json;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tokio::time::Interval;
use tokio_util::sync::WaitForCancellationFutureOwned;

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/events", get(events_get))
}

#[derive(serde::Deserialize)]
struct Resume {
    last_event_id: Option<String>,
}

async fn events_get(State(state): State<AppState>, headers: HeaderMap, query: Query<Resume>) -> Response {
    let header = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let last_id = header.or(query.last_event_id.as_deref());
    let subscription = state.registry.events().subscribe(last_id);
    let cut = subscription.cut.clone();
    let mut response = Body::new(EventBody::new(subscription)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.extensions_mut().insert(CutOff(cut));
    response
}

/// One subscriber's stream: its opening (retry, reset, replayed events), then live events
/// and keep-alive comments until the agent stops or the hub cuts it off.
struct EventBody {
    opening: Option<Bytes>,
    queue: mpsc::Receiver<Bytes>,
    closed: Pin<Box<WaitForCancellationFutureOwned>>,
    cut: tokio_util::sync::CancellationToken,
    keep_alive: Interval,
    done: bool,
}

impl EventBody {
    fn new(subscription: Subscription) -> Self {
        let mut opening = b"retry: 1000\n\n".to_vec();
        if let Some(reason) = &subscription.reset {
            opening.extend_from_slice(&frame("reset", &json!({"reason": reason})));
        }
        for event in &subscription.backlog {
            opening.extend_from_slice(event);
        }
        let period = subscription.keep_alive;
        EventBody {
            opening: Some(Bytes::from(opening)),
            queue: subscription.queue,
            closed: Box::pin(subscription.closed.cancelled_owned()),
            cut: subscription.cut,
            keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + period, period),
            done: false,
        }
    }
}

/// A stream's own event (`reset`, `dropped`): not in the buffer, so without an id.
fn frame(kind: &str, data: &serde_json::Value) -> Vec<u8> {
    let mut data = data.as_object().cloned().unwrap_or_default();
    data.insert("time".to_owned(), json!(super::hub::now()));
    format!("event: {kind}\ndata: {}\n\n", serde_json::Value::Object(data)).into_bytes()
}

impl HttpBody for EventBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(opening) = this.opening.take() {
            return Poll::Ready(Some(Ok(Frame::data(opening))));
        }
        if this.closed.as_mut().poll(cx).is_ready() {
            this.done = true;
            return Poll::Ready(None);
        }
        match this.queue.poll_recv(cx) {
            Poll::Ready(Some(event)) => return Poll::Ready(Some(Ok(Frame::data(event)))),
            Poll::Ready(None) => {
                // The hub dropped our queue: we were cut off (or it is gone).
                this.done = true;
                if this.cut.is_cancelled() {
                    let dropped = frame("dropped", &json!({"reason": "slow consumer"}));
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(dropped)))));
                }
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b": keep-alive\n\n")))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
