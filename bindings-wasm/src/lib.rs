//! The WebAssembly face of hystrix-core for the npm package. It exports one
//! class, `WasmCommand`, whose methods take and return numbers so the hot
//! path crosses into wasm synchronously and cheaply: executions live in a
//! slab inside the command and are named by small integer ids; each input
//! returns the next step, whose kind and argument the JS glue reads back
//! with `stepKind()`/`stepArg()`. Promises, timers, `AbortSignal`s and
//! error objects live in the JS glue (`js/`).

use hystrix_core::{
    Command, Config, ErrorKind, EventType, Execution, FnClock, ListenerId, Notice, Resolution, RunOutcome, Step, Topic,
};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Step kinds (`stepKind()`).
const STEP_RUN: u32 = 0;
const STEP_FALLBACK: u32 = 1;
const STEP_DONE: u32 = 2;
const STEP_NOTHING: u32 = 3;

/// `stepArg()` for a run without a deadline.
const NO_DEADLINE: f64 = -1.0;

/// Resolution codes for `STEP_DONE` (`stepArg()`): 0 run, 1 fallback, else
/// 100 + the error kind's stable code.
fn resolution_code(r: Resolution) -> f64 {
    match r {
        Resolution::Run => 0.0,
        Resolution::Fallback => 1.0,
        Resolution::Error(kind) => 100.0 + f64::from(kind.code()),
    }
}

fn config_error(e: hystrix_core::ConfigError) -> JsValue {
    // An internal protocol with the glue, which throws InvalidConfigError.
    JsValue::from_str(&format!("{}\u{1}{}", e.key(), e))
}

/// A command: circuit, bulkhead, fallback limiter, metrics, and the
/// executions in flight. Time is passed in by the glue (`now`, in ms).
///
/// Every method takes `&self` and no borrow is held while the core runs, so
/// a listener may call back into the command (even start another call).
#[wasm_bindgen]
pub struct WasmCommand {
    cmd: Command,
    slab: RefCell<Slab>,
    /// Listeners subscribed: while there are none, no core input can call
    /// back into JS, so executions are worked on in place in the slab.
    listeners: Cell<u32>,
    step: Cell<(u32, f64)>,
    last_cause: Cell<u32>,
}

/// Listener callbacks without a js-sys dependency: a JS function called
/// through wasm-bindgen's `Function` import.
mod js_sys_free {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// A JS function.
        #[derive(Clone)]
        pub type Function;
        /// `fn.call(this, a, b, c, d)`; exceptions are caught by the caller.
        #[wasm_bindgen(method, catch, js_name = call)]
        pub fn call4(
            this: &Function,
            ctx: &JsValue,
            a: &JsValue,
            b: &JsValue,
            c: &JsValue,
            d: &JsValue,
        ) -> Result<JsValue, JsValue>;
    }
}

#[wasm_bindgen]
impl WasmCommand {
    /// A command named `name` with the JSON object of SPEC keys `config`.
    #[wasm_bindgen(constructor)]
    pub fn new(name: &str, config: &str) -> Result<WasmCommand, JsValue> {
        let config = Config::from_json(config).map_err(config_error)?;
        let cmd = Command::with_clock(name, config, Arc::new(FnClock(|| 0))).map_err(config_error)?;
        Ok(WasmCommand {
            cmd,
            slab: RefCell::new(Slab::default()),
            listeners: Cell::new(0),
            step: Cell::new((STEP_NOTHING, 0.0)),
            last_cause: Cell::new(0),
        })
    }

    /// The command's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.cmd.name().to_string()
    }

    /// The kind of the last step (0 run, 1 fallback, 2 done, 3 nothing).
    #[wasm_bindgen(js_name = stepKind)]
    pub fn step_kind(&self) -> u32 {
        self.step.get().0
    }

    /// The last step's argument: the run's deadline (-1: none), the
    /// fallback's cause code, or the resolution code.
    #[wasm_bindgen(js_name = stepArg)]
    pub fn step_arg(&self) -> f64 {
        self.step.get().1
    }

    /// Records `step` for `stepKind()`/`stepArg()` and returns
    /// `(code << 2) | kind`, where code is the resolution code (done) or the
    /// cause code (fallback): most callers need no further crossing.
    fn set_step(&self, step: Step) -> u32 {
        let (kind, arg) = match step {
            Step::Run { deadline } => (STEP_RUN, deadline.map_or(NO_DEADLINE, |d| d as f64)),
            Step::Fallback { cause } => (STEP_FALLBACK, f64::from(cause.code())),
            Step::Done(r) => (STEP_DONE, resolution_code(r)),
            Step::Nothing => (STEP_NOTHING, 0.0),
        };
        self.step.set((kind, arg));
        let code = if kind == STEP_RUN { 0 } else { arg as u32 };
        (code << 2) | kind
    }

    /// Starts a call at `now`; returns `(id << 2) | step kind` for a run or
    /// a fallback (read a run's deadline with `stepArg()`), or, for a call
    /// that settled at once, `(code << 2) | done` as every other input does. An execution is freed by the
    /// command itself once it has settled and its run has stopped.
    pub fn start(&self, now: f64, has_fallback: bool) -> u32 {
        let (ex, step) = Execution::start(&self.cmd, now as u64, has_fallback);
        self.last_cause.set(ex.cause().map_or(0, ErrorKind::code));
        let packed = self.set_step(step);
        if ex.is_done() {
            // Settled at once (refused, no fallback to run): the code says how.
            return packed;
        }
        let id = self.slab.borrow_mut().insert(ex);
        (id << 2) | (packed & 3)
    }

    /// Runs `f` on execution `id` and frees it once settled and stopped.
    /// With listeners subscribed the execution is taken out of the slab
    /// meanwhile, so that a listener may re-enter the command.
    fn with(&self, id: u32, f: impl FnOnce(&Command, &mut Execution) -> Step) -> u32 {
        let step = if self.listeners.get() == 0 {
            let mut slab = self.slab.borrow_mut();
            match slab.entries.get_mut(id as usize) {
                Some(Some(ex)) => {
                    let step = f(&self.cmd, ex);
                    if ex.is_done() && !ex.holds_permit() {
                        slab.remove(id);
                    }
                    step
                }
                _ => Step::Nothing,
            }
        } else {
            let taken = self.slab.borrow_mut().entries.get_mut(id as usize).and_then(Option::take);
            match taken {
                Some(mut ex) => {
                    let step = f(&self.cmd, &mut ex);
                    let mut slab = self.slab.borrow_mut();
                    if ex.is_done() && !ex.holds_permit() {
                        slab.free.push(id);
                    } else {
                        slab.entries[id as usize] = Some(ex);
                    }
                    step
                }
                None => Step::Nothing,
            }
        };
        self.set_step(step)
    }

    /// The run ended: outcome 0 success, 1 failure, 2 bad request. Returns
    /// `(code << 2) | kind` (see `set_step`). Unless the call settled with
    /// the run's value, `lastCause()` then says why (2: the run ended past
    /// its deadline, a timeout).
    #[wasm_bindgen(js_name = runFinished)]
    pub fn run_finished(&self, id: u32, now: f64, outcome: u32) -> u32 {
        let outcome = match outcome {
            0 => RunOutcome::Success,
            2 => RunOutcome::BadRequest,
            _ => RunOutcome::Failure,
        };
        let last_cause = &self.last_cause;
        self.with(id, |cmd, ex| {
            let step = ex.run_finished(cmd, now as u64, outcome);
            if step != Step::Done(Resolution::Run) {
                last_cause.set(ex.cause().map_or(0, ErrorKind::code));
            }
            step
        })
    }

    /// The run's timeout fired. Returns `(code << 2) | kind` (kind 3: nothing to do).
    #[wasm_bindgen(js_name = timerFired)]
    pub fn timer_fired(&self, id: u32, now: f64) -> u32 {
        self.with(id, |cmd, ex| ex.timer_fired(cmd, now as u64))
    }

    /// The run really stopped after a timeout: its permit is released.
    #[wasm_bindgen(js_name = runStopped)]
    pub fn run_stopped(&self, id: u32) {
        self.with(id, |cmd, ex| {
            ex.run_stopped(cmd);
            Step::Nothing
        });
    }

    /// The fallback settled. Returns `(code << 2) | kind`.
    #[wasm_bindgen(js_name = fallbackFinished)]
    pub fn fallback_finished(&self, id: u32, now: f64, ok: bool) -> u32 {
        self.with(id, |cmd, ex| ex.fallback_finished(cmd, now as u64, ok))
    }

    /// Whether the execution still holds its run permit.
    #[wasm_bindgen(js_name = holdsPermit)]
    pub fn holds_permit(&self, id: u32) -> bool {
        self.slab.borrow().get(id).is_some_and(Execution::holds_permit)
    }

    /// Why the last call started was refused: 3 short-circuited, 4 rejected
    /// (0 if it was admitted).
    #[wasm_bindgen(js_name = lastCause)]
    pub fn last_cause(&self) -> u32 {
        self.last_cause.get()
    }

    /// Why the fallback was wanted: the error kind's code (1 failure,
    /// 2 timeout, 3 short-circuited, 4 rejected), 0 if it was not.
    pub fn cause(&self, id: u32) -> u32 {
        self.slab.borrow().get(id).and_then(Execution::cause).map_or(0, ErrorKind::code)
    }

    /// The events the execution recorded, comma-separated.
    pub fn events(&self, id: u32) -> String {
        self.slab
            .borrow()
            .get(id)
            .map(|ex| ex.events().map(EventType::as_str).collect::<Vec<_>>().join(","))
            .unwrap_or_default()
    }

    /// Abandons an execution the caller gave up on: releases what it holds
    /// without recording an outcome, and frees its id.
    pub fn release(&self, id: u32, now: f64) {
        let taken = self.slab.borrow_mut().entries.get_mut(id as usize).and_then(Option::take);
        if let Some(mut ex) = taken {
            if !ex.is_done() || ex.holds_permit() {
                ex.abandon(&self.cmd, now as u64);
            }
            self.slab.borrow_mut().free.push(id);
        }
    }

    /// Changes the keys of a JSON object of SPEC settings; returns the full
    /// configuration as JSON.
    pub fn configure(&self, patch: &str) -> Result<String, JsValue> {
        let value: serde_json::Value = serde_json::from_str(patch)
            .map_err(|e| config_error(hystrix_core::ConfigError::new("config", format!("is not valid JSON: {e}"))))?;
        let next = self.cmd.configure_json(&value).map_err(config_error)?;
        Ok(next.to_json())
    }

    /// The configuration in force, as JSON.
    pub fn config(&self) -> String {
        self.cmd.config().to_json()
    }

    /// A snapshot at `now`, as JSON.
    pub fn snapshot(&self, now: f64) -> String {
        self.cmd.snapshot_at(now as u64).to_json()
    }

    /// Counts one listener call that failed in JS in the snapshot's
    /// `listener_panics` (the glue catches its listeners' exceptions before
    /// they reach wasm, reports them, and calls this).
    #[wasm_bindgen(js_name = noteListenerError)]
    pub fn note_listener_error(&self) {
        self.cmd.note_listener_error();
    }

    /// Subscribes `callback(kind, a, b, atMs)`: kind "event" with (event, "")
    /// or "state" with (from, to). The glue's callbacks catch their own
    /// exceptions; one that still escapes is dropped here, never unwound
    /// through the core.
    pub fn subscribe(&self, state: bool, callback: js_sys_free::Function) -> f64 {
        let topic = if state { Topic::Transitions } else { Topic::Events };
        // JS is single-threaded: the callback is only ever called on this
        // thread, synchronously, from inside a method of this command.
        let cb = SendFunction(callback);
        let id = self.cmd.subscribe(topic, move |n| {
            let (kind, a, b, at) = match n {
                Notice::Event { event, at_ms, .. } => ("event", event.as_str(), "", *at_ms),
                Notice::Transition { from, to, at_ms, .. } => ("state", from.as_str(), to.as_str(), *at_ms),
            };
            let _ = cb.0.call4(
                &JsValue::UNDEFINED,
                &JsValue::from_str(kind),
                &JsValue::from_str(a),
                &JsValue::from_str(b),
                &JsValue::from_f64(at as f64),
            );
        });
        self.listeners.set(self.listeners.get() + 1);
        id.raw() as f64
    }

    /// Removes a listener; whether it was subscribed.
    pub fn unsubscribe(&self, id: f64) -> bool {
        let removed = self.cmd.unsubscribe(ListenerId::from_raw(id as u64));
        if removed {
            self.listeners.set(self.listeners.get() - 1);
        }
        removed
    }
}

/// The executions in flight, by id; ids of settled ones are reused.
#[derive(Default)]
struct Slab {
    entries: Vec<Option<Execution>>,
    free: Vec<u32>,
}

impl Slab {
    /// Stores `ex`; returns its id.
    fn insert(&mut self, ex: Execution) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(ex);
                id
            }
            None => {
                self.entries.push(Some(ex));
                (self.entries.len() - 1) as u32
            }
        }
    }

    /// Frees execution `id`.
    fn remove(&mut self, id: u32) {
        self.entries[id as usize] = None;
        self.free.push(id);
    }

    /// Execution `id`, if it is live.
    fn get(&self, id: u32) -> Option<&Execution> {
        self.entries.get(id as usize).and_then(Option::as_ref)
    }
}

/// A JS function moved into a `Send + Sync` listener. Sound because wasm32
/// here is single-threaded: nothing ever crosses a thread.
struct SendFunction(js_sys_free::Function);
// SAFETY: wasm32-unknown-unknown without atomics has exactly one thread.
unsafe impl Send for SendFunction {}
// SAFETY: as above.
unsafe impl Sync for SendFunction {}

/// Every configuration key in SPEC order (`Config::schema_json`): the
/// source the glue's `configSchema()` and its drift tests read.
#[wasm_bindgen(js_name = configSchema)]
pub fn config_schema() -> String {
    Config::schema_json()
}

/// The stable code of each error kind, by name (for the glue's error classes).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> String {
    ErrorKind::ALL.iter().map(|k| format!("{}={}", k.as_str(), k.code())).collect::<Vec<_>>().join(",")
}
