//! A small inline FIFO for a call's pending actions: no allocation, ever.
//! One input produces at most three actions (a late cancel: abort, fallback,
//! settle), and the host drains them before the next input.

/// Room for the actions of one input, with margin.
const CAPACITY: usize = 4;

/// A fixed-capacity FIFO of `Copy` items.
pub(crate) struct Queue<T: Copy> {
    items: [Option<T>; CAPACITY],
    head: u8,
    len: u8,
}

impl<T: Copy> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue { items: [None; CAPACITY], head: 0, len: 0 }
    }

    /// Appends an item. A host that never drains would overflow it: that is
    /// a broken host, so it panics with a clear message rather than dropping
    /// an action (a dropped action leaks permits or never settles a caller).
    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        assert!(
            usize::from(self.len) < CAPACITY,
            "call actions not drained: poll_action() until None after every input"
        );
        let at = (usize::from(self.head) + usize::from(self.len)) % CAPACITY;
        self.items[at] = Some(item);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
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
    #[should_panic(expected = "not drained")]
    fn an_undrained_queue_refuses_to_drop_actions() {
        let mut q = Queue::new();
        for i in 0..=CAPACITY {
            q.push(i);
        }
    }
}
