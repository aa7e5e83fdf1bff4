//! `Idempotency-Key` on mutating requests: a request runs at most once per subject, key
//! and scope (a host, or `cluster` for `/v1/cluster/apply`) within the TTL; a repeat gets
//! the stored answer. Records live in this replica's memory, bounded in number: replicas
//! do not share them (docs/configuration.md says so). What the request does is the
//! caller's part (`proxy`, `apply`).

use crate::gateway::error::GatewayError;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) const KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub(crate) const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
const MAX_KEY: usize = 128;

/// The key of a request, when it has one and its method is one the key applies to.
pub(crate) fn key_of(method: &Method, headers: &HeaderMap) -> Result<Option<String>, GatewayError> {
    if !matches!(*method, Method::PUT | Method::POST | Method::DELETE) {
        return Ok(None);
    }
    let Some(value) = headers.get(KEY) else { return Ok(None) };
    let key = value.as_bytes();
    if key.is_empty() || key.len() > MAX_KEY || !key.iter().all(|b| b.is_ascii_graphic()) {
        return Err(GatewayError::BadIdempotencyKey);
    }
    Ok(Some(String::from_utf8_lossy(key).into_owned()))
}

/// Who asked, with which key, for what: records of one slot never mix with another's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Slot {
    pub(crate) sub: Arc<str>,
    pub(crate) key: String,
    pub(crate) scope: String,
}

/// An answer as it is kept and replayed.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<HeaderValue>,
    pub(crate) body: Bytes,
}

impl Stored {
    pub(crate) fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        if let Some(content_type) = self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, content_type);
        }
        response
    }

    fn replay(self) -> Response {
        let mut response = self.into_response();
        response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
        response
    }
}

/// What a keyed request produced: the answer, and whether it is kept. An answer given
/// before anything reached an agent is not: a retry may run the request.
pub(crate) struct Outcome {
    pub(crate) response: Response,
    pub(crate) keep: Option<Stored>,
}

enum State {
    Running,
    Done(Stored),
}

struct Entry {
    fingerprint: u64,
    created: Instant,
    state: State,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Slot, Entry>,
    /// Slots by creation time, oldest first; an item whose entry is gone or newer is stale.
    order: VecDeque<(Instant, Slot)>,
}

pub struct Store {
    ttl: Duration,
    max_entries: usize,
    /// Keyed per process: a client cannot make two different requests collide.
    hasher: RandomState,
    inner: Mutex<Inner>,
}

/// What to do with a keyed request.
#[derive(Debug)]
pub(crate) enum Begin {
    Run,
    Replay(Stored),
}

impl Store {
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Self {
        Store { ttl, max_entries, hasher: RandomState::new(), inner: Mutex::default() }
    }

    /// What identifies a request beside its key: a repeat must match it.
    pub(crate) fn fingerprint(&self, method: &Method, target: &str, body: &[u8]) -> u64 {
        self.hasher.hash_one((method.as_str(), target, body))
    }

    /// Records the start of a request, or says why it must not run.
    pub(crate) fn begin(&self, slot: &Slot, fingerprint: u64, now: Instant) -> Result<Begin, GatewayError> {
        let mut inner = self.inner.lock();
        self.expire(&mut inner, now);
        if let Some(entry) = inner.entries.get(slot) {
            return match &entry.state {
                _ if entry.fingerprint != fingerprint => Err(GatewayError::IdempotencyMismatch),
                State::Running => Err(GatewayError::IdempotencyInProgress),
                State::Done(stored) => Ok(Begin::Replay(stored.clone())),
            };
        }
        if inner.entries.len() >= self.max_entries && !evict_oldest_done(&mut inner) {
            return Err(GatewayError::IdempotencyFull);
        }
        inner.entries.insert(slot.clone(), Entry { fingerprint, created: now, state: State::Running });
        inner.order.push_back((now, slot.clone()));
        Ok(Begin::Run)
    }

    /// Records how a request begun with `begin` ended: its answer, or nothing to keep.
    pub(crate) fn finish(&self, slot: &Slot, keep: Option<Stored>) {
        let mut inner = self.inner.lock();
        match keep {
            Some(stored) => {
                if let Some(entry) = inner.entries.get_mut(slot) {
                    entry.state = State::Done(stored);
                }
            }
            None => _ = inner.entries.remove(slot),
        }
    }

    fn expire(&self, inner: &mut Inner, now: Instant) {
        while let Some((created, slot)) = inner.order.front() {
            if now.duration_since(*created) < self.ttl {
                break;
            }
            if inner.entries.get(slot).is_some_and(|e| e.created == *created) {
                inner.entries.remove(slot);
            }
            inner.order.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }
}

/// Forgets the oldest finished record; `false` when every record is still running.
fn evict_oldest_done(inner: &mut Inner) -> bool {
    let Inner { entries, order } = inner;
    let found = order.iter().position(|(created, slot)| {
        entries.get(slot).is_some_and(|e| e.created == *created && matches!(e.state, State::Done(_)))
    });
    let Some(index) = found else { return false };
    if let Some((_, slot)) = order.remove(index) {
        entries.remove(&slot);
    }
    true
}

/// Runs `work` unless `slot` has a record: then the stored answer, or the refusal. The
/// work runs in its own task so that a client that goes away mid-request cannot leave a
/// command executed but unrecorded.
pub(crate) async fn once<F>(store: Arc<Store>, slot: Slot, fingerprint: u64, work: F) -> Response
where
    F: Future<Output = Outcome> + Send + 'static,
{
    match store.begin(&slot, fingerprint, Instant::now()) {
        Err(refusal) => return refusal.into_response(),
        Ok(Begin::Replay(stored)) => return stored.replay(),
        Ok(Begin::Run) => {}
    }
    let task = tokio::spawn(async move {
        let outcome = work.await;
        store.finish(&slot, outcome.keep);
        outcome.response
    });
    match task.await {
        Ok(response) => response,
        Err(e) => GatewayError::Internal(format!("request task failed: {e}")).into_response(),
    }
}

#[cfg(test)]
#[path = "idempotency_tests.rs"]
mod tests;
