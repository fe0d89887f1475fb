//! The Python callables a command's listeners call, kept where the garbage
//! collector can see them.
//!
//! The core keeps each listener as a Rust closure, which Python's collector
//! cannot look into: a listener that refers to its own command (a closure
//! over it, a bound method of an object holding it) would form a cycle no
//! collection ever frees. So the closures hold only a key into this store,
//! and the command's `__traverse__` visits the callables in it; when a
//! cycle is found, `__clear__` empties the store and unsubscribes every
//! listener from the core.

use hystrix_core::{Command, ListenerId};
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The subscribed callables of one command, by the key their closures hold.
#[derive(Default)]
pub(crate) struct ListenerStore {
    next_key: AtomicU64,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    /// Callable by key.
    callables: HashMap<u64, Py<PyAny>>,
    /// The key of each core subscription, by its listener id.
    keys: HashMap<u64, u64>,
}

impl ListenerStore {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `callable` and returns the key its closure looks it up by.
    /// Stored before the core subscription exists, so a notice can never
    /// find its key missing.
    pub(crate) fn insert(&self, callable: Py<PyAny>) -> u64 {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        self.lock().callables.insert(key, callable);
        key
    }

    /// Records which core subscription `key` belongs to.
    pub(crate) fn subscribed(&self, key: u64, id: ListenerId) {
        self.lock().keys.insert(id.raw(), key);
    }

    /// The callable stored under `key`, if it is still subscribed.
    pub(crate) fn get(&self, py: Python<'_>, key: u64) -> Option<Py<PyAny>> {
        self.lock().callables.get(&key).map(|c| c.clone_ref(py))
    }

    /// Forgets the callable of core subscription `id` (after the core
    /// unsubscribed it).
    pub(crate) fn remove(&self, id: ListenerId) {
        let removed = {
            let mut entries = self.lock();
            entries.keys.remove(&id.raw()).and_then(|key| entries.callables.remove(&key))
        };
        // Dropped outside the lock: dropping a callable can run Python code.
        drop(removed);
    }

    /// Visits every stored callable (the command's `__traverse__`). Never
    /// blocks: a store another thread is changing right now is skipped
    /// this time (a later collection sees it).
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        let Ok(entries) = self.entries.try_lock() else { return Ok(()) };
        for callable in entries.callables.values() {
            visit.call(callable)?;
        }
        Ok(())
    }

    /// Unsubscribes every listener from `cmd` and drops the callables (the
    /// command's `__clear__`, when the collector breaks a cycle through them).
    pub(crate) fn clear(&self, cmd: &Command) {
        let entries = std::mem::take(&mut *self.lock());
        for id in entries.keys.keys() {
            cmd.unsubscribe(ListenerId::from_raw(*id));
        }
        drop(entries);
    }
}

/// A store shared by a command and its listeners' closures.
pub(crate) type SharedListeners = Arc<ListenerStore>;
