//! Which SPP processes are connected right now.
//!
//! The primary has its own slot; secondaries share one id namespace across all types
//! (a vf with id 1 replaces an nfv with id 1, as in the original). Every entry carries
//! the generation of its connection so that a replaced connection, when it finally
//! ends, cannot remove its successor.
//!
//! Every change is published on the event hub (attached, detached and why) and bumps a
//! watch counter, so waiters (`?wait_for=`) wake on changes instead of polling.

use crate::agent::events::EventHub;
use crate::agent::events::kind::{self, Detach};
use crate::agent::process::ProcessHandle;
use crate::proc_type::{ProcName, ProcType};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

#[derive(Clone, Default)]
pub struct Registry {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    slots: Mutex<Slots>,
    next_generation: AtomicU64,
    events: EventHub,
    /// Bumped on every change.
    changes: watch::Sender<u64>,
}

#[derive(Default)]
struct Slots {
    primary: Option<ProcessHandle>,
    secondaries: BTreeMap<u32, ProcessHandle>,
}

impl Registry {
    /// A registry that publishes on `events`.
    pub fn with_events(events: EventHub) -> Self {
        Registry { shared: Arc::new(Shared { events, ..Shared::default() }) }
    }

    pub fn events(&self) -> &EventHub {
        &self.shared.events
    }

    /// A receiver that sees a new value after every attach or detach.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    fn changed(&self) {
        self.shared.changes.send_modify(|n| *n += 1);
    }

    /// A fresh generation number for a new connection.
    pub fn next_generation(&self) -> u64 {
        self.shared.next_generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers `handle`, returning the entry it replaced (same primary slot or same
    /// secondary id, whatever its type). The caller closes the replaced connection.
    pub fn register(&self, handle: ProcessHandle) -> Option<ProcessHandle> {
        let (name, peer) = (handle.name(), handle.peer().to_owned());
        let mut slots = self.shared.slots.lock();
        let replaced = match name.id {
            None => slots.primary.replace(handle),
            Some(id) => slots.secondaries.insert(id, handle),
        };
        // Published under the lock, so events come in the order of the changes.
        if let Some(old) = &replaced {
            kind::detached(&self.shared.events, old.name(), old.peer(), Detach::Replaced);
        }
        kind::attached(&self.shared.events, name, &peer);
        drop(slots);
        self.changed();
        replaced
    }

    /// Removes the entry for `name` only if it still belongs to connection `generation`.
    pub fn deregister(&self, name: ProcName, generation: u64, reason: Detach) -> bool {
        let mut slots = self.shared.slots.lock();
        let gone = match name.id {
            None => slots.primary.take_if(|h| h.generation() == generation),
            Some(id) => match slots.secondaries.entry(id) {
                Entry::Occupied(entry) if entry.get().generation() == generation => Some(entry.remove()),
                _ => None,
            },
        };
        let Some(gone) = gone else { return false };
        kind::detached(&self.shared.events, name, gone.peer(), reason);
        drop(slots);
        self.changed();
        true
    }

    pub fn primary(&self) -> Option<ProcessHandle> {
        self.shared.slots.lock().primary.clone()
    }

    /// The secondary with this id, only if it is of type `ty`.
    pub fn secondary(&self, ty: ProcType, id: u32) -> Option<ProcessHandle> {
        let slots = self.shared.slots.lock();
        slots.secondaries.get(&id).filter(|h| h.name().ty == ty).cloned()
    }

    /// Every process: the primary first, then secondaries by ascending id.
    pub fn snapshot(&self) -> Vec<ProcessHandle> {
        let slots = self.shared.slots.lock();
        slots.primary.iter().chain(slots.secondaries.values()).cloned().collect()
    }

    pub fn len(&self) -> usize {
        let slots = self.shared.slots.lock();
        usize::from(slots.primary.is_some()) + slots.secondaries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
