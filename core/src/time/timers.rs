//! A deterministic timer queue: timers fire by due time, then in the order
//! they were armed (SPEC §1). Bindings keep their own payload per timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Identifies one armed timer, for [`TimerQueue::cancel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(u64);

impl TimerId {
    /// The raw sequence number (arming order).
    pub fn raw(self) -> u64 {
        self.0
    }

    /// The id with this raw number (as handed across an FFI boundary).
    pub fn from_raw(raw: u64) -> TimerId {
        TimerId(raw)
    }
}

/// Timers with a payload `T`, ordered by `(due, arming order)`.
pub struct TimerQueue<T> {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    payloads: std::collections::HashMap<u64, T>,
    next_seq: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue { heap: BinaryHeap::new(), payloads: Default::default(), next_seq: 0 }
    }
}

impl<T> TimerQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms a timer due at `due`.
    pub fn arm(&mut self, due: u64, payload: T) -> TimerId {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse((due, seq)));
        self.payloads.insert(seq, payload);
        TimerId(seq)
    }

    /// Disarms a timer; returns its payload if it had not fired yet.
    pub fn cancel(&mut self, id: TimerId) -> Option<T> {
        self.payloads.remove(&id.0)
    }

    /// The earliest due time of a live timer.
    pub fn next_deadline(&mut self) -> Option<u64> {
        self.skip_cancelled();
        self.heap.peek().map(|Reverse((due, _))| *due)
    }

    /// Removes and returns the first timer due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<(u64, T)> {
        self.skip_cancelled();
        match self.heap.peek() {
            Some(Reverse((due, _))) if *due <= now => {
                let Reverse((due, seq)) = self.heap.pop().expect("peeked");
                let payload = self.payloads.remove(&seq).expect("live timer has a payload");
                Some((due, payload))
            }
            _ => None,
        }
    }

    /// Number of live timers.
    pub fn len(&self) -> usize {
        self.payloads.len()
    }

    /// Whether no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    fn skip_cancelled(&mut self) {
        while let Some(Reverse((_, seq))) = self.heap.peek() {
            if self.payloads.contains_key(seq) {
                break;
            }
            self.heap.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_by_due_then_arming_order() {
        let mut q = TimerQueue::new();
        q.arm(10, "b");
        q.arm(5, "a");
        q.arm(10, "c");
        let cancelled = q.arm(7, "x");
        assert_eq!(q.cancel(cancelled), Some("x"));
        assert_eq!(q.next_deadline(), Some(5));
        assert_eq!(q.pop_due(4), None);
        let fired: Vec<_> = std::iter::from_fn(|| q.pop_due(10)).collect();
        assert_eq!(fired, vec![(5, "a"), (10, "b"), (10, "c")]);
        assert!(q.is_empty());
        assert_eq!(q.next_deadline(), None);
    }
}
