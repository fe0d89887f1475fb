//! `hystrix_command_queue` and `hystrix_complete`: the seed's `Queue`. The
//! run and the fallback are started with a completion handle that the
//! program completes from any thread, now or later; timeouts fire on the
//! command's clock and are signalled with the `cancel` callback.
//!
//! Each call is the core's sans-IO `Call`, driven here: its inputs come
//! from `hystrix_complete`, the clock's timers and `hystrix_call_cancel`,
//! and its actions become the program's callbacks. A call may make several
//! attempts (retries, hedges: SPEC v2): each run gets a completion handle
//! of its own, several may be open at once, and the call's timers (run
//! timeouts, backoffs, hedge delays, rate-limit waits) are host timers on
//! the command's clock, kept in a table per call.
//!
//! Completion handles are numbers, not pointers: completing an unknown or
//! already completed handle is refused with `HYSTRIX_INVALID_STATE`, never
//! a crash. So are call handles (`hystrix_call_cancel`, semantics §18),
//! from a space of their own (their top bit set), so that neither kind of
//! handle is ever taken for the other.

use crate::clock::ClockInner;
use crate::command::{command_ref, hystrix_command, hystrix_event};
use crate::shutdown::Alive;
use crate::status::{boundary, hystrix_status, write_out, Fail};
use crate::user_data::{hystrix_free_fn, UserData, Value};
use hystrix_core::{
    Action, AttemptId, Call, CallTimer, Clock, ErrorKind, EventType, Input, Original, RunOutcome, Settlement, TimerId,
};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// Starts a run: the program does its work and, from any thread, calls
/// `hystrix_complete(completion, status, value)` exactly once. A call with
/// retries or hedging may start several runs, each with its own
/// completion handle (`hystrix_completion_attempt` tells which attempt);
/// with hedging several may be going at once.
pub type hystrix_async_run_fn = Option<extern "C" fn(user_data: *mut c_void, completion: u64)>;

/// Tells the run of `completion` to stop: its timeout fired, the caller
/// cancelled the call (`hystrix_call_cancel`), or another attempt of the
/// call won (hedging). The run's completion handle stays valid:
/// the program must still complete it once the work has really stopped
/// (its bulkhead permit is held until then).
pub type hystrix_cancel_fn = Option<extern "C" fn(user_data: *mut c_void, completion: u64)>;

/// Starts the fallback, told why (`cause`); the program completes
/// `completion` exactly once with `HYSTRIX_OK` and a value, or a failure.
pub type hystrix_async_fallback_fn =
    Option<extern "C" fn(user_data: *mut c_void, cause: hystrix_status, completion: u64)>;

/// Receives the call's result exactly once: `HYSTRIX_OK` with the run's or
/// the fallback's value, or an error status with `value` NULL.
pub type hystrix_done_fn = Option<extern "C" fn(user_data: *mut c_void, status: hystrix_status, value: *mut c_void)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Run(AttemptId),
    Fallback,
}

/// Completion handles not yet completed, and what each completes.
type Pending = HashMap<u64, (Arc<AsyncCall>, Part)>;

/// Handles not yet completed.
fn completions() -> MutexGuard<'static, Pending> {
    static MAP: OnceLock<Mutex<Pending>> = OnceLock::new();
    MAP.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Calls whose handle is known (`hystrix_call_cancel`,
/// `hystrix_call_events`): those queued with a call handle, until their
/// `done` has returned.
type Calls = HashMap<u64, Arc<AsyncCall>>;

fn calls() -> MutexGuard<'static, Calls> {
    static MAP: OnceLock<Mutex<Calls>> = OnceLock::new();
    MAP.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// The bit every call handle has, and no completion handle.
const CALL_TAG: u64 = 1 << 63;

/// The number in the next call handle to give out (from 1).
static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

/// Whether `call` is a handle `hystrix_command_queue` gave out.
fn given_out(call: u64) -> bool {
    let n = call & !CALL_TAG;
    call & CALL_TAG != 0 && n != 0 && n < NEXT_CALL.load(Ordering::Relaxed)
}

/// Frees the tables' memory if no handle is pending (`hystrix_shutdown`).
pub(crate) fn release_completions() {
    let mut map = completions();
    if map.is_empty() {
        *map = Pending::new();
    }
    let mut known = calls();
    if known.is_empty() {
        *known = Calls::new();
    }
}

fn register(call: &Arc<AsyncCall>, part: Part) -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    completions().insert(id, (call.clone(), part));
    id
}

struct Callbacks {
    run: extern "C" fn(*mut c_void, u64),
    cancel: hystrix_cancel_fn,
    fallback: hystrix_async_fallback_fn,
    done: extern "C" fn(*mut c_void, hystrix_status, *mut c_void),
}

/// A host timer armed for one of the call's timers.
#[derive(Clone, Copy)]
struct Armed {
    timer: CallTimer,
    id: TimerId,
    /// Which arming this is, so a host timer that fires after its call
    /// timer was cleared or armed again is recognised.
    seq: u64,
}

struct CallState {
    call: Call,
    /// The call's timers armed on the clock (`Action::SetTimer`), until
    /// they fire or are cleared.
    timers: Vec<Armed>,
    timers_armed: u64,
    /// The latest time fed to the call: inputs from different threads
    /// never take it back.
    now: u64,
    /// A thread is carrying out the call's actions (see `drive`).
    driving: bool,
    /// `hystrix_call_cancel` was called while a callback of the call was
    /// running: the cancellation is fed once the callbacks in progress
    /// are done (semantics §18.1: it is a reaction of its own).
    cancel_requested: bool,
    /// The runs' completion handles not completed yet, by attempt (several
    /// when hedging).
    runs_open: Vec<(AttemptId, u64)>,
    /// The values of runs that ended with `SUCCESS`, by attempt: the
    /// winner's goes to `done`.
    run_values: Vec<(AttemptId, Value)>,
    fallback_value: Value,
    /// The call's events as they were when it settled
    /// (`hystrix_call_events`), kept for calls with a handle.
    settled_events: Option<Vec<EventType>>,
    /// When the call started (a timeout at or past `deadline_ms` from here
    /// is the deadline's, and its message names `deadline_ms`).
    started_at: u64,
}

/// One queued call: the core's sans-IO `Call` plus the program's callbacks.
///
/// Fields drop in this order: the call (and with it the command) and the
/// clock first, then the call stops counting as alive (`hystrix_shutdown`),
/// and only then does the program's finalizer run. So a program that waits
/// for `free_user_data` and then calls `hystrix_shutdown` finds nothing of
/// the call left.
struct AsyncCall {
    /// Its call handle, 0 if it was queued without one.
    id: u64,
    state: Mutex<CallState>,
    clock: Arc<ClockInner>,
    cb: Callbacks,
    _alive: Alive,
    user: UserData,
}

/// A held call state; on drop it unlocks first, then (through `Depth`)
/// delivers the notices deferred meanwhile.
struct Locked<'a> {
    guard: Option<MutexGuard<'a, CallState>>,
    _depth: crate::deferred::Depth,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.guard.take();
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = CallState;
    fn deref(&self) -> &CallState {
        self.guard.as_ref().expect("held until drop")
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut CallState {
        self.guard.as_mut().expect("held until drop")
    }
}

/// What a callback the driver is about to run needs, read under the lock.
enum Callback {
    Run(u64),
    Cancel(u64),
    Fallback(hystrix_status, u64),
    Done(hystrix_status, *mut c_void),
}

/// The "still yours" error of a completion for an attempt that was
/// aborted (`outcome` `TIMEOUT` or `CANCELLED`).
fn aborted(outcome: EventType) -> Fail {
    let (status, why) = match outcome {
        EventType::Cancelled => (hystrix_status::HYSTRIX_CANCELLED, "been cancelled"),
        _ => (hystrix_status::HYSTRIX_TIMEOUT, "timed out"),
    };
    Fail::new(status, format!("the run had {why}: its permit is released and its value discarded (still yours)"))
}

impl AsyncCall {
    /// The call's state. While it is held, listener notices are deferred
    /// (see `crate::deferred`) so that a listener may call back into this
    /// very call without deadlocking.
    fn lock(&self) -> Locked<'_> {
        let depth = crate::deferred::enter();
        Locked { guard: Some(self.state.lock().unwrap_or_else(|p| p.into_inner())), _depth: depth }
    }

    /// Feeds one input at `now`; its actions are left to `drive`.
    fn feed(st: &mut CallState, now: u64, input: Input) {
        st.now = st.now.max(now);
        st.call.handle(st.now, input);
    }

    /// `Action::SetTimer`: arms a host timer on the command's clock (one
    /// armed before for the same call timer is replaced).
    fn set_timer(self: &Arc<Self>, st: &mut CallState, timer: CallTimer, due: u64) {
        self.clear_timer(st, timer);
        st.timers_armed += 1;
        let seq = st.timers_armed;
        let weak: Weak<AsyncCall> = Arc::downgrade(self);
        let id = self.clock.arm(
            due,
            Box::new(move || {
                if let Some(call) = weak.upgrade() {
                    call.on_timer(timer, seq);
                }
            }),
        );
        st.timers.push(Armed { timer, id, seq });
    }

    /// `Action::ClearTimer`: disarms the host timer, if still armed.
    fn clear_timer(&self, st: &mut CallState, timer: CallTimer) {
        if let Some(i) = st.timers.iter().position(|a| a.timer == timer) {
            let armed = st.timers.swap_remove(i);
            self.clock.cancel(armed.id);
        }
    }

    /// A host timer fired (on whatever thread fires the clock's timers).
    fn on_timer(self: &Arc<Self>, timer: CallTimer, seq: u64) {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        let Some(i) = st.timers.iter().position(|a| a.timer == timer && a.seq == seq) else {
            return; // cleared or armed again meanwhile
        };
        st.timers.swap_remove(i);
        Self::feed(&mut st, now, Input::TimerFired { timer });
        self.drive(st);
    }

    /// Carries out the call's actions in order, one at a time. Timers are
    /// armed and cleared inline, under the lock (so a run's timeout is
    /// armed before its run starts); the program's callbacks run with no
    /// lock held. One thread drives a call at a time: an input fed by
    /// another thread meanwhile (a completion, a timer) leaves its actions
    /// to the driving thread, which carries them out once the callback it
    /// is running returns. So the callbacks of one call never overlap and
    /// keep their order (a run before its `cancel`, `cancel` before the
    /// fallback or `done`).
    fn drive<'a>(self: &'a Arc<Self>, mut st: Locked<'a>) {
        if st.driving {
            return;
        }
        st.driving = true;
        loop {
            let Some(action) = st.call.poll_action() else {
                if st.cancel_requested {
                    st.cancel_requested = false;
                    drop(st);
                    let now = self.clock.now_ms();
                    st = self.lock();
                    Self::feed(&mut st, now, Input::Cancel);
                    continue;
                }
                st.driving = false;
                return;
            };
            let callback = match action {
                Action::SetTimer { timer, at } => {
                    self.set_timer(&mut st, timer, at);
                    continue;
                }
                Action::ClearTimer { timer } => {
                    self.clear_timer(&mut st, timer);
                    continue;
                }
                Action::InvokeAttempt { attempt } => {
                    // The handle exists before the run starts (a timer
                    // thread may fire the timeout at once).
                    let handle = register(self, Part::Run(attempt));
                    st.runs_open.push((attempt, handle));
                    Callback::Run(handle)
                }
                Action::AbortAttempt { attempt, .. } => {
                    let open = st.runs_open.iter().find(|(a, _)| *a == attempt).map(|(_, h)| *h);
                    match (open, self.cb.cancel) {
                        // A run already completed (from another thread, or
                        // its own callback) is not told to stop.
                        (Some(handle), Some(_)) => Callback::Cancel(handle),
                        _ => continue,
                    }
                }
                Action::InvokeFallback { original } => {
                    let cause = match original {
                        Original::Attempt(_) => hystrix_status::HYSTRIX_FAILURE,
                        Original::Kind(kind) => hystrix_status::from_kind(kind),
                    };
                    Callback::Fallback(cause, register(self, Part::Fallback))
                }
                Action::Settle(settlement) => {
                    if self.id != 0 {
                        st.settled_events = Some(st.call.events().collect());
                    }
                    let values = std::mem::take(&mut st.run_values);
                    match settlement {
                        Settlement::Attempt(winner) => {
                            let value = values.iter().find(|(a, _)| *a == winner).map(|(_, v)| v.0);
                            Callback::Done(hystrix_status::HYSTRIX_OK, value.unwrap_or(std::ptr::null_mut()))
                        }
                        Settlement::Fallback => Callback::Done(hystrix_status::HYSTRIX_OK, st.fallback_value.0),
                        Settlement::Error { kind, original } => {
                            let cmd = st.call.command();
                            let ctx = match (kind, original) {
                                (
                                    ErrorKind::FallbackRejected | ErrorKind::FallbackFailure | ErrorKind::Cancelled,
                                    _,
                                ) => cmd.context(kind),
                                (_, Some(Original::Kind(ErrorKind::Timeout))) => {
                                    cmd.timeout_context(st.now.saturating_sub(st.started_at))
                                }
                                (_, Some(Original::Kind(k))) => cmd.context(k),
                                _ => cmd.context(kind),
                            };
                            // What `hystrix_last_error_message` says inside `done`.
                            crate::status::set_last_error(ctx.to_string());
                            Callback::Done(hystrix_status::from_kind(kind), std::ptr::null_mut())
                        }
                    }
                }
            };
            drop(st);
            let user = self.user.ptr();
            match callback {
                Callback::Run(handle) => (self.cb.run)(user, handle),
                Callback::Cancel(handle) => {
                    if let Some(cancel) = self.cb.cancel {
                        cancel(user, handle);
                    }
                }
                Callback::Fallback(cause, handle) => {
                    let fallback = self.cb.fallback.expect("a fallback action implies a fallback");
                    fallback(user, cause, handle);
                }
                Callback::Done(status, value) => {
                    (self.cb.done)(user, status, value);
                    // Its handle is known (cancel, events) until `done` has
                    // returned.
                    if self.id != 0 {
                        calls().remove(&self.id);
                    }
                }
            }
            st = self.lock();
        }
    }

    fn complete_run(self: &Arc<Self>, attempt: AttemptId, status: i32, value: *mut c_void) -> Result<(), Fail> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        st.runs_open.retain(|(a, _)| *a != attempt);
        // An attempt with an outcome already was aborted (it timed out, or
        // was cancelled: by the caller, or by another attempt's win), even
        // if the driving thread has not told its run yet: this completion
        // is its stop, and gives its permit back.
        if let Some(outcome) = st.call.attempt_outcome(attempt) {
            Self::feed(&mut st, now, Input::AttemptStopped { attempt });
            self.drive(st);
            return Err(aborted(outcome));
        }
        let outcome = match hystrix_status::from_i32(status) {
            Some(hystrix_status::HYSTRIX_OK) => RunOutcome::Success,
            Some(hystrix_status::HYSTRIX_BAD_REQUEST) => RunOutcome::BadRequest,
            _ => RunOutcome::Failure,
        };
        Self::feed(&mut st, now, Input::AttemptEnded { attempt, outcome });
        // A run that ends at or after its deadline is a timeout even if
        // its timer has not fired yet (a late event loop): the core judges
        // it so (issue 11.7), and its value is then not used.
        let recorded = st.call.attempt_outcome(attempt);
        let late = recorded == Some(EventType::Timeout);
        if outcome == RunOutcome::Success && !late {
            // Before anyone can drive the `Settle` that may hand it out.
            st.run_values.push((attempt, Value(value)));
        }
        self.drive(st);
        if late {
            return Err(Fail::new(
                hystrix_status::HYSTRIX_TIMEOUT,
                "the run ended at or after its deadline: it timed out, its value is discarded (still yours)",
            ));
        }
        Ok(())
    }

    fn complete_fallback(self: &Arc<Self>, status: i32, value: *mut c_void) -> Result<(), Fail> {
        let now = self.clock.now_ms();
        let ok = status == hystrix_status::HYSTRIX_OK as i32;
        let mut st = self.lock();
        // Only a cancellation settles a call before its fallback ends.
        let cancelled = st.call.is_settled();
        if ok && !cancelled {
            st.fallback_value = Value(value);
        }
        Self::feed(&mut st, now, Input::FallbackEnded { ok });
        self.drive(st);
        if cancelled {
            return Err(Fail::new(
                hystrix_status::HYSTRIX_CANCELLED,
                "the call was cancelled while its fallback ran: its outcome is recorded, its value discarded \
                 (still yours)",
            ));
        }
        Ok(())
    }

    /// `hystrix_call_cancel`: cancels now, or once the callbacks in
    /// progress are done.
    fn cancel(self: &Arc<Self>) -> Result<(), Fail> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        if st.call.is_settled() || st.cancel_requested {
            return Err(Fail::state(format!("call {} has already settled or been cancelled", self.id)));
        }
        if st.driving {
            st.cancel_requested = true;
            return Ok(());
        }
        Self::feed(&mut st, now, Input::Cancel);
        self.drive(st);
        Ok(())
    }

    /// The call's events: as they were when it settled, or so far.
    fn events(&self) -> Vec<EventType> {
        let st = self.lock();
        match &st.settled_events {
            Some(events) => events.clone(),
            None => st.call.events().collect(),
        }
    }
}

impl Drop for AsyncCall {
    fn drop(&mut self) {
        // Disarms the timers still armed (a cleared timer the call no
        // longer needs, or an abandoned call). Dropping the core's call
        // then gives back whatever an abandoned call still holds.
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        for armed in st.timers.drain(..) {
            self.clock.cancel(armed.id);
        }
    }
}

/// Starts a call: admission now; then, on the calling thread, `run` (or the
/// fallback, or `done`) is invoked — `done` may therefore run before this
/// function returns. `cancel` and `fallback` may be NULL; `run` and `done`
/// may not. `free_user_data`, if not NULL, is called once every callback
/// of this call has run and every handle has been completed.
///
/// `out_call`, if not NULL, receives the call's handle for
/// `hystrix_call_cancel` (never 0). It is written before any callback of
/// the call runs, so `out_call` may point into `user_data` for the
/// callbacks to read; it names the call for `hystrix_call_events` too,
/// until its `done` has returned. With NULL the call cannot be cancelled
/// nor its events read.
///
/// Ownership: values passed to `hystrix_complete` stay the program's; the
/// library hands the chosen one to `done` and never frees any. A handle
/// never completed keeps its permit (and the call) forever.
/// Returns `HYSTRIX_OK` once the call is started (its outcome goes to `done`).
#[no_mangle]
#[allow(clippy::too_many_arguments)] // the callbacks and their user data, as in every C API
pub extern "C" fn hystrix_command_queue(
    cmd: *const hystrix_command,
    run: hystrix_async_run_fn,
    cancel: hystrix_cancel_fn,
    fallback: hystrix_async_fallback_fn,
    done: hystrix_done_fn,
    user_data: *mut c_void,
    free_user_data: hystrix_free_fn,
    out_call: *mut u64,
) -> hystrix_status {
    boundary("hystrix_command_queue", || {
        let c = command_ref(cmd)?;
        // The call's own references, taken before anything can run a
        // listener (admission may), which may free the handle.
        let (command, clock) = (c.cmd.clone(), c.clock.clone());
        let Some(run) = run else { return Err(Fail::null("run")) };
        let Some(done) = done else { return Err(Fail::null("done")) };
        let id = if out_call.is_null() { 0 } else { CALL_TAG | NEXT_CALL.fetch_add(1, Ordering::Relaxed) };
        let now = clock.now_ms();
        let call = Arc::new(AsyncCall {
            id,
            state: Mutex::new(CallState {
                call: Call::start(&command, now, fallback.is_some()),
                timers: Vec::new(),
                timers_armed: 0,
                now,
                driving: false,
                cancel_requested: false,
                runs_open: Vec::new(),
                run_values: Vec::new(),
                fallback_value: Value(std::ptr::null_mut()),
                settled_events: None,
                started_at: now,
            }),
            clock,
            cb: Callbacks { run, cancel, fallback, done },
            _alive: Alive::new(),
            user: UserData::new(user_data, free_user_data),
        });
        if id != 0 {
            calls().insert(id, call.clone());
            write_out(out_call, id);
        }
        let st = call.lock();
        call.drive(st);
        Ok(())
    })
}

/// Cancels a call queued by `hystrix_command_queue` (semantics §18), from
/// any thread: `call` is the handle it wrote to `out_call`. The call
/// settles at once with `HYSTRIX_CANCELLED` (`done` runs on the calling
/// thread before this returns); each run in flight is told to stop (its
/// `cancel` callback, right before `done`) and keeps its bulkhead permit
/// until its completion handle is completed, which then returns
/// `HYSTRIX_CANCELLED`. A call waiting (a retry's backoff, the rate
/// limiter) makes no further attempt. No fallback is started. A fallback already running
/// is not stopped: the call still settles with `HYSTRIX_CANCELLED` now,
/// and completing the fallback later records its outcome (and returns
/// `HYSTRIX_CANCELLED`, its value unused).
///
/// Asked while one of the call's callbacks is running (from inside it, or
/// on another thread), the cancellation waits until that callback has
/// returned, and the callbacks that follow it run on its thread; if they
/// settle the call first, the cancellation does nothing.
///
/// Returns `HYSTRIX_OK` if the call was cancelled (or will be, as above);
/// `HYSTRIX_INVALID_STATE` if it had already settled or been cancelled
/// (nothing changes); `HYSTRIX_INVALID_ARGUMENT` if `call` is not a call
/// handle `hystrix_command_queue` gave out (0, a completion handle...).
#[no_mangle]
pub extern "C" fn hystrix_call_cancel(call: u64) -> hystrix_status {
    boundary("hystrix_call_cancel", || {
        let entry = calls().get(&call).cloned();
        match entry {
            Some(c) => c.cancel(),
            None if given_out(call) => Err(Fail::state(format!("call {call} has already settled or been cancelled"))),
            None => Err(Fail::invalid(format!("{call} is not a call handle from hystrix_command_queue"))),
        }
    })
}

/// Completes a run or fallback started by `hystrix_command_queue`, from any
/// thread: `status` is `HYSTRIX_OK` with `value`, `HYSTRIX_BAD_REQUEST`
/// (runs only), or any other value for a failure. Returns `HYSTRIX_OK`;
/// `HYSTRIX_TIMEOUT` if the run had already timed out (or ended at or
/// after its deadline), or `HYSTRIX_CANCELLED` if it had been cancelled —
/// its call was cancelled, or another attempt of the call won (its permit
/// is now released, `value` was not used and is still the program's);
/// `HYSTRIX_CANCELLED` too for a fallback whose call was cancelled while it
/// ran (its outcome is recorded, `value` is not used); or
/// `HYSTRIX_INVALID_STATE` if the handle is unknown or already completed.
#[no_mangle]
pub extern "C" fn hystrix_complete(completion: u64, status: i32, value: *mut c_void) -> hystrix_status {
    boundary("hystrix_complete", || {
        let entry = completions().remove(&completion);
        let Some((call, part)) = entry else {
            return Err(Fail::state(format!("completion {completion} is unknown or already completed")));
        };
        match part {
            Part::Run(attempt) => call.complete_run(attempt, status, value),
            Part::Fallback => call.complete_fallback(status, value),
        }
    })
}

/// Writes which attempt of its call a run's completion handle belongs to
/// (from 1, in the order the call's attempts start: retries and hedges
/// included, and attempts refused at admission take a number too) to
/// `*out_attempt`, from any thread, while the handle is not completed yet
/// (a run's `cancel` callback may ask too). Returns `HYSTRIX_OK`;
/// `HYSTRIX_INVALID_ARGUMENT` for a fallback's completion handle;
/// `HYSTRIX_INVALID_STATE` if the handle is unknown or already completed.
/// `*out_attempt` is written only on success.
#[no_mangle]
pub extern "C" fn hystrix_completion_attempt(completion: u64, out_attempt: *mut u32) -> hystrix_status {
    boundary("hystrix_completion_attempt", || {
        if out_attempt.is_null() {
            return Err(Fail::null("out_attempt"));
        }
        let part = completions().get(&completion).map(|(_, part)| *part);
        match part {
            Some(Part::Run(attempt)) => {
                write_out(out_attempt, attempt.0);
                Ok(())
            }
            Some(Part::Fallback) => Err(Fail::invalid(format!("completion {completion} is a fallback's"))),
            None => Err(Fail::state(format!("completion {completion} is unknown or already completed"))),
        }
    })
}

/// Reads the events a call queued with a call handle recorded (semantics
/// §16: attempt outcomes, `RETRY`/`HEDGE`/`RATE_LIMITED` markers, fallback
/// events), in order: so far while it has not settled, and as they were
/// when it settled from then on. `call` is the handle
/// `hystrix_command_queue` wrote to `out_call`; it can be read until the
/// call's `done` has returned (from inside `done` too), from any thread.
///
/// Writes the first `min(count, capacity)` events to `out_events` (which
/// may be NULL when `capacity` is 0) and the number of events, `count`, to
/// `*out_count`: a program that finds `*out_count > capacity` asks again
/// with a larger array. Returns `HYSTRIX_OK`; `HYSTRIX_INVALID_STATE` once
/// the call's `done` has returned; `HYSTRIX_INVALID_ARGUMENT` if `call` is
/// not a call handle `hystrix_command_queue` gave out. Outputs are written
/// only on success.
#[no_mangle]
pub extern "C" fn hystrix_call_events(
    call: u64,
    out_events: *mut hystrix_event,
    capacity: usize,
    out_count: *mut usize,
) -> hystrix_status {
    boundary("hystrix_call_events", || {
        if out_count.is_null() {
            return Err(Fail::null("out_count"));
        }
        if out_events.is_null() && capacity > 0 {
            return Err(Fail::null("out_events"));
        }
        let entry = calls().get(&call).cloned();
        let c = match entry {
            Some(c) => c,
            None if given_out(call) => return Err(Fail::state(format!("call {call} is over: its done has returned"))),
            None => return Err(Fail::invalid(format!("{call} is not a call handle from hystrix_command_queue"))),
        };
        let events = c.events();
        for (i, e) in events.iter().take(capacity).enumerate() {
            // SAFETY: non-NULL (capacity > 0); the caller promises
            // `capacity` writable entries.
            unsafe { out_events.add(i).write(hystrix_event::from(*e)) };
        }
        write_out(out_count, events.len());
        Ok(())
    })
}
