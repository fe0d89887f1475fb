//! The WebAssembly face of hystrix-core for the npm package. It exports one
//! class, `WasmCommand`, whose methods take and return numbers so the hot
//! path crosses into wasm synchronously and cheaply: the core's calls
//! (`hystrix_core::Call`) live in a slab inside the command, named by small
//! integer ids; `begin` and `input` (in `call.rs`) feed a call and return
//! the actions it asks for packed into a shared `Float64Array`, so a call
//! that succeeds costs two crossings. Promises, timers, `AbortSignal`s and
//! error objects live in the JS glue (`js/call.mjs` interprets the actions).
//!
//! Listener notices never run JS inside a core call: the core's listeners
//! only queue them here, and each method hands them to JS once the core has
//! returned and no borrow is held (`flush`), before it writes its actions.

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod alloc;
mod call;
mod registry;

use hystrix_core::observe::wire;
use hystrix_core::{CircuitState, Command, Config, ErrorKind, Given, ListenerId, Notice, TimePassedIn, Topic};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Commands created and not yet freed (by `free()`, from `dispose()` or
/// the garbage collector): named in the error for an exhausted memory.
struct LiveCommands(Cell<u32>);
// SAFETY: wasm32-unknown-unknown without atomics has exactly one thread.
unsafe impl Sync for LiveCommands {}
static LIVE_COMMANDS: LiveCommands = LiveCommands(Cell::new(0));

/// The bytes a new command must be able to allocate, or its creation is
/// refused as memory exhausted (the glue's error), before an allocation
/// half-way through it could trap.
const CREATE_HEADROOM: usize = 64 << 10;

/// What the constructor throws when the wasm memory is exhausted: the glue
/// turns it into an error naming the live commands and the memory's size.
const MEMORY_EXHAUSTED: &str = "\u{2}memory exhausted";

/// What ends each string the glue sends: a predicate, not the char, whose
/// searcher (memchr over its UTF-8 bytes) is about 1 KB of wasm for a few
/// short strings.
const SEPARATOR: fn(char) -> bool = |c| c == '\u{1}';

/// The settings the glue sends (`specPatch` in js/options.mjs; the wasm
/// has no JSON parser and looks no key name up): `settings` holds two
/// numbers per setting, its key's place in SPEC order times 4 plus its
/// kind (0 boolean, 1 number, 2 string, 3 anything else), then its value
/// (a boolean as 1/0, a number; 0 otherwise); `texts` the strings, in
/// order, each followed by U+0001. How a value that is refused was given
/// is told by the glue, which words those errors itself.
fn given<'a>(settings: &[f64], texts: &'a str) -> Result<Vec<(usize, Given<'a>)>, JsValue> {
    let mut out = Vec::with_capacity(settings.len() / 2);
    let mut texts = texts.split_terminator(SEPARATOR);
    for pair in settings.chunks(2) {
        let &[code, num] = pair else { return Err(malformed()) };
        let value = match code as u32 % 4 {
            0 => Given::Bool(num != 0.0),
            1 => Given::Number(num, ""),
            2 => Given::Text(texts.next().ok_or_else(malformed)?),
            _ => Given::Other(""),
        };
        out.push((code as usize / 4, value));
    }
    if texts.next().is_some() {
        return Err(malformed());
    }
    Ok(out)
}

/// The error for settings that do not follow `given`'s protocol.
fn malformed() -> JsValue {
    JsValue::from_str("config\u{1}config: the settings sent to wasm are malformed")
}

fn config_error(e: hystrix_core::ConfigError) -> JsValue {
    // An internal protocol with the glue, which throws InvalidConfigError:
    // "key\u{1}" then the error's text (`ConfigError`'s Display, written
    // out without the formatting machinery).
    JsValue::from_str(&joined(&[e.key(), "\u{1}invalid config: ", e.key(), " ", e.reason()]))
}

/// `parts` concatenated (what `format!` would make of plain strings, with
/// none of its code in the wasm).
pub(crate) fn joined(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| out.push_str(p));
    out
}

/// A command: circuit, bulkhead, fallback limiter, metrics, and the
/// executions in flight. Time is passed in by the glue (`now`, in ms).
///
/// Every method takes `&self` and no borrow is held while the core runs, so
/// a listener may call back into the command (even start another call).
#[wasm_bindgen]
pub struct WasmCommand {
    cmd: Command,
    calls: call::CallsCell,
    /// Notices the core's listeners queued during a core call, handed to JS
    /// by `flush` once the core has returned.
    notices: Rc<RefCell<Vec<Queued>>>,
    /// Listeners subscribed: while there are none, nothing is ever queued.
    listeners: Cell<u32>,
    /// Every v2 strategy is off: calls may take the single-attempt path.
    simple: Cell<bool>,
}

/// A listener notice waiting for `flush`: the JS callback and its arguments.
struct Queued {
    callback: js_sys_free::Function,
    kind: &'static str,
    a: &'static str,
    b: &'static str,
    at: u64,
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
    /// A command named `name` with the SPEC settings `settings`, `texts`
    /// (see `given`) over the defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(name: &str, settings: &[f64], texts: &str) -> Result<WasmCommand, JsValue> {
        if !alloc::has_headroom(CREATE_HEADROOM) {
            return Err(JsValue::from_str(MEMORY_EXHAUSTED));
        }
        let patch = given(settings, texts)?;
        // Most commands take the defaults: nothing to check.
        let config = if patch.is_empty() {
            Config::default()
        } else {
            Config::default().patched_at(&patch).map_err(config_error)?
        };
        // JS passes the time into every call: the command reads no clock.
        let cmd = Command::with_clock(name, config, Arc::new(TimePassedIn)).map_err(config_error)?;
        Ok(WasmCommand::wrap(cmd))
    }

    /// Commands created and not yet freed.
    #[wasm_bindgen(js_name = liveCommands)]
    pub fn live_commands() -> u32 {
        LIVE_COMMANDS.0.get()
    }

    /// Bytes allocated in the wasm memory and not yet freed.
    #[wasm_bindgen(js_name = heapBytes)]
    pub fn heap_bytes() -> f64 {
        alloc::heap_bytes() as f64
    }

    /// Whether an allocation failed for want of memory since the last
    /// call (then clears it): after a trap, whether it was that.
    #[wasm_bindgen(js_name = takeAllocFailure)]
    pub fn take_alloc_failure() -> bool {
        alloc::take_failed()
    }

    /// Whether calls of this command are in flight (`dispose()` then leaves
    /// the freeing to the garbage collector, once they have ended).
    pub fn busy(&self) -> bool {
        self.calls.borrow().busy()
    }

    /// The command's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.cmd.name().to_string()
    }

    /// Changes the SPEC settings `settings`, `texts` (see `given`), all or
    /// none.
    pub fn configure(&self, settings: &[f64], texts: &str) -> Result<(), JsValue> {
        let patch = given(settings, texts)?;
        let next = self.cmd.configure_at(&patch).map_err(config_error);
        self.simple.set(WasmCommand::simple_config(&self.cmd));
        self.flush();
        next.map(|_| ())
    }

    /// Where an error of kind `code` made now comes from, as the core
    /// chooses for every binding (`Command::context`): the setting's index
    /// in [`WasmCommand::context_settings`] plus 16 times its value (one
    /// number, so the refusal path crosses once and allocates nothing).
    /// `elapsed_ms` (since the call started) lets a timeout name
    /// `deadline_ms` when the call's deadline decided it.
    pub fn context(&self, code: u32, elapsed_ms: f64) -> f64 {
        let Some(kind) = ErrorKind::ALL.into_iter().find(|k| k.code() == code) else { return 0.0 };
        let ctx = match kind {
            ErrorKind::Timeout => self.cmd.timeout_context(elapsed_ms as u64),
            other => self.cmd.context(other),
        };
        let (value, index) = (ctx.value(), ctx.setting_index() as f64);
        if value < PACKED_VALUE_LIMIT {
            return value as f64 * 16.0 + index;
        }
        // Too large to share a number with the index exactly: the index
        // alone, as -(index + 1), and the value kept for `contextValue`.
        LAST_CONTEXT_VALUE.with(|v| v.set(value as f64));
        -(index + 1.0)
    }

    /// The value of the last context [`WasmCommand::context`] returned as
    /// a negative number (one whose value was too large to pack).
    #[wasm_bindgen(js_name = contextValue)]
    pub fn context_value() -> f64 {
        LAST_CONTEXT_VALUE.with(Cell::get)
    }

    /// The settings [`WasmCommand::context`] can name, by index,
    /// comma-separated (index 0: none).
    #[wasm_bindgen(js_name = contextSettings)]
    pub fn context_settings() -> String {
        hystrix_core::CONTEXT_SETTINGS_JOINED.to_string()
    }

    /// A snapshot at `now` as numbers (the wasm has no JSON serialiser;
    /// js/snapshot.mjs builds the object): time, state (0 closed, 1 open,
    /// 2 half-open), the health counts (total, errors, percentage), the
    /// rolling then the cumulative count of each event type (in the order
    /// of `eventNames`), concurrent, fallback concurrent, rolling max
    /// concurrent, the run then the total latency (count, mean, p0, p25,
    /// p50, p75, p90, p95, p99, p99.5, p100), listener panics, limit, budget.
    pub fn snapshot(&self, now: f64) -> Vec<f64> {
        let s = self.cmd.snapshot_at(now as u64);
        self.flush();
        let state = match s.state {
            CircuitState::Closed => 0.0,
            CircuitState::Open => 1.0,
            CircuitState::HalfOpen => 2.0,
        };
        let mut out = Vec::with_capacity(64);
        out.extend([s.time_ms as f64, state]);
        out.extend([s.health.total, s.health.errors, s.health.error_percentage].map(|n| n as f64));
        out.extend(s.rolling.0.iter().chain(&s.cumulative.0).map(|&n| n as f64));
        out.extend([s.concurrent, s.fallback_concurrent, s.rolling_max_concurrent].map(f64::from));
        for p in [s.latency_run, s.latency_total] {
            out.extend([p.count as f64, p.mean]);
            out.extend([p.p0, p.p25, p.p50, p.p75, p.p90, p.p95, p.p99, p.p99_5, p.p100].map(|n| n as f64));
        }
        out.extend([s.listener_panics as f64, s.limit as f64, s.budget as f64]);
        out
    }

    /// The event types' names, comma-separated, in the order of the
    /// snapshot's counts.
    #[wasm_bindgen(js_name = eventNames)]
    pub fn event_names() -> String {
        include_str!(concat!(env!("OUT_DIR"), "/event_names.txt")).to_string()
    }

    /// The command's observer snapshot at `now` and its settings, as the
    /// integers `hystrix_core::observe::wire` writes: what the observer
    /// module (its own wasm, loaded by the observe and dashboard entries)
    /// renders. Read-only: never trips a circuit.
    pub fn observed(&self, now: f64) -> Vec<u64> {
        wire::encode(&self.cmd.observe_at(now as u64), &self.cmd.config())
    }

    /// Counts one listener call that failed in JS in the snapshot's
    /// `listener_panics` (the glue catches its listeners' exceptions before
    /// they reach wasm, reports them, and calls this).
    #[wasm_bindgen(js_name = noteListenerError)]
    pub fn note_listener_error(&self) {
        self.cmd.note_listener_error();
    }

    /// Subscribes `callback(kind, a, b, atMs)`: kind "event" with (event, "")
    /// or "state" with (from, to). The core's listener only queues the
    /// notice; the callback runs from `flush`, after the core call that
    /// recorded it has returned. The glue's callbacks catch their own
    /// exceptions; one that still escapes is dropped there.
    pub fn subscribe(&self, state: bool, callback: js_sys_free::Function) -> f64 {
        let topic = if state { Topic::Transitions } else { Topic::Events };
        // JS is single-threaded: the queue is only ever touched on this
        // thread, from inside a method of this command.
        let queue = SendQueue(self.notices.clone(), callback);
        let id = self.cmd.subscribe(topic, move |n| {
            let (kind, a, b, at) = match n {
                Notice::Event { event, at_ms, .. } => ("event", event.as_str(), "", *at_ms),
                Notice::Transition { from, to, at_ms, .. } => ("state", from.as_str(), to.as_str(), *at_ms),
            };
            queue.push(kind, a, b, at);
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

impl WasmCommand {
    /// The wrapper JS holds of `cmd` (one per command: its calls, and its
    /// listeners' notice queue).
    fn wrap(cmd: Command) -> WasmCommand {
        let simple = Cell::new(WasmCommand::simple_config(&cmd));
        LIVE_COMMANDS.0.set(LIVE_COMMANDS.0.get() + 1);
        WasmCommand {
            cmd,
            calls: call::CallsCell::default(),
            notices: Rc::new(RefCell::new(Vec::new())),
            simple,
            listeners: Cell::new(0),
        }
    }

    /// Hands the queued listener notices to JS, in order. Called by every
    /// method that fed the core, after the core returned and with no borrow
    /// held: a listener may call back into this command (even feed or start
    /// a call), whose own notices it then flushes itself.
    fn flush(&self) {
        if self.listeners.get() == 0 {
            return;
        }
        loop {
            let batch = std::mem::take(&mut *self.notices.borrow_mut());
            if batch.is_empty() {
                return;
            }
            for n in batch {
                let _ = n.callback.call4(
                    &JsValue::UNDEFINED,
                    &JsValue::from_str(n.kind),
                    &JsValue::from_str(n.a),
                    &JsValue::from_str(n.b),
                    &JsValue::from_f64(n.at as f64),
                );
            }
        }
    }
}

impl Drop for WasmCommand {
    fn drop(&mut self) {
        LIVE_COMMANDS.0.set(LIVE_COMMANDS.0.get() - 1);
    }
}

/// The notice queue and a JS function moved into a `Send + Sync` listener.
/// Sound because wasm32 here is single-threaded: nothing ever crosses a
/// thread.
struct SendQueue(Rc<RefCell<Vec<Queued>>>, js_sys_free::Function);
impl SendQueue {
    fn push(&self, kind: &'static str, a: &'static str, b: &'static str, at: u64) {
        if let Ok(mut q) = self.0.try_borrow_mut() {
            q.push(Queued { callback: self.1.clone(), kind, a, b, at });
        }
    }
}

// SAFETY: wasm32-unknown-unknown without atomics has exactly one thread.
unsafe impl Send for SendQueue {}
// SAFETY: as above.
unsafe impl Sync for SendQueue {}

// A context's setting index must fit below the 16 of `context`'s packing.
const _: () = assert!(hystrix_core::CONTEXT_SETTINGS.len() <= 16);

/// Values from here up do not pack exactly with an index (`value * 16 +
/// index` must stay below 2^53); `context` returns them apart.
const PACKED_VALUE_LIMIT: u64 = 1 << 49;

thread_local! {
    /// See [`WasmCommand::context_value`].
    static LAST_CONTEXT_VALUE: Cell<f64> = const { Cell::new(0.0) };
}

/// The stable code of each error kind, by name (for the glue's error classes).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> String {
    include_str!(concat!(env!("OUT_DIR"), "/error_codes.txt")).to_string()
}
