//! One host's event stream followed for a cluster stream: reconnected with backoff and
//! `Last-Event-ID`, each event's data tagged with the host. Agent ids start at 1 on every
//! agent start, so a reconnect asks one event early and compares it with the one seen
//! last: the same event proves the same agent run; anything else means a restart, and
//! the new run's buffer is read from its start.

use crate::gateway::Gateway;
use crate::gateway::hosts::Host;
use crate::gateway::http1::LAST_EVENT_ID;
use crate::gateway::stream;
use crate::sse::{self, Parser};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tracing::debug;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// An agent's event, its data object tagged with the host.
pub(crate) struct Tagged {
    pub(crate) host: String,
    pub(crate) id: Option<u64>,
    pub(crate) kind: String,
    pub(crate) data: String,
}

/// The followers of one cluster stream, kept in step with the host table: a host that a
/// reload or discovery adds is followed from then on (live events), one that goes away
/// stops being followed, one whose entry was replaced (a new URL) is followed anew from
/// its last id. Dropping this stops them all.
pub(crate) struct Followers {
    gateway: Arc<Gateway>,
    credentials: Arc<HeaderMap>,
    out: mpsc::Sender<Tagged>,
    tasks: JoinSet<()>,
    by_host: HashMap<String, (Arc<Host>, AbortHandle)>,
}

impl Followers {
    pub(crate) fn new(gateway: Arc<Gateway>, credentials: HeaderMap, out: mpsc::Sender<Tagged>) -> Self {
        let credentials = Arc::new(credentials);
        Followers { gateway, credentials, out, tasks: JoinSet::new(), by_host: HashMap::new() }
    }

    /// Follows exactly `hosts`; a newly followed one resumes after its id in `last`.
    pub(crate) fn sync(&mut self, hosts: &[Arc<Host>], last: &BTreeMap<String, u64>) {
        self.by_host.retain(|name, (followed, task)| {
            let keep = hosts.iter().any(|h| Arc::ptr_eq(h, followed));
            if !keep {
                debug!(host = %name, "no longer followed");
                task.abort();
            }
            keep
        });
        for host in hosts {
            if self.by_host.contains_key(&host.name) {
                continue;
            }
            let start = last.get(&host.name).copied();
            let task = self.tasks.spawn(follow(
                self.gateway.clone(),
                host.clone(),
                self.credentials.clone(),
                start,
                self.out.clone(),
            ));
            self.by_host.insert(host.name.clone(), (host.clone(), task));
        }
        // Finished tasks (aborted ones) would otherwise pile up in the set.
        while self.tasks.try_join_next().is_some() {}
    }

    pub(crate) fn follows(&self, host: &str) -> bool {
        self.by_host.contains_key(host)
    }
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
        let events = match piece.map(|p| p.map(|bytes| parser.push(&bytes))) {
            Ok(Some(Ok(events))) => events,
            Ok(Some(Err(_)) | None) | Err(_) => return Ended::Delivered,
        };
        // The agent writes the opening of a stream (retry, reset, replay) as one piece:
        // asked one event early and sent none again, it has fewer events than this
        // follower saw, so it restarted.
        if first && events.is_empty() && matches!(asked, Resume::After(1.., Some(_))) {
            *resume = Resume::After(0, None);
            return Ended::Restarted;
        }
        for event in events {
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
    fn data_is_tagged_with_the_host_first() {
        assert_eq!(tag("h1", r#"{"time":"t","n":1}"#), r#"{"host":"h1","time":"t","n":1}"#);
        assert_eq!(tag("h1", "x"), r#"{"host":"h1","data":"x"}"#);
    }

    #[test]
    fn a_reconnect_asks_one_event_early_and_compares() {
        let event = |id: u64, kind: &str, data: &str| {
            let id_text = Some(id.to_string());
            (
                Some(id),
                sse::Event { id: id_text.clone(), last_id: id_text, kind: kind.into(), data: data.into() },
            )
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
