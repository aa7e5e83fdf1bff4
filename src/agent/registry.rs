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
    pub(crate) fn with_events(events: EventHub) -> Self {
        Registry { shared: Arc::new(Shared { events, ..Shared::default() }) }
    }

    pub fn events(&self) -> &EventHub {
        &self.shared.events
    }

    /// A receiver that sees a new value after every attach or detach.
    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    fn changed(&self) {
        self.shared.changes.send_modify(|n| *n += 1);
    }

    /// A fresh generation number for a new connection.
    pub(crate) fn next_generation(&self) -> u64 {
        self.shared.next_generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers `handle`, returning the entry it replaced (same primary slot or same
    /// secondary id, whatever its type). The caller closes the replaced connection.
    pub(crate) fn register(&self, handle: ProcessHandle) -> Option<ProcessHandle> {
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
    pub(crate) fn deregister(&self, name: ProcName, generation: u64, reason: Detach) -> bool {
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
    pub(crate) fn snapshot(&self) -> Vec<ProcessHandle> {
        let slots = self.shared.slots.lock();
        slots.primary.iter().chain(slots.secondaries.values()).cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        let slots = self.shared.slots.lock();
        usize::from(slots.primary.is_some()) + slots.secondaries.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::events::HubSettings;
    use crate::proc_type::ProcType;
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    fn handle(registry: &Registry, name: ProcName, peer: &str) -> ProcessHandle {
        let (jobs, _) = mpsc::channel(1);
        let timeouts = (std::time::Duration::from_secs(1), std::time::Duration::from_secs(1));
        ProcessHandle::new(
            (name, peer.into()),
            registry.next_generation(),
            jobs,
            CancellationToken::new(),
            timeouts,
        )
    }

    fn kinds_and_reasons(events: &[bytes::Bytes]) -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let text = String::from_utf8_lossy(e);
                let kind = text.lines().nth(1).unwrap_or_default().trim_start_matches("event: ").to_owned();
                let reason =
                    text.split("\"reason\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("");
                format!("{kind} {reason}").trim_end().to_owned()
            })
            .collect()
    }

    #[tokio::test]
    async fn changes_are_published_in_order_and_only_once() {
        let registry = Registry::with_events(EventHub::new(HubSettings::default()));
        let changes = registry.changes();
        let mut sub = registry.events().subscribe(None);
        let nfv = ProcName::secondary(ProcType::Nfv, 1);
        let first = handle(&registry, nfv, "127.0.0.1:1");
        assert!(registry.register(first.clone()).is_none());
        assert!(changes.has_changed().unwrap_or(false));
        let vf = handle(&registry, ProcName::secondary(ProcType::Vf, 1), "127.0.0.1:2");
        let replaced = registry.register(vf.clone());
        assert_eq!(replaced.map(|h| h.generation()), Some(first.generation()));
        // The replaced connection ends later: nothing more to report.
        assert!(!registry.deregister(nfv, first.generation(), Detach::Eof));
        assert!(registry.deregister(vf.name(), vf.generation(), Detach::Deadline));
        let mut events = Vec::new();
        while let Ok(event) = sub.queue.try_recv() {
            events.push(event);
        }
        assert_eq!(
            kinds_and_reasons(&events),
            [
                "process-attached",
                "process-detached replaced",
                "process-attached",
                "process-detached deadline"
            ]
        );
    }
}
