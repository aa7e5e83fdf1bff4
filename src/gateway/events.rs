//! Event streams through the gateway. `GET /v1/hosts/{host}/events`: one agent's stream
//! passed through as it comes, ids unchanged. `GET /v1/cluster/events`: the streams of
//! every host the token reaches, merged, each data object tagged with its `host`, plus
//! `host-up`/`host-down` from the health checks. Each host is followed by a task
//! (`follow`); the merged id (`h1=17,h2=9`) lets a client resume every host at once.

use crate::auth::Principal;
use crate::auth::guard::credentials;
use crate::gateway::Gateway;
use crate::gateway::error::GatewayError;
use crate::gateway::follow::Followers;
use crate::gateway::health::Flip;
use crate::gateway::hosts::{Host, State as HostState};
use crate::gateway::http1::LAST_EVENT_ID;
use crate::gateway::stream::{self, ChannelBody, Opened};
use crate::sse;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc};

/// Pieces or events waiting for a slow client, per stream.
const QUEUE: usize = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often an open cluster stream looks for hosts added or removed since it opened.
const RESCAN: Duration = Duration::from_secs(1);

/// One agent's stream as it comes: the head within the request deadline, then no
/// deadline. The agent's answer is passed on whatever it is (a 401 of its own too).
pub(crate) async fn host_stream(
    gateway: &Gateway,
    host: &Host,
    target: &str,
    headers: &HeaderMap,
) -> Result<Response, GatewayError> {
    let pool = gateway.clients.here();
    let opened = stream::open(pool, host, target, headers, gateway.config.request_timeout)
        .await
        .map_err(|source| GatewayError::Upstream { host: host.name.clone(), source })?;
    let Opened { status, headers, mut body } = opened;
    let (pieces, receiver) = mpsc::channel(QUEUE);
    let draining = gateway.draining.clone();
    tokio::spawn(async move {
        loop {
            let piece = tokio::select! {
                _ = pieces.closed() => return,
                _ = draining.cancelled() => return,
                piece = body.next() => piece,
            };
            let Ok(Some(bytes)) = piece else { return };
            if pieces.send(bytes).await.is_err() {
                return;
            }
        }
    });
    Ok(streamed(status, headers, receiver))
}

fn streamed(status: StatusCode, headers: HeaderMap, receiver: mpsc::Receiver<Bytes>) -> Response {
    let mut response = Response::new(Body::new(ChannelBody(receiver)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    if response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t == "text/event-stream") {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

#[derive(serde::Deserialize)]
pub(crate) struct ResumeQuery {
    last_event_id: Option<String>,
}

pub(crate) async fn cluster_events(
    State(gateway): State<Arc<Gateway>>,
    Extension(caller): Extension<Principal>,
    Query(resume): Query<ResumeQuery>,
    headers: HeaderMap,
) -> Response {
    let header = headers.get(LAST_EVENT_ID).and_then(|v| v.to_str().ok());
    let mut last = parse_composite(header.or(resume.last_event_id.as_deref()).unwrap_or_default());
    let hosts = allowed(&gateway, &caller);
    last.retain(|name, _| hosts.iter().any(|h| h.name == *name));
    let (out, receiver) = mpsc::channel(QUEUE);
    let flips = gateway.health_flips.subscribe();
    tokio::spawn(merge(gateway, caller, hosts, credentials(&headers), last, flips, out));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    streamed(StatusCode::OK, headers, receiver)
}

/// The hosts of the table that the caller's token reaches.
fn allowed(gateway: &Gateway, caller: &Principal) -> Vec<Arc<Host>> {
    gateway.hosts.all().into_iter().filter(|h| caller.allows_host(&h.name)).collect()
}

/// `h1=17,h2=9` → the last id per host; malformed parts are ignored.
fn parse_composite(text: &str) -> BTreeMap<String, u64> {
    let pairs = text.split(',').filter_map(|pair| pair.trim().split_once('='));
    pairs.filter_map(|(host, id)| Some((host.to_owned(), id.parse().ok()?))).collect()
}

fn composite(last: &BTreeMap<String, u64>) -> String {
    let pairs: Vec<String> = last.iter().map(|(host, id)| format!("{host}={id}")).collect();
    pairs.join(",")
}

/// Feeds one client: follows every host, writes what they send and what the health checks
/// find, until the client goes away (then the followers stop with it).
async fn merge(
    gateway: Arc<Gateway>,
    caller: Principal,
    hosts: Vec<Arc<Host>>,
    credentials: HeaderMap,
    mut last: BTreeMap<String, u64>,
    mut flips: broadcast::Receiver<Flip>,
    out: mpsc::Sender<Bytes>,
) {
    let (events_in, mut events) = mpsc::channel(QUEUE);
    let mut followers = Followers::new(gateway.clone(), credentials, events_in);
    followers.sync(&hosts, &last);
    let mut opening = String::from("retry: 1000\n\n");
    for host in hosts.iter().filter(|h| h.state() == HostState::Down) {
        opening.push_str(&state_frame(&last, &host.name, false, &host.last_error()));
    }
    if out.send(opening.into()).await.is_err() {
        return;
    }
    let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    let mut rescan = tokio::time::interval_at(tokio::time::Instant::now() + RESCAN, RESCAN);
    loop {
        let frame = tokio::select! {
            _ = out.closed() => return,
            // A stream never ends by itself: it would hold the drain to its grace period.
            // Its client reconnects, to another replica, with its last id.
            _ = gateway.draining.cancelled() => return,
            Some(event) = events.recv() => {
                if let Some(id) = event.id {
                    last.insert(event.host, id);
                }
                sse::frame(&composite(&last), &event.kind, &event.data)
            }
            flip = flips.recv() => match flip {
                Ok(flip) if followers.follows(&flip.host) => state_frame(&last, &flip.host, flip.up, &flip.error),
                Err(broadcast::error::RecvError::Closed) => return,
                _ => continue,
            },
            _ = rescan.tick() => {
                followers.sync(&allowed(&gateway, &caller), &last);
                continue;
            }
            _ = keep_alive.tick() => ": keep-alive\n\n".to_owned(),
        };
        if out.send(frame.into()).await.is_err() {
            return;
        }
        keep_alive.reset();
    }
}

fn state_frame(last: &BTreeMap<String, u64>, host: &str, up: bool, error: &str) -> String {
    let mut data = Map::new();
    data.insert("host".to_owned(), Value::from(host));
    data.insert(
        "time".to_owned(),
        Value::from(humantime::format_rfc3339_millis(SystemTime::now()).to_string()),
    );
    if !up {
        data.insert("error".to_owned(), Value::from(error));
    }
    let kind = if up { "host-up" } else { "host-down" };
    sse::frame(&composite(last), kind, &Value::Object(data).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_ids() {
        let last = parse_composite("h2=9, h1=17,bad,h3=x,=4");
        assert_eq!(composite(&last), "=4,h1=17,h2=9");
        assert_eq!(composite(&parse_composite("")), "");
    }
}
