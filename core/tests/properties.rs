//! Property tests: random sequences of calls, clock advances, live
//! reconfigurations and snapshots against one command, driven through the
//! sans-IO [`Execution`] API with a [`TimerQueue`] as the virtual timer wheel
//! (the way `tests/conformance/rust/src/replay.rs` replays scenarios).
//!
//! After every operation the harness checks the invariants of SPEC §3–§6:
//! concurrency counts never lie, every call settles exactly once with events
//! consistent with its resolution, counts add up, the circuit only makes
//! legal transitions, and health figures are coherent. Where the SPEC pins
//! behaviour down exactly (event timing, bulkhead and fallback admission,
//! rolling counts, and — with `health_snapshot_interval_ms = 0` — health and
//! the trip rule) the harness also compares against its own model.

use hystrix_core::{
    CircuitState, Command, Config, ErrorKind, EventType, Execution, FnClock, Notice, Resolution, RunOutcome, Snapshot,
    Step, TimerId, TimerQueue, Topic,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------------------
// Generated input
// ---------------------------------------------------------------------------

/// How a call's run behaves.
#[derive(Clone, Copy, Debug)]
struct Run {
    outcome: RunOutcome,
    after_ms: u64,
    ignores_cancel: bool,
}

/// How a call's fallback behaves.
#[derive(Clone, Copy, Debug)]
struct Fallback {
    ok: bool,
    after_ms: u64,
}

/// One live configuration change.
#[derive(Clone, Copy, Debug)]
enum Patch {
    RequestVolumeThreshold(u64),
    ErrorThresholdPercentage(u64),
    MaxConcurrentRequests(u64),
    FallbackMaxConcurrentRequests(u64),
    ForceOpen(bool),
    ForceClosed(bool),
}

impl Patch {
    fn json(self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Patch::RequestVolumeThreshold(v) => json!({ "request_volume_threshold": v }),
            Patch::ErrorThresholdPercentage(v) => json!({ "error_threshold_percentage": v }),
            Patch::MaxConcurrentRequests(v) => json!({ "max_concurrent_requests": v }),
            Patch::FallbackMaxConcurrentRequests(v) => json!({ "fallback_max_concurrent_requests": v }),
            Patch::ForceOpen(b) => json!({ "force_open": b }),
            Patch::ForceClosed(b) => json!({ "force_closed": b }),
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Start a call at the current time.
    Call { run: Run, fallback: Option<Fallback> },
    /// Move the clock forward, firing due timers in order.
    Advance(u64),
    /// Change one key of the live configuration.
    Configure(Patch),
    /// Take a snapshot (and check it).
    Snapshot,
}

fn config_strategy() -> impl Strategy<Value = Config> {
    let sizes = (1u64..=4, 1u64..=3, 1u64..=50, prop::bool::weighted(0.8), 1u64..=3);
    let breaker = (0u64..=5, 0u64..=100, 1u64..=100, prop_oneof![1 => Just(0u64), 2 => 0u64..=30]);
    let window = (1u64..=5, 1u64..=20);
    let flags =
        (prop::bool::weighted(0.1), prop::bool::weighted(0.1), prop::bool::weighted(0.9), prop::bool::weighted(0.9));
    (sizes, breaker, window, flags).prop_map(
        |(
            (max_concurrent, fallback_max, timeout_ms, timeout_enabled, half_open),
            (volume, error_pct, sleep_ms, interval_ms),
            (buckets, bucket_ms),
            (force_open, force_closed, breaker_enabled, fallback_enabled),
        )| Config {
            timeout_enabled,
            timeout_ms,
            max_concurrent_requests: max_concurrent,
            fallback_enabled,
            fallback_max_concurrent_requests: fallback_max,
            circuit_breaker_enabled: breaker_enabled,
            request_volume_threshold: volume,
            error_threshold_percentage: error_pct,
            sleep_window_ms: sleep_ms,
            half_open_max_calls: half_open,
            force_open,
            force_closed,
            rolling_window_ms: buckets * bucket_ms,
            rolling_window_buckets: buckets,
            health_snapshot_interval_ms: interval_ms,
            // Every SPEC v2 key at its default: one attempt, no waits.
            ..Config::default()
        },
    )
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let outcome = prop_oneof![
        3 => Just(RunOutcome::Success),
        2 => Just(RunOutcome::Failure),
        1 => Just(RunOutcome::BadRequest),
    ];
    let run_after = prop_oneof![1 => Just(0u64), 3 => 0u64..=60];
    let run = (outcome, run_after, any::<bool>()).prop_map(|(outcome, after_ms, ignores_cancel)| Run {
        outcome,
        after_ms,
        ignores_cancel,
    });
    let fallback_after = prop_oneof![1 => Just(0u64), 2 => 0u64..=20];
    let fallback = prop::option::weighted(
        0.75,
        (prop::bool::weighted(0.7), fallback_after).prop_map(|(ok, after_ms)| Fallback { ok, after_ms }),
    );
    let call = (run, fallback).prop_map(|(run, fallback)| Op::Call { run, fallback });
    let patch = prop_oneof![
        3 => (0u64..=5).prop_map(Patch::RequestVolumeThreshold),
        3 => (0u64..=100).prop_map(Patch::ErrorThresholdPercentage),
        3 => (1u64..=4).prop_map(Patch::MaxConcurrentRequests),
        3 => (1u64..=3).prop_map(Patch::FallbackMaxConcurrentRequests),
        1 => any::<bool>().prop_map(Patch::ForceOpen),
        1 => any::<bool>().prop_map(Patch::ForceClosed),
    ];
    prop_oneof![
        6 => call,
        4 => (0u64..=80).prop_map(Op::Advance),
        1 => patch.prop_map(Op::Configure),
        1 => Just(Op::Snapshot),
    ]
}

// ---------------------------------------------------------------------------
// Model helpers
// ---------------------------------------------------------------------------

/// What the listeners saw, in the order the command reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Logged {
    Event(EventType, u64),
    Transition(CircuitState, CircuitState, u64),
}

#[derive(Clone, Copy, Debug)]
enum Timer {
    Timeout(usize),
    RunDone(usize),
    FallbackDone(usize),
}

fn legal(from: CircuitState, to: CircuitState) -> bool {
    use CircuitState::*;
    matches!((from, to), (Closed, Open) | (Open, HalfOpen) | (HalfOpen, Open) | (HalfOpen, Closed))
}

/// Whether the trip rule is evaluated at all with this configuration.
fn evaluates_trips(cfg: &Config) -> bool {
    cfg.circuit_breaker_enabled && !cfg.force_open && !cfg.force_closed
}

/// SPEC §5 trip rule on `(total, errors)`.
fn trips(total: u64, errors: u64, cfg: &Config) -> bool {
    total >= cfg.request_volume_threshold && percentage(total, errors) >= cfg.error_threshold_percentage
}

fn percentage(total: u64, errors: u64) -> u64 {
    (errors * 100).checked_div(total).unwrap_or(0)
}

/// Whether an event recorded at `at` is inside the rolling window at `now` (SPEC §4).
fn in_window(at: u64, now: u64, cfg: &Config) -> bool {
    let b = cfg.bucket_ms();
    at / b + cfg.rolling_window_buckets > now / b
}

fn wants_fallback(e: EventType) -> bool {
    matches!(e, EventType::Failure | EventType::Timeout | EventType::ShortCircuited | EventType::SemaphoreRejected)
}

fn cause_of(e: EventType) -> Option<ErrorKind> {
    match e {
        EventType::Failure => Some(ErrorKind::Failure),
        EventType::Timeout => Some(ErrorKind::Timeout),
        EventType::ShortCircuited => Some(ErrorKind::ShortCircuited),
        EventType::SemaphoreRejected => Some(ErrorKind::Rejected),
        _ => None,
    }
}

fn outcome_event(o: RunOutcome) -> EventType {
    match o {
        RunOutcome::Success => EventType::Success,
        RunOutcome::Failure => EventType::Failure,
        RunOutcome::BadRequest => EventType::BadRequest,
    }
}

// ---------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------

struct Call {
    ex: Execution,
    run: Run,
    fallback: Option<Fallback>,
    started: u64,
    run_timer: Option<TimerId>,
    /// `Some(deadline)` once the run was admitted, with the bulkhead size then in force.
    admitted: Option<(Option<u64>, u64)>,
    fallback_started: Option<u64>,
    fallback_in_flight: bool,
    resolution: Option<Resolution>,
    dones: u32,
    /// Events seen through `Execution::events`, with the time they appeared.
    events: Vec<(EventType, u64)>,
}

impl Call {
    /// When the run gives its permit back (SPEC §3.4), if it was admitted.
    fn release_at(&self) -> Option<u64> {
        let (deadline, _) = self.admitted?;
        let finish = self.started + self.run.after_ms;
        Some(match deadline {
            Some(d) if finish >= d && !self.run.ignores_cancel => d,
            _ => finish,
        })
    }
}

struct Harness {
    now: Arc<AtomicU64>,
    cmd: Command,
    timers: TimerQueue<Timer>,
    calls: Vec<Call>,
    log: Arc<Mutex<Vec<Logged>>>,
    log_seen: usize,
    /// Every event seen through `Execution::events`, in order, with its time.
    synced: Vec<(EventType, u64)>,
    /// Events synced since the listener log was last processed.
    unmatched: Vec<(EventType, u64)>,
    /// The underlying circuit state, from the transitions seen.
    state: CircuitState,
    opened_at: u64,
    /// Health-counted events recorded since the last close (SPEC §5).
    health_log: Vec<(EventType, u64)>,
    transitions: Vec<(CircuitState, CircuitState, u64)>,
    observe_every_op: bool,
    ctx: String,
}

impl Harness {
    fn new(config: Config, observe_every_op: bool) -> Result<Harness, TestCaseError> {
        let now = Arc::new(AtomicU64::new(0));
        let clock_now = now.clone();
        let clock = Arc::new(FnClock(move || clock_now.load(Ordering::SeqCst)));
        let cmd = Command::with_clock("prop", config, clock)
            .map_err(|e| TestCaseError::fail(format!("config {config:?} refused: {e}")))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        cmd.subscribe(Topic::Events, move |n: &Notice<'_>| {
            if let Notice::Event { event, at_ms, .. } = *n {
                l.lock().unwrap().push(Logged::Event(event, at_ms));
            }
        });
        let l = log.clone();
        cmd.subscribe(Topic::Transitions, move |n: &Notice<'_>| {
            if let Notice::Transition { from, to, at_ms, .. } = *n {
                l.lock().unwrap().push(Logged::Transition(from, to, at_ms));
            }
        });
        Ok(Harness {
            now,
            cmd,
            timers: TimerQueue::new(),
            calls: vec![],
            log,
            log_seen: 0,
            synced: vec![],
            unmatched: vec![],
            state: CircuitState::Closed,
            opened_at: 0,
            health_log: vec![],
            transitions: vec![],
            observe_every_op,
            ctx: "setup".into(),
        })
    }

    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn holders(&self) -> usize {
        self.calls.iter().filter(|c| c.ex.holds_permit()).count()
    }

    fn fallbacks_in_flight(&self) -> usize {
        self.calls.iter().filter(|c| c.fallback_in_flight).count()
    }

    /// Health as SPEC §5 defines it, fresh at `now`.
    fn health_model(&self, now: u64, cfg: &Config) -> (u64, u64) {
        let live = self.health_log.iter().filter(|(_, at)| in_window(*at, now, cfg));
        live.fold((0, 0), |(t, e), (ev, _)| (t + 1, e + u64::from(ev.is_health_error())))
    }

    /// With fresh health, would the trip rule fire now in the closed state?
    fn trip_due(&self, now: u64, cfg: &Config) -> bool {
        let (total, errors) = self.health_model(now, cfg);
        self.state == CircuitState::Closed
            && evaluates_trips(cfg)
            && cfg.health_snapshot_interval_ms == 0
            && trips(total, errors, cfg)
    }

    fn op(&mut self, i: usize, op: &Op) -> Result<(), TestCaseError> {
        self.ctx = format!("op #{i} {op:?} (starting at t={})", self.now());
        match *op {
            Op::Call { run, fallback } => self.start_call(run, fallback)?,
            Op::Advance(ms) => self.advance(self.now() + ms)?,
            Op::Configure(patch) => {
                let r = self.cmd.configure_json(&patch.json());
                prop_assert!(r.is_ok(), "{}: configure refused: {:?}", self.ctx, r.err());
                let batch = self.process_log()?;
                prop_assert!(batch.is_empty(), "{}: configure notified {batch:?}", self.ctx);
            }
            Op::Snapshot => {}
        }
        self.check_model()?;
        if self.observe_every_op || matches!(op, Op::Snapshot) {
            self.observe()?;
        }
        Ok(())
    }

    fn advance(&mut self, target: u64) -> Result<(), TestCaseError> {
        while let Some((due, timer)) = self.timers.pop_due(target) {
            prop_assert!(due >= self.now(), "{}: timer due at {due} fired after t={}", self.ctx, self.now());
            self.now.store(due, Ordering::SeqCst);
            self.fire(timer)?;
        }
        self.now.store(target, Ordering::SeqCst);
        Ok(())
    }

    fn start_call(&mut self, run: Run, fallback: Option<Fallback>) -> Result<(), TestCaseError> {
        let now = self.now();
        let cfg = self.cmd.config();
        let id = self.calls.len();
        let holders_before = self.holders();
        let state_before = self.state;
        let opened_before = self.opened_at;
        let trip_due = self.trip_due(now, &cfg);
        let (ex, step) = Execution::start(&self.cmd, now, fallback.is_some());
        self.calls.push(Call {
            ex,
            run,
            fallback,
            started: now,
            run_timer: None,
            admitted: None,
            fallback_started: None,
            fallback_in_flight: false,
            resolution: None,
            dones: 0,
            events: vec![],
        });
        let batch = self.after_input(id)?;
        let first = self.calls[id].ex.events().next();
        let ctx = format!("{}: call {id} {run:?}", self.ctx);

        // SPEC §3 step 1: the circuit's answer.
        let breaker_applies = cfg.circuit_breaker_enabled && (cfg.force_open || !cfg.force_closed);
        let short_circuited = first == Some(EventType::ShortCircuited);
        if !breaker_applies {
            prop_assert!(!short_circuited, "{ctx}: short-circuited with the breaker bypassed ({cfg:?})");
        } else if cfg.force_open {
            prop_assert!(short_circuited, "{ctx}: admitted while forced open");
        } else if state_before == CircuitState::Open && now < opened_before + cfg.sleep_window_ms {
            prop_assert!(short_circuited, "{ctx}: admitted while open (opened at {opened_before})");
        }
        if trip_due {
            prop_assert!(
                batch.first() == Some(&Logged::Transition(CircuitState::Closed, CircuitState::Open, now))
                    && short_circuited,
                "{ctx}: health {:?} meets the trip rule at admission but the circuit did not trip: {batch:?}",
                self.health_model(now, &cfg)
            );
        }
        // SPEC §3 step 2: the bulkhead's answer, once the circuit admitted.
        match step {
            Step::Run { .. } => prop_assert!(
                (holders_before as u64) < cfg.max_concurrent_requests,
                "{ctx}: admitted with {holders_before} permits held (max {})",
                cfg.max_concurrent_requests
            ),
            _ if first == Some(EventType::SemaphoreRejected) => prop_assert!(
                holders_before as u64 >= cfg.max_concurrent_requests,
                "{ctx}: rejected with {holders_before} permits held (max {})",
                cfg.max_concurrent_requests
            ),
            _ => prop_assert!(short_circuited, "{ctx}: not admitted, yet events are {:?}", self.calls[id].events),
        }
        self.react(id, step)
    }

    /// Does what a step asks: arm the timeout then start the run, start the
    /// fallback, or settle the call.
    fn react(&mut self, id: usize, step: Step) -> Result<(), TestCaseError> {
        let now = self.now();
        let cfg = self.cmd.config();
        let ctx = format!("{}: call {id} at t={now}", self.ctx);
        match step {
            Step::Run { deadline } => {
                let c = &self.calls[id];
                prop_assert!(c.admitted.is_none(), "{ctx}: Step::Run twice");
                prop_assert_eq!(now, c.started, "{}: Step::Run after admission", ctx);
                prop_assert!(c.ex.holds_permit(), "{ctx}: admitted without a permit");
                let expected = cfg.timeout_enabled.then(|| now + cfg.timeout_ms);
                prop_assert_eq!(deadline, expected, "{}: deadline (config {:?})", ctx, cfg);
                let held = self.holders() as u64;
                prop_assert!(
                    held <= cfg.max_concurrent_requests,
                    "{ctx}: {held} permits held after admission, max {}",
                    cfg.max_concurrent_requests
                );
                self.calls[id].admitted = Some((deadline, cfg.max_concurrent_requests));
                if let Some(d) = deadline {
                    self.timers.arm(d, Timer::Timeout(id));
                }
                let run = self.calls[id].run;
                if run.after_ms == 0 {
                    let step = self.calls[id].ex.run_finished(&self.cmd, now, run.outcome);
                    self.after_input(id)?;
                    return self.react(id, step);
                }
                self.calls[id].run_timer = Some(self.timers.arm(now + run.after_ms, Timer::RunDone(id)));
            }
            Step::Fallback { cause } => {
                let in_flight = self.fallbacks_in_flight() as u64;
                let c = &self.calls[id];
                let Some(fb) = c.fallback else {
                    return Err(TestCaseError::fail(format!("{ctx}: Step::Fallback but the call gave no fallback")));
                };
                prop_assert!(cfg.fallback_enabled, "{ctx}: fallback started while fallbacks are disabled");
                prop_assert!(c.fallback_started.is_none(), "{ctx}: Step::Fallback twice");
                let exec = c.events.first().copied();
                prop_assert!(
                    exec.is_some_and(|(e, at)| at == now && cause_of(e) == Some(cause)),
                    "{ctx}: fallback for cause {cause:?} after events {:?}",
                    c.events
                );
                prop_assert!(
                    in_flight < cfg.fallback_max_concurrent_requests,
                    "{ctx}: fallback admitted with {in_flight} in flight (max {})",
                    cfg.fallback_max_concurrent_requests
                );
                let c = &mut self.calls[id];
                c.fallback_started = Some(now);
                c.fallback_in_flight = true;
                if fb.after_ms == 0 {
                    let step = c.ex.fallback_finished(&self.cmd, now, fb.ok);
                    self.after_input(id)?;
                    return self.react(id, step);
                }
                self.timers.arm(now + fb.after_ms, Timer::FallbackDone(id));
            }
            Step::Done(resolution) => {
                let c = &mut self.calls[id];
                c.dones += 1;
                prop_assert_eq!(
                    c.dones,
                    1,
                    "{}: settled more than once (now {:?}, was {:?})",
                    ctx,
                    resolution,
                    c.resolution
                );
                c.resolution = Some(resolution);
                c.fallback_in_flight = false;
                self.check_settled(id)?;
            }
            Step::Nothing => {}
        }
        Ok(())
    }

    fn fire(&mut self, timer: Timer) -> Result<(), TestCaseError> {
        let now = self.now();
        match timer {
            Timer::Timeout(id) => {
                let step = self.calls[id].ex.timer_fired(&self.cmd, now);
                self.after_input(id)?;
                if step == Step::Nothing {
                    return Ok(());
                }
                // Cancel the run: unless it ignores cancellation it stops now.
                if !self.calls[id].run.ignores_cancel {
                    if let Some(t) = self.calls[id].run_timer.take() {
                        self.timers.cancel(t);
                    }
                    self.calls[id].ex.run_stopped(&self.cmd);
                    self.after_input(id)?;
                }
                self.react(id, step)
            }
            Timer::RunDone(id) => {
                let outcome = self.calls[id].run.outcome;
                let timed_out = self.calls[id].ex.timed_out();
                let step = self.calls[id].ex.run_finished(&self.cmd, now, outcome);
                self.after_input(id)?;
                if timed_out {
                    prop_assert_eq!(step, Step::Nothing, "{}: late run of call {} changed the outcome", self.ctx, id);
                }
                self.react(id, step)
            }
            Timer::FallbackDone(id) => {
                let ok = self.calls[id].fallback.is_some_and(|f| f.ok);
                let step = self.calls[id].ex.fallback_finished(&self.cmd, now, ok);
                self.after_input(id)?;
                self.react(id, step)
            }
        }
    }

    /// After each input to call `id`: picks up its new events, then the
    /// listeners' notices.
    fn after_input(&mut self, id: usize) -> Result<Vec<Logged>, TestCaseError> {
        self.sync_events(id)?;
        self.process_log()
    }

    /// Picks up the events call `id` recorded since last time and checks
    /// each against SPEC §3 (which event, when).
    fn sync_events(&mut self, id: usize) -> Result<(), TestCaseError> {
        let now = self.now();
        let cfg = self.cmd.config();
        let holders = self.holders() as u64;
        let in_flight = self.fallbacks_in_flight() as u64;
        let c = &self.calls[id];
        let ctx = format!("{}: call {id} ({:?}, fallback {:?}) at t={now}", self.ctx, c.run, c.fallback);
        let evs: Vec<EventType> = c.ex.events().collect();
        let seen = c.events.len();
        prop_assert!(
            evs.len() >= seen && evs.iter().zip(&c.events).all(|(a, (b, _))| a == b),
            "{ctx}: events changed from {:?} to {evs:?}",
            c.events
        );
        prop_assert!(evs.len() <= 2, "{ctx}: more than two events: {evs:?}");
        let mut new = vec![];
        for (k, &e) in evs.iter().enumerate().skip(seen) {
            if k == 0 {
                prop_assert!(e.is_execution(), "{ctx}: first event {e} is not an execution event");
            } else {
                prop_assert!(!e.is_execution(), "{ctx}: second event {e} is an execution event ({evs:?})");
                prop_assert!(wants_fallback(evs[0]), "{ctx}: fallback event after {}", evs[0]);
            }
            let finish = c.started + c.run.after_ms;
            match e {
                EventType::Success | EventType::Failure | EventType::BadRequest => {
                    let Some((deadline, _)) = c.admitted else {
                        return Err(TestCaseError::fail(format!("{ctx}: {e} for a run never admitted")));
                    };
                    prop_assert_eq!(e, outcome_event(c.run.outcome), "{}: wrong outcome event", ctx);
                    prop_assert_eq!(now, finish, "{}: {} recorded at the wrong time", ctx, e);
                    prop_assert!(
                        !deadline.is_some_and(|d| finish >= d),
                        "{ctx}: {e} although the timeout at {deadline:?} came first"
                    );
                }
                EventType::Timeout => {
                    let deadline = c.admitted.and_then(|(d, _)| d);
                    prop_assert!(
                        deadline == Some(now) && finish >= now,
                        "{ctx}: TIMEOUT with deadline {deadline:?}, run finishing at {finish}"
                    );
                }
                EventType::ShortCircuited | EventType::SemaphoreRejected => {
                    prop_assert_eq!(now, c.started, "{}: {} after admission", ctx, e);
                    if e == EventType::SemaphoreRejected {
                        prop_assert!(
                            holders >= cfg.max_concurrent_requests,
                            "{ctx}: SEMAPHORE_REJECTED with {holders} permits held (max {})",
                            cfg.max_concurrent_requests
                        );
                    }
                }
                EventType::FallbackDisabled => {
                    prop_assert!(!cfg.fallback_enabled, "{ctx}: FALLBACK_DISABLED with fallbacks enabled");
                }
                EventType::FallbackMissing => {
                    prop_assert!(
                        cfg.fallback_enabled && c.fallback.is_none(),
                        "{ctx}: FALLBACK_MISSING (fallback_enabled {})",
                        cfg.fallback_enabled
                    );
                }
                EventType::FallbackRejection => {
                    prop_assert!(
                        cfg.fallback_enabled
                            && c.fallback.is_some()
                            && in_flight >= cfg.fallback_max_concurrent_requests,
                        "{ctx}: FALLBACK_REJECTION with {in_flight} fallbacks in flight (max {})",
                        cfg.fallback_max_concurrent_requests
                    );
                }
                EventType::Cancelled => {
                    return Err(TestCaseError::fail(format!("{ctx}: CANCELLED although nobody cancelled")));
                }
                EventType::RateLimited | EventType::Retry | EventType::Hedge | EventType::RetryBudgetExhausted => {
                    return Err(TestCaseError::fail(format!("{ctx}: {e} with every v2 key at its default")));
                }
                EventType::FallbackSuccess | EventType::FallbackFailure => {
                    let fb = c.fallback;
                    let start = c.fallback_started;
                    prop_assert!(
                        fb.is_some_and(|f| f.ok == (e == EventType::FallbackSuccess))
                            && start.zip(fb).is_some_and(|(s, f)| s + f.after_ms == now),
                        "{ctx}: {e} from fallback {fb:?} started at {start:?}"
                    );
                }
            }
            new.push((e, now));
        }
        let c = &mut self.calls[id];
        c.events.extend(&new);
        self.synced.extend(&new);
        self.unmatched.extend(&new);
        Ok(())
    }

    /// Walks the listeners' notices since last time: events must match the
    /// ones synced from the executions; transitions must be legal, chained
    /// and justified (SPEC §5).
    fn process_log(&mut self) -> Result<Vec<Logged>, TestCaseError> {
        let batch: Vec<Logged> = self.log.lock().unwrap()[self.log_seen..].to_vec();
        self.log_seen += batch.len();
        let now = self.now();
        let cfg = self.cmd.config();
        let ctx = format!("{}: at t={now}", self.ctx);
        let notified: Vec<(EventType, u64)> = batch
            .iter()
            .filter_map(|l| match *l {
                Logged::Event(e, at) => Some((e, at)),
                Logged::Transition(..) => None,
            })
            .collect();
        prop_assert_eq!(
            &notified,
            &self.unmatched,
            "{}: listener events differ from Execution::events (batch {:?})",
            ctx,
            batch
        );
        self.unmatched.clear();
        for (k, entry) in batch.iter().enumerate() {
            match *entry {
                Logged::Event(e, at) => {
                    prop_assert_eq!(at, now, "{}: event {} notified with a stale time", ctx, e);
                    if !e.counts_in_health() {
                        continue;
                    }
                    self.health_log.push((e, at));
                    // SPEC §5: the trip rule is evaluated after every outcome
                    // counted in health, in state closed.
                    if self.trip_due(now, &cfg) {
                        prop_assert!(
                            batch.get(k + 1)
                                == Some(&Logged::Transition(CircuitState::Closed, CircuitState::Open, now)),
                            "{ctx}: after {e}, fresh health {:?} meets the trip rule (volume {}, {}%) but the \
                             circuit stayed closed; notices {batch:?}; transitions so far {:?}",
                            self.health_model(now, &cfg),
                            cfg.request_volume_threshold,
                            cfg.error_threshold_percentage,
                            self.transitions
                        );
                    }
                }
                Logged::Transition(from, to, at) => {
                    prop_assert_eq!(at, now, "{}: transition notified with a stale time", ctx);
                    prop_assert!(legal(from, to), "{ctx}: illegal transition {from} -> {to}");
                    prop_assert_eq!(
                        from,
                        self.state,
                        "{}: transition {} -> {} does not chain (transitions so far {:?})",
                        ctx,
                        from,
                        to,
                        self.transitions
                    );
                    let prev = if k == 0 { None } else { Some(batch[k - 1]) };
                    match (from, to) {
                        (CircuitState::Closed, CircuitState::Open) => {
                            prop_assert!(evaluates_trips(&cfg), "{ctx}: tripped with {cfg:?}");
                            if cfg.health_snapshot_interval_ms == 0 {
                                let (total, errors) = self.health_model(now, &cfg);
                                prop_assert!(
                                    trips(total, errors, &cfg),
                                    "{ctx}: tripped with fresh health total {total}, errors {errors}"
                                );
                            }
                        }
                        (CircuitState::Open, CircuitState::HalfOpen) => {
                            prop_assert!(evaluates_trips(&cfg), "{ctx}: half-opened with {cfg:?}");
                            prop_assert!(
                                now >= self.opened_at + cfg.sleep_window_ms,
                                "{ctx}: half-opened before the sleep window (opened at {})",
                                self.opened_at
                            );
                        }
                        (CircuitState::HalfOpen, CircuitState::Closed) => prop_assert!(
                            prev == Some(Logged::Event(EventType::Success, now)),
                            "{ctx}: closed after {prev:?}, not after a probe's SUCCESS"
                        ),
                        _ => prop_assert!(
                            matches!(
                                prev,
                                Some(Logged::Event(
                                    EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected,
                                    _
                                ))
                            ),
                            "{ctx}: reopened after {prev:?}, not after a probe's failure"
                        ),
                    }
                    match to {
                        CircuitState::Open => self.opened_at = now,
                        CircuitState::Closed => self.health_log.clear(),
                        CircuitState::HalfOpen => {}
                    }
                    self.state = to;
                    self.transitions.push((from, to, at));
                }
            }
        }
        Ok(batch)
    }

    /// Invariant 3: the resolution agrees with the events recorded.
    fn check_settled(&self, id: usize) -> Result<(), TestCaseError> {
        let c = &self.calls[id];
        let Some(res) = c.resolution else { return Ok(()) };
        let evs: Vec<EventType> = c.ex.events().collect();
        let ctx = format!("{}: call {id} ({:?}, fallback {:?})", self.ctx, c.run, c.fallback);
        prop_assert!(c.ex.is_done(), "{ctx}: resolved {res:?} but not done");
        let fallback_event = |want: &[EventType]| evs.len() == 2 && wants_fallback(evs[0]) && want.contains(&evs[1]);
        let ok = match res {
            Resolution::Run => evs == [EventType::Success],
            Resolution::Error(ErrorKind::BadRequest) => evs == [EventType::BadRequest],
            Resolution::Fallback => fallback_event(&[EventType::FallbackSuccess]),
            Resolution::Error(ErrorKind::FallbackFailure) => fallback_event(&[EventType::FallbackFailure]),
            Resolution::Error(ErrorKind::FallbackRejected) => fallback_event(&[EventType::FallbackRejection]),
            Resolution::Error(kind) => {
                fallback_event(&[EventType::FallbackMissing, EventType::FallbackDisabled])
                    && cause_of(evs[0]) == Some(kind)
            }
        };
        prop_assert!(ok, "{ctx}: resolved {res:?} with events {evs:?}");
        if let Some(&first) = evs.first() {
            prop_assert_eq!(c.ex.cause(), cause_of(first), "{}: cause after {}", ctx, first);
        }
        Ok(())
    }

    /// Checks that need no snapshot: permits and fallbacks match the model.
    fn check_model(&self) -> Result<(), TestCaseError> {
        let now = self.now();
        prop_assert_eq!(self.log_seen, self.log.lock().unwrap().len(), "{}: unprocessed notices", self.ctx);
        for (id, c) in self.calls.iter().enumerate() {
            let ctx = format!("{}: call {id} ({:?}, fallback {:?}) at t={now}", self.ctx, c.run, c.fallback);
            let should_hold = c.release_at().is_some_and(|r| now < r);
            prop_assert_eq!(
                c.ex.holds_permit(),
                should_hold,
                "{}: holds_permit (admitted {:?}, events {:?})",
                ctx,
                c.admitted,
                c.events
            );
            let fallback_due = c.fallback_started.zip(c.fallback).is_some_and(|(s, f)| now < s + f.after_ms);
            prop_assert_eq!(c.fallback_in_flight, fallback_due, "{}: fallback in flight", ctx);
            prop_assert_eq!(c.ex.is_done(), c.dones == 1, "{}: is_done vs Step::Done count {}", ctx, c.dones);
        }
        Ok(())
    }

    /// Takes a snapshot at the current time and checks it.
    fn observe(&mut self) -> Result<(), TestCaseError> {
        let now = self.now();
        let cfg = self.cmd.config();
        let trip_due = self.trip_due(now, &cfg);
        let snap = self.cmd.snapshot_at(now);
        let batch = self.process_log()?;
        let trip = Logged::Transition(CircuitState::Closed, CircuitState::Open, now);
        prop_assert!(
            batch.iter().all(|l| *l == trip),
            "{}: a snapshot may only apply a pending trip, yet notified {batch:?}",
            self.ctx
        );
        if trip_due {
            prop_assert_eq!(&batch, &vec![trip], "{}: snapshot did not apply a due trip", self.ctx);
        }
        self.check_snapshot(&snap, &cfg)
    }

    fn check_snapshot(&self, snap: &Snapshot, cfg: &Config) -> Result<(), TestCaseError> {
        let now = self.now();
        let ctx = format!("{}: snapshot at t={now}", self.ctx);
        prop_assert_eq!(snap.time_ms, now, "{}: time", ctx);

        // 1. Concurrency counts never lie.
        let holders = self.holders();
        prop_assert_eq!(snap.concurrent as usize, holders, "{}: concurrent vs runs holding a permit", ctx);
        let admitted_max = self.calls.iter().filter(|c| c.ex.holds_permit()).filter_map(|c| c.admitted).map(|a| a.1);
        let limit = admitted_max.max().unwrap_or(0);
        prop_assert!(
            holders as u64 <= limit,
            "{ctx}: {holders} permits held, above every bulkhead size in force at admission (max {limit})"
        );
        let fallbacks = self.fallbacks_in_flight();
        prop_assert_eq!(snap.fallback_concurrent as usize, fallbacks, "{}: fallback_concurrent", ctx);

        // 4. Counts add up.
        for e in EventType::ALL {
            let seen = self.synced.iter().filter(|(x, _)| *x == e).count() as u64;
            let rolling = self.synced.iter().filter(|(x, at)| *x == e && in_window(*at, now, cfg)).count() as u64;
            prop_assert_eq!(snap.cumulative.get(e), seen, "{}: cumulative {}", ctx, e);
            prop_assert!(
                snap.rolling.get(e) <= snap.cumulative.get(e),
                "{ctx}: rolling {e} {} above cumulative {}",
                snap.rolling.get(e),
                snap.cumulative.get(e)
            );
            prop_assert_eq!(snap.rolling.get(e), rolling, "{}: rolling {} (window {:?})", ctx, e, cfg);
        }

        // 6. Health is coherent; exact when it is always fresh.
        let h = snap.health;
        prop_assert!(h.errors <= h.total, "{ctx}: health {h:?}");
        prop_assert_eq!(h.error_percentage, percentage(h.total, h.errors), "{}: error_percentage of {:?}", ctx, h);
        if cfg.health_snapshot_interval_ms == 0 {
            let model = self.health_model(now, cfg);
            prop_assert_eq!((h.total, h.errors), model, "{}: fresh health (transitions {:?})", ctx, self.transitions);
        }

        // 5/§6. The reported state follows the transitions and the flags.
        let expected = if !cfg.circuit_breaker_enabled || (cfg.force_closed && !cfg.force_open) {
            CircuitState::Closed
        } else if cfg.force_open {
            CircuitState::Open
        } else {
            self.state
        };
        prop_assert_eq!(snap.state, expected, "{}: state (transitions {:?})", ctx, self.transitions);
        Ok(())
    }

    /// Invariant 2: drain every timer, then everything has settled once.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        self.ctx = format!("final drain from t={}", self.now());
        while let Some(due) = self.timers.next_deadline() {
            self.advance(due)?;
        }
        self.check_model()?;
        for (id, c) in self.calls.iter().enumerate() {
            prop_assert!(
                c.dones == 1 && c.ex.is_done() && c.resolution.is_some(),
                "{}: call {id} ({:?}) never settled; events {:?}",
                self.ctx,
                c.run,
                c.events
            );
            prop_assert!(!c.ex.holds_permit(), "{}: call {id} still holds its permit", self.ctx);
            prop_assert!(!c.fallback_in_flight, "{}: call {id}'s fallback still in flight", self.ctx);
            self.check_settled(id)?;
        }
        self.observe()?;
        let snap = self.cmd.snapshot_at(self.now());
        prop_assert_eq!(snap.concurrent, 0, "{}: concurrent after the drain", self.ctx);
        prop_assert_eq!(snap.fallback_concurrent, 0, "{}: fallback_concurrent after the drain", self.ctx);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random calls, clock advances, live reconfigurations and snapshots keep
    /// every SPEC §3–§6 invariant.
    #[test]
    fn random_operations_keep_the_invariants(
        config in config_strategy(),
        ops in prop::collection::vec(op_strategy(), 1..=60),
        observe_every_op in prop::bool::weighted(0.75),
    ) {
        run_case(config, &ops, observe_every_op)?;
    }
}

fn run_case(config: Config, ops: &[Op], observe_every_op: bool) -> Result<(), TestCaseError> {
    let mut h = Harness::new(config, observe_every_op)?;
    for (i, op) in ops.iter().enumerate() {
        h.op(i, op)?;
    }
    h.finish()
}

fn call(outcome: RunOutcome, after_ms: u64) -> Op {
    Op::Call { run: Run { outcome, after_ms, ignores_cancel: false }, fallback: None }
}

/// A probe of an earlier half-open episode fails after a later episode has
/// closed the circuit: SPEC §5 evaluates the trip rule after every outcome
/// counted in health while closed, so the circuit must trip right then.
#[test]
fn stale_probe_failure_after_close_trips() {
    let config = Config {
        timeout_enabled: false,
        request_volume_threshold: 1,
        error_threshold_percentage: 50,
        sleep_window_ms: 10,
        half_open_max_calls: 2,
        health_snapshot_interval_ms: 0,
        rolling_window_ms: 1000,
        rolling_window_buckets: 1,
        ..Config::default()
    };
    let ops = [
        call(RunOutcome::Failure, 0), // t=0: trips (total 1, 100%)
        Op::Advance(10),
        call(RunOutcome::Failure, 1),  // t=10: probe A of episode 1, fails at 11
        call(RunOutcome::Failure, 30), // t=10: probe B of episode 1, fails at 40
        Op::Advance(11),               // t=11: A reopens; t=21:
        call(RunOutcome::Success, 0),  // probe C of episode 2
        call(RunOutcome::Success, 0),  // probe D of episode 2: closes
        Op::Advance(19),               // t=40: B fails while closed
    ];
    if let Err(e) = run_case(config, &ops, false) {
        panic!("{e}");
    }
}
