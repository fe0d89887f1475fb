//! Replays one scenario through the sans-IO [`Execution`] API with a
//! [`TimerQueue`] as the virtual timer wheel — the same way the C ABI and
//! the JS glue drive the core.

use crate::scenario::{whole, Behaviour, Expect, Op, Scenario};
use hystrix_core::{
    Command, Config, ErrorKind, EventType, Execution, FnClock, Resolution, RunOutcome, Step, TimerId, TimerQueue,
};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Copy)]
enum Timer {
    Timeout(usize),
    RunDone(usize),
    FallbackDone(usize),
}

struct Call {
    ex: Execution,
    run: Behaviour,
    fallback: Option<Behaviour>,
    expect: Option<Expect>,
    run_timer: Option<TimerId>,
    settled: Option<Resolution>,
    label: String,
}

struct Replay {
    now: Arc<AtomicU64>,
    cmd: Command,
    timers: TimerQueue<Timer>,
    calls: Vec<Call>,
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
        if c.expect.is_some() && c.settled.is_none() {
            return Err(format!("{} never settled", c.label));
        }
    }
    Ok(())
}

fn outcome_of(b: &Behaviour) -> Result<RunOutcome, String> {
    match b.outcome.as_str() {
        "success" => Ok(RunOutcome::Success),
        "failure" => Ok(RunOutcome::Failure),
        "bad_request" => Ok(RunOutcome::BadRequest),
        other => Err(format!("unknown outcome {other:?}")),
    }
}

impl Replay {
    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn op(&mut self, i: usize, op: &Op) -> Result<(), String> {
        match op {
            Op::Call { run, fallback, repeat, expect } => {
                outcome_of(run)?;
                for k in 0..*repeat {
                    self.call(format!("step {i} call {}", k + 1), run, fallback, expect)?;
                }
            }
            Op::Advance(ms) => {
                let target = self.now().saturating_add(*ms);
                while let Some((due, timer)) = self.timers.pop_due(target) {
                    self.now.store(due, Ordering::SeqCst);
                    self.fire(timer)?;
                }
                self.now.store(target, Ordering::SeqCst);
            }
            Op::Check(want) => self.check(i, want)?,
            Op::Configure(patch) => {
                self.cmd.configure_json(patch).map_err(|e| format!("step {i}: configure refused: {e}"))?;
            }
        }
        Ok(())
    }

    fn call(
        &mut self,
        label: String,
        run: &Behaviour,
        fallback: &Option<Behaviour>,
        expect: &Option<Expect>,
    ) -> Result<(), String> {
        let (ex, step) = Execution::start(&self.cmd, self.now(), fallback.is_some());
        self.calls.push(Call {
            ex,
            run: run.clone(),
            fallback: fallback.clone(),
            expect: expect.clone(),
            run_timer: None,
            settled: None,
            label,
        });
        self.react(self.calls.len() - 1, step)
    }

    /// Does what a step asks: start the run (after arming its timeout) or
    /// the fallback, or settle the call.
    fn react(&mut self, id: usize, step: Step) -> Result<(), String> {
        let now = self.now();
        match step {
            Step::Run { deadline } => {
                if let Some(d) = deadline {
                    self.timers.arm(d, Timer::Timeout(id));
                }
                let run = self.calls[id].run.clone();
                if run.after_ms == 0 {
                    let step = self.calls[id].ex.run_finished(&self.cmd, now, outcome_of(&run)?);
                    return self.react(id, step);
                }
                self.calls[id].run_timer = Some(self.timers.arm(now.saturating_add(run.after_ms), Timer::RunDone(id)));
            }
            Step::Fallback { .. } => {
                let fb = self.calls[id].fallback.clone().ok_or("fallback step without a fallback")?;
                if fb.after_ms == 0 {
                    let step = self.calls[id].ex.fallback_finished(&self.cmd, now, fb.outcome == "success");
                    return self.react(id, step);
                }
                self.timers.arm(now.saturating_add(fb.after_ms), Timer::FallbackDone(id));
            }
            Step::Done(resolution) => self.settle(id, resolution),
            Step::Nothing => {}
        }
        Ok(())
    }

    fn fire(&mut self, timer: Timer) -> Result<(), String> {
        let now = self.now();
        match timer {
            Timer::Timeout(id) => {
                let step = self.calls[id].ex.timer_fired(&self.cmd, now);
                if step == Step::Nothing {
                    return Ok(());
                }
                // Cancel the run: unless it ignores cancellation it stops now.
                if !self.calls[id].run.ignores_cancel {
                    if let Some(t) = self.calls[id].run_timer.take() {
                        self.timers.cancel(t);
                    }
                    self.calls[id].ex.run_stopped(&self.cmd);
                }
                self.react(id, step)
            }
            Timer::RunDone(id) => {
                let outcome = outcome_of(&self.calls[id].run)?;
                let step = self.calls[id].ex.run_finished(&self.cmd, now, outcome);
                self.react(id, step)
            }
            Timer::FallbackDone(id) => {
                let ok = self.calls[id].fallback.as_ref().is_some_and(|f| f.outcome == "success");
                let step = self.calls[id].ex.fallback_finished(&self.cmd, now, ok);
                self.react(id, step)
            }
        }
    }

    fn settle(&mut self, id: usize, resolution: Resolution) {
        let call = &mut self.calls[id];
        call.settled = Some(resolution);
        let Some(want) = &call.expect else { return };
        let (result, error) = match resolution {
            Resolution::Run => ("run", None),
            Resolution::Fallback => ("fallback", None),
            Resolution::Error(kind) => ("error", Some(kind)),
        };
        let events: Vec<&str> = call.ex.events().map(EventType::as_str).collect();
        let diff = if want.result.as_deref().is_some_and(|r| r != result) {
            Some(format!("result {result:?}, expected {:?}", want.result.as_deref().unwrap_or_default()))
        } else if want.error.is_some() && want.error.as_deref() != error.map(ErrorKind::as_str) {
            Some(format!(
                "error {:?}, expected {:?}",
                error.map(ErrorKind::as_str),
                want.error.as_deref().unwrap_or_default()
            ))
        } else if want.events.as_ref().is_some_and(|e| e.iter().map(String::as_str).ne(events.iter().copied())) {
            Some(format!("events {events:?}, expected {:?}", want.events.as_ref().unwrap()))
        } else {
            None
        };
        if let (Some(d), None) = (diff, &self.failure) {
            self.failure = Some(format!("{}: {d}", call.label));
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
        for (k, got) in [("concurrent", snap.concurrent), ("fallback_concurrent", snap.fallback_concurrent)] {
            if let Some(exp) = want_field(k) {
                if whole(exp) != Some(u64::from(got)) {
                    return fail(k, &got, exp);
                }
            }
        }
        Ok(())
    }
}
