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

pub(crate) fn routes() -> Router<AppState> {
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
            opening.extend_from_slice(&frame("reset", json!({"reason": reason.to_string()})));
        }
        for event in &subscription.backlog {
            opening.extend_from_slice(event);
        }
        let period = subscription.keep_alive;
        let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        // After a stall, one comment, not a burst of the missed ones.
        keep_alive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        EventBody {
            opening: Some(Bytes::from(opening)),
            queue: subscription.queue,
            closed: Box::pin(subscription.closed.cancelled_owned()),
            cut: subscription.cut,
            keep_alive,
            done: false,
        }
    }
}

/// A stream's own event (`reset`, `dropped`): not in the buffer, so without an id.
fn frame(kind: &str, fields: serde_json::Value) -> Vec<u8> {
    let data = super::hub::stamped(fields.as_object().cloned().unwrap_or_default());
    crate::sse::frame("", kind, &data).into_bytes()
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
                    let dropped = frame("dropped", json!({"reason": "slow consumer"}));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::events::{EventHub, HubSettings};
    use http_body_util::BodyExt;
    use serde_json::Map;
    use std::time::Duration;

    async fn next(body: &mut EventBody) -> Option<String> {
        let frame = body.frame().await?.ok()?;
        frame.into_data().ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn hub(queue: usize) -> EventHub {
        EventHub::new(HubSettings { buffer: 8, queue, keep_alive: Duration::from_secs(3600) })
    }

    #[tokio::test]
    async fn a_cut_off_stream_delivers_what_it_holds_then_dropped_then_ends() {
        let hub = hub(1);
        let mut body = EventBody::new(hub.subscribe(None));
        hub.publish("one", Map::new());
        hub.publish("two", Map::new());
        assert_eq!(next(&mut body).await.as_deref(), Some("retry: 1000\n\n"));
        assert!(next(&mut body).await.is_some_and(|e| e.starts_with("id: 1\nevent: one\n")));
        let dropped = next(&mut body).await.unwrap_or_default();
        assert!(dropped.starts_with("event: dropped\ndata: {\"time\":\""), "{dropped}");
        assert!(dropped.ends_with("\",\"reason\":\"slow consumer\"}\n\n"), "{dropped}");
        assert_eq!(next(&mut body).await, None);
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn a_reset_and_the_backlog_open_the_stream_and_close_ends_it() {
        let hub = hub(4);
        hub.publish("one", Map::new());
        let mut body = EventBody::new(hub.subscribe(Some("7")));
        let opening = next(&mut body).await.unwrap_or_default();
        assert!(opening.starts_with("retry: 1000\n\nevent: reset\ndata: {\"time\":"), "{opening}");
        assert!(opening.ends_with("\"reason\":\"unknown last event id\"}\n\n"), "{opening}");
        let mut body = EventBody::new(hub.subscribe(Some("0")));
        let opening = next(&mut body).await.unwrap_or_default();
        assert!(opening.starts_with("retry: 1000\n\nid: 1\nevent: one\n"), "{opening}");
        hub.close();
        assert_eq!(next(&mut body).await, None);
    }
}
