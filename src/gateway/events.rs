//! Event streams through the gateway. `GET /v1/hosts/{host}/events`: one agent's stream
//! passed through as it comes, ids unchanged. `GET /v1/cluster/events`: the streams of
//! every host the token reaches, merged, each data object tagged with its `host`, plus
//! `host-up`/`host-down` from the health checks. Each host is followed by a task that
//! reconnects with backoff and `Last-Event-ID`; the merged id (`h1=17,h2=9`) lets a
//! client resume every host at once.

use crate::auth::Principal;
use crate::auth::guard::credentials;
use crate::gateway::Gateway;
use crate::gateway::error::GatewayError;
use crate::gateway::health::Flip;
use crate::gateway::hosts::{Host, State as HostState};
use crate::gateway::http1::LAST_EVENT_ID;
use crate::gateway::sse::{self, Parser};
use crate::gateway::stream::{self, ChannelBody, Opened};
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;
use tracing::debug;

/// Pieces or events waiting for a slow client, per stream.
const QUEUE: usize = 64;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One agent's stream as it comes: the head within the request deadline, then no
/// deadline. The agent's answer is passed on whatever it is (a 401 of its own too).
pub async fn host_stream(
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
    tokio::spawn(async move {
        loop {
            let piece = tokio::select! {
                _ = pieces.closed() => return,
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
pub struct ResumeQuery {
    last_event_id: Option<String>,
}

pub async fn cluster_events(
    State(gateway): State<Arc<Gateway>>,
    Extension(caller): Extension<Principal>,
    Query(resume): Query<ResumeQuery>,
    headers: HeaderMap,
) -> Response {
    let header = headers.get(LAST_EVENT_ID).and_then(|v| v.to_str().ok());
    let mut last = parse_composite(header.or(resume.last_event_id.as_deref()).unwrap_or_default());
    let hosts: Vec<Arc<Host>> =
        gateway.hosts.all().into_iter().filter(|h| caller.allows_host(&h.name)).collect();
    last.retain(|name, _| hosts.iter().any(|h| h.name == *name));
    let (out, receiver) = mpsc::channel(QUEUE);
    let flips = gateway.health_flips.subscribe();
    tokio::spawn(merge(gateway, hosts, credentials(&headers), last, flips, out));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    streamed(StatusCode::OK, headers, receiver)
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

/// An agent's event, its data object tagged with the host.
struct Tagged {
    host: String,
    id: Option<u64>,
    kind: String,
    data: String,
}

/// Feeds one client: follows every host, writes what they send and what the health checks
/// find, until the client goes away (then the followers stop with it).
async fn merge(
    gateway: Arc<Gateway>,
    hosts: Vec<Arc<Host>>,
    credentials: HeaderMap,
    mut last: BTreeMap<String, u64>,
    mut flips: broadcast::Receiver<Flip>,
    out: mpsc::Sender<Bytes>,
) {
    let (events_in, mut events) = mpsc::channel(QUEUE);
    let mut followers = JoinSet::new();
    let credentials = Arc::new(credentials);
    for host in &hosts {
        let start = last.get(&host.name).copied();
        followers.spawn(follow(gateway.clone(), host.clone(), credentials.clone(), start, events_in.clone()));
    }
    drop(events_in);
    let mut opening = String::from("retry: 1000\n\n");
    for host in hosts.iter().filter(|h| h.state() == HostState::Down) {
        opening.push_str(&state_frame(&last, &host.name, false, &host.last_error()));
    }
    if out.send(opening.into()).await.is_err() {
        return;
    }
    let followed = |name: &str| hosts.iter().any(|h| h.name == name);
    let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    loop {
        let frame = tokio::select! {
            _ = out.closed() => return,
            Some(event) = events.recv() => {
                if let Some(id) = event.id {
                    last.insert(event.host, id);
                }
                sse::frame(&composite(&last), &event.kind, &event.data)
            }
            flip = flips.recv() => match flip {
                Ok(flip) if followed(&flip.host) => state_frame(&last, &flip.host, flip.up, &flip.error),
                Err(broadcast::error::RecvError::Closed) => return,
                _ => continue,
            },
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

/// How one connection to an agent's stream ended.
enum Ended {
    /// It never delivered (no connection, or not a stream): back off longer.
    Failed(String),
    /// It delivered, then ended.
    Delivered,
    /// The agent numbers from 1 again: ask at once for all it buffered.
    Restarted,
}

/// Where a host's stream resumes.
#[derive(Clone, Debug, PartialEq)]
enum Resume {
    /// Live events only.
    Live,
    /// After this id; with the data of that event when this follower saw it.
    After(u64, Option<String>),
}

impl Resume {
    /// The `Last-Event-ID` to send. One event early when its data is known: the agent
    /// sends it again, and the same data proves it is the same agent run (its ids start
    /// at 1 on every start, so an id alone cannot tell).
    fn ask(&self) -> Option<u64> {
        match self {
            Resume::Live => None,
            Resume::After(id, Some(_)) => Some(id.saturating_sub(1)),
            Resume::After(id, None) => Some(*id),
        }
    }
}

/// Follows one host's stream for as long as `out` is open, reconnecting with backoff and
/// resuming after the last id seen.
async fn follow(
    gateway: Arc<Gateway>,
    host: Arc<Host>,
    credentials: Arc<HeaderMap>,
    start: Option<u64>,
    out: mpsc::Sender<Tagged>,
) {
    let mut resume = start.map_or(Resume::Live, |id| Resume::After(id, None));
    let mut backoff = MIN_BACKOFF;
    loop {
        match follow_once(&gateway, &host, &credentials, &mut resume, &out).await {
            Ended::Restarted => continue,
            Ended::Delivered => backoff = MIN_BACKOFF,
            Ended::Failed(error) => debug!(host = %host.name, %error, "event stream unavailable"),
        }
        tokio::select! {
            _ = out.closed() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn follow_once(
    gateway: &Gateway,
    host: &Host,
    credentials: &HeaderMap,
    resume: &mut Resume,
    out: &mpsc::Sender<Tagged>,
) -> Ended {
    let asked = resume.clone();
    let mut headers = credentials.clone();
    if let Some(id) = asked.ask() {
        headers.insert(LAST_EVENT_ID, HeaderValue::from(id));
    }
    let pool = gateway.clients.here();
    let opened = match stream::open(pool, host, "/v1/events", &headers, gateway.config.request_timeout).await
    {
        Ok(opened) if opened.status == StatusCode::OK => opened,
        Ok(opened) => return Ended::Failed(format!("agent answered {}", opened.status.as_u16())),
        Err(error) => return Ended::Failed(error.to_string()),
    };
    let (mut body, mut parser, mut first) = (opened.body, Parser::default(), true);
    loop {
        let piece = tokio::select! {
            _ = out.closed() => return Ended::Delivered,
            piece = body.next() => piece,
        };
        match piece.map(|p| p.map(|bytes| parser.push(&bytes))) {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(_)) | None) | Err(_) => return Ended::Delivered,
        }
        // The agent writes the opening of a stream (retry, reset, replay) as one piece:
        // asked one event early and sent none again, it has fewer events than this
        // follower saw, so it restarted.
        if first && !parser.has_event() && matches!(asked, Resume::After(1.., Some(_))) {
            *resume = Resume::After(0, None);
            return Ended::Restarted;
        }
        while let Some(event) = parser.next_event() {
            let id = event.id.as_deref().and_then(|id| id.parse().ok());
            if std::mem::take(&mut first) {
                match continuity(&asked, id, &event) {
                    Continuity::Same => continue,
                    Continuity::Restarted => {
                        *resume = Resume::After(0, None);
                        return Ended::Restarted;
                    }
                    Continuity::Unknown => {}
                }
            }
            // The gateway was the slow consumer, and resumes by itself.
            if event.kind == "dropped" {
                continue;
            }
            if let Some(id) = id {
                *resume = Resume::After(id, Some(event.data.clone()));
            }
            let tagged =
                Tagged { host: host.name.clone(), id, kind: event.kind, data: tag(&host.name, &event.data) };
            if out.send(tagged).await.is_err() {
                return Ended::Delivered;
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Continuity {
    /// The event seen last, sent again: the same agent run, already passed on.
    Same,
    /// The agent no longer knows the id, or sent another event under it: it restarted.
    Restarted,
    /// Nothing to compare with.
    Unknown,
}

/// What the first event after a reconnect says about the agent run.
fn continuity(asked: &Resume, id: Option<u64>, event: &sse::Event) -> Continuity {
    match asked {
        Resume::After(0, _) | Resume::Live => Continuity::Unknown,
        Resume::After(_, None) if event.kind == "reset" => Continuity::Restarted,
        Resume::After(_, None) => Continuity::Unknown,
        Resume::After(seen, Some(data)) if id == Some(*seen) && event.data == *data => Continuity::Same,
        Resume::After(..) => Continuity::Restarted,
    }
}

/// `{"host": name}` followed by the members of the agent's data object.
fn tag(host: &str, data: &str) -> String {
    let mut tagged = Map::new();
    tagged.insert("host".to_owned(), Value::from(host));
    match serde_json::from_str(data) {
        Ok(Value::Object(members)) => tagged.extend(members),
        _ => _ = tagged.insert("data".to_owned(), Value::from(data)),
    }
    Value::Object(tagged).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_ids() {
        let last = parse_composite("h2=9, h1=17,bad,h3=x,=4");
        assert_eq!(composite(&last), "=4,h1=17,h2=9");
        assert_eq!(composite(&parse_composite("")), "");
        assert_eq!(tag("h1", r#"{"time":"t","n":1}"#), r#"{"host":"h1","time":"t","n":1}"#);
    }

    #[test]
    fn a_reconnect_asks_one_event_early_and_compares() {
        let event = |id: u64, kind: &str, data: &str| {
            (Some(id), sse::Event { id: Some(id.to_string()), kind: kind.into(), data: data.into() })
        };
        let seen = Resume::After(7, Some("{\"n\":7}".into()));
        assert_eq!(seen.ask(), Some(6));
        assert_eq!(Resume::After(7, None).ask(), Some(7));
        assert_eq!(Resume::Live.ask(), None);
        for (asked, (id, first), expected) in [
            (&seen, event(7, "command", "{\"n\":7}"), Continuity::Same),
            (&seen, event(7, "command", "{\"n\":8}"), Continuity::Restarted),
            (&seen, event(1, "reset", "{}"), Continuity::Restarted),
            (&Resume::After(7, None), event(1, "reset", "{}"), Continuity::Restarted),
            (&Resume::After(7, None), event(8, "command", "{}"), Continuity::Unknown),
            (&Resume::After(0, None), event(1, "reset", "{}"), Continuity::Unknown),
        ] {
            assert_eq!(continuity(asked, id, &first), expected, "{asked:?} {first:?}");
        }
    }
}
