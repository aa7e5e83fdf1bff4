//! The open connections of one server, so that none holds a slot for nothing. A
//! connection is closed when no request has begun within the header timeout of its
//! accept (it may never send a byte), or none for the idle timeout since its last one;
//! and when the server is full, the oldest connection without a request in flight is
//! closed to admit the newcomer, as nginx reuses its oldest keep-alive connections.
//! Closing is graceful: a request that slips in meanwhile is still answered.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// How long a full server waits for a closed connection's slot before it closes another
/// (the first may have been busy again by the time it was asked).
const RECHECK: Duration = Duration::from_millis(50);

pub(super) struct Connections {
    slots: Arc<Semaphore>,
    open: Mutex<Open>,
    header_timeout: Duration,
    idle_timeout: Duration,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    /// Ids grow with each accept: the first entries are the oldest connections.
    by_age: BTreeMap<u64, Tracked>,
}

struct Tracked {
    activity: Arc<Activity>,
    /// `Activity::started` as the sweep last saw it.
    seen: u64,
    /// When the sweep last saw a request in flight or a new one begun, or the accept.
    idle_since: Instant,
}

/// What a connection's requests tell the registry; shared with the connection's task.
#[derive(Default)]
pub(super) struct Activity {
    started: AtomicU64,
    in_flight: AtomicUsize,
    close: CancellationToken,
    /// Cancelled to drop the connection at once (a stream cut off), and when it ends.
    abort: CancellationToken,
}

/// A request in flight on its connection (a streamed answer: until its body ends), until
/// dropped.
pub(super) struct Busy(Arc<Activity>);

impl Activity {
    pub(super) fn begin(self: &Arc<Self>) -> Busy {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    pub(super) fn abort_token(&self) -> &CancellationToken {
        &self.abort
    }

    /// Resolves when the registry wants this connection closed.
    pub(super) fn close_requested(&self) -> WaitForCancellationFuture<'_> {
        self.close.cancelled()
    }

    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's place on the server: a slot, and an entry in the registry until dropped.
pub(super) struct Slot {
    id: u64,
    pub(super) activity: Arc<Activity>,
    connections: Arc<Connections>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connections.open.lock().by_age.remove(&self.id);
    }
}

impl Connections {
    pub(super) fn new(max_connections: usize, header_timeout: Duration, idle_timeout: Duration) -> Arc<Self> {
        Arc::new(Connections {
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            open: Mutex::default(),
            header_timeout,
            idle_timeout,
        })
    }

    /// A slot for a connection just accepted. When the server is full, closes the
    /// oldest idle connection and waits for its slot; when none is idle, for any.
    pub(super) async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            if let Ok(permit) = self.slots.clone().try_acquire_owned() {
                return self.register(permit);
            }
            self.close_oldest_idle();
            if let Ok(Ok(permit)) = tokio::time::timeout(RECHECK, self.slots.clone().acquire_owned()).await {
                return self.register(permit);
            }
        }
    }

    fn register(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Slot {
        let activity = Arc::new(Activity::default());
        let mut open = self.open.lock();
        let id = open.next_id;
        open.next_id += 1;
        let tracked = Tracked { activity: activity.clone(), seen: 0, idle_since: Instant::now() };
        open.by_age.insert(id, tracked);
        Slot { id, activity, connections: self.clone(), _permit: permit }
    }

    /// Asks the oldest connection without a request in flight to close; false if every
    /// connection is busy or closing already.
    pub(super) fn close_oldest_idle(&self) -> bool {
        let open = self.open.lock();
        let oldest_idle =
            open.by_age.values().find(|t| t.activity.is_idle() && !t.activity.close.is_cancelled());
        oldest_idle.inspect(|t| t.activity.close.cancel()).is_some()
    }

    /// Closes connections idle past their deadline, every quarter of the shorter one (at
    /// most every second, at least every 10 ms); runs until dropped.
    pub(super) async fn sweep(self: Arc<Self>) {
        let period = (self.header_timeout.min(self.idle_timeout) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut ticks = tokio::time::interval(period);
        loop {
            ticks.tick().await;
            self.close_expired(Instant::now());
        }
    }

    fn close_expired(&self, now: Instant) {
        let mut open = self.open.lock();
        for tracked in open.by_age.values_mut() {
            let started = tracked.activity.started.load(Ordering::Relaxed);
            if !tracked.activity.is_idle() || started != tracked.seen {
                tracked.seen = started;
                tracked.idle_since = now;
                continue;
            }
            let deadline = if started == 0 { self.header_timeout } else { self.idle_timeout };
            if now.duration_since(tracked.idle_since) >= deadline {
                tracked.activity.close.cancel();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Connections, Duration, Instant};

    fn connections(max: usize) -> std::sync::Arc<Connections> {
        Connections::new(max, Duration::from_secs(10), Duration::from_secs(60))
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_server_closes_the_oldest_idle_connection() {
        let connections = connections(3);
        let (oldest, busy, newest) =
            (connections.admit().await, connections.admit().await, connections.admit().await);
        let _request = busy.activity.begin();
        let admitting = tokio::spawn({
            let connections = connections.clone();
            async move { connections.admit().await.id }
        });
        oldest.activity.close_requested().await;
        assert!(!newest.activity.close.is_cancelled() && !busy.activity.close.is_cancelled());
        drop(oldest);
        assert_eq!(admitting.await.ok(), Some(3));
        assert!(!busy.activity.close.is_cancelled(), "a connection with a request in flight stays");
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_busy_server_admits_when_a_connection_becomes_idle() {
        let connections = connections(1);
        let only = connections.admit().await;
        let request = only.activity.begin();
        let admitting = tokio::spawn({
            let connections = connections.clone();
            async move { connections.admit().await.id }
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!only.activity.close.is_cancelled());
        drop(request);
        only.activity.close_requested().await;
        drop(only);
        assert_eq!(admitting.await.ok(), Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_connections_close_after_their_deadline() {
        let connections = connections(4);
        let (silent, served, busy) =
            (connections.admit().await, connections.admit().await, connections.admit().await);
        drop(served.activity.begin());
        let _request = busy.activity.begin();
        let start = Instant::now();
        connections.close_expired(start);
        connections.close_expired(start + Duration::from_secs(10));
        assert!(silent.activity.close.is_cancelled(), "no request within the header timeout");
        assert!(!served.activity.close.is_cancelled(), "served: idle for 10 s only");
        connections.close_expired(start + Duration::from_secs(60));
        assert!(served.activity.close.is_cancelled(), "idle for the idle timeout");
        assert!(!busy.activity.close.is_cancelled(), "a request in flight is never idle");
    }
}
