//! [`SimHandle`]: what tests and the agent see of a running simulated process — the
//! commands it received, its connection count, and its switchable faults.

use super::faults::Faults;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// State shared between a process's task and its handles. The lock is held only to push
/// or copy, never across an `.await`.
#[derive(Debug, Default)]
pub(super) struct Shared {
    received: Mutex<Vec<String>>,
    connections: AtomicU64,
    faults: Mutex<Faults>,
    max_in_flight: AtomicUsize,
    exited: AtomicBool,
}

impl Shared {
    pub(super) fn record(&self, cmd: String) {
        self.received.lock().push(cmd);
    }

    pub(super) fn connected(&self) {
        self.connections.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn in_flight(&self, n: usize) {
        self.max_in_flight.fetch_max(n, Ordering::SeqCst);
    }

    pub(super) fn faults(&self) -> Faults {
        self.faults.lock().clone()
    }

    pub(super) fn set_exited(&self) {
        self.exited.store(true, Ordering::SeqCst);
    }
}

/// A handle on one simulated process; cheap to clone.
#[derive(Clone, Debug)]
pub struct SimHandle {
    pub(super) shared: Arc<Shared>,
}

impl SimHandle {
    /// Every command read from the controller, in order, as received (lossy UTF-8),
    /// including `_get_client_id`.
    pub fn received(&self) -> Vec<String> {
        self.shared.received.lock().clone()
    }

    pub fn clear_received(&self) {
        self.shared.received.lock().clear();
    }

    /// How many times the process has connected so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Replaces the faults; the next command read uses the new set.
    pub fn set_faults(&self, f: Faults) {
        *self.shared.faults.lock() = f;
    }

    /// The most commands ever outstanding at once: a command that arrives before the
    /// previous reply was completely written (or while one was left unanswered) makes it 2.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// The process terminated (after `exit`, or a crash with `real_crash`) and will not
    /// reconnect.
    #[cfg(test)]
    pub(crate) fn exited(&self) -> bool {
        self.shared.exited.load(Ordering::SeqCst)
    }
}
