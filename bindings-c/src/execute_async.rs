//! `hystrix_command_queue` and `hystrix_complete`: the seed's `Queue`. The
//! run and the fallback are started with a completion handle that the
//! program completes from any thread, now or later; timeouts fire on the
//! command's clock and are signalled with the `cancel` callback.
//!
//! Each call is the core's sans-IO `Call`, driven here: its inputs come
//! from `hystrix_complete`, the clock's timer and `hystrix_call_cancel`, and
//! its actions become the program's callbacks.
//!
//! Completion handles are numbers, not pointers: completing an unknown or
//! already completed handle is refused with `HYSTRIX_INVALID_STATE`, never
//! a crash. So are call handles (`hystrix_call_cancel`, semantics §18),
//! from a space of their own (their top bit set), so that neither kind of
//! handle is ever taken for the other.

use crate::clock::ClockInner;
use crate::command::{command_ref, hystrix_command};
use crate::shutdown::Alive;
use crate::status::{boundary, hystrix_status, write_out, Fail};
use crate::user_data::{hystrix_free_fn, UserData, Value};
use hystrix_core::{Action, AttemptId, Call, Clock, EventType, Input, Original, RunOutcome, Settlement, TimerId};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// Starts the run: the program does its work and, from any thread, calls
/// `hystrix_complete(completion, status, value)` exactly once.
pub type hystrix_async_run_fn = Option<extern "C" fn(user_data: *mut c_void, completion: u64)>;

/// Tells the run to stop: its timeout fired, or the caller cancelled the
/// call (`hystrix_call_cancel`). The run's completion handle stays valid:
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

/// Calls that may still be cancelled: those queued with a call handle and
/// not settled yet.
type Cancellable = HashMap<u64, Arc<AsyncCall>>;

fn cancellable() -> MutexGuard<'static, Cancellable> {
    static MAP: OnceLock<Mutex<Cancellable>> = OnceLock::new();
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
    let mut calls = cancellable();
    if calls.is_empty() {
        *calls = Cancellable::new();
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

/// The host timer armed for the call's deadline.
#[derive(Clone, Copy)]
struct Armed {
    due: u64,
    id: TimerId,
    /// Which arming this is, so a timer that fires after being replaced is
    /// recognised.
    seq: u64,
}

struct CallState {
    call: Call,
    timer: Option<Armed>,
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
    /// The run's completion handle, while it has not been completed.
    run_open: Option<u64>,
    run_value: Value,
    fallback_value: Value,
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

impl AsyncCall {
    /// The call's state. While it is held, listener notices are deferred
    /// (see `crate::deferred`) so that a listener may call back into this
    /// very call without deadlocking.
    fn lock(&self) -> Locked<'_> {
        let depth = crate::deferred::enter();
        Locked { guard: Some(self.state.lock().unwrap_or_else(|p| p.into_inner())), _depth: depth }
    }

    /// Feeds one input at `now`, then keeps the host timer in step with
    /// the call's one deadline (armed before any action that follows, so a
    /// run's timeout is armed before the run starts, SPEC §1).
    fn feed(self: &Arc<Self>, st: &mut CallState, now: u64, input: Input) {
        st.now = st.now.max(now);
        st.call.handle(st.now, input);
        self.sync_timer(st);
    }

    fn sync_timer(self: &Arc<Self>, st: &mut CallState) {
        let want = st.call.poll_timeout();
        if st.timer.map(|t| t.due) == want {
            return;
        }
        if let Some(t) = st.timer.take() {
            self.clock.cancel(t.id);
        }
        if let Some(due) = want {
            st.timers_armed += 1;
            let seq = st.timers_armed;
            let weak: Weak<AsyncCall> = Arc::downgrade(self);
            let id = self.clock.arm(
                due,
                Box::new(move || {
                    if let Some(call) = weak.upgrade() {
                        call.on_timer(seq);
                    }
                }),
            );
            st.timer = Some(Armed { due, id, seq });
        }
    }

    /// The call's timer fired (on whatever thread fires the clock's timers).
    fn on_timer(self: &Arc<Self>, seq: u64) {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        if st.timer.map(|t| t.seq) != Some(seq) {
            return; // replaced or disarmed meanwhile
        }
        st.timer = None;
        self.feed(&mut st, now, Input::TimerFired);
        self.drive(st);
    }

    /// Carries out the call's actions in order, one at a time, with no
    /// lock held while the program's callbacks run. One thread drives a
    /// call at a time: an input fed by another thread meanwhile (a
    /// completion, a timeout) leaves its actions to the driving thread,
    /// which carries them out once the callback it is running returns. So
    /// the callbacks of one call never overlap and keep their order (the
    /// run before its `cancel`, `cancel` before the fallback or `done`).
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
                    self.feed(&mut st, now, Input::Cancel);
                    continue;
                }
                st.driving = false;
                return;
            };
            let callback = match action {
                Action::InvokeAttempt { attempt } => {
                    // The handle exists before the run starts (a timer
                    // thread may fire the timeout at once).
                    let handle = register(self, Part::Run(attempt));
                    st.run_open = Some(handle);
                    Callback::Run(handle)
                }
                Action::AbortAttempt { .. } => match (st.run_open, self.cb.cancel) {
                    // A run already completed (from another thread, or
                    // its own callback) is not told to stop.
                    (Some(handle), Some(_)) => Callback::Cancel(handle),
                    _ => continue,
                },
                Action::InvokeFallback { original } => {
                    let cause = match original {
                        Original::Attempt(_) => hystrix_status::HYSTRIX_FAILURE,
                        Original::Kind(kind) => hystrix_status::from_kind(kind),
                    };
                    Callback::Fallback(cause, register(self, Part::Fallback))
                }
                Action::Settle(settlement) => {
                    if self.id != 0 {
                        cancellable().remove(&self.id);
                    }
                    match settlement {
                        Settlement::Attempt(_) => Callback::Done(hystrix_status::HYSTRIX_OK, st.run_value.0),
                        Settlement::Fallback => Callback::Done(hystrix_status::HYSTRIX_OK, st.fallback_value.0),
                        Settlement::Error { kind, .. } => {
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
                Callback::Done(status, value) => (self.cb.done)(user, status, value),
            }
            st = self.lock();
        }
    }

    fn complete_run(self: &Arc<Self>, attempt: AttemptId, status: i32, value: *mut c_void) -> Result<(), Fail> {
        let now = self.clock.now_ms();
        let mut st = self.lock();
        st.run_open = None;
        // An attempt that timed out or was cancelled was aborted: this
        // completion is its stop, and gives its permit back.
        let aborted = st.call.events().find_map(|e| match e {
            EventType::Timeout => Some((hystrix_status::HYSTRIX_TIMEOUT, "timed out")),
            EventType::Cancelled => Some((hystrix_status::HYSTRIX_CANCELLED, "been cancelled")),
            _ => None,
        });
        if let Some((status, why)) = aborted {
            self.feed(&mut st, now, Input::AttemptStopped { attempt });
            self.drive(st);
            return Err(Fail::new(
                status,
                format!("the run had {why}: its permit is released and its value discarded (still yours)"),
            ));
        }
        let outcome = match hystrix_status::from_i32(status) {
            Some(hystrix_status::HYSTRIX_OK) => RunOutcome::Success,
            Some(hystrix_status::HYSTRIX_BAD_REQUEST) => RunOutcome::BadRequest,
            _ => RunOutcome::Failure,
        };
        if outcome == RunOutcome::Success {
            st.run_value = Value(value);
        }
        self.feed(&mut st, now, Input::AttemptEnded { attempt, outcome });
        // A run that ends at or after its deadline is a timeout even if
        // its timer has not fired yet (a late event loop): the core judges
        // it so (issue 11.7), and its value is then not used.
        let late = st.call.events().any(|e| e == EventType::Timeout);
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
        self.feed(&mut st, now, Input::FallbackEnded { ok });
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
        self.feed(&mut st, now, Input::Cancel);
        self.drive(st);
        Ok(())
    }
}

impl Drop for AsyncCall {
    fn drop(&mut self) {
        // Disarms a timer still armed (unreachable in correct use: every
        // handle is completed first). Dropping the core's call then gives
        // back whatever an abandoned call still holds.
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = st.timer.take() {
            self.clock.cancel(t.id);
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
/// callbacks to read. With NULL the call cannot be cancelled.
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
                timer: None,
                timers_armed: 0,
                now,
                driving: false,
                cancel_requested: false,
                run_open: None,
                run_value: Value(std::ptr::null_mut()),
                fallback_value: Value(std::ptr::null_mut()),
            }),
            clock,
            cb: Callbacks { run, cancel, fallback, done },
            _alive: Alive::new(),
            user: UserData::new(user_data, free_user_data),
        });
        if id != 0 {
            cancellable().insert(id, call.clone());
            write_out(out_call, id);
        }
        let mut st = call.lock();
        call.sync_timer(&mut st);
        call.drive(st);
        Ok(())
    })
}

/// Cancels a call queued by `hystrix_command_queue` (semantics §18), from
/// any thread: `call` is the handle it wrote to `out_call`. The call
/// settles at once with `HYSTRIX_CANCELLED` (`done` runs on the calling
/// thread before this returns); a run in flight is told to stop (its
/// `cancel` callback, right before `done`) and keeps its bulkhead permit
/// until its completion handle is completed, which then returns
/// `HYSTRIX_CANCELLED`. No fallback is started. A fallback already running
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
        let entry = cancellable().get(&call).cloned();
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
/// `HYSTRIX_TIMEOUT` if the run had already timed out, or
/// `HYSTRIX_CANCELLED` if its call had been cancelled (its permit is now
/// released, `value` was not used and is still the program's);
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
