//! The floor's calls with the `single` feature: single-attempt
//! `Execution`s only, so the v2 call machine (`Call`) is not linked. A
//! result is the step's code (0 nothing, 1 run, 2 fallback, 3 done with
//! the run's value, 4 with the fallback's, 5 with an error) + 8 × the
//! error kind's code + 1024 × the call's id; a run's deadline (or -1) is
//! read with `deadline()` after it.

use crate::WasmCommand;
use hystrix_core::{Execution, Resolution, RunOutcome, Step};
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;

/// A command's calls in flight, by id (ids reused).
#[derive(Default)]
pub(crate) struct Calls {
    slots: RefCell<Vec<Option<Execution>>>,
    free: RefCell<Vec<u32>>,
    deadline: Cell<f64>,
}

impl Calls {
    /// `step` as a result for call `id` (see the module docs).
    fn code(&self, id: u32, step: Step) -> f64 {
        let (code, kind) = match step {
            Step::Nothing => (0, 0),
            Step::Run { deadline } => {
                self.deadline.set(deadline.map_or(-1.0, |d| d as f64));
                (1, 0)
            }
            Step::Fallback { cause } => (2, cause.code()),
            Step::Done(Resolution::Run) => (3, 0),
            Step::Done(Resolution::Fallback) => (4, 0),
            Step::Done(Resolution::Error(kind)) => (5, kind.code()),
        };
        f64::from(id) * 1024.0 + f64::from(code + 8 * kind)
    }
}

#[wasm_bindgen]
impl WasmCommand {
    /// Starts a call at `now`.
    pub fn begin(&self, now: f64, has_fallback: bool) -> f64 {
        let (ex, step) = Execution::start(&self.cmd, now as u64, has_fallback);
        let id = match self.calls.free.borrow_mut().pop() {
            Some(id) => id,
            None => {
                self.calls.slots.borrow_mut().push(None);
                (self.calls.slots.borrow().len() - 1) as u32
            }
        };
        self.calls.slots.borrow_mut()[id as usize] = Some(ex);
        self.settle(id, step)
    }

    /// Feeds call `id` at `now`: kind 0/1/2 the run ended with
    /// success/failure/bad request, 3 it stopped after an abort, 4/5 the
    /// fallback ended with a value/an error, 6 the timer fired.
    pub fn input(&self, id: u32, now: f64, kind: u32) -> f64 {
        let now = now as u64;
        let step = {
            let mut slots = self.calls.slots.borrow_mut();
            let Some(Some(ex)) = slots.get_mut(id as usize) else { return 0.0 };
            let cmd = &self.cmd;
            match kind {
                0 => ex.run_finished(cmd, now, RunOutcome::Success),
                1 => ex.run_finished(cmd, now, RunOutcome::Failure),
                2 => ex.run_finished(cmd, now, RunOutcome::BadRequest),
                3 => {
                    ex.run_stopped(cmd);
                    Step::Nothing
                }
                4 | 5 => ex.fallback_finished(cmd, now, kind == 4),
                _ => ex.timer_fired(cmd, now),
            }
        };
        self.settle(id, step)
    }

    /// The deadline of the run the last result asked for (ms), or -1.
    pub fn deadline(&self) -> f64 {
        self.calls.deadline.get()
    }

    /// Forgets call `id`, giving back what it holds unrecorded.
    pub fn release(&self, id: u32, now: f64) {
        let ex = self.calls.slots.borrow_mut().get_mut(id as usize).and_then(Option::take);
        if let Some(mut ex) = ex {
            ex.abandon(&self.cmd, now as u64);
            self.calls.free.borrow_mut().push(id);
        }
    }
}

impl WasmCommand {
    /// The result for `step` of call `id`, freeing the id once it is over.
    fn settle(&self, id: u32, step: Step) -> f64 {
        let mut slots = self.calls.slots.borrow_mut();
        if slots[id as usize].as_ref().is_some_and(|ex| ex.is_done() && !ex.holds_permit()) {
            slots[id as usize] = None;
            self.calls.free.borrow_mut().push(id);
        }
        self.calls.code(id, step)
    }
}
