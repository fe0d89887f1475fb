//! `hystrix_command_queue` and `hystrix_complete`: the seed's `Queue`. The
//! run and the fallback are started with a completion handle that the
//! program completes from any thread, now or later; timeouts fire on the
//! command's clock and are signalled with the `cancel` callback.
//!
//! Completion handles are numbers, not pointers: completing an unknown or
//! already completed handle is refused with `HYSTRIX_INVALID_STATE`, never
//! a crash.

use crate::clock::ClockInner;
use crate::command::{command_ref, hystrix_command};
use crate::shutdown::Alive;
use crate::status::{boundary, hystrix_status, Fail};
use crate::user_data::{hystrix_free_fn, UserData, Value};
use hystrix_core::{Clock, Command, Execution, Resolution, RunOutcome, Step, TimerId};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// Starts the run: the program does its work and, from any thread, calls
/// `hystrix_complete(completion, status, value)` exactly once.
pub type hystrix_async_run_fn = Option<extern "C" fn(user_data: *mut c_void, completion: u64)>;

/// Tells the run to stop: its timeout fired. The run's completion handle
/// stays valid: the program must still complete it once the work has
/// really stopped (its bulkhead permit is held until then).
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
    Run,
    Fallback,
}

/// Completion handles not yet completed, and what each completes.
type Pending = HashMap<u64, (Arc<AsyncCall>, Part)>;

/// Handles not yet completed.
fn completions() -> MutexGuard<'static, Pending> {
    static MAP: OnceLock<Mutex<Pending>> = OnceLock::new();
    MAP.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Frees the table's memory if no handle is pending (`hystrix_shutdown`).
pub(crate) fn release_completions() {
    let mut map = completions();
    if map.is_empty() {
        *map = Pending::new();
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

struct CallState {
    ex: Execution,
    timer: Option<TimerId>,
    /// The run callback has returned: a timeout may now be signalled.
    run_started: bool,
    /// What a timeout that fired while the run callback was still being
    /// invoked asks for; acted on (cancel, then fallback or done) once it returns.
    timeout_pending: Option<Step>,
    run_handle: u64,
    run_value: Value,
    fallback_value: Value,
}

/// One queued call: the sans-IO execution plus the program's callbacks.
///
/// Fields drop in this order: the command and clock first, then the call
/// stops counting as alive (`hystrix_shutdown`), and only then does the
/// program's finalizer run. So a program that waits for `free_user_data`
/// and then calls `hystrix_shutdown` finds nothing of the call left.
struct AsyncCall {
    cmd: Command,
    clock: Arc<ClockInner>,
    cb: Callbacks,
    state: Mutex<CallState>,
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

impl AsyncCall {
    /// The call's state. While it is held, listener notices are deferred
    /// (see `crate::deferred`) so that a listener may call back into this
    /// very call without deadlocking.
    fn lock(&self) -> Locked<'_> {
        let depth = crate::deferred::enter();
        Locked { guard: Some(self.state.lock().unwrap_or_else(|p| p.into_inner())), _depth: depth }
    }

    /// Does what a step asks, with no lock held while the program's
    /// callbacks run.
    fn react(self: &Arc<Self>, step: Step) {
        match step {
            Step::Run { deadline } => {
                // The timeout is armed before the run starts (SPEC §1).
                // The handle exists before the timeout can fire (a timer
                // thread may fire it at once), and the timeout is armed
                // before the run starts (SPEC §1).
                let handle = register(self, Part::Run);
                self.lock().run_handle = handle;
                if let Some(d) = deadline {
                    let weak: Weak<AsyncCall> = Arc::downgrade(self);
                    let id = self.clock.arm(
                        d,
                        Box::new(move || {
                            if let Some(call) = weak.upgrade() {
                                call.on_timeout();
                            }
                        }),
                    );
                    let mut st = self.lock();
                    // Unless it already fired: then there is nothing to cancel.
                    if !st.ex.timed_out() {
                        st.timer = Some(id);
                    }
                }
                (self.cb.run)(self.user.ptr(), handle);
                // A timeout that fired meanwhile (timer thread) is handled
                // now, so `cancel` never comes before `run`.
                let pending = {
                    let mut st = self.lock();
                    st.run_started = true;
                    st.timeout_pending.take()
                };
                if let Some(step) = pending {
                    self.after_timeout(step);
                }
            }
            Step::Fallback { cause } => {
                let fallback = self.cb.fallback.expect("a fallback step implies a fallback");
                let handle = register(self, Part::Fallback);
                fallback(self.user.ptr(), hystrix_status::from_kind(cause), handle);
            }
            Step::Done(resolution) => {
                let (status, value) = {
                    let st = self.lock();
                    match resolution {
                        Resolution::Run => (hystrix_status::HYSTRIX_OK, st.run_value.0),
                        Resolution::Fallback => (hystrix_status::HYSTRIX_OK, st.fallback_value.0),
                        Resolution::Error(kind) => (hystrix_status::from_kind(kind), std::ptr::null_mut()),
                    }
                };
                (self.cb.done)(self.user.ptr(), status, value);
            }
            Step::Nothing => {}
        }
    }

    /// The timeout fired: `TIMEOUT` is recorded now (SPEC §3: the run was
    /// still going); if the run callback has not returned yet, telling the
    /// program (cancel, then fallback or done) waits until it has.
    fn on_timeout(self: &Arc<Self>) {
        let now = self.clock.now_ms();
        let step = {
            let mut st = self.lock();
            st.timer = None;
            let step = st.ex.timer_fired(&self.cmd, now);
            if step == Step::Nothing {
                return;
            }
            if !st.run_started {
                st.timeout_pending = Some(step);
                return;
            }
            step
        };
        self.after_timeout(step);
    }

    /// Signals cancellation to a run still holding its permit, then moves on.
    fn after_timeout(self: &Arc<Self>, step: Step) {
        let (still_running, handle) = {
            let st = self.lock();
            (st.ex.holds_permit(), st.run_handle)
        };
        if let (true, Some(cancel)) = (still_running, self.cb.cancel) {
            cancel(self.user.ptr(), handle);
        }
        self.react(step);
    }

    fn complete_run(self: &Arc<Self>, status: i32, value: *mut c_void) -> Result<(), Fail> {
        let now = self.clock.now_ms();
        let step = {
            let mut st = self.lock();
            if st.ex.timed_out() {
                st.ex.run_stopped(&self.cmd);
                return Err(Fail::new(
                    hystrix_status::HYSTRIX_TIMEOUT,
                    "the run had timed out: its permit is released and its value discarded (still yours)",
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
            if let Some(t) = st.timer.take() {
                self.clock.cancel(t);
            }
            let step = st.ex.run_finished(&self.cmd, now, outcome);
            // A run that ends at or after its deadline is a timeout even if
            // its timer has not fired yet (a late event loop), once the
            // core judges it so (issue 11.7): its value is then not used.
            (step, st.ex.timed_out())
        };
        self.react(step.0);
        if step.1 {
            return Err(Fail::new(
                hystrix_status::HYSTRIX_TIMEOUT,
                "the run ended at or after its deadline: it timed out, its value is discarded (still yours)",
            ));
        }
        Ok(())
    }

    fn complete_fallback(self: &Arc<Self>, status: i32, value: *mut c_void) {
        let now = self.clock.now_ms();
        let ok = status == hystrix_status::HYSTRIX_OK as i32;
        let step = {
            let mut st = self.lock();
            if ok {
                st.fallback_value = Value(value);
            }
            st.ex.fallback_finished(&self.cmd, now, ok)
        };
        self.react(step);
    }
}

impl Drop for AsyncCall {
    fn drop(&mut self) {
        // Unreachable in correct use (every handle is completed first);
        // releases whatever an abandoned call still holds.
        let now = self.clock.now_ms();
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        st.ex.abandon(&self.cmd, now);
    }
}

/// Starts a call: admission now; then, on the calling thread, `run` (or the
/// fallback, or `done`) is invoked — `done` may therefore run before this
/// function returns. `cancel` and `fallback` may be NULL; `run` and `done`
/// may not. `free_user_data`, if not NULL, is called once every callback
/// of this call has run and every handle has been completed.
///
/// Ownership: values passed to `hystrix_complete` stay the program's; the
/// library hands the chosen one to `done` and never frees any. A handle
/// never completed keeps its permit (and the call) forever.
/// Returns `HYSTRIX_OK` once the call is started (its outcome goes to `done`).
#[no_mangle]
pub extern "C" fn hystrix_command_queue(
    cmd: *const hystrix_command,
    run: hystrix_async_run_fn,
    cancel: hystrix_cancel_fn,
    fallback: hystrix_async_fallback_fn,
    done: hystrix_done_fn,
    user_data: *mut c_void,
    free_user_data: hystrix_free_fn,
) -> hystrix_status {
    boundary("hystrix_command_queue", || {
        let c = command_ref(cmd)?;
        // The call's own references, taken before anything can run a
        // listener (admission may), which may free the handle.
        let (command, clock) = (c.cmd.clone(), c.clock.clone());
        let Some(run) = run else { return Err(Fail::null("run")) };
        let Some(done) = done else { return Err(Fail::null("done")) };
        let now = clock.now_ms();
        let (ex, step) = Execution::start(&command, now, fallback.is_some());
        let call = Arc::new(AsyncCall {
            cmd: command,
            clock,
            cb: Callbacks { run, cancel, fallback, done },
            user: UserData::new(user_data, free_user_data),
            _alive: Alive::new(),
            state: Mutex::new(CallState {
                ex,
                timer: None,
                run_handle: 0,
                run_started: false,
                timeout_pending: None,
                run_value: Value(std::ptr::null_mut()),
                fallback_value: Value(std::ptr::null_mut()),
            }),
        });
        call.react(step);
        Ok(())
    })
}

/// Completes a run or fallback started by `hystrix_command_queue`, from any
/// thread: `status` is `HYSTRIX_OK` with `value`, `HYSTRIX_BAD_REQUEST`
/// (runs only), or any other value for a failure. Returns `HYSTRIX_OK`;
/// `HYSTRIX_TIMEOUT` if the run had already timed out (its permit is now
/// released, `value` was not used and is still the program's); or
/// `HYSTRIX_INVALID_STATE` if the handle is unknown or already completed.
#[no_mangle]
pub extern "C" fn hystrix_complete(completion: u64, status: i32, value: *mut c_void) -> hystrix_status {
    boundary("hystrix_complete", || {
        let entry = completions().remove(&completion);
        let Some((call, part)) = entry else {
            return Err(Fail::state(format!("completion {completion} is unknown or already completed")));
        };
        match part {
            Part::Run => call.complete_run(status, value),
            Part::Fallback => {
                call.complete_fallback(status, value);
                Ok(())
            }
        }
    })
}
