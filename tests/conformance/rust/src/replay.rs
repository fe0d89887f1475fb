//! Replays one scenario through the core's call protocol ([`Call`]: inputs
//! in, actions out, timers included) with a [`TimerQueue`] as the virtual
//! timer wheel — the way every host drives the core.

use crate::scenario::{whole, Behaviour, CallStep, Expect, Op, Scenario};
use hystrix_core::{
    Action, AttemptId, Call, CallTimer, Command, Config, EventType, FnClock, Input, RunOutcome, Settlement, TimerId,
    TimerQueue,
};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Copy)]
enum Timer {
    /// A timer the call armed.
    Call(usize, CallTimer),
    RunDone(usize, AttemptId),
    FallbackDone(usize),
    /// §18.2: the caller's cancellation.
    Cancel(usize),
}

/// What a call settled with, as the scenario sees it.
struct Settled {
    result: &'static str,
    error: Option<&'static str>,
    events: Vec<EventType>,
    at: u64,
}

struct Pending {
    call: Call,
    step: CallStep,
    /// The call's own timers, armed in the queue.
    armed: Vec<(CallTimer, TimerId)>,
    /// Each invoked attempt's entry of the scenario's `run` array (§17: the
    /// k-th run invoked behaves as entry k).
    runs: Vec<(AttemptId, usize)>,
    /// Run timers by attempt, to drop when an attempt stops on an abort.
    run_timers: Vec<(AttemptId, TimerId)>,
    run_starts: Vec<u64>,
    settled: Option<Settled>,
    label: String,
}

impl Pending {
    /// The scenario entry the attempt's run behaves as.
    fn run_of(&self, attempt: AttemptId) -> &crate::scenario::Behaviour {
        let k = self.runs.iter().find(|(a, _)| *a == attempt).map_or(0, |(_, k)| *k);
        self.step.run_at(k)
    }
}

/// A `budget` value: a whole number of magnitude at most 2^53 − 1 (§17).
fn whole_signed(v: &Value) -> Option<i64> {
    const MAX: u64 = (1 << 53) - 1;
    if let Some(n) = v.as_i64() {
        return (n.unsigned_abs() <= MAX).then_some(n);
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() <= MAX as f64).then_some(f as i64)
}

struct Replay {
    now: Arc<AtomicU64>,
    cmd: Command,
    timers: TimerQueue<Timer>,
    calls: Vec<Pending>,
    failure: Option<String>,
}

/// Runs a scenario; `Err` holds the first difference found.
pub fn run(s: &Scenario) -> Result<(), String> {
    let config = Config::from_value(&s.config);
    if let Some(key) = &s.expect_config_error {
        return match config {
            Err(e) if e.key() == key => Ok(()),
            Err(e) => Err(format!("config error names {:?}, expected {key:?} ({e})", e.key())),
            Ok(_) => Err(format!("config was accepted, expected invalid_config naming {key:?}")),
        };
    }
    let config = config.map_err(|e| format!("config refused: {e}"))?;
    let now = Arc::new(AtomicU64::new(0));
    let clock_now = now.clone();
    let clock = Arc::new(FnClock(move || clock_now.load(Ordering::SeqCst)));
    let cmd = Command::with_clock(&s.name, config, clock).map_err(|e| e.to_string())?;
    let mut r = Replay { now, cmd, timers: TimerQueue::new(), calls: vec![], failure: None };
    for (i, op) in s.steps.iter().enumerate() {
        r.op(i, op)?;
        if let Some(f) = r.failure.take() {
            return Err(f);
        }
    }
    for c in &r.calls {
        if c.step.expect.is_some() && c.settled.is_none() {
            return Err(format!("{} never settled", c.label));
        }
    }
    Ok(())
}

fn outcome_of(b: &Behaviour) -> RunOutcome {
    match b.outcome.as_str() {
        "success" => RunOutcome::Success,
        "failure" => RunOutcome::Failure,
        _ => RunOutcome::BadRequest,
    }
}

impl Replay {
    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn op(&mut self, i: usize, op: &Op) -> Result<(), String> {
        match op {
            Op::Call(step) => {
                for k in 0..step.repeat {
                    self.call(format!("step {i} call {}", k + 1), step)?;
                    // §17: the timers due now fire once the call's reaction
                    // has settled, before the next call.
                    self.fire_due(self.now())?;
                }
            }
            Op::Advance(ms) => {
                let target = self.now().saturating_add(*ms);
                self.fire_due(target)?;
                self.now.store(target, Ordering::SeqCst);
            }
            Op::Check(want) => self.check(i, want)?,
            Op::Configure(patch) => {
                self.cmd.configure_json(patch).map_err(|e| format!("step {i}: configure refused: {e}"))?;
            }
        }
        Ok(())
    }

    fn fire_due(&mut self, target: u64) -> Result<(), String> {
        while let Some((due, timer)) = self.timers.pop_due(target) {
            self.now.store(due, Ordering::SeqCst);
            self.fire(timer)?;
        }
        Ok(())
    }

    fn call(&mut self, label: String, step: &CallStep) -> Result<(), String> {
        let id = self.calls.len();
        let now = self.now();
        // §18.2: the cancel timer is armed before anything the call arms.
        if let Some(d) = step.cancel_after_ms {
            self.timers.arm(now.saturating_add(d), Timer::Cancel(id));
        }
        let call = Call::start(&self.cmd, now, step.fallback.is_some());
        self.calls.push(Pending {
            call,
            step: step.clone(),
            armed: vec![],
            runs: vec![],
            run_timers: vec![],
            run_starts: vec![],
            settled: None,
            label,
        });
        self.drain(id)
    }

    fn input(&mut self, id: usize, input: Input) -> Result<(), String> {
        let now = self.now();
        self.calls[id].call.handle(now, input);
        self.drain(id)
    }

    /// Carries out every action the call asks for, in order.
    fn drain(&mut self, id: usize) -> Result<(), String> {
        while let Some(action) = self.calls[id].call.poll_action() {
            let now = self.now();
            match action {
                Action::SetTimer { timer, at } => {
                    let t = self.timers.arm(at, Timer::Call(id, timer));
                    self.calls[id].armed.push((timer, t));
                }
                Action::ClearTimer { timer } => {
                    let c = &mut self.calls[id];
                    if let Some(at) = c.armed.iter().position(|(k, _)| *k == timer) {
                        let (_, t) = c.armed.swap_remove(at);
                        self.timers.cancel(t);
                    }
                }
                Action::InvokeAttempt { attempt } => {
                    let c = &mut self.calls[id];
                    c.runs.push((attempt, c.run_starts.len()));
                    let run = c.step.run_at(c.run_starts.len()).clone();
                    c.run_starts.push(now);
                    if run.after_ms == 0 {
                        c.call.handle(now, Input::AttemptEnded { attempt, outcome: outcome_of(&run) });
                    } else {
                        let t = self.timers.arm(now.saturating_add(run.after_ms), Timer::RunDone(id, attempt));
                        self.calls[id].run_timers.push((attempt, t));
                    }
                }
                Action::AbortAttempt { attempt, .. } => {
                    let c = &mut self.calls[id];
                    // Unless it ignores cancellation the run stops now.
                    if !c.run_of(attempt).ignores_cancel {
                        if let Some(at) = c.run_timers.iter().position(|(a, _)| *a == attempt) {
                            let (_, t) = c.run_timers.swap_remove(at);
                            self.timers.cancel(t);
                        }
                        self.calls[id].call.handle(now, Input::AttemptStopped { attempt });
                    }
                }
                Action::InvokeFallback { .. } => {
                    let fb = self.calls[id].step.fallback.clone().ok_or("a fallback invoked without one")?;
                    if fb.after_ms == 0 {
                        self.calls[id].call.handle(now, Input::FallbackEnded { ok: fb.outcome == "success" });
                    } else {
                        self.timers.arm(now.saturating_add(fb.after_ms), Timer::FallbackDone(id));
                    }
                }
                Action::Settle(s) => self.settle(id, s),
            }
        }
        Ok(())
    }

    fn fire(&mut self, timer: Timer) -> Result<(), String> {
        match timer {
            Timer::Call(id, timer) => {
                self.calls[id].armed.retain(|(k, _)| *k != timer);
                self.input(id, Input::TimerFired { timer })
            }
            Timer::RunDone(id, attempt) => {
                let c = &mut self.calls[id];
                c.run_timers.retain(|(a, _)| *a != attempt);
                let outcome = outcome_of(c.run_of(attempt));
                self.input(id, Input::AttemptEnded { attempt, outcome })
            }
            Timer::FallbackDone(id) => {
                let ok = self.calls[id].step.fallback.as_ref().is_some_and(|f| f.outcome == "success");
                self.input(id, Input::FallbackEnded { ok })
            }
            Timer::Cancel(id) => self.input(id, Input::Cancel),
        }
    }

    fn settle(&mut self, id: usize, s: Settlement) {
        let now = self.now();
        let c = &mut self.calls[id];
        let (result, error) = match s {
            Settlement::Attempt(_) => ("run", None),
            Settlement::Fallback => ("fallback", None),
            Settlement::Error { kind, .. } => ("error", Some(kind.as_str())),
        };
        let settled = Settled { result, error, events: c.call.events().collect(), at: now };
        let diff = c.step.expect.as_ref().and_then(|want| differs(want, &settled, &c.run_starts));
        c.settled = Some(settled);
        if let (Some(d), None) = (diff, &self.failure) {
            self.failure = Some(format!("{}: {d}", c.label));
        }
    }

    fn check(&mut self, i: usize, want: &Value) -> Result<(), String> {
        let snap = self.cmd.snapshot_at(self.now());
        let fail = |what: &str, got: &dyn std::fmt::Display, exp: &Value| {
            Err(format!("step {i} check at t={}: {what} is {got}, expected {exp}", self.now()))
        };
        // A field given as null is not checked (as if absent).
        let want_field = |k: &str| want.get(k).filter(|v| !v.is_null());
        if let Some(state) = want_field("state") {
            if state.as_str() != Some(snap.state.as_str()) {
                return fail("state", &snap.state, state);
            }
        }
        let object = |k: &str| match want_field(k) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(format!("step {i}: check.{k} must be an object")),
        };
        if let Some(health) = object("health")? {
            for (k, exp) in health.iter().filter(|(_, v)| !v.is_null()) {
                let got = match k.as_str() {
                    "total" => snap.health.total,
                    "errors" => snap.health.errors,
                    "error_percentage" => snap.health.error_percentage,
                    other => return Err(format!("step {i}: unknown health field {other:?}")),
                };
                if whole(exp) != Some(got) {
                    return fail(&format!("health.{k}"), &got, exp);
                }
            }
        }
        if let Some(rolling) = object("rolling")? {
            for (k, exp) in rolling.iter().filter(|(_, v)| !v.is_null()) {
                let event = EventType::parse(k).ok_or(format!("step {i}: unknown event type {k:?}"))?;
                let got = snap.rolling.get(event);
                if whole(exp) != Some(got) {
                    return fail(&format!("rolling.{k}"), &got, exp);
                }
            }
        }
        for (k, got) in [
            ("concurrent", u64::from(snap.concurrent)),
            ("fallback_concurrent", u64::from(snap.fallback_concurrent)),
            ("limit", snap.limit),
        ] {
            if let Some(exp) = want_field(k) {
                if whole(exp) != Some(got) {
                    return fail(k, &got, exp);
                }
            }
        }
        if let Some(exp) = want_field("budget") {
            if whole_signed(exp) != Some(snap.budget) {
                return fail("budget", &snap.budget, exp);
            }
        }
        Ok(())
    }
}

/// The first way a settled call differs from what was expected.
fn differs(want: &Expect, got: &Settled, run_starts: &[u64]) -> Option<String> {
    let events: Vec<&str> = got.events.iter().map(|e| e.as_str()).collect();
    let attempts = got.events.iter().filter(|e| e.is_execution()).count() as u64;
    if want.result.as_deref().is_some_and(|r| r != got.result) {
        Some(format!("result {:?}, expected {:?}", got.result, want.result.as_deref().unwrap_or_default()))
    } else if want.error.is_some() && want.error.as_deref() != got.error {
        Some(format!("error {:?}, expected {:?}", got.error, want.error.as_deref().unwrap_or_default()))
    } else if want.events.as_ref().is_some_and(|e| e.iter().map(String::as_str).ne(events.iter().copied())) {
        Some(format!("events {events:?}, expected {:?}", want.events.as_ref().unwrap()))
    } else if want.attempts.is_some_and(|n| n != attempts) {
        Some(format!("attempts {attempts}, expected {}", want.attempts.unwrap_or_default()))
    } else if want.settled_at.is_some_and(|t| t != got.at) {
        Some(format!("settled at {}, expected {}", got.at, want.settled_at.unwrap_or_default()))
    } else if want.run_starts.as_ref().is_some_and(|s| s != run_starts) {
        Some(format!("runs started at {run_starts:?}, expected {:?}", want.run_starts.as_ref().unwrap()))
    } else {
        None
    }
}
