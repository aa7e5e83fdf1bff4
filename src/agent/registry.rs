//! Which SPP processes are connected right now.
//!
//! The primary has its own slot; secondaries share one id namespace across all types
//! (a vf with id 1 replaces an nfv with id 1, as in the original). Every entry carries
//! the generation of its connection so that a replaced connection, when it finally
//! ends, cannot remove its successor.

use crate::agent::process::ProcessHandle;
use crate::proc_type::{ProcName, ProcType};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Default)]
pub struct Registry {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    slots: Mutex<Slots>,
    next_generation: AtomicU64,
}

#[derive(Default)]
struct Slots {
    primary: Option<ProcessHandle>,
    secondaries: BTreeMap<u32, ProcessHandle>,
}

impl Registry {
    /// A fresh generation number for a new connection.
    pub fn next_generation(&self) -> u64 {
        self.shared.next_generation.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers `handle`, returning the entry it replaced (same primary slot or same
    /// secondary id, whatever its type). The caller closes the replaced connection.
    pub fn register(&self, handle: ProcessHandle) -> Option<ProcessHandle> {
        let mut slots = self.shared.slots.lock();
        match handle.name().id {
            None => slots.primary.replace(handle),
            Some(id) => slots.secondaries.insert(id, handle),
        }
    }

    /// Removes the entry for `name` only if it still belongs to connection `generation`.
    pub fn deregister(&self, name: ProcName, generation: u64) -> bool {
        let mut slots = self.shared.slots.lock();
        let slot = match name.id {
            None => &mut slots.primary,
            Some(id) => {
                let is_ours = slots.secondaries.get(&id).is_some_and(|h| h.generation() == generation);
                return is_ours && slots.secondaries.remove(&id).is_some();
            }
        };
        if slot.as_ref().is_some_and(|h| h.generation() == generation) {
            *slot = None;
            return true;
        }
        false
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
