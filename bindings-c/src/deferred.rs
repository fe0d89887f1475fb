//! Listener notices raised while the library holds one of its own locks
//! are queued on the current thread and delivered as soon as the outermost
//! lock is released — still on the same thread, in order, with no lock
//! held, so a listener may call back into the library.

use std::cell::{Cell, RefCell};

type Notice = Box<dyn FnOnce()>;

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static QUEUE: RefCell<Vec<Notice>> = const { RefCell::new(Vec::new()) };
}

/// Marks a lock as held until dropped; the outermost drop delivers.
pub(crate) struct Depth(());

/// Enters a locked region.
pub(crate) fn enter() -> Depth {
    DEPTH.with(|d| d.set(d.get() + 1));
    Depth(())
}

impl Drop for Depth {
    fn drop(&mut self) {
        let outermost = DEPTH.with(|d| {
            d.set(d.get() - 1);
            d.get() == 0
        });
        if outermost {
            deliver();
        }
    }
}

/// Runs `notice` now, or after the outermost held lock is released.
pub(crate) fn notify(notice: impl FnOnce() + 'static) {
    if DEPTH.with(Cell::get) == 0 {
        notice();
    } else {
        QUEUE.with(|q| q.borrow_mut().push(Box::new(notice)));
    }
}

fn deliver() {
    loop {
        let next = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            if q.is_empty() {
                None
            } else {
                Some(q.remove(0))
            }
        });
        match next {
            Some(n) => n(),
            None => break,
        }
    }
}
