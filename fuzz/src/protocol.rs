//! The `call_protocol` target: one command, a random configuration with
//! small numbers (`small_config`), then random operations on a virtual time
//! that only goes forward, driving calls through [`Call`] as a host must.
//!
//! The harness keeps a model of what the host knows of each call — whether
//! its run was invoked, aborted, has ended or stopped; whether its fallback
//! runs; whether it settled and how — and of the command: run permits and
//! fallback slots held, every event each call reported, every notice the
//! listeners got, the circuit state the transitions lead to.
//!
//! **Input format** (every operation reads a fixed number of bytes, so a
//! mutation stays local; `i` is a byte picking a live call, modulo their
//! number; past the end of the input every byte reads 0): 16 bytes of
//! configuration (`small_config`), then operations, by their first byte
//! modulo 16:
//!
//! | op | bytes after it | what the host does |
//! |---|---|---|
//! | 0, 1 | `d` | time moves on `d % 32` ms |
//! | 2 | `n`, `s` | time moves on `10 n` ms, or `2^(20 + s % 41)` ms if `n ≥ 250` |
//! | 3, 4 | `p` | starts a call; bits of `p`: 1 it has a fallback, 2 its run stops as soon as it is aborted (else later), 4 its fallback ends as soon as it is invoked (else later), 8 with a value (else an error) |
//! | 5, 6 | `i`, `o` | call `i`'s run ends: success, failure, bad request (`o % 3`); ignored unless it runs |
//! | 7 | `i` | call `i`'s aborted run stops |
//! | 8 | `i`, `k` | call `i`'s fallback ends, with a value if `k` is odd |
//! | 9 | `i`, `l` | call `i`'s timer fires, `l % 3` ms after its deadline (time moves there) |
//! | 10 | `i` | the caller cancels call `i` |
//! | 11 | `i`, `a`, `w` | call `i` gets an input it must ignore (`w % 5` picks which) |
//! | 12 | 16 | `set_config` with a new configuration |
//! | 13 | 16 + 15 | `configure_json` with some keys (each byte `% 3 == 2` keeps one) of a new configuration |
//! | 14 | — | a snapshot, checked |
//! | 15 | `i` | the host drops call `i`, finished or not |
//!
//! After every input the call's actions are drained and carried out as the
//! call's policy says. At the end every outstanding run and fallback is
//! finished, then every call dropped.
//!
//! Invariants checked (a failed one panics, which the fuzzer reports):
//! - nothing in the core panics;
//! - actions: one `InvokeAttempt` (attempt 1) per call, only when fewer
//!   permits than `max_concurrent_requests` are held, with one timer armed
//!   (`SetTimer`) just before it at `start + timeout_ms` (none when timeouts
//!   are off), cleared (`ClearTimer`) or fired once the run is no longer
//!   running, and never another; `AbortAttempt` only of a running attempt,
//!   for `timeout` at or after its deadline or `cancelled` after a cancel;
//!   `InvokeFallback` once, before settling, only with a fallback, fallbacks
//!   enabled and a free slot, and with the original error of the call's
//!   execution event; `Settle` at most once per call, and exactly once for
//!   every call the harness finishes, with a settlement that agrees with
//!   the call's events and what the host reported;
//! - an input the call must ignore yields no action and records nothing;
//! - each call records at most an execution event then a fallback event;
//!   every notice is stamped with the time of the input that caused it,
//!   and the notices of an input are the events its call added; snapshots,
//!   reconfiguration and dropping a call record nothing;
//! - admission: a `SEMAPHORE_REJECTED` only when the bulkhead is full, a
//!   `SHORT_CIRCUITED` never with the breaker off or forced closed, always
//!   when forced open; an open circuit short-circuits exactly within its
//!   sleep window; with `health_snapshot_interval_ms` 0 (health recomputed
//!   whenever needed) a closed circuit short-circuits exactly when the trip
//!   rule holds on the model's health, and stays closed after an outcome
//!   counted in health only if the rule does not hold; `FALLBACK_REJECTION`
//!   only when every fallback slot is taken, `FALLBACK_MISSING` only
//!   without a fallback, `FALLBACK_DISABLED` only with fallbacks off;
//! - half-open episodes, modelled (probes admitted, slots freed by a bad
//!   request, a cancellation or an abandoned probe, successes): a half-open
//!   circuit short-circuits exactly when its probes are used up; a probe's
//!   success closes it exactly when enough succeeded; a probe's failure,
//!   timeout or refusal by the bulkhead reopens it;
//! - transitions chain (each starts where the previous ended) and are
//!   closed→open, open→half_open, half_open→closed or half_open→open;
//! - snapshots: `concurrent` and `fallback_concurrent` equal what the host
//!   holds (so never above the largest limit in force during the run);
//!   cumulative counts equal the events the calls reported (those of calls
//!   already dropped included, and fallbacks that outlived a cancellation)
//!   and the notices; rolling counts exactly those of the events heard
//!   since the window took its shape, in the buckets the window covers now
//!   (SPEC §4); with `health_snapshot_interval_ms` 0, health exactly the
//!   health events among them heard since the last close, and a closed
//!   circuit trips exactly when the rule holds; health consistent; the
//!   state the one the transitions and force flags give;
//! - latency: one sample per call settled with a result of its run or its
//!   fallback (none for a cancelled call), with a run
//!   latency if its run ended or timed out, counted in the 60 s percentile
//!   window; percentiles in order; the last snapshot serialises to JSON;
//! - at the end, every call finished then dropped: nothing held.

use crate::{small_config, Bytes};
use hystrix_core::latency::{PERCENTILE_BUCKETS, PERCENTILE_WINDOW_MS};
use hystrix_core::{
    Action, AttemptId, Call, CallTimer, CircuitState, Command, Config, ErrorKind, EventType, FnClock, Input, Notice,
    Original, RunOutcome, Settlement, Topic,
};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

const FIRST: AttemptId = AttemptId(1);
const MAX_CALLS: usize = 32;

/// What the host knows of a call's run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    /// Not invoked (yet, or ever: refused at admission).
    NotInvoked,
    /// Invoked and going.
    Running,
    /// Told to stop, still going (holds its permit).
    Aborted,
    /// Ended or stopped.
    Over,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fallback {
    NotInvoked,
    Running,
    Over,
}

struct Host {
    call: Call,
    has_fallback: bool,
    /// The host's run stops as soon as it is aborted (else: later, when an
    /// operation stops or ends it).
    stops_at_once: bool,
    /// The host's fallback ends as soon as it is invoked, with `instant_ok`.
    instant_fallback: bool,
    instant_ok: bool,
    /// The half-open episode the call probes, if the circuit admitted it as
    /// a probe.
    probe: Option<u64>,
    run: Run,
    fallback: Fallback,
    /// The run's deadline, while it runs.
    deadline: Option<u64>,
    /// The timer the call has armed and not cleared (as the host sees it).
    timer: Option<(CallTimer, u64)>,
    /// How the run ended, if it ended before any abort.
    outcome: Option<RunOutcome>,
    /// How the fallback ended.
    fallback_ok: Option<bool>,
    /// The host cancelled the call before it settled.
    cancelled: bool,
    settled: Option<Settlement>,
}

impl Host {
    fn holds_permit(&self) -> bool {
        matches!(self.run, Run::Running | Run::Aborted)
    }

    fn events(&self) -> Vec<EventType> {
        self.call.events().collect()
    }
}

/// What the command's listeners heard; each transition with the number of
/// events heard before it.
#[derive(Default)]
struct Log {
    events: Vec<(EventType, u64)>,
    transitions: Vec<(CircuitState, CircuitState, u64, usize)>,
}

struct Harness<'a> {
    b: Bytes<'a>,
    cmd: Command,
    config: Config,
    now: u64,
    calls: Vec<Host>,
    /// Events of the calls already dropped, per type.
    dropped: [u64; EventType::COUNT],
    max_limit: u64,
    max_fallback_limit: u64,
    log: Arc<Mutex<Log>>,
    /// Transitions already checked, and the state they lead to.
    transitions_seen: usize,
    state: CircuitState,
    /// The events in the window in force are those heard from this index
    /// on (a new window shape starts empty), and those in health from
    /// `closed_from` on (a close resets health).
    window_from: usize,
    closed_from: usize,
    /// When the circuit last opened.
    opened_at: u64,
    /// The half-open episode (counted from 1 as they open), the probes it
    /// admitted (less those whose slot was freed) and those that succeeded.
    episode: u64,
    probes_admitted: u64,
    probes_succeeded: u64,
    /// The latency samples the calls recorded: when, and whether with a
    /// run latency (the run ended or timed out).
    samples: Vec<(u64, bool)>,
    trace: bool,
}

/// Runs one input (see the module docs).
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let config = small_config(&mut b);
    let cmd = Command::with_clock("fuzz", config, Arc::new(FnClock(|| 0))).expect("a valid configuration");
    let log = Arc::new(Mutex::new(Log::default()));
    let events = Arc::clone(&log);
    cmd.subscribe(Topic::Events, move |n| {
        if let Notice::Event { event, at_ms, .. } = *n {
            events.lock().unwrap().events.push((event, at_ms));
        }
    });
    let transitions = Arc::clone(&log);
    cmd.subscribe(Topic::Transitions, move |n| {
        if let Notice::Transition { from, to, at_ms, .. } = *n {
            let mut log = transitions.lock().unwrap();
            let heard = log.events.len();
            log.transitions.push((from, to, at_ms, heard));
        }
    });
    let trace = std::env::var_os("HYSTRIX_FUZZ_TRACE").is_some();
    if trace {
        eprintln!("config {}", config.to_json());
    }
    let mut h = Harness {
        b,
        cmd,
        config,
        now: 0,
        calls: Vec::new(),
        dropped: [0; EventType::COUNT],
        max_limit: config.max_concurrent_requests,
        max_fallback_limit: config.fallback_max_concurrent_requests,
        log,
        transitions_seen: 0,
        state: CircuitState::Closed,
        window_from: 0,
        closed_from: 0,
        opened_at: 0,
        episode: 0,
        probes_admitted: 0,
        probes_succeeded: 0,
        samples: Vec::new(),
        trace,
    };
    while !h.b.is_empty() {
        h.step();
    }
    h.finish();
}

impl Harness<'_> {
    fn step(&mut self) {
        match self.b.below(16) {
            0 | 1 => {
                let by = self.b.below(32);
                self.advance(by);
            }
            2 => {
                let (n, shift) = (self.b.u8(), self.b.range(20, 60));
                let by = if n >= 250 { 1u64 << shift } else { u64::from(n) * 10 };
                self.advance(by);
            }
            3 | 4 => self.start(),
            5 | 6 => self.with_call(Harness::end_run),
            7 => self.with_call(Harness::stop_run),
            8 => self.with_call(Harness::end_fallback),
            9 => self.with_call(Harness::fire),
            10 => self.with_call(Harness::cancel),
            11 => self.with_call(Harness::stale_input),
            12 => self.reconfigure(),
            13 => self.patch(),
            14 => self.snapshot(),
            _ => self.with_call(Harness::drop_call),
        }
    }

    fn advance(&mut self, by: u64) {
        self.now = self.now.saturating_add(by);
        if self.trace {
            eprintln!("now {}", self.now);
        }
    }

    fn with_call(&mut self, op: fn(&mut Self, usize)) {
        if !self.calls.is_empty() {
            let i = self.b.below(self.calls.len() as u64) as usize;
            op(self, i);
        }
    }

    fn permits_held(&self) -> u64 {
        self.calls.iter().filter(|h| h.holds_permit()).count() as u64
    }

    fn fallbacks_running(&self) -> u64 {
        self.calls.iter().filter(|h| h.fallback == Fallback::Running).count() as u64
    }

    fn log_events(&self) -> usize {
        self.log.lock().unwrap().events.len()
    }

    fn start(&mut self) {
        if self.calls.len() >= MAX_CALLS {
            match self.calls.iter().position(|h| h.call.is_finished()) {
                Some(i) => self.drop_call(i),
                None => return,
            }
        }
        let policy = self.b.u8();
        let has_fallback = policy & 1 != 0;
        let held = self.permits_held();
        let logged = self.log_events();
        if self.trace {
            eprintln!("#{} start at {} (fallback: {has_fallback}; {held} permits held)", self.calls.len(), self.now);
        }
        // What the circuit must answer, where the model knows (SPEC §3.1,
        // §5): open, within its sleep window or not (past it: the probe of a
        // new episode); half-open, probes left or not (a probe if so);
        // closed, with health fresh.
        let c = self.config;
        let evaluates = c.circuit_breaker_enabled && !c.force_open && !c.force_closed;
        let state = self.state;
        let (must_short_circuit, probe) = match state {
            _ if !evaluates => (None, None),
            CircuitState::Open => {
                let sleeping = self.now < self.opened_at.saturating_add(c.sleep_window_ms);
                (Some(sleeping), (!sleeping).then_some(self.episode + 1))
            }
            CircuitState::HalfOpen if self.probes_succeeded < c.half_open_max_calls => {
                let full = self.probes_admitted >= c.half_open_max_calls;
                (Some(full), (!full).then_some(self.episode))
            }
            CircuitState::Closed if c.health_snapshot_interval_ms == 0 => (Some(self.trips()), None),
            _ => (None, None),
        };
        let call = Call::start(&self.cmd, self.now, has_fallback);
        let first = call.events().next();
        if let Some(short) = must_short_circuit {
            let model = (self.probes_admitted, self.probes_succeeded);
            assert_eq!(
                first == Some(EventType::ShortCircuited),
                short,
                "admission while {state:?} (probes admitted, succeeded: {model:?}) under {c:?}"
            );
        }
        let c = &self.config;
        if first == Some(EventType::SemaphoreRejected) {
            assert!(held >= c.max_concurrent_requests, "rejected with {held} permits held of {c:?}");
        }
        if !c.circuit_breaker_enabled || (c.force_closed && !c.force_open) {
            assert_ne!(first, Some(EventType::ShortCircuited), "short-circuited under {c:?}");
        } else if c.force_open {
            assert_eq!(first, Some(EventType::ShortCircuited), "forced open but not short-circuited");
        }
        self.calls.push(Host {
            call,
            has_fallback,
            stops_at_once: policy & 2 != 0,
            instant_fallback: policy & 4 != 0,
            instant_ok: policy & 8 != 0,
            probe,
            run: Run::NotInvoked,
            fallback: Fallback::NotInvoked,
            deadline: None,
            timer: None,
            outcome: None,
            fallback_ok: None,
            cancelled: false,
            settled: None,
        });
        let i = self.calls.len() - 1;
        self.drain(i);
        self.after_input(i, 0, logged);
        if probe.is_some() {
            // A probe the bulkhead refuses reopens the circuit (SPEC §5).
            if first == Some(EventType::SemaphoreRejected) {
                assert_eq!(self.state, CircuitState::Open, "a probe refused by the bulkhead reopens");
            } else {
                assert_eq!(self.state, CircuitState::HalfOpen);
                assert_eq!(probe, Some(self.episode));
                self.probes_admitted += 1;
            }
        }
    }

    /// Feeds `input` to call `i`, then does what it asks.
    fn feed(&mut self, i: usize, input: Input) {
        if self.trace {
            eprintln!("#{i} {input:?} at {}", self.now);
        }
        let before = self.calls[i].call.events().count();
        let logged = self.log_events();
        let live_probe = self.live_probe(i);
        self.calls[i].call.handle(self.now, input);
        self.drain(i);
        self.after_input(i, before, logged);
        if live_probe {
            let events = self.calls[i].events();
            self.probe_decides(&events[before..]);
        }
    }

    /// Whether call `i` is a probe of the half-open episode in progress.
    fn live_probe(&self, i: usize) -> bool {
        self.state == CircuitState::HalfOpen && self.calls[i].probe == Some(self.episode)
    }

    /// What a live probe's new events do to its episode (SPEC §5, §18.1):
    /// a success counts and closes the circuit once enough have; a failure,
    /// timeout or rejection reopens it; a bad request or a cancellation
    /// frees its slot.
    fn probe_decides(&mut self, events: &[EventType]) {
        let Some(&outcome) = events.first().filter(|e| e.is_execution()) else { return };
        let expected = match outcome {
            EventType::Success => {
                self.probes_succeeded += 1;
                if self.probes_succeeded >= self.config.half_open_max_calls {
                    CircuitState::Closed
                } else {
                    CircuitState::HalfOpen
                }
            }
            EventType::Failure | EventType::Timeout | EventType::SemaphoreRejected => CircuitState::Open,
            _ => {
                self.probes_admitted = self.probes_admitted.saturating_sub(1);
                CircuitState::HalfOpen
            }
        };
        assert_eq!(self.state, expected, "after a probe's {outcome:?} under {:?}", self.config);
    }

    /// Feeds an input that call `i` must ignore entirely.
    fn feed_ignored(&mut self, i: usize, input: Input) {
        if self.trace {
            eprintln!("#{i} {input:?} at {} (must be ignored)", self.now);
        }
        let events = self.calls[i].events();
        let logged = self.log_events();
        let finished = self.calls[i].call.is_finished();
        let call = &mut self.calls[i].call;
        call.handle(self.now, input);
        assert_eq!(call.poll_action(), None, "{input:?} must be ignored");
        assert_eq!(self.calls[i].events(), events, "{input:?} must record nothing");
        assert_eq!(self.log_events(), logged, "{input:?} must record nothing");
        assert_eq!(self.calls[i].call.is_finished(), finished);
        self.after_input(i, events.len(), logged);
    }

    /// Carries out every action call `i` has queued, as a host does.
    fn drain(&mut self, i: usize) {
        while let Some(action) = self.calls[i].call.poll_action() {
            if self.trace {
                eprintln!("  -> {action:?}");
            }
            match action {
                Action::SetTimer { timer, at } => {
                    let h = &mut self.calls[i];
                    assert!(h.timer.is_none(), "a second timer {timer:?} while {:?} is armed", h.timer);
                    assert!(h.run == Run::NotInvoked && h.settled.is_none(), "a timer armed after the run started");
                    h.timer = Some((timer, at));
                }
                Action::ClearTimer { timer } => {
                    let h = &mut self.calls[i];
                    assert_eq!(h.timer.map(|t| t.0), Some(timer), "cleared a timer that is not armed");
                    h.timer = None;
                }
                Action::InvokeAttempt { attempt } => {
                    assert_eq!(attempt, FIRST);
                    let held = self.permits_held();
                    let limit = self.config.max_concurrent_requests;
                    assert!(held < limit, "admitted with {held} permits held, limit {limit}");
                    let deadline =
                        if self.config.timeout_enabled { self.now.checked_add(self.config.timeout_ms) } else { None };
                    let h = &mut self.calls[i];
                    assert_eq!(h.run, Run::NotInvoked, "an attempt is invoked once");
                    assert!(h.settled.is_none() && h.fallback == Fallback::NotInvoked);
                    h.run = Run::Running;
                    h.deadline = deadline;
                    assert_eq!(h.timer.map(|t| t.1), deadline, "the timeout is armed before the run");
                }
                Action::AbortAttempt { attempt, reason } => {
                    assert_eq!(attempt, FIRST);
                    let now = self.now;
                    let h = &mut self.calls[i];
                    assert_eq!(h.run, Run::Running, "only a running attempt is aborted");
                    match reason {
                        ErrorKind::Timeout => {
                            assert!(h.deadline.is_some_and(|d| now >= d), "timed out at {now} before {:?}", h.deadline)
                        }
                        ErrorKind::Cancelled => assert!(h.cancelled, "aborted as cancelled without a cancel"),
                        other => panic!("abort for {other:?}"),
                    }
                    h.run = Run::Aborted;
                    if h.stops_at_once {
                        h.run = Run::Over;
                        h.call.handle(now, Input::AttemptStopped { attempt });
                    }
                }
                Action::InvokeFallback { original } => {
                    let running = self.fallbacks_running();
                    let c = self.config;
                    let now = self.now;
                    let h = &mut self.calls[i];
                    assert_eq!(h.fallback, Fallback::NotInvoked, "a fallback is invoked once");
                    assert!(h.settled.is_none(), "a fallback after settling");
                    assert!(h.has_fallback && c.fallback_enabled, "a fallback invoked under {c:?}");
                    assert!(running < c.fallback_max_concurrent_requests, "fallback admitted with {running} running");
                    let first = h.call.events().next().expect("a fallback follows an execution event");
                    assert_eq!(Some(original), original_of(first).map(|(_, o)| o), "{first:?} hands {original:?}");
                    h.fallback = Fallback::Running;
                    if h.instant_fallback {
                        let ok = h.instant_ok;
                        h.fallback = Fallback::Over;
                        h.fallback_ok = Some(ok);
                        h.call.handle(now, Input::FallbackEnded { ok });
                    }
                }
                Action::Settle(s) => {
                    if let Settlement::Error { kind: ErrorKind::FallbackRejected, .. } = s {
                        let running = self.fallbacks_running();
                        let limit = self.config.fallback_max_concurrent_requests;
                        assert!(running >= limit, "fallback rejected with {running} of {limit} slots taken");
                    }
                    let h = &mut self.calls[i];
                    assert!(h.settled.is_none(), "settled twice: {:?} then {s:?}", h.settled);
                    h.settled = Some(s);
                    check_settlement(h, s, &self.config);
                }
            }
        }
    }

    /// Checks after call `i` took an input: its state against the model,
    /// the notices the input caused against the events it added.
    fn after_input(&mut self, i: usize, events_before: usize, logged: usize) {
        let h = &self.calls[i];
        let events = h.events();
        assert!(events.len() <= 2, "more than two events: {events:?}");
        if let Some(first) = events.first() {
            assert!(first.is_execution(), "{events:?}");
        }
        if let Some(second) = events.get(1) {
            assert!(!second.is_execution(), "{events:?}");
        }
        assert_eq!(h.call.is_settled(), h.settled.is_some());
        let finished = h.settled.is_some() && !h.holds_permit() && h.fallback != Fallback::Running;
        assert_eq!(h.call.is_finished(), finished, "is_finished, host's view: {:?} {:?}", h.run, h.fallback);
        let expected_timeout = if h.run == Run::Running { h.deadline } else { None };
        assert_eq!(h.timer.map(|t| t.1), expected_timeout, "the timer armed with the run {:?}", h.run);
        let log = self.log.lock().unwrap();
        let new: Vec<EventType> = log.events[logged..].iter().map(|&(e, _)| e).collect();
        assert_eq!(new, events[events_before..], "the notices of an input are the events its call added");
        assert!(log.events[logged..].iter().all(|&(_, at)| at == self.now), "an event stamped other than now");
        drop(log);
        // A call records its latencies when it settles with a result of its
        // run or its fallback: at its SUCCESS, its BAD_REQUEST, or its
        // fallback event — never for a call its caller cancelled, not even
        // when a fallback that outlived the cancellation ends.
        let ends = |e: &EventType| matches!(e, EventType::Success | EventType::BadRequest) || !e.is_execution();
        let cancelled = matches!(h.settled, Some(Settlement::Error { kind: ErrorKind::Cancelled, .. }));
        if !cancelled && events[events_before..].iter().any(ends) {
            let ran = matches!(
                events[0],
                EventType::Success | EventType::Failure | EventType::Timeout | EventType::BadRequest
            );
            self.samples.push((self.now, ran));
        }
        let before = self.state;
        let counted = events[events_before..].iter().any(|e| e.counts_in_health());
        self.check_transitions();
        // An outcome counted in health is followed by the trip rule (SPEC
        // §5): a circuit still closed after one does not meet it.
        let c = self.config;
        let evaluates = c.circuit_breaker_enabled && !c.force_open && !c.force_closed;
        if counted && evaluates && c.health_snapshot_interval_ms == 0 && before == CircuitState::Closed {
            assert!(self.state != CircuitState::Closed || !self.trips(), "closed after an outcome, under {c:?}");
        }
    }

    /// Whether the trip rule holds on the health the model gives now.
    fn trips(&self) -> bool {
        let (_, total, errors) = self.window_model();
        let c = &self.config;
        let percentage = (errors * 100).checked_div(total).unwrap_or(0);
        total >= c.request_volume_threshold && percentage >= c.error_threshold_percentage
    }

    fn check_transitions(&mut self) {
        let log = self.log.lock().unwrap();
        for &(from, to, at, heard) in &log.transitions[self.transitions_seen..] {
            use CircuitState::*;
            assert_eq!(from, self.state, "a transition from {from:?} while {:?}", self.state);
            assert!(matches!((from, to), (Closed, Open) | (Open, HalfOpen) | (HalfOpen, Closed) | (HalfOpen, Open)));
            assert_eq!(at, self.now, "a transition stamped other than now");
            if self.trace {
                eprintln!("  transition {from:?} -> {to:?}");
            }
            self.state = to;
            match to {
                CircuitState::Closed => self.closed_from = heard,
                CircuitState::Open => self.opened_at = at,
                CircuitState::HalfOpen => {
                    self.episode += 1;
                    self.probes_admitted = 0;
                    self.probes_succeeded = 0;
                }
            }
        }
        self.transitions_seen = log.transitions.len();
    }

    fn end_run(&mut self, i: usize) {
        let outcome = [RunOutcome::Success, RunOutcome::Failure, RunOutcome::BadRequest][self.b.below(3) as usize];
        let input = Input::AttemptEnded { attempt: FIRST, outcome };
        let h = &mut self.calls[i];
        match h.run {
            Run::Running => h.outcome = Some(outcome),
            Run::Aborted => {}
            // A duplicate or stray end: ignored.
            Run::NotInvoked | Run::Over => return self.feed_ignored(i, input),
        }
        h.run = Run::Over;
        self.feed(i, input);
    }

    fn stop_run(&mut self, i: usize) {
        let h = &mut self.calls[i];
        let input = Input::AttemptStopped { attempt: FIRST };
        if h.run != Run::Aborted {
            // A run that was not aborted must report how it ended.
            return self.feed_ignored(i, input);
        }
        h.run = Run::Over;
        self.feed(i, input);
    }

    fn end_fallback(&mut self, i: usize) {
        let ok = self.b.bit();
        let h = &mut self.calls[i];
        let input = Input::FallbackEnded { ok };
        if h.fallback != Fallback::Running {
            return self.feed_ignored(i, input);
        }
        h.fallback = Fallback::Over;
        h.fallback_ok = Some(ok);
        self.feed(i, input);
    }

    fn fire(&mut self, i: usize) {
        let late = self.b.below(3);
        match self.calls[i].timer.take() {
            Some((timer, due)) => {
                self.now = self.now.max(due).saturating_add(late);
                self.feed(i, Input::TimerFired { timer });
            }
            None => self.feed_ignored(i, Input::TimerFired { timer: CallTimer(u64::MAX) }),
        }
    }

    fn cancel(&mut self, i: usize) {
        let h = &mut self.calls[i];
        if h.settled.is_some() {
            // Cancelling a settled call has no effect at all (semantics §18.1).
            return self.feed_ignored(i, Input::Cancel);
        }
        h.cancelled = true;
        self.feed(i, Input::Cancel);
    }

    /// An input call `i` must ignore: another attempt's end or stop, a stop
    /// of a run that was not aborted, an end of a fallback not running, an
    /// wake-up of a timer it never armed.
    fn stale_input(&mut self, i: usize) {
        let other = AttemptId(2 + u32::from(self.b.u8()));
        let h = &self.calls[i];
        let input = match self.b.below(5) {
            0 => Input::AttemptEnded { attempt: other, outcome: RunOutcome::Success },
            1 => Input::AttemptStopped { attempt: other },
            2 if h.run != Run::Aborted => Input::AttemptStopped { attempt: FIRST },
            3 if h.fallback != Fallback::Running => Input::FallbackEnded { ok: true },
            // A timer the call never armed (or already cleared).
            4 if h.timer.is_none() => Input::TimerFired { timer: CallTimer(u64::MAX) },
            _ => Input::AttemptEnded { attempt: AttemptId(0), outcome: RunOutcome::Failure },
        };
        self.feed_ignored(i, input);
    }

    fn reconfigure(&mut self) {
        let config = small_config(&mut self.b);
        if self.trace {
            eprintln!("set_config {}", config.to_json());
        }
        let logged = self.log_events();
        self.cmd.set_config(config).expect("a valid configuration is accepted");
        assert_eq!(self.log_events(), logged, "reconfiguring records nothing");
        self.adopt(config);
    }

    /// A JSON patch of some keys of a random configuration: accepted unless
    /// it breaks the divisibility rule with the keys it leaves alone.
    fn patch(&mut self) {
        let target = small_config(&mut self.b);
        let full: Value = serde_json::from_str(&target.to_json()).unwrap();
        let mut patch = Map::new();
        for key in Config::keys() {
            if self.b.one_in(3) {
                patch.insert(key.to_string(), full[key].clone());
            }
        }
        let patch = Value::Object(patch);
        if self.trace {
            eprintln!("configure_json {patch}");
        }
        let before = self.cmd.config();
        assert_eq!(before, self.config);
        match self.cmd.configure_json(&patch) {
            Ok(config) => {
                assert_eq!(self.cmd.config(), config);
                let now: Value = serde_json::from_str(&config.to_json()).unwrap();
                for (key, value) in patch.as_object().unwrap() {
                    assert_eq!(&now[key], value, "patched {key}");
                }
                self.adopt(config);
            }
            Err(e) => {
                assert_eq!(e.key(), "rolling_window_ms", "{e}");
                assert_eq!(self.cmd.config(), before, "a refused patch changes nothing");
            }
        }
    }

    fn adopt(&mut self, config: Config) {
        let shape = |c: &Config| (c.bucket_ms(), c.rolling_window_buckets);
        if shape(&config) != shape(&self.config) {
            self.window_from = self.log_events();
        }
        self.config = config;
        self.max_limit = self.max_limit.max(config.max_concurrent_requests);
        self.max_fallback_limit = self.max_fallback_limit.max(config.fallback_max_concurrent_requests);
    }

    fn drop_call(&mut self, i: usize) {
        if self.live_probe(i) && self.calls[i].run == Run::Running {
            // An abandoned probe frees its slot without deciding.
            self.probes_admitted = self.probes_admitted.saturating_sub(1);
        }
        let h = self.calls.remove(i);
        if self.trace {
            eprintln!("#{i} dropped (run {:?}, fallback {:?}, settled {:?})", h.run, h.fallback, h.settled);
        }
        for e in h.call.events() {
            self.dropped[e.index()] += 1;
        }
        let logged = self.log_events();
        drop(h);
        assert_eq!(self.log_events(), logged, "dropping a call records nothing");
    }

    fn expected_cumulative(&self) -> [u64; EventType::COUNT] {
        let mut counts = self.dropped;
        for e in self.calls.iter().flat_map(|h| h.call.events()) {
            counts[e.index()] += 1;
        }
        counts
    }

    /// The rolling counts (SPEC §4) and health counts (§5, as recomputed
    /// now) the events heard give at `now`.
    fn window_model(&self) -> ([u64; EventType::COUNT], u64, u64) {
        // As the ring does: bucket `floor(t / b)`, the last index two short
        // of `u64::MAX` (its two tags).
        let b = self.config.bucket_ms();
        let index = |t: u64| (t / b).min(u64::MAX - 2);
        let current = index(self.now);
        let oldest = current.saturating_add(1).saturating_sub(self.config.rolling_window_buckets);
        let (mut rolling, mut total, mut errors) = ([0; EventType::COUNT], 0, 0);
        let log = self.log.lock().unwrap();
        for (n, &(e, at)) in log.events.iter().enumerate().skip(self.window_from) {
            if (oldest..=current).contains(&index(at)) {
                rolling[e.index()] += 1;
                if n >= self.closed_from && e.counts_in_health() {
                    total += 1;
                    errors += u64::from(e.is_health_error());
                }
            }
        }
        (rolling, total, errors)
    }

    fn snapshot(&mut self) {
        let logged = self.log_events();
        let state_before = self.state;
        let snap = self.cmd.snapshot_at(self.now);
        if self.trace {
            eprintln!("snapshot {}", snap.to_json());
        }
        self.check_transitions();
        let (rolling, total, errors) = self.window_model();
        assert_eq!(snap.rolling.0, rolling, "rolling counts against the events heard in the window");
        let c = self.config;
        let evaluates = c.circuit_breaker_enabled && !c.force_open && !c.force_closed;
        if c.health_snapshot_interval_ms == 0 {
            // Recomputed for this snapshot: exact, and the trip rule applied.
            assert_eq!((snap.health.total, snap.health.errors), (total, errors), "health counts");
            if evaluates && state_before == CircuitState::Closed {
                let expected = if self.trips() { CircuitState::Open } else { CircuitState::Closed };
                assert_eq!(self.state, expected, "the trip rule on health {total}/{errors} under {c:?}");
            }
        }
        assert_eq!(self.log_events(), logged, "a snapshot records nothing");
        assert_eq!(self.cmd.config(), self.config);
        assert_eq!(u64::from(snap.concurrent), self.permits_held(), "run permits held");
        assert_eq!(u64::from(snap.fallback_concurrent), self.fallbacks_running(), "fallback slots held");
        assert!(u64::from(snap.concurrent) <= self.max_limit);
        assert!(u64::from(snap.fallback_concurrent) <= self.max_fallback_limit);
        assert!(u64::from(snap.rolling_max_concurrent) <= self.max_limit);
        let expected = self.expected_cumulative();
        assert_eq!(snap.cumulative.0, expected, "cumulative counts against the calls' events");
        let mut heard = [0; EventType::COUNT];
        for &(e, _) in &self.log.lock().unwrap().events {
            heard[e.index()] += 1;
        }
        assert_eq!(heard, expected, "notices against the calls' events");
        for e in EventType::ALL {
            assert!(snap.rolling.get(e) <= snap.cumulative.get(e), "rolling {e} above cumulative");
        }
        let health = snap.health;
        assert!(health.errors <= health.total);
        assert_eq!(health.error_percentage, (health.errors * 100).checked_div(health.total).unwrap_or(0));
        let state = if !c.circuit_breaker_enabled {
            CircuitState::Closed
        } else if c.force_open {
            CircuitState::Open
        } else if c.force_closed {
            CircuitState::Closed
        } else {
            self.state
        };
        assert_eq!(snap.state, state, "the state the transitions lead to");
        let bucket = PERCENTILE_WINDOW_MS / PERCENTILE_BUCKETS;
        let current = (self.now / bucket).min(u64::MAX - 2);
        let oldest = current.saturating_add(1).saturating_sub(PERCENTILE_BUCKETS);
        let live = |&&(at, _): &&(u64, bool)| (oldest..=current).contains(&(at / bucket).min(u64::MAX - 2));
        let total = self.samples.iter().filter(live).count() as u64;
        let ran = self.samples.iter().filter(live).filter(|(_, ran)| *ran).count() as u64;
        assert_eq!((snap.latency_total.count, snap.latency_run.count), (total, ran), "latency samples in the window");
        for p in [snap.latency_run, snap.latency_total] {
            let ordered = [p.p0, p.p25, p.p50, p.p75, p.p90, p.p95, p.p99, p.p99_5, p.p100];
            assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "percentiles out of order: {p:?}");
        }
    }

    /// Finishes every outstanding run and fallback, checks each call
    /// settled exactly once and is finished, then drops them all.
    fn finish(&mut self) {
        if self.trace {
            eprintln!("finish at {}", self.now);
        }
        for i in 0..self.calls.len() {
            loop {
                let h = &self.calls[i];
                if h.run == Run::Aborted && self.b.bit() {
                    self.stop_run(i);
                } else if h.holds_permit() {
                    self.end_run(i);
                } else if h.fallback == Fallback::Running {
                    self.end_fallback(i);
                } else {
                    break;
                }
            }
            let h = &self.calls[i];
            assert!(h.settled.is_some(), "a call whose runs and fallback all ended never settled");
            assert!(h.call.is_finished());
        }
        self.snapshot();
        while !self.calls.is_empty() {
            self.drop_call(self.calls.len() - 1);
        }
        self.snapshot();
        let snap = self.cmd.snapshot_at(self.now);
        assert_eq!((snap.concurrent, snap.fallback_concurrent), (0, 0), "permits left once every call is gone");
        // Once per input (serialising every snapshot halves the fuzzer's speed).
        let _ = snap.to_json();
    }
}

/// The error kind and original error an execution event stands for, if it
/// leads to a fallback.
fn original_of(event: EventType) -> Option<(ErrorKind, Original)> {
    Some(match event {
        EventType::Failure => (ErrorKind::Failure, Original::Attempt(FIRST)),
        EventType::Timeout => (ErrorKind::Timeout, Original::Kind(ErrorKind::Timeout)),
        EventType::ShortCircuited => (ErrorKind::ShortCircuited, Original::Kind(ErrorKind::ShortCircuited)),
        EventType::SemaphoreRejected => (ErrorKind::Rejected, Original::Kind(ErrorKind::Rejected)),
        _ => return None,
    })
}

/// A settlement against the call's events (at the moment it settles) and
/// what the host reported to it.
fn check_settlement(h: &Host, s: Settlement, c: &Config) {
    let events = h.events();
    let ctx = || format!("{s:?} with events {events:?}");
    match s {
        Settlement::Attempt(a) => {
            assert_eq!(a, FIRST);
            assert_eq!(events, [EventType::Success], "{}", ctx());
            assert_eq!(h.outcome, Some(RunOutcome::Success), "{}", ctx());
        }
        Settlement::Fallback => {
            assert_eq!(events.get(1), Some(&EventType::FallbackSuccess), "{}", ctx());
            assert_eq!(h.fallback_ok, Some(true), "{}", ctx());
        }
        Settlement::Error { kind: ErrorKind::Cancelled, original } => {
            assert!(h.cancelled, "{}", ctx());
            assert_eq!(original, None);
            let in_fallback = h.fallback == Fallback::Running
                && events.len() == 1
                && original_of(events[0]).is_some()
                && !events.contains(&EventType::Cancelled);
            assert!(events == [EventType::Cancelled] || in_fallback, "{}", ctx());
        }
        Settlement::Error { kind: ErrorKind::BadRequest, original } => {
            assert_eq!(original, Some(Original::Attempt(FIRST)));
            assert_eq!(events, [EventType::BadRequest], "{}", ctx());
            assert_eq!(h.outcome, Some(RunOutcome::BadRequest), "{}", ctx());
        }
        Settlement::Error { kind, original } => {
            assert_eq!(events.len(), 2, "{}", ctx());
            let (cause, from) = original_of(events[0]).unwrap_or_else(|| panic!("{}", ctx()));
            assert_eq!(original, Some(from), "{}", ctx());
            match kind {
                ErrorKind::FallbackRejected => assert_eq!(events[1], EventType::FallbackRejection, "{}", ctx()),
                ErrorKind::FallbackFailure => {
                    assert_eq!(events[1], EventType::FallbackFailure, "{}", ctx());
                    assert_eq!(h.fallback_ok, Some(false), "{}", ctx());
                }
                _ => {
                    assert_eq!(kind, cause, "{}", ctx());
                    match events[1] {
                        EventType::FallbackDisabled => assert!(!c.fallback_enabled, "{}", ctx()),
                        EventType::FallbackMissing => {
                            assert!(c.fallback_enabled && !h.has_fallback, "{}", ctx())
                        }
                        _ => panic!("{}", ctx()),
                    }
                }
            }
        }
    }
}
