//! Protocol tests of [`Call`]: the actions each input gives, in order.

use super::*;
use crate::clock::FnClock;
use crate::command::Command;
use crate::config::Config;
use crate::event::EventType;
use std::sync::Arc;

fn command(config: Config) -> Command {
    Command::with_clock("call", config, Arc::new(FnClock(|| 0))).unwrap()
}

fn drain(call: &mut Call) -> Vec<Action> {
    std::iter::from_fn(|| call.poll_action()).collect()
}

const FIRST: AttemptId = AttemptId(1);
const RUN: Action = Action::InvokeAttempt { attempt: FIRST };
const T1: CallTimer = CallTimer(1);

fn set(at: u64) -> Action {
    Action::SetTimer { timer: T1, at }
}

const CLEAR: Action = Action::ClearTimer { timer: T1 };

#[test]
fn a_success_in_time_settles_with_the_attempts_value() {
    let cmd = command(Config { timeout_ms: 100, ..Config::default() });
    let mut call = Call::start(&cmd, 0, true);
    assert_eq!(drain(&mut call), vec![set(100), RUN]);
    call.handle(99, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
    assert_eq!(drain(&mut call), vec![CLEAR, Action::Settle(Settlement::Attempt(FIRST))]);
    assert!(call.is_finished());
    assert_eq!(cmd.snapshot_at(99).concurrent, 0);
}

/// A host whose timer fires late (a blocked event loop) reports a run
/// that ended after its deadline: that is a TIMEOUT, as on the sync
/// path, never a success (issue: late timers turned timeouts into
/// successes on the async paths).
#[test]
fn a_run_that_ends_after_its_deadline_times_out_even_when_the_timer_is_late() {
    let cmd = command(Config { timeout_ms: 100, ..Config::default() });
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(5_000, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
    assert_eq!(drain(&mut call), vec![CLEAR, Action::InvokeFallback { original: Original::Kind(ErrorKind::Timeout) }]);
    assert_eq!(cmd.snapshot_at(5_000).concurrent, 0, "the run has ended: its permit is back");
    // The late timer then fires: nothing more happens.
    call.handle(5_001, Input::TimerFired { timer: T1 });
    assert_eq!(drain(&mut call), vec![]);
    call.handle(5_002, Input::FallbackEnded { ok: true });
    assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Fallback)]);
    assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Timeout, EventType::FallbackSuccess]);
    // Exactly at the deadline is late too (the timer is armed first).
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    call.handle(100, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    assert_eq!(
        drain(&mut call),
        vec![
            CLEAR,
            Action::Settle(Settlement::Error {
                kind: ErrorKind::Timeout,
                original: Some(Original::Kind(ErrorKind::Timeout))
            })
        ]
    );
}

#[test]
fn a_timeout_aborts_the_attempt_which_keeps_its_permit_until_it_stops() {
    let cmd = command(Config { timeout_ms: 10, ..Config::default() });
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    call.handle(9, Input::TimerFired { timer: T1 }); // early: armed again
    assert_eq!(drain(&mut call), vec![set(10)]);
    call.handle(10, Input::TimerFired { timer: T1 });
    assert_eq!(
        drain(&mut call),
        vec![
            Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Timeout },
            Action::Settle(Settlement::Error {
                kind: ErrorKind::Timeout,
                original: Some(Original::Kind(ErrorKind::Timeout))
            }),
        ]
    );
    assert_eq!(cmd.snapshot_at(10).concurrent, 1);
    assert!(!call.is_finished());
    call.handle(30, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
    assert_eq!(drain(&mut call), vec![], "a late value is discarded");
    assert_eq!(cmd.snapshot_at(30).concurrent, 0);
    assert_eq!(cmd.snapshot_at(30).cumulative.get(EventType::Success), 0);
    assert!(call.is_finished());
}

#[test]
fn a_failure_hands_the_fallback_the_runs_own_error() {
    let cmd = command(Config::default());
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(1, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    assert_eq!(drain(&mut call), vec![CLEAR, Action::InvokeFallback { original: Original::Attempt(FIRST) }]);
    call.handle(2, Input::FallbackEnded { ok: false });
    assert_eq!(
        drain(&mut call),
        vec![Action::Settle(Settlement::Error {
            kind: ErrorKind::FallbackFailure,
            original: Some(Original::Attempt(FIRST))
        })]
    );
}

/// Semantics §18.1 with a run that ignores the abort: CANCELLED now, the
/// caller settled now, the permit held until the run finishes, whose
/// value is discarded; nothing in health, no fallback.
#[test]
fn a_cancelled_call_settles_at_once_and_keeps_its_permit_until_the_run_stops() {
    let cmd = command(Config { max_concurrent_requests: 1, health_snapshot_interval_ms: 0, ..Config::default() });
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(5, Input::Cancel);
    assert_eq!(
        drain(&mut call),
        vec![
            CLEAR,
            Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Cancelled },
            Action::Settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None }),
        ]
    );
    call.handle(6, Input::Cancel);
    assert_eq!(drain(&mut call), vec![], "cancelling twice does nothing");
    let snap = cmd.snapshot_at(6);
    assert_eq!((snap.concurrent, snap.health.total, snap.rolling.get(EventType::Cancelled)), (1, 0, 1));
    call.handle(50, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
    assert_eq!(drain(&mut call), vec![]);
    let snap = cmd.snapshot_at(50);
    assert_eq!((snap.concurrent, snap.rolling.get(EventType::Success)), (0, 0));
    assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Cancelled]);
    assert!(call.is_finished());
}

/// A cancelled probe frees its slot without deciding (semantics §18.1).
#[test]
fn a_cancelled_probe_frees_its_slot() {
    let cmd = command(Config { request_volume_threshold: 1, sleep_window_ms: 10, ..Config::default() });
    cmd.execute(|| Err::<(), _>(crate::RunError::Failure(()))).unwrap_err();
    let mut probe = Call::start(&cmd, 10, false);
    assert_eq!(drain(&mut probe), vec![set(1010), RUN]);
    probe.handle(11, Input::Cancel);
    let _ = drain(&mut probe);
    probe.handle(11, Input::AttemptStopped { attempt: FIRST });
    assert!(probe.is_finished());
    let mut next = Call::start(&cmd, 12, false);
    assert_eq!(drain(&mut next), vec![set(1012), RUN], "the freed slot admits the next probe");
}

#[test]
fn a_call_cancelled_during_its_fallback_settles_and_the_fallback_is_recorded_when_it_ends() {
    let cmd = command(Config::default());
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(1, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    let _ = drain(&mut call);
    call.handle(2, Input::Cancel);
    assert_eq!(
        drain(&mut call),
        vec![Action::Settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None })]
    );
    assert_eq!(cmd.snapshot_at(2).fallback_concurrent, 1);
    call.handle(9, Input::FallbackEnded { ok: true });
    assert_eq!(drain(&mut call), vec![], "settled once");
    let snap = cmd.snapshot_at(9);
    assert_eq!((snap.fallback_concurrent, snap.rolling.get(EventType::FallbackSuccess)), (0, 1));
}

/// A cancel that arrives after the deadline, before the late timer:
/// the timeout came first (only at the same instant does the cancel
/// win), so TIMEOUT is recorded and the fallback runs; the caller is
/// still settled with `cancelled` at once.
#[test]
fn a_cancel_after_a_passed_deadline_meets_the_timeout_first() {
    let cmd = command(Config { timeout_ms: 100, ..Config::default() });
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(5_000, Input::Cancel);
    assert_eq!(
        drain(&mut call),
        vec![
            CLEAR,
            Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Timeout },
            Action::InvokeFallback { original: Original::Kind(ErrorKind::Timeout) },
            Action::Settle(Settlement::Error { kind: ErrorKind::Cancelled, original: None }),
        ]
    );
    assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Timeout]);
    // A fallback that ends within the timeout's reaction settles the
    // call first: the cancel then finds it settled (found by fuzzing).
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(5_000, Input::Cancel);
    let mut settled = vec![];
    while let Some(action) = call.poll_action() {
        match action {
            Action::InvokeFallback { .. } => call.handle(5_000, Input::FallbackEnded { ok: false }),
            Action::Settle(s) => settled.push(s),
            _ => {}
        }
    }
    assert_eq!(
        settled,
        vec![Settlement::Error {
            kind: ErrorKind::FallbackFailure,
            original: Some(Original::Kind(ErrorKind::Timeout))
        }]
    );
    // At the deadline itself the cancel wins (semantics §18.2).
    let mut call = Call::start(&cmd, 0, true);
    let _ = drain(&mut call);
    call.handle(100, Input::Cancel);
    assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Cancelled]);
}

#[test]
fn dropping_an_unfinished_call_gives_every_permit_back() {
    let cmd = command(Config { max_concurrent_requests: 1, ..Config::default() });
    let mut running = Call::start(&cmd, 0, false);
    let _ = drain(&mut running);
    assert_eq!(cmd.snapshot_at(0).concurrent, 1);
    drop(running);
    assert_eq!(cmd.snapshot_at(0).concurrent, 0);
    let mut in_fallback = Call::start(&cmd, 0, true);
    let _ = drain(&mut in_fallback);
    in_fallback.handle(1, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    let _ = drain(&mut in_fallback);
    drop(in_fallback);
    let snap = cmd.snapshot_at(1);
    assert_eq!((snap.concurrent, snap.fallback_concurrent), (0, 0));
}

#[test]
fn inputs_for_an_attempt_that_is_not_out_change_nothing() {
    let cmd = command(Config::default());
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    call.handle(1, Input::AttemptEnded { attempt: AttemptId(2), outcome: RunOutcome::Success });
    call.handle(1, Input::AttemptStopped { attempt: FIRST }); // not aborted: ignored
    assert_eq!(drain(&mut call), vec![]);
    assert_eq!(cmd.snapshot_at(1).concurrent, 1);
    call.handle(2, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
    call.handle(3, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    assert_eq!(drain(&mut call), vec![CLEAR, Action::Settle(Settlement::Attempt(FIRST))]);
    assert_eq!(cmd.snapshot_at(3).cumulative.total(), 1);
}

/// `attempt_outcome` tells a host what became of an attempt — the winner,
/// a loser cancelled by the winner's `SUCCESS`, one that timed out — for as
/// long as the call knows it, whatever actions are still to be drained.
#[test]
fn attempt_outcome_reports_each_attempts_recorded_outcome() {
    let second = AttemptId(2);
    let cmd = command(Config { hedge_max_attempts: 2, hedge_delay_ms: 10, ..Config::default() });
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    assert_eq!(call.attempt_outcome(FIRST), None, "outstanding: no outcome yet");
    call.handle(10, Input::TimerFired { timer: T1 }); // the hedge
    let _ = drain(&mut call);
    assert_eq!(cmd.snapshot_at(10).concurrent, 2);
    call.handle(12, Input::AttemptEnded { attempt: second, outcome: RunOutcome::Success });
    // Asked before the actions are carried out: already decided.
    assert_eq!(call.attempt_outcome(second), Some(EventType::Success));
    assert_eq!(call.attempt_outcome(FIRST), Some(EventType::Cancelled));
    assert_eq!(call.attempt_outcome(AttemptId(3)), None, "never started");
    let untimed: Vec<_> = drain(&mut call)
        .into_iter()
        .filter(|a| !matches!(a, Action::SetTimer { .. } | Action::ClearTimer { .. }))
        .collect();
    assert_eq!(
        untimed,
        vec![
            Action::AbortAttempt { attempt: FIRST, reason: ErrorKind::Cancelled },
            Action::Settle(Settlement::Attempt(second)),
        ]
    );
    call.handle(13, Input::AttemptStopped { attempt: FIRST });
    assert_eq!(call.attempt_outcome(FIRST), Some(EventType::Cancelled), "asking changes nothing");
    assert!(call.is_finished());

    let cmd = command(Config { timeout_ms: 10, ..Config::default() });
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    call.handle(10, Input::TimerFired { timer: T1 });
    assert_eq!(call.attempt_outcome(FIRST), Some(EventType::Timeout));
    let _ = drain(&mut call);
    call.handle(20, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Success });
    assert_eq!(call.attempt_outcome(FIRST), Some(EventType::Timeout), "a late value changes nothing");
    assert!(call.is_finished());
}

/// `start_single`: retry and hedging count as one attempt; the deadline
/// and the rate limiter still apply.
#[test]
fn a_single_attempt_call_keeps_the_deadline_and_rate_limiter_but_never_retries() {
    let config = Config {
        timeout_ms: 100,
        deadline_ms: 60,
        retry_max_attempts: 3,
        rate_limit_for_period: 1,
        ..Config::default()
    };
    let cmd = command(config);
    let mut call = Call::start_single(&cmd, 0, true);
    assert_eq!(drain(&mut call), vec![set(60), RUN], "the deadline caps the timeout");
    call.handle(10, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    assert_eq!(drain(&mut call), vec![CLEAR, Action::InvokeFallback { original: Original::Attempt(FIRST) }]);
    call.handle(10, Input::FallbackEnded { ok: true });
    assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Fallback)]);
    assert_eq!(call.events().collect::<Vec<_>>(), vec![EventType::Failure, EventType::FallbackSuccess]);
    // The limiter's one turn per period is gone.
    let mut call = Call::start_single(&cmd, 10, false);
    let original = Some(Original::Kind(ErrorKind::RateLimited));
    assert_eq!(drain(&mut call), vec![Action::Settle(Settlement::Error { kind: ErrorKind::RateLimited, original })]);
    // The same command with `start` retries.
    let config = Config {
        rate_limit_for_period: 0,
        retry_base_delay_ms: 10,
        retry_jitter: crate::config::Jitter::None,
        ..config
    };
    let cmd = command(config);
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    call.handle(10, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    assert!(call.events().any(|e| e == EventType::Retry));
}

/// Retry and hedge 3 keep no ended attempt once another starts (a call
/// holds at most what is outstanding and the one before).
#[test]
fn an_attempt_that_ended_is_forgotten_when_the_next_one_starts() {
    // Retry: the previous attempt is forgotten when the next starts.
    let cmd = command(Config { retry_max_attempts: 4, retry_base_delay_ms: 10, ..Config::default() });
    let mut call = Call::start(&cmd, 0, false);
    let mut now = 0;
    for k in 1..=3u32 {
        let _ = drain(&mut call);
        call.handle(now, Input::AttemptEnded { attempt: AttemptId(k), outcome: RunOutcome::Failure });
        assert_eq!(call.attempt_outcome(AttemptId(k)), Some(EventType::Failure));
        let acts = drain(&mut call);
        let Some(Action::SetTimer { timer, at }) =
            acts.iter().rev().find(|a| matches!(a, Action::SetTimer { .. })).copied()
        else {
            panic!("{acts:?}")
        };
        now = at;
        call.handle(now, Input::TimerFired { timer });
        assert_eq!(call.attempt_outcome(AttemptId(k)), None, "retry {k}: previous attempt forgotten");
    }
    // Hedge 3: attempt 1 failed while 2 is outstanding; hedge 3 forgets 1, keeps 2.
    let cmd =
        command(Config { hedge_max_attempts: 3, hedge_delay_ms: 10, hedge_on_failure: false, ..Config::default() });
    let mut call = Call::start(&cmd, 0, false);
    let _ = drain(&mut call);
    call.handle(10, Input::TimerFired { timer: T1 });
    let acts = drain(&mut call);
    let Some(Action::SetTimer { timer: h2, at }) = acts.iter().find(|a| matches!(a, Action::SetTimer { .. })).copied()
    else {
        panic!("{acts:?}")
    };
    call.handle(15, Input::AttemptEnded { attempt: FIRST, outcome: RunOutcome::Failure });
    let _ = drain(&mut call);
    assert_eq!(call.attempt_outcome(FIRST), Some(EventType::Failure));
    call.handle(at, Input::TimerFired { timer: h2 });
    let _ = drain(&mut call);
    assert_eq!(call.attempt_outcome(FIRST), None, "hedge 3 forgets the ended attempt 1");
    call.handle(21, Input::AttemptEnded { attempt: AttemptId(3), outcome: RunOutcome::Success });
    assert_eq!(call.attempt_outcome(AttemptId(2)), Some(EventType::Cancelled), "attempt 2 kept and cancelled");
}

/// More actions in one reaction than the queue holds inline: aborts in
/// attempt order, every timer cleared, then the settlement.
#[test]
fn nine_hedges_overflow_the_inline_queue_in_order_and_give_every_permit_back() {
    let n = 9u32;
    let cmd = command(Config {
        hedge_max_attempts: n as u64,
        hedge_delay_ms: 1,
        timeout_ms: 1000,
        max_concurrent_requests: 100,
        ..Config::default()
    });
    let mut call = Call::start(&cmd, 0, false);
    let mut all = drain(&mut call);
    for t in 1..n as u64 {
        let hedge = all
            .iter()
            .rev()
            .find_map(|a| match a {
                Action::SetTimer { timer, at } if *at == t => Some(*timer),
                _ => None,
            })
            .unwrap();
        call.handle(t, Input::TimerFired { timer: hedge });
        all = drain(&mut call);
    }
    call.handle(50, Input::AttemptEnded { attempt: AttemptId(n), outcome: RunOutcome::Success });
    let acts = drain(&mut call);
    let aborts: Vec<_> = acts
        .iter()
        .filter_map(|a| match a {
            Action::AbortAttempt { attempt, .. } => Some(attempt.0),
            _ => None,
        })
        .collect();
    assert_eq!(aborts, (1..n).collect::<Vec<_>>(), "{acts:?}");
    assert_eq!(acts.iter().filter(|a| matches!(a, Action::ClearTimer { .. })).count(), n as usize, "{acts:?}");
    assert_eq!(acts.last(), Some(&Action::Settle(Settlement::Attempt(AttemptId(n)))));
    for k in 1..n {
        call.handle(60, Input::AttemptStopped { attempt: AttemptId(k) });
    }
    assert!(call.is_finished());
    assert_eq!(cmd.snapshot_at(60).concurrent, 0);
}

/// Every action of a call to its settlement, each attempt's run ending at
/// once with `outcome`, and each timer firing at its due time (`now` 0).
fn actions_to_settlement(call: &mut Call, outcome: impl Fn(AttemptId) -> RunOutcome) -> Vec<Action> {
    let mut all = Vec::new();
    let mut i = 0;
    while !call.is_settled() {
        all.extend(drain(call));
        let Some(next) = all[i..].iter().copied().find(|a| matches!(a, Action::InvokeAttempt { .. })) else {
            let due = all.iter().rev().find_map(|a| match a {
                Action::SetTimer { timer, .. } => Some(*timer),
                _ => None,
            });
            call.handle(0, Input::TimerFired { timer: due.expect("a waiting call has a timer") });
            i = all.len();
            continue;
        };
        i = all.len();
        if let Action::InvokeAttempt { attempt } = next {
            call.handle(0, Input::AttemptEnded { attempt, outcome: outcome(attempt) });
        }
    }
    all.extend(drain(call));
    all
}

#[test]
fn a_call_made_in_a_slot_does_what_a_returned_one_does() {
    let config = Config { retry_max_attempts: 3, retry_base_delay_ms: 0, retry_max_delay_ms: 0, ..Config::default() };
    let flaky = |a: AttemptId| if a.0 < 3 { RunOutcome::Failure } else { RunOutcome::Success };
    let (returned, in_place) = (command(config), command(config));
    let mut call = Call::start(&returned, 0, false);
    let expected = actions_to_settlement(&mut call, flaky);
    let mut slot = None;
    let actions = actions_to_settlement(Call::start_in(&mut slot, &in_place, 0, false), flaky);
    assert_eq!(actions, expected);
    assert_eq!(actions.last(), Some(&Action::Settle(Settlement::Attempt(AttemptId(3)))));
    let events = |c: &Call| c.events().collect::<Vec<_>>();
    assert_eq!(events(slot.as_ref().unwrap()), events(&call));
    assert_eq!(in_place.snapshot_at(0).rolling, returned.snapshot_at(0).rolling);
}

/// The slot's old call is dropped (its permit back) before the new one is
/// admitted: with one permit, a call still running in the slot does not
/// make its successor `SEMAPHORE_REJECTED`.
#[test]
fn a_slot_gives_its_old_calls_permit_back_before_the_new_call_is_admitted() {
    let cmd = command(Config { max_concurrent_requests: 1, timeout_ms: 100, ..Config::default() });
    let mut slot = None;
    assert_eq!(drain(Call::start_in(&mut slot, &cmd, 0, false)), vec![set(100), RUN]);
    assert_eq!(cmd.snapshot_at(0).concurrent, 1, "the first call's run holds the permit");
    assert_eq!(drain(Call::start_in(&mut slot, &cmd, 0, false)), vec![set(100), RUN]);
    assert_eq!(cmd.snapshot_at(0).concurrent, 1);
    assert_eq!(cmd.snapshot_at(0).rolling.get(EventType::SemaphoreRejected), 0);
}
