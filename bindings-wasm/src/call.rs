//! The core's call protocol (`hystrix_core::Call`) for the JS glue: calls
//! live in a slab inside their command, named by small integer ids. `begin`
//! and `input` feed a call and drain every action it asks for into one
//! shared `Float64Array` (`actionsPtr`), four numbers an action:
//!
//! | code | action            | x                 | y                   | z          |
//! |------|-------------------|-------------------|---------------------|------------|
//! | 0    | set timer         | timer             | due at (ms)         |            |
//! | 1    | clear timer       | timer             |                     |            |
//! | 2    | invoke attempt    | attempt           |                     |            |
//! | 3    | abort attempt     | attempt           | reason (kind code)  |            |
//! | 4    | invoke fallback   | original attempt  | original kind code  |            |
//! | 5    | settle: run value | attempt           |                     |            |
//! | 6    | settle: fallback  |                   |                     |            |
//! | 7    | settle: error     | original attempt  | original kind code  | kind code  |
//!
//! An original error is either an attempt's own error (x > 0) or one of a
//! kind the glue makes (y > 0); both 0: none. The result (an f64) is the
//! number of actions (bits 0–7) and the first one's code (bits 8–10), with
//! `FINISHED` set once the call is over (its id is then free: the glue
//! never feeds it again), `MOVED` when the buffer moved or the memory grew
//! since the glue made its view (it makes a new one; every result says so
//! until then, so a result the glue never read loses nothing) and `MORE` when more actions wait (input
//! kind 8 fetches them); `begin` adds the id × `ID_UNIT`.
//!
//! Two results carry their actions in the number itself, with nothing in
//! the buffer (count 0, so the first-action bits are free to say which):
//! the closed path's steps, one crossing each and no memory read.
//! `COMPACT_START` (from `begin`): set timer 1 at `now` + d, invoke
//! attempt 1, where the result is ((d × `COMPACT_IDS` + id) × `ID_UNIT` +
//! the flags). `COMPACT_END` (from `input`, with `FINISHED`): clear timer
//! 1, settle with attempt 1's value.

use crate::WasmCommand;
use hystrix_core::{
    Action, AttemptId, Call, CallTimer, ErrorKind, Execution, Input, Original, Resolution, RunOutcome, Settlement, Step,
};
use std::cell::UnsafeCell;
use wasm_bindgen::prelude::*;

/// Set in a return value once the call is over and its id freed.
const FINISHED: u32 = 1 << 11;
/// Set in a return value when the action buffer moved.
const MOVED: u32 = 1 << 12;
/// `begin` returns the call's id shifted left by this many bits.
const ID_UNIT: f64 = 16384.0;
/// Set when more actions wait in the call than one result carries: the
/// glue asks for them with input kind 8 before anything else.
const MORE: u32 = 1 << 13;
/// The first action's code is in bits 8–10 of a result.
const FIRST_SHIFT: u32 = 8;
/// The most actions one input may return (more are left for `more`).
const MAX_ACTIONS: usize = 0xff;
/// A compact `begin` result (see the module docs): count 0, this "first code".
const COMPACT_START: u32 = 7 << FIRST_SHIFT;
/// A compact `input` result (see the module docs): count 0, this "first code".
const COMPACT_END: u32 = 6 << FIRST_SHIFT;
/// Ids below this may have a compact start: the delay is counted in units of it.
const COMPACT_IDS: u32 = 1 << 16;
/// Delays (ms) below this may have a compact start: with `COMPACT_IDS`
/// and `ID_UNIT` the result stays an exact integer below 2^53.
const COMPACT_DELAYS: u64 = 1 << 23;
/// `now`s (ms) below this may have a compact start: `now` + the delay is
/// then exact in the glue's f64.
const COMPACT_NOW: f64 = (1u64 << 52) as f64;

/// The drained actions of the last input, read by the glue.
struct Out(UnsafeCell<Vec<f64>>);
// SAFETY: wasm32-unknown-unknown without atomics has exactly one thread,
// and `out` below never lets two borrows live at once.
unsafe impl Sync for Out {}
static OUT: Out = Out(UnsafeCell::new(Vec::new()));

/// Where the buffer was and the wasm memory's size in pages when the glue
/// last made its view (`actions_ptr`): a moved buffer, or a grown memory (a
/// new `ArrayBuffer`), needs a new view in the glue.
struct Last(UnsafeCell<(usize, usize)>);
// SAFETY: as for `Out`.
unsafe impl Sync for Last {}
static LAST: Last = Last(UnsafeCell::new((0, 0)));

/// Where the buffer is and the wasm memory's size in pages now.
#[inline(always)]
fn placed() -> (usize, usize) {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    (out().as_ptr() as usize, pages)
}

/// `MOVED` if the buffer moved or the memory grew since the glue last made
/// its view. Called last in every method that returns actions, after
/// anything that may allocate. Only `actions_ptr` records a new place: a
/// result whose flag the glue never read (the JS stack ran out right after
/// the call) would otherwise leave it reading a stale view.
#[inline(always)]
fn moved() -> u32 {
    // SAFETY: see `Out`.
    let last = unsafe { &*LAST.0.get() };
    if *last != placed() {
        MOVED
    } else {
        0
    }
}

/// The action buffer. Only called for short, non-nested uses (no JS runs
/// while the borrow lives), on wasm's one thread.
#[allow(clippy::mut_from_ref)]
fn out() -> &'static mut Vec<f64> {
    // SAFETY: see `Out`; every use below ends before any other begins.
    unsafe { &mut *OUT.0.get() }
}

/// The calls in flight, by id; ids of finished ones are reused. An id's
/// low bit says which slab: 1 a `Call`, 0 a single-attempt `Execution`.
#[derive(Default)]
pub(crate) struct Calls {
    entries: Vec<Option<Call>>,
    free: Vec<u32>,
    execs: Vec<Option<(Execution, bool)>>,
    free_execs: Vec<u32>,
}

/// A command's calls, borrowed without `RefCell`'s flag. A JS stack
/// overflow can land inside any wasm frame and unwind it without running
/// its destructors: a `RefCell` borrowed there would stay borrowed, and
/// every later call of the command would panic. Sound because wasm32 here
/// has one thread and no JS runs while a borrow lives (listener notices
/// are flushed after it ends), so two borrows never overlap: each use
/// below takes one, finishes with it, and only then calls anything that
/// could borrow again.
#[derive(Default)]
pub(crate) struct CallsCell(UnsafeCell<Calls>);

impl CallsCell {
    /// The calls, for one short use that neither runs JS nor borrows again.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    pub(crate) fn borrow_mut(&self) -> &mut Calls {
        // SAFETY: see the type's docs: borrows never overlap.
        unsafe { &mut *self.0.get() }
    }

    /// The calls, read-only, on the same terms as `borrow_mut`.
    #[inline(always)]
    pub(crate) fn borrow(&self) -> &Calls {
        // SAFETY: see the type's docs.
        unsafe { &*self.0.get() }
    }
}

impl Calls {
    /// Whether any call is in flight.
    pub(crate) fn busy(&self) -> bool {
        self.entries.iter().any(Option::is_some) || self.execs.iter().any(Option::is_some)
    }
}

fn original(o: Option<Original>) -> (f64, f64) {
    match o {
        Some(Original::Attempt(AttemptId(a))) => (f64::from(a), 0.0),
        Some(Original::Kind(k)) => (0.0, f64::from(k.code())),
        None => (0.0, 0.0),
    }
}

/// Packs one action as four numbers.
fn pack(action: Action) -> [f64; 4] {
    match action {
        Action::SetTimer { timer: CallTimer(t), at } => [0.0, t as f64, at as f64, 0.0],
        Action::ClearTimer { timer: CallTimer(t) } => [1.0, t as f64, 0.0, 0.0],
        Action::InvokeAttempt { attempt: AttemptId(a) } => [2.0, f64::from(a), 0.0, 0.0],
        Action::AbortAttempt { attempt: AttemptId(a), reason } => [3.0, f64::from(a), f64::from(reason.code()), 0.0],
        Action::InvokeFallback { original: o } => {
            let (x, y) = original(Some(o));
            [4.0, x, y, 0.0]
        }
        Action::Settle(Settlement::Attempt(AttemptId(a))) => [5.0, f64::from(a), 0.0, 0.0],
        Action::Settle(Settlement::Fallback) => [6.0, 0.0, 0.0, 0.0],
        Action::Settle(Settlement::Error { kind, original: o }) => {
            let (x, y) = original(o);
            [7.0, x, y, f64::from(kind.code())]
        }
    }
}

#[wasm_bindgen]
impl WasmCommand {
    /// Where the action buffer starts in the wasm memory (bytes). The glue
    /// makes its view after a result with `MOVED` (the first one has it),
    /// asking this first, then for the memory's buffer: results say `MOVED`
    /// again only once either changed after this.
    #[wasm_bindgen(js_name = actionsPtr)]
    pub fn actions_ptr() -> u32 {
        let o = out();
        if o.capacity() == 0 {
            o.reserve(64);
        }
        let now = placed();
        // SAFETY: see `Out`.
        unsafe { *LAST.0.get() = now };
        now.0 as u32
    }

    /// The wasm memory (for the glue's view of the action buffer).
    #[wasm_bindgen(js_name = wasmMemory)]
    pub fn wasm_memory() -> JsValue {
        wasm_bindgen::memory()
    }

    /// Starts a call at `now`: returns its id << `ID_SHIFT`, the number of
    /// actions and the flags (see the module docs). Unless `general`, a
    /// call of a command with every v2 strategy off is driven by the core's
    /// single-attempt `Execution` (its sync fast path, half the cost),
    /// packed into the same actions a `Call` would give (timer 1, attempt 1).
    pub fn begin(&self, now: f64, has_fallback: bool, general: bool) -> f64 {
        if !general && self.simple.get() {
            return self.begin_single(now, has_fallback);
        }
        let (n, id) = {
            let calls = self.calls.borrow_mut();
            let calls = &mut *calls;
            let id = match calls.free.pop() {
                Some(id) => id,
                None => {
                    calls.entries.push(None);
                    (calls.entries.len() - 1) as u32
                }
            };
            let slot = &mut calls.entries[id as usize];
            let call = slot.insert(Call::start(&self.cmd, now as u64, has_fallback));
            let n = drain(call);
            if call.is_finished() {
                *slot = None;
                calls.free.push(id);
                (n | FINISHED, 0)
            } else {
                (n, (id << 1) | 1)
            }
        };
        self.flush_and_publish(n, id)
    }

    /// Feeds call `id` one input at `now`: kind 0/1/2 attempt `arg` ended
    /// with success/failure/bad request, 3 attempt `arg` stopped after an
    /// abort, 4/5 the fallback ended with a value/an error, 6 timer `arg`
    /// fired, 7 the caller cancelled. Returns the number of actions and the
    /// flags (see the module docs); 0 with `FINISHED` for an unknown id.
    pub fn input(&self, id: u32, now: f64, kind: u32, arg: f64) -> f64 {
        let input = match kind {
            0..=2 => Input::AttemptEnded {
                attempt: AttemptId(arg as u32),
                outcome: match kind {
                    0 => RunOutcome::Success,
                    1 => RunOutcome::Failure,
                    _ => RunOutcome::BadRequest,
                },
            },
            3 => Input::AttemptStopped { attempt: AttemptId(arg as u32) },
            4 => Input::FallbackEnded { ok: true },
            5 => Input::FallbackEnded { ok: false },
            6 => Input::TimerFired { timer: CallTimer(arg as u64) },
            7 => Input::Cancel,
            // 8: no input, only the actions left over (`MORE`).
            _ => Input::AttemptStopped { attempt: AttemptId(0) },
        };
        let poll = kind == 8;
        if id & 1 == 0 {
            if poll {
                return self.flush_and_publish(0, 0);
            }
            return self.input_single(id >> 1, now as u64, input);
        }
        let id = id >> 1;
        let n = {
            let calls = self.calls.borrow_mut();
            let Some(Some(call)) = calls.entries.get_mut(id as usize) else {
                return self.flush_and_publish(FINISHED, 0);
            };
            if !poll {
                call.handle(now as u64, input);
            }
            let n = drain(call);
            if call.is_finished() {
                calls.entries[id as usize] = None;
                calls.free.push(id);
                n | FINISHED
            } else {
                n
            }
        };
        self.flush_and_publish(n, 0)
    }

    /// Forgets call `id` at once: everything it holds is given back
    /// unrecorded (a call whose host cannot drive it any more: a clock that
    /// cannot arm its timers).
    pub fn release(&self, id: u32, now: f64) {
        if id & 1 == 0 {
            let ex = self.calls.borrow_mut().execs.get_mut((id >> 1) as usize).and_then(Option::take);
            if let Some((mut ex, _)) = ex {
                ex.abandon(&self.cmd, now as u64);
                self.calls.borrow_mut().free_execs.push(id >> 1);
            }
            self.flush();
            return;
        }
        let id = id >> 1;
        let call = self.calls.borrow_mut().entries.get_mut(id as usize).and_then(Option::take);
        if call.is_some() {
            self.calls.borrow_mut().free.push(id);
        }
        drop(call);
        self.flush();
    }
}

/// Drains the call's actions into `OUT`; returns how many, with `MOVED`
/// if `OUT` moved.
fn drain(call: &mut Call) -> u32 {
    let o = out();
    o.clear();
    let mut n = 0;
    while n < MAX_ACTIONS {
        let Some(action) = call.poll_action() else { break };
        o.extend_from_slice(&pack(action));
        n += 1;
    }
    if n == MAX_ACTIONS {
        n as u32 | MORE
    } else {
        n as u32
    }
}

impl WasmCommand {
    /// Flushes the listener notices with this call's actions saved: JS may
    /// re-enter and overwrite `OUT` with its own (read by then).
    #[inline(never)]
    fn flush_keeping_actions(&self) {
        let saved: Vec<f64> = out().clone();
        self.flush();
        let o = out();
        o.clear();
        o.extend_from_slice(&saved);
    }

    /// Flushes the listener notices, if any, before the glue reads the
    /// actions: JS may re-enter here and overwrite `OUT` with actions of its
    /// own (read by then), so this call's are saved and put back.
    /// Returns the result: `id` × `ID_UNIT` + the flags, the count and the
    /// first action's code.
    #[inline(always)]
    fn flush_and_publish(&self, n: u32, id: u32) -> f64 {
        if self.listeners.get() != 0 && !self.notices.borrow().is_empty() {
            self.flush_keeping_actions();
        }
        let first = if n & 0xff == 0 { 0 } else { (out()[0] as u32) << FIRST_SHIFT };
        f64::from(id) * ID_UNIT + f64::from(n | first | moved())
    }

    /// A compact result (see the module docs): `upper` × `ID_UNIT` + `bits`
    /// and `MOVED`, after flushing the listener notices (no action is in
    /// the buffer to keep).
    #[inline(always)]
    fn publish_compact(&self, bits: u32, upper: f64) -> f64 {
        if self.listeners.get() != 0 && !self.notices.borrow().is_empty() {
            self.flush();
        }
        upper * ID_UNIT + f64::from(bits | moved())
    }
}

/// The one timer and the one attempt of a single-attempt call.
const TIMER_1: f64 = 1.0;
const ATTEMPT_1: f64 = 1.0;

/// The original error of a single-attempt call whose cause is `cause`.
fn single_original(cause: Option<ErrorKind>) -> (f64, f64) {
    match cause {
        Some(ErrorKind::Failure | ErrorKind::BadRequest) => (ATTEMPT_1, 0.0),
        Some(k) => (0.0, f64::from(k.code())),
        None => (0.0, 0.0),
    }
}

/// Packs an `Execution` step as the actions a `Call` gives for it.
#[inline]
fn pack_step(o: &mut Vec<f64>, ex: &Execution, step: Step) {
    match step {
        Step::Run { deadline } => {
            if let Some(at) = deadline {
                o.extend_from_slice(&[0.0, TIMER_1, at as f64, 0.0]);
            }
            o.extend_from_slice(&[2.0, ATTEMPT_1, 0.0, 0.0]);
        }
        Step::Fallback { cause } => {
            let (x, y) = single_original(Some(cause));
            o.extend_from_slice(&[4.0, x, y, 0.0]);
        }
        Step::Done(Resolution::Run) => o.extend_from_slice(&[5.0, ATTEMPT_1, 0.0, 0.0]),
        Step::Done(Resolution::Fallback) => o.extend_from_slice(&[6.0, 0.0, 0.0, 0.0]),
        Step::Done(Resolution::Error(kind)) => {
            let cause = match kind {
                ErrorKind::FallbackRejected | ErrorKind::FallbackFailure => ex.cause(),
                k => Some(k),
            };
            let (x, y) = single_original(cause);
            o.extend_from_slice(&[7.0, x, y, f64::from(kind.code())]);
        }
        Step::Nothing => {}
    }
}

impl WasmCommand {
    /// Whether calls of this command may take the single-attempt path:
    /// every v2 strategy off (kept up to date by `configure`).
    pub(crate) fn simple_config(cmd: &hystrix_core::Command) -> bool {
        cmd.config().v2_features() == 0
    }

    fn begin_single(&self, now_ms: f64, has_fallback: bool) -> f64 {
        let now = now_ms as u64;
        let (ex, step) = Execution::start(&self.cmd, now, has_fallback);
        let timed = matches!(step, Step::Run { deadline: Some(_) });
        if let Step::Run { deadline: Some(at) } = step {
            // The closed path: a compact start if its numbers fit.
            let delay = at.wrapping_sub(now);
            if at >= now && delay < COMPACT_DELAYS && now_ms == now as f64 && now_ms < COMPACT_NOW {
                let calls = self.calls.borrow_mut();
                let free = calls.free_execs.last().copied();
                let id = free.unwrap_or(calls.execs.len() as u32);
                // The glue's id (`id << 1`, see `Calls`) must fit.
                if id < COMPACT_IDS >> 1 {
                    match free {
                        Some(id) => {
                            calls.free_execs.pop();
                            calls.execs[id as usize] = Some((ex, true));
                        }
                        None => calls.execs.push(Some((ex, true))),
                    }
                    let upper = (delay as f64) * f64::from(COMPACT_IDS) + f64::from(id << 1);
                    return self.publish_compact(COMPACT_START, upper);
                }
            }
        }
        let o = out();
        o.clear();
        pack_step(o, &ex, step);
        let n = (o.len() / 4) as u32;
        if ex.is_done() && !ex.holds_permit() {
            return self.flush_and_publish(n | FINISHED, 0);
        }
        let id = {
            let calls = self.calls.borrow_mut();
            match calls.free_execs.pop() {
                Some(id) => {
                    calls.execs[id as usize] = Some((ex, timed));
                    id
                }
                None => {
                    calls.execs.push(Some((ex, timed)));
                    (calls.execs.len() - 1) as u32
                }
            }
        };
        self.flush_and_publish(n, id << 1)
    }

    fn input_single(&self, id: u32, now: u64, input: Input) -> f64 {
        let n = {
            let calls = self.calls.borrow_mut();
            let Some(Some((ex, timed))) = calls.execs.get_mut(id as usize) else {
                return self.flush_and_publish(FINISHED, 0);
            };
            let o = out();
            o.clear();
            let cmd = &self.cmd;
            match input {
                Input::AttemptEnded { outcome, .. } => {
                    let running = ex.is_running();
                    let step = ex.run_finished(cmd, now, outcome);
                    if running && *timed {
                        *timed = false;
                        if step == Step::Done(Resolution::Run) && !ex.holds_permit() {
                            // The closed path's end: compact.
                            calls.execs[id as usize] = None;
                            calls.free_execs.push(id);
                            return self.publish_compact(COMPACT_END | FINISHED, 0.0);
                        }
                        o.extend_from_slice(&[1.0, TIMER_1, 0.0, 0.0]);
                    }
                    pack_step(o, ex, step);
                }
                Input::AttemptStopped { .. } => ex.run_stopped(cmd),
                Input::TimerFired { .. } => {
                    let step = ex.timer_fired(cmd, now);
                    if step != Step::Nothing {
                        *timed = false;
                        o.extend_from_slice(&[3.0, ATTEMPT_1, f64::from(ErrorKind::Timeout.code()), 0.0]);
                        pack_step(o, ex, step);
                    }
                }
                Input::FallbackEnded { ok } => {
                    let step = ex.fallback_finished(cmd, now, ok);
                    pack_step(o, ex, step);
                }
                // Calls that may be cancelled take the general path.
                Input::Cancel => {}
            }
            let mut n = (o.len() / 4) as u32;
            if ex.is_done() && !ex.holds_permit() {
                calls.execs[id as usize] = None;
                calls.free_execs.push(id);
                n |= FINISHED;
            }
            n
        };
        self.flush_and_publish(n, 0)
    }
}
