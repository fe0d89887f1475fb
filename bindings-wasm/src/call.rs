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
//! kind the glue makes (y > 0); both 0: none. The return value is the
//! number of actions, with `FINISHED` set once the call is over (its id is
//! then free: the glue never feeds it again) and `MOVED` when the buffer
//! moved (the glue makes a new view). `begin` also returns the id, shifted
//! by `ID_SHIFT`.

use crate::WasmCommand;
use hystrix_core::{Action, AttemptId, Call, CallTimer, Input, Original, RunOutcome, Settlement};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// Set in a return value once the call is over and its id freed.
const FINISHED: u32 = 1 << 16;
/// Set in a return value when the action buffer moved.
const MOVED: u32 = 1 << 17;
/// `begin` returns the call's id shifted left by this many bits.
const ID_SHIFT: u32 = 18;
/// The most actions one input may return (more are left for `more`).
const MAX_ACTIONS: usize = 0xffff;

thread_local! {
    /// The drained actions of the last input, read by the glue.
    static OUT: RefCell<Vec<f64>> = RefCell::new(Vec::with_capacity(64));
}

/// The calls in flight, by id; ids of finished ones are reused.
#[derive(Default)]
pub(crate) struct Calls {
    entries: Vec<Option<Call>>,
    free: Vec<u32>,
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
    /// Where the action buffer starts in the wasm memory (bytes).
    #[wasm_bindgen(js_name = actionsPtr)]
    pub fn actions_ptr() -> u32 {
        OUT.with(|o| o.borrow().as_ptr() as u32)
    }

    /// The wasm memory (for the glue's view of the action buffer).
    #[wasm_bindgen(js_name = wasmMemory)]
    pub fn wasm_memory() -> JsValue {
        wasm_bindgen::memory()
    }

    /// Starts a call at `now`: returns its id << `ID_SHIFT`, the number of
    /// actions and the flags (see the module docs).
    pub fn begin(&self, now: f64, has_fallback: bool) -> u32 {
        let mut call = Call::start(&self.cmd, now as u64, has_fallback);
        let mut id = 0;
        let n = {
            let mut calls = self.calls.borrow_mut();
            let n = self.drain(&mut call);
            if !call.is_finished() {
                id = match calls.free.pop() {
                    Some(id) => {
                        calls.entries[id as usize] = Some(call);
                        id
                    }
                    None => {
                        calls.entries.push(Some(call));
                        (calls.entries.len() - 1) as u32
                    }
                };
                n
            } else {
                drop(calls);
                drop(call);
                n | FINISHED
            }
        };
        self.flush_and_publish(n) | (id << ID_SHIFT)
    }

    /// Feeds call `id` one input at `now`: kind 0/1/2 attempt `arg` ended
    /// with success/failure/bad request, 3 attempt `arg` stopped after an
    /// abort, 4/5 the fallback ended with a value/an error, 6 timer `arg`
    /// fired, 7 the caller cancelled. Returns the number of actions and the
    /// flags (see the module docs); 0 with `FINISHED` for an unknown id.
    pub fn input(&self, id: u32, now: f64, kind: u32, arg: f64) -> u32 {
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
            _ => Input::Cancel,
        };
        let n = {
            let mut calls = self.calls.borrow_mut();
            let Some(Some(call)) = calls.entries.get_mut(id as usize) else {
                drop(calls);
                return self.flush_and_publish(FINISHED);
            };
            call.handle(now as u64, input);
            let n = self.drain(call);
            if call.is_finished() {
                calls.entries[id as usize] = None;
                calls.free.push(id);
                n | FINISHED
            } else {
                n
            }
        };
        self.flush_and_publish(n)
    }

    /// Forgets call `id` at once: everything it holds is given back
    /// unrecorded (a call whose host cannot drive it any more: a clock that
    /// cannot arm its timers).
    pub fn release(&self, id: u32) {
        let call = self.calls.borrow_mut().entries.get_mut(id as usize).and_then(Option::take);
        if call.is_some() {
            self.calls.borrow_mut().free.push(id);
        }
        drop(call);
        self.flush();
    }

    /// The events call `id` recorded so far, comma-separated.
    pub fn events(&self, id: u32) -> String {
        let calls = self.calls.borrow();
        match calls.entries.get(id as usize) {
            Some(Some(call)) => call.events().map(|e| e.as_str()).collect::<Vec<_>>().join(","),
            _ => String::new(),
        }
    }
}

impl WasmCommand {
    /// Drains the call's actions into `OUT`; returns how many, with `MOVED`
    /// if `OUT` moved.
    fn drain(&self, call: &mut Call) -> u32 {
        OUT.with(|o| {
            let mut o = o.borrow_mut();
            let before = o.as_ptr();
            o.clear();
            let mut n = 0;
            while n < MAX_ACTIONS {
                let Some(action) = call.poll_action() else { break };
                o.extend_from_slice(&pack(action));
                n += 1;
            }
            if o.as_ptr() == before {
                n as u32
            } else {
                n as u32 | MOVED
            }
        })
    }

    /// Flushes the listener notices, if any, before the glue reads the
    /// actions: JS may re-enter here and overwrite `OUT` with actions of its
    /// own (read by then), so this call's are saved and put back.
    fn flush_and_publish(&self, n: u32) -> u32 {
        if self.listeners.get() == 0 || self.notices.borrow().is_empty() {
            return n;
        }
        let saved: Vec<f64> = OUT.with(|o| o.borrow().clone());
        self.flush();
        OUT.with(|o| {
            let mut o = o.borrow_mut();
            let before = o.as_ptr();
            o.clear();
            o.extend_from_slice(&saved);
            if o.as_ptr() == before {
                n
            } else {
                n | MOVED
            }
        })
    }
}
