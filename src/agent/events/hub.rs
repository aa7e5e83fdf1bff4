//! The event hub: numbers every event, keeps the last ones for reconnecting clients and
//! hands each to every subscriber's bounded queue without ever waiting. A subscriber
//! whose queue is full is cut off (its stream ends with `dropped`); the stream itself
//! lives in `stream.rs`.

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Sizes and timers of the hub.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// Events kept for `Last-Event-ID` replay (`--event-buffer`).
    pub buffer: usize,
    /// Events one subscriber may have outstanding before it is cut off.
    pub queue: usize,
    /// Period of the `: keep-alive` comments.
    pub keep_alive: Duration,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings { buffer: 1024, queue: 256, keep_alive: Duration::from_secs(15) }
    }
}

#[derive(Clone, Default)]
pub struct EventHub {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    settings: HubSettings,
    /// Cancelled when the agent stops: every stream ends.
    closed: CancellationToken,
    /// Subscribers cut off so far (`spp_agent_event_streams_cut_total`).
    cut: AtomicU64,
}

#[derive(Default)]
struct State {
    last_id: u64,
    /// `(id, wire bytes)`, oldest first.
    ring: VecDeque<(u64, Bytes)>,
    subscribers: Vec<Subscriber>,
}

struct Subscriber {
    queue: mpsc::Sender<Bytes>,
    cut: CancellationToken,
}

/// What a new stream starts with, and where the rest comes from.
pub(crate) struct Subscription {
    /// Why the client must re-read the state (its `Last-Event-ID` is not in the buffer).
    pub(crate) reset: Option<Gap>,
    /// Buffered events after the client's `Last-Event-ID`, in order.
    pub(crate) backlog: Vec<Bytes>,
    pub(crate) queue: mpsc::Receiver<Bytes>,
    /// Cancelled when the hub cut this subscriber off for falling behind.
    pub(crate) cut: CancellationToken,
    pub(crate) closed: CancellationToken,
    pub(crate) keep_alive: Duration,
}

impl EventHub {
    pub(crate) fn new(settings: HubSettings) -> Self {
        let settings =
            HubSettings { buffer: settings.buffer.max(1), queue: settings.queue.max(1), ..settings };
        EventHub { inner: Arc::new(Inner { settings, ..Inner::default() }) }
    }

    /// Numbers `fields` (plus `time`) as the next event of type `kind` and delivers it.
    pub fn publish(&self, kind: &str, fields: Map<String, Value>) {
        let data = stamped(fields);
        let mut state = self.inner.state.lock();
        state.last_id += 1;
        let id = state.last_id;
        let bytes = Bytes::from(crate::sse::frame(&id.to_string(), kind, &data));
        if state.ring.len() == self.inner.settings.buffer {
            state.ring.pop_front();
        }
        state.ring.push_back((id, bytes.clone()));
        state.subscribers.retain(|subscriber| match subscriber.queue.try_send(bytes.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                subscriber.cut.cancel();
                self.inner.cut.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// A new subscriber. `last_id` is the client's `Last-Event-ID`, if it sent one.
    pub(crate) fn subscribe(&self, last_id: Option<&str>) -> Subscription {
        let settings = &self.inner.settings;
        let (sender, queue) = mpsc::channel(settings.queue);
        let cut = CancellationToken::new();
        let mut state = self.inner.state.lock();
        let (reset, backlog) = match last_id.map(|raw| state.replay_after(raw)) {
            None => (None, Vec::new()),
            Some(Ok(backlog)) => (None, backlog),
            Some(Err(reason)) => (Some(reason), Vec::new()),
        };
        state.subscribers.push(Subscriber { queue: sender, cut: cut.clone() });
        Subscription {
            reset,
            backlog,
            queue,
            cut,
            closed: self.inner.closed.clone(),
            keep_alive: settings.keep_alive,
        }
    }

    /// Ends every stream (the agent is stopping).
    pub(crate) fn close(&self) {
        self.inner.closed.cancel();
    }

    /// Subscribers connected now.
    pub fn subscribers(&self) -> usize {
        self.inner.state.lock().subscribers.len()
    }

    /// Subscribers cut off for falling behind since the agent started.
    pub(crate) fn cut_off(&self) -> u64 {
        self.inner.cut.load(Ordering::Relaxed)
    }
}

/// Why a reconnecting client's `Last-Event-ID` cannot be replayed: its stream opens with
/// a `reset` saying so.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Gap {
    /// Not a number, or one this agent run never gave (it restarted).
    #[error("unknown last event id")]
    UnknownId,
    #[error("events after {0} are no longer buffered")]
    NoLongerBuffered(u64),
}

impl State {
    /// The buffered events after id `raw`, or why they cannot be replayed.
    fn replay_after(&self, raw: &str) -> Result<Vec<Bytes>, Gap> {
        let seen: u64 = raw.trim().parse().map_err(|_| Gap::UnknownId)?;
        if seen > self.last_id {
            return Err(Gap::UnknownId);
        }
        let oldest = self.ring.front().map_or(self.last_id + 1, |(id, _)| *id);
        if seen + 1 < oldest {
            return Err(Gap::NoLongerBuffered(seen));
        }
        Ok(self.ring.iter().filter(|(id, _)| *id > seen).map(|(_, bytes)| bytes.clone()).collect())
    }
}

/// The `data` line's JSON: `time` (RFC 3339, UTC, milliseconds) first, then `fields`.
pub(super) fn stamped(fields: Map<String, Value>) -> String {
    let mut data = Map::with_capacity(fields.len() + 1);
    let now = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    data.insert("time".to_owned(), Value::String(now));
    data.extend(fields);
    Value::Object(data).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hub(buffer: usize, queue: usize) -> EventHub {
        EventHub::new(HubSettings { buffer, queue, keep_alive: Duration::from_secs(15) })
    }

    fn publish(hub: &EventHub, n: u64) {
        hub.publish("test", json!({"n": n}).as_object().cloned().unwrap_or_default());
    }

    fn ids(backlog: &[Bytes]) -> Vec<String> {
        backlog
            .iter()
            .map(|b| String::from_utf8_lossy(b).lines().next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn events_are_numbered_and_framed() {
        let hub = hub(4, 4);
        let mut sub = hub.subscribe(None);
        publish(&hub, 7);
        let frame = sub.queue.try_recv().map(|b| String::from_utf8_lossy(&b).into_owned());
        let frame = frame.unwrap_or_default();
        assert!(frame.starts_with("id: 1\nevent: test\ndata: {\"time\":\""), "{frame}");
        assert!(frame.ends_with("Z\",\"n\":7}\n\n"), "{frame}");
    }

    #[test]
    fn replay_gives_what_was_missed_or_a_reset() {
        let hub = hub(3, 4);
        for n in 1..=5 {
            publish(&hub, n);
        }
        assert_eq!(ids(&hub.subscribe(Some("3")).backlog), ["id: 4", "id: 5"]);
        assert_eq!(ids(&hub.subscribe(Some("2")).backlog), ["id: 3", "id: 4", "id: 5"]);
        assert!(hub.subscribe(Some("5")).backlog.is_empty());
        assert!(hub.subscribe(Some("2")).reset.is_none());
        let reset = |raw: &str| hub.subscribe(Some(raw)).reset.map(|gap| gap.to_string());
        assert_eq!(reset("1").as_deref(), Some("events after 1 are no longer buffered"));
        assert_eq!(reset("6").as_deref(), Some("unknown last event id"));
        assert_eq!(reset("x").as_deref(), Some("unknown last event id"));
    }

    #[test]
    fn a_full_queue_cuts_its_subscriber_off_and_only_it() {
        let hub = hub(8, 2);
        let slow = hub.subscribe(None);
        let mut fast = hub.subscribe(None);
        for n in 1..=2 {
            publish(&hub, n);
            assert!(fast.queue.try_recv().is_ok());
        }
        assert!(!slow.cut.is_cancelled());
        publish(&hub, 3);
        assert!(slow.cut.is_cancelled());
        assert!(fast.queue.try_recv().is_ok() && !fast.cut.is_cancelled());
        assert_eq!(hub.subscribers(), 1);
    }
}
