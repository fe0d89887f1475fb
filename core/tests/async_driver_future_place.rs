//! The async driver's reused future place (drivers/future_box.rs) under
//! self-referential (!Unpin) attempt futures, hedging, a panicking drop and
//! caller cancellation (review, session 13; also run under Miri).
mod support;

use hystrix_core::{Command, Config, EventType, Jitter, RunError, VirtualClock};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use support::Executor;

fn command(clock: &VirtualClock, config: Config) -> Command {
    Command::with_clock("r2", config, Arc::new(clock.clone())).unwrap()
}

fn retrying() -> Config {
    Config {
        retry_max_attempts: 3,
        retry_base_delay_ms: 100,
        retry_multiplier_permille: 2000,
        retry_jitter: Jitter::None,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    }
}

struct Count(Rc<Cell<u32>>);
impl Drop for Count {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// An attempt future that borrows its own local across an await (so it is
/// self-referential while pending), sleeps `ms` and fails for attempts < ok_from.
async fn selfref(
    k: VirtualClock,
    d: Rc<Cell<u32>>,
    attempt: u32,
    ms: u64,
    ok_from: u32,
) -> Result<u32, RunError<String>> {
    let _c = Count(d);
    let buf = [attempt; 32];
    let r: &[u32; 32] = &buf;
    let at = k.now_ms() + ms;
    k.sleep_until(at).await;
    let v = r.iter().sum::<u32>() / 32;
    if v < ok_from {
        Err(RunError::Failure(format!("a{v}")))
    } else {
        Ok(v)
    }
}

#[test]
fn retried_self_referential_attempts_reuse_the_place_soundly() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let exec = Executor::default();
    let drops = Rc::new(Cell::new(0));
    let (c, k, d) = (cmd.clone(), clock.clone(), drops.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        c.run_async(&k, move |a| selfref(k2.clone(), d.clone(), a.0, 10, 3)).await
    });
    for _ in 0..10 {
        clock.advance_with(50, || exec.settle());
    }
    assert_eq!(out.borrow_mut().take().unwrap().ok(), Some(3));
    assert_eq!(drops.get(), 3);
    assert_eq!(cmd.snapshot_at(clock.now_ms()).concurrent, 0);
}

#[test]
fn hedged_self_referential_attempts_shift_and_reuse_soundly() {
    let clock = VirtualClock::new();
    let config = Config { hedge_max_attempts: 3, hedge_delay_ms: 10, hedge_on_failure: true, ..Config::default() };
    let cmd = command(&clock, config);
    let exec = Executor::default();
    let drops = Rc::new(Cell::new(0));
    let (c, k, d) = (cmd.clone(), clock.clone(), drops.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        // attempt 1 fails at 15 (attempt 2 pending, shifted in `runs`),
        // attempt 3 goes into attempt 1's place; attempt 2 wins at 40.
        c.run_async(&k, move |a| {
            let ms = match a.0 {
                1 => 15,
                2 => 30,
                _ => 100,
            };
            selfref(k2.clone(), d.clone(), a.0, ms, 2)
        })
        .await
    });
    for _ in 0..30 {
        clock.advance_with(5, || exec.settle());
    }
    assert!(out.borrow().is_some());
    assert_eq!(drops.get(), 3);
    assert_eq!(cmd.snapshot_at(clock.now_ms()).concurrent, 0);
}

#[test]
fn cancelling_during_a_reused_attempt_drops_it_and_gives_permits_back() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let exec = Executor::default();
    let drops = Rc::new(Cell::new(0));
    let (c, k, d) = (cmd.clone(), clock.clone(), drops.clone());
    let out = exec.spawn(async move {
        let k2 = k.clone();
        c.run_async(&k, move |a| selfref(k2.clone(), d.clone(), a.0, 10, 9)).await
    });
    clock.advance_with(10, || exec.settle()); // attempt 1 fails
    clock.advance_with(100, || exec.settle()); // attempt 2 starts in the reused place
    assert_eq!(drops.get(), 1);
    assert_eq!(cmd.snapshot_at(clock.now_ms()).concurrent, 1);
    exec.cancel(0);
    assert_eq!(drops.get(), 2);
    assert_eq!(cmd.snapshot_at(clock.now_ms()).concurrent, 0);
    assert_eq!(cmd.snapshot_at(clock.now_ms()).rolling.get(EventType::Cancelled), 1);
    assert!(out.borrow().is_none());
}

struct PanicOnDrop(bool);
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if self.0 {
            panic!("attempt future drop panics");
        }
    }
}

/// Ready at once with a failure; its drop panics if its `PanicOnDrop` says so.
struct Ready(Option<u32>, #[allow(dead_code)] PanicOnDrop);
impl std::future::Future for Ready {
    type Output = Result<u32, RunError<&'static str>>;
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let _ = self.0.take();
        std::task::Poll::Ready(Err(RunError::Failure("x")))
    }
}

#[test]
fn a_panicking_drop_of_an_ended_attempts_future() {
    let clock = VirtualClock::new();
    let cmd = command(&clock, retrying());
    let exec = Executor::default();
    let (c, k) = (cmd.clone(), clock.clone());
    let out = exec.spawn(async move { c.run_async(&k, move |a| Ready(Some(a.0), PanicOnDrop(a.0 == 2))).await });
    assert_eq!(cmd.snapshot_at(clock.now_ms()).rolling.get(EventType::Failure), 1);
    let r = catch_unwind(AssertUnwindSafe(|| clock.advance_with(100, || exec.settle())));
    assert!(r.is_err(), "attempt 2's drop panics through the driver");
    assert!(out.borrow().is_none());
    assert_eq!(cmd.snapshot_at(clock.now_ms()).concurrent, 0, "permits back after the panic");
}
