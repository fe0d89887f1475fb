//! A small FIFO for a call's pending actions. The actions of one input in a
//! single-attempt call (at most four: clear a timer, abort, fallback,
//! settle) fit inline, so the closed path never allocates; a hedging call
//! that cancels many losers at once spills the rest into a heap queue.

use std::collections::VecDeque;

/// Room for the actions of one input of a single-attempt call.
const CAPACITY: usize = 4;

/// A FIFO of `Copy` items, inline up to [`CAPACITY`].
pub(crate) struct Queue<T: Copy> {
    items: [Option<T>; CAPACITY],
    head: u8,
    len: u8,
    /// Items pushed while the inline part was full, or while this already
    /// held items (so order is kept): all younger than the inline ones.
    spill: VecDeque<T>,
}

impl<T: Copy> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue { items: [None; CAPACITY], head: 0, len: 0, spill: VecDeque::new() }
    }

    /// Appends an item.
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        if usize::from(self.len) == CAPACITY || !self.spill.is_empty() {
            self.spill.push_back(item);
            return;
        }
        let at = (usize::from(self.head) + usize::from(self.len)) % CAPACITY;
        self.items[at] = Some(item);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return self.spill.pop_front();
        }
        let item = self.items[usize::from(self.head)].take();
        self.head = ((usize::from(self.head) + 1) % CAPACITY) as u8;
        self.len -= 1;
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_first_out_across_the_wrap() {
        let mut q = Queue::new();
        for round in 0..10u32 {
            q.push(round);
            q.push(round + 100);
            assert_eq!(q.pop(), Some(round));
            assert_eq!(q.pop(), Some(round + 100));
            assert_eq!(q.pop(), None);
        }
    }

    #[test]
    fn past_the_inline_room_items_spill_in_order() {
        let mut q = Queue::new();
        for i in 0..10 {
            q.push(i);
        }
        assert_eq!(q.pop(), Some(0));
        q.push(10); // behind the spilled ones, though the inline part has room
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, (1..=10).collect::<Vec<_>>());
    }
}
