//! A small FIFO for a call's pending actions. The actions of one input in a
//! single-attempt call (at most four: clear a timer, abort, fallback,
//! settle) fit inline, so the closed path never allocates; a hedging call
//! that cancels many losers at once spills the rest into a heap queue.

use std::collections::VecDeque;

/// Room for the actions of one input of a single-attempt call (a power of
/// two: an index masked with `CAPACITY - 1` needs no bounds check).
const CAPACITY: usize = 4;
const _: () = assert!(CAPACITY.is_power_of_two());

/// A FIFO of `Copy` items, inline up to [`CAPACITY`].
///
/// The inline part is filled from its start and read in order; once read
/// to the end it starts over at slot 0, so a call's actions (pushed by one
/// input, drained before the next) never wrap and never need a modulo.
pub(crate) struct Queue<T: Copy> {
    items: [Option<T>; CAPACITY],
    /// The next inline item to read.
    head: u8,
    /// One past the last inline item written.
    tail: u8,
    /// Items pushed while the inline part was full, or while this already
    /// held items (so order is kept): all younger than the inline ones.
    spill: VecDeque<T>,
}

impl<T: Copy> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue { items: [None; CAPACITY], head: 0, tail: 0, spill: VecDeque::new() }
    }

    /// Appends an item.
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        let tail = usize::from(self.tail);
        if tail == CAPACITY || !self.spill.is_empty() {
            self.spill.push_back(item);
            return;
        }
        // `tail < CAPACITY` here; the mask says so to the compiler.
        self.items[tail & (CAPACITY - 1)] = Some(item);
        self.tail += 1;
    }

    /// Takes the oldest item.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.head == self.tail {
            return self.spill.pop_front();
        }
        // `head < tail ≤ CAPACITY`; the mask says so to the compiler.
        let item = self.items[usize::from(self.head) & (CAPACITY - 1)];
        self.head += 1;
        if self.head == self.tail {
            (self.head, self.tail) = (0, 0);
        }
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

    #[test]
    fn the_inline_part_starts_over_once_read_to_the_end() {
        let mut q = Queue::new();
        for i in 0..4 {
            q.push(i);
        }
        assert_eq!(q.pop(), Some(0));
        assert_eq!(q.pop(), Some(1));
        q.push(4); // the inline part is full up to its end: spilled
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, vec![2, 3, 4]);
        // Empty again: back to the inline part, from slot 0.
        q.push(5);
        q.push(6);
        assert_eq!((q.head, q.tail, q.spill.len()), (0, 2, 0));
        assert_eq!(q.pop(), Some(5));
        assert_eq!(q.pop(), Some(6));
        assert_eq!((q.head, q.tail), (0, 0));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn behaves_as_a_plain_fifo_under_any_pushes_and_pops() {
        // Runs of pushes and pops of every length around the inline room,
        // against a `VecDeque`.
        let mut rng = crate::policy::random::SplitMix64::new(7);
        let (mut q, mut model) = (Queue::new(), VecDeque::new());
        for n in 0..20_000u32 {
            if rng.next_u64() % 2 == 0 {
                for i in 0..rng.next_u64() % 7 {
                    q.push(n * 8 + i as u32);
                    model.push_back(n * 8 + i as u32);
                }
            } else {
                for _ in 0..rng.next_u64() % 7 {
                    assert_eq!(q.pop(), model.pop_front());
                }
            }
        }
    }
}
