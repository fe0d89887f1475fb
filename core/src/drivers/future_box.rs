//! A heap place for one pinned future at a time, kept across the futures it
//! holds: the async driver runs a retried call's attempts one after
//! another, and each attempt's future goes where the last one was instead
//! of into a new allocation.

use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;

/// A heap place that holds at most one `R`. While it holds one, that value
/// stays at the same address (pinned) until it is dropped in place by
/// [`FutureBox::clear`], a refill or the box's own drop.
pub(crate) struct FutureBox<R> {
    place: Box<MaybeUninit<R>>,
    /// Whether `place` holds a value.
    live: bool,
}

impl<R: Future> FutureBox<R> {
    /// A new place holding `fut`.
    pub(crate) fn new(fut: R) -> FutureBox<R> {
        FutureBox { place: Box::new(MaybeUninit::new(fut)), live: true }
    }

    /// Drops what the place holds (if anything) and puts `fut` there.
    pub(crate) fn refill(&mut self, fut: R) {
        self.clear();
        self.place.write(fut);
        self.live = true;
    }

    /// Drops the value held, in place; the place stays for a refill.
    pub(crate) fn clear(&mut self) {
        if self.live {
            // Marked empty first: a drop that panics is not run twice.
            self.live = false;
            // SAFETY: `live` said `place` holds an initialised value, and it
            // is dropped once (`live` is now false). Pinning is kept: the
            // value is dropped where it always was, before its memory is
            // reused or freed.
            unsafe { self.place.assume_init_drop() }
        }
    }

    /// The value held, pinned. Panics if the place is empty.
    pub(crate) fn as_pin(&mut self) -> Pin<&mut R> {
        assert!(self.live, "a future box polled while empty");
        // SAFETY: the value is initialised (`live`), it lives in the heap
        // allocation of `place`, which never moves while it is held (moving
        // the `FutureBox` moves the pointer only), and it is dropped in
        // place before that memory is written again or freed.
        unsafe { Pin::new_unchecked(self.place.assume_init_mut()) }
    }
}

impl<R> Drop for FutureBox<R> {
    fn drop(&mut self) {
        if self.live {
            self.live = false;
            // SAFETY: as in `clear`: initialised, dropped once, in place.
            unsafe { self.place.assume_init_drop() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::marker::PhantomPinned;
    use std::rc::Rc;
    use std::task::{Context, Poll};

    /// Counts its drops and checks that it never moved between polls.
    struct Probe {
        drops: Rc<Cell<u32>>,
        seen_at: Option<usize>,
        _pinned: PhantomPinned,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            let at = &*self as *const Probe as usize;
            // SAFETY: only a plain field is written; nothing is moved out.
            let this = unsafe { self.get_unchecked_mut() };
            assert!(this.seen_at.is_none() || this.seen_at == Some(at), "a pinned future moved");
            this.seen_at = Some(at);
            Poll::Pending
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
        }
    }

    fn probe(drops: &Rc<Cell<u32>>) -> Probe {
        Probe { drops: drops.clone(), seen_at: None, _pinned: PhantomPinned }
    }

    #[test]
    fn each_future_is_dropped_once_in_place_and_the_place_is_reused() {
        let drops = Rc::new(Cell::new(0));
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        let mut b = FutureBox::new(probe(&drops));
        let first_place = &*b.place as *const MaybeUninit<Probe>;
        assert!(b.as_pin().poll(&mut cx).is_pending());
        let mut moved = vec![b]; // the box moves; its future does not
        let mut b = moved.pop().unwrap();
        assert!(b.as_pin().poll(&mut cx).is_pending());
        b.clear();
        assert_eq!(drops.get(), 1);
        b.clear(); // empty: nothing more dropped
        assert_eq!(drops.get(), 1);
        b.refill(probe(&drops));
        assert_eq!(&*b.place as *const MaybeUninit<Probe>, first_place, "the same allocation");
        assert!(b.as_pin().poll(&mut cx).is_pending());
        b.refill(probe(&drops)); // refilling a full place drops its value first
        assert_eq!(drops.get(), 2);
        drop(b);
        assert_eq!(drops.get(), 3);
        let cleared = {
            let mut b = FutureBox::new(probe(&drops));
            b.clear();
            b
        };
        drop(cleared); // an empty box drops nothing
        assert_eq!(drops.get(), 4);
    }

    #[test]
    #[should_panic(expected = "polled while empty")]
    fn an_empty_box_is_never_polled() {
        let drops = Rc::new(Cell::new(0));
        let mut b = FutureBox::new(probe(&drops));
        b.clear();
        let _pinned = b.as_pin();
    }
}
