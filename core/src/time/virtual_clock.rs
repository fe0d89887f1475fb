//! A virtual clock with its own timer queue, for deterministic tests of
//! commands (the project's and its users'). Nothing moves until
//! [`VirtualClock::advance`] is called.

use crate::clock::{Clock, Sleeper};
use crate::timers::{TimerId, TimerQueue};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::ThreadId;

/// A settable clock whose sleeps fire only when it is advanced. Cloning
/// gives another handle to the same clock.
///
/// Time never goes back (SPEC §1). Advances from different threads are
/// serialised: one waits until the other has finished (fired its timers),
/// then moves on from where it ended, so two advances of `a` and `b` move
/// the clock by `a + b`. An advance made from inside a timer's reaction (the
/// same thread, while its advance is firing timers) moves on from that
/// timer's instant; the outer advance then never sets the clock back.
/// (So a `settle` callback must not wait for another thread that advances
/// the same clock: that thread waits for this advance to finish.)
#[derive(Clone, Default)]
pub struct VirtualClock {
    inner: Arc<Mutex<State>>,
    turn: Arc<(Mutex<Option<ThreadId>>, Condvar)>,
}

/// The right to advance, held by one thread at a time (re-entrant).
struct Turn<'a> {
    clock: &'a VirtualClock,
    owner: bool,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.owner {
            let (who, cv) = &*self.clock.turn;
            *who.lock().unwrap_or_else(|p| p.into_inner()) = None;
            cv.notify_one();
        }
    }
}

#[derive(Default)]
struct State {
    now: u64,
    timers: TimerQueue<Arc<Alarm>>,
}

#[derive(Default)]
struct Alarm {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl VirtualClock {
    /// A clock reading 0 with no timers.
    pub fn new() -> VirtualClock {
        VirtualClock::default()
    }

    /// The time on this clock, in milliseconds (what its [`Clock`] and
    /// [`crate::Timer`] read; inherent, so code with both traits in scope
    /// calls it without naming one).
    pub fn now_ms(&self) -> u64 {
        self.lock().now
    }

    /// Moves time forward by `ms`, firing every due timer in order.
    pub fn advance(&self, ms: u64) {
        self.advance_with(ms, || {});
    }

    /// Moves time forward by `ms`, firing due timers one at a time in order
    /// (due time, then arming order) and calling `settle` after each so an
    /// executor can run every reaction before the next timer fires.
    pub fn advance_with(&self, ms: u64, mut settle: impl FnMut()) {
        let _turn = self.take_turn();
        let target = self.lock().now.saturating_add(ms);
        loop {
            let fired = {
                let mut st = self.lock();
                match st.timers.pop_due(target) {
                    Some((due, alarm)) => {
                        st.now = st.now.max(due);
                        Some(alarm)
                    }
                    None => {
                        // A nested advance may have gone further: never back.
                        st.now = st.now.max(target);
                        None
                    }
                }
            };
            let Some(alarm) = fired else { break };
            alarm.fired.store(true, Ordering::Release);
            let waker = alarm.waker.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(w) = waker {
                w.wake();
            }
            settle();
        }
    }

    /// The earliest due time of an armed timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.lock().timers.next_deadline()
    }

    /// Waits until no other thread is advancing; re-entrant on this thread.
    fn take_turn(&self) -> Turn<'_> {
        let me = std::thread::current().id();
        let (who, cv) = &*self.turn;
        let mut owner = who.lock().unwrap_or_else(|p| p.into_inner());
        if *owner == Some(me) {
            return Turn { clock: self, owner: false };
        }
        while owner.is_some() {
            owner = cv.wait(owner).unwrap_or_else(|p| p.into_inner());
        }
        *owner = Some(me);
        Turn { clock: self, owner: true }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> u64 {
        VirtualClock::now_ms(self)
    }
}

/// A sleep on a [`VirtualClock`]; dropping it disarms its timer.
pub struct VirtualSleep {
    clock: VirtualClock,
    id: Option<TimerId>,
    alarm: Arc<Alarm>,
}

impl Sleeper for VirtualClock {
    type Sleep = VirtualSleep;

    fn sleep_until(&self, deadline_ms: u64) -> VirtualSleep {
        VirtualClock::sleep_until(self, deadline_ms)
    }
}

impl VirtualClock {
    /// A future that completes once this clock reads at least
    /// `deadline_ms` (what its [`Sleeper`] and [`crate::Timer`] give;
    /// inherent, like [`VirtualClock::now_ms`]). The timer is armed now.
    pub fn sleep_until(&self, deadline_ms: u64) -> VirtualSleep {
        let alarm = Arc::new(Alarm::default());
        let mut st = self.lock();
        let id = if deadline_ms <= st.now {
            alarm.fired.store(true, Ordering::Release);
            None
        } else {
            Some(st.timers.arm(deadline_ms, alarm.clone()))
        };
        drop(st);
        VirtualSleep { clock: self.clone(), id, alarm }
    }
}

impl Future for VirtualSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.alarm.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        *self.alarm.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        if self.alarm.fired.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for VirtualSleep {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.clock.lock().timers.cancel(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn sleeps_fire_in_due_then_arming_order() {
        let clock = VirtualClock::new();
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut a = clock.sleep_until(10);
        let mut b = clock.sleep_until(10);
        let dropped = clock.sleep_until(5);
        drop(dropped);
        assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
        let mut order = vec![];
        clock.advance_with(9, || order.push("early"));
        assert!(order.is_empty());
        assert_eq!(clock.now_ms(), 9);
        let mut seen = vec![];
        clock.advance_with(5, || {
            let ra = Pin::new(&mut a).poll(&mut cx).is_ready();
            let rb = Pin::new(&mut b).poll(&mut cx).is_ready();
            seen.push((ra, rb));
        });
        assert_eq!(seen, vec![(true, false), (true, true)]);
        assert!(flag.0.load(Ordering::SeqCst));
        assert_eq!(clock.now_ms(), 14);
        assert!(Pin::new(&mut clock.sleep_until(3)).poll(&mut cx).is_ready());
    }

    #[test]
    fn an_advance_inside_a_timer_reaction_is_never_undone() {
        let clock = VirtualClock::new();
        let _at5 = clock.sleep_until(5);
        let mut nested = false;
        clock.advance_with(10, || {
            if !nested {
                nested = true;
                assert_eq!(clock.now_ms(), 5);
                clock.advance(100);
                assert_eq!(clock.now_ms(), 105);
            }
        });
        assert!(nested);
        assert_eq!(clock.now_ms(), 105, "the outer advance set the clock back to its own target");
    }

    #[test]
    fn advances_from_several_threads_add_up_and_never_go_back() {
        let clock = VirtualClock::new();
        let start = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (clock, start) = (clock.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut last = 0;
                    for _ in 0..2_000 {
                        // A timer due inside this advance makes it fire,
                        // and its reaction yields, between reading the
                        // time and writing the target.
                        let _t = clock.sleep_until(clock.now_ms() + 1);
                        clock.advance_with(3, std::thread::yield_now);
                        let now = clock.now_ms();
                        assert!(now >= last, "time went back from {last} to {now}");
                        last = now;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(clock.now_ms(), 4 * 2_000 * 3);
    }
}
