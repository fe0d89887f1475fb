//! Listeners: callbacks told of every recorded event and every state
//! transition. They run on the thread that caused them, after the command's
//! own bookkeeping and with no lock held, so a listener may call back into
//! the command; a panicking listener is caught and counted, never fatal.

use crate::event::{CircuitState, EventType};
use arc_swap::ArcSwap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a listener is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice<'a> {
    /// An event was recorded.
    Event {
        /// The command's name.
        command: &'a str,
        /// The event.
        event: EventType,
        /// When, on the command's clock.
        at_ms: u64,
    },
    /// The circuit moved between states.
    Transition {
        /// The command's name.
        command: &'a str,
        /// The state before.
        from: CircuitState,
        /// The state after.
        to: CircuitState,
        /// When, on the command's clock.
        at_ms: u64,
    },
}

/// Which notices a listener wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Every recorded event.
    Events,
    /// State transitions.
    Transitions,
}

/// A subscription handle, for [`crate::Command::unsubscribe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

impl ListenerId {
    /// The raw number (as handed across an FFI boundary).
    pub fn raw(self) -> u64 {
        self.0
    }

    /// The id with this raw number.
    pub fn from_raw(raw: u64) -> ListenerId {
        ListenerId(raw)
    }
}

/// A listener callback.
pub type Listener = Arc<dyn Fn(&Notice<'_>) + Send + Sync>;

type Entry = (u64, Topic, Listener);

/// The listeners of one command.
pub(crate) struct Listeners {
    any_events: AtomicBool,
    list: ArcSwap<Vec<Entry>>,
    edit: Mutex<u64>,
    panics: AtomicU64,
}

impl Listeners {
    pub(crate) fn new() -> Listeners {
        Listeners {
            any_events: AtomicBool::new(false),
            list: ArcSwap::from_pointee(Vec::new()),
            edit: Mutex::new(0),
            panics: AtomicU64::new(0),
        }
    }

    pub(crate) fn subscribe(&self, topic: Topic, listener: Listener) -> ListenerId {
        let mut next = self.edit.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        let id = *next;
        let mut list = Vec::clone(&self.list.load());
        list.push((id, topic, listener));
        self.publish(list);
        ListenerId(id)
    }

    pub(crate) fn unsubscribe(&self, id: ListenerId) -> bool {
        let _guard = self.edit.lock().unwrap_or_else(|p| p.into_inner());
        let mut list = Vec::clone(&self.list.load());
        let before = list.len();
        list.retain(|(i, _, _)| *i != id.0);
        let removed = list.len() != before;
        self.publish(list);
        removed
    }

    fn publish(&self, list: Vec<Entry>) {
        self.any_events.store(list.iter().any(|(_, t, _)| *t == Topic::Events), Ordering::Release);
        self.list.store(Arc::new(list));
    }

    /// Whether an event listener exists: the hot path's only cost otherwise.
    #[inline]
    pub(crate) fn wants_events(&self) -> bool {
        self.any_events.load(Ordering::Relaxed)
    }

    pub(crate) fn notify(&self, notice: &Notice<'_>) {
        let topic = match notice {
            Notice::Event { .. } => Topic::Events,
            Notice::Transition { .. } => Topic::Transitions,
        };
        let list = self.list.load_full();
        for (_, t, listener) in list.iter() {
            if *t == topic && catch_unwind(AssertUnwindSafe(|| listener(notice))).is_err() {
                self.panics.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts a listener call that failed in the host.
    pub(crate) fn note_error(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }

    /// How many listener calls have panicked.
    pub(crate) fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }
}
