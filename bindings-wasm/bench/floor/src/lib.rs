//! The floor of the npm package's wasm: a module that does what the SPEC
//! asks of a Command and nothing else, to compare the package's size
//! target with (BENCHMARKS.md, "Session 10: package size — cuts and the
//! floor"). Not shipped; built by `bindings-wasm/bench/floor.sh`.
//!
//! It links hystrix-core with the npm package's profile and allocator, and
//! exports a command made from the defaults and numbers (no settings by
//! name, so none of their parsing, texts or conflict checks), driven by the
//! package's own call protocol (`src/call.rs` of hystrix-wasm, the same
//! file): the call machine with every v2 strategy, the circuit, the
//! bulkhead and the rolling metrics. No registry, snapshots, listeners,
//! observer wire or error contexts. With the `single` feature the calls
//! are single-attempt `Execution`s only (`single.rs`): what the v2 call
//! machine weighs. With `std-alloc`, std's allocator instead of the
//! package's (talc): what the allocator weighs.

#[cfg(not(feature = "std-alloc"))]
#[allow(dead_code)]
#[path = "../../../src/alloc.rs"]
mod alloc;
#[cfg(not(feature = "single"))]
#[allow(dead_code)]
#[path = "../../../src/call.rs"]
mod call;
#[cfg(feature = "single")]
mod single;

use hystrix_core::{Command, Config, TimePassedIn};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// A command; the fields `call.rs` reads, listeners always off.
#[wasm_bindgen]
pub struct WasmCommand {
    cmd: Command,
    #[cfg(not(feature = "single"))]
    calls: call::CallsCell,
    #[cfg(feature = "single")]
    calls: single::Calls,
    /// Never holds anything: no listeners.
    #[allow(dead_code)]
    notices: RefCell<Vec<()>>,
    /// Always 0: no listeners.
    #[allow(dead_code)]
    listeners: Cell<u32>,
    /// Every v2 strategy is off (the single-attempt path may be taken).
    #[allow(dead_code)]
    simple: Cell<bool>,
}

#[wasm_bindgen]
impl WasmCommand {
    /// A command named `name` over the defaults, with the numbers `nums`
    /// (in this order, as many as given): timeout, bulkhead, fallback
    /// bulkhead, volume threshold, error threshold, sleep window, rolling
    /// window and its buckets, retry attempts, base and max backoff,
    /// deadline, rate limit and its period, hedge attempts and delay.
    /// Throws the key of an invalid one.
    #[wasm_bindgen(constructor)]
    pub fn new(name: &str, nums: &[f64]) -> Result<WasmCommand, JsValue> {
        let mut c = Config::default();
        let fields = [
            &mut c.timeout_ms,
            &mut c.max_concurrent_requests,
            &mut c.fallback_max_concurrent_requests,
            &mut c.request_volume_threshold,
            &mut c.error_threshold_percentage,
            &mut c.sleep_window_ms,
            &mut c.rolling_window_ms,
            &mut c.rolling_window_buckets,
            &mut c.retry_max_attempts,
            &mut c.retry_base_delay_ms,
            &mut c.retry_max_delay_ms,
            &mut c.deadline_ms,
            &mut c.rate_limit_for_period,
            &mut c.rate_limit_period_ms,
            &mut c.hedge_max_attempts,
            &mut c.hedge_delay_ms,
        ];
        for (field, &n) in fields.into_iter().zip(nums) {
            *field = n as u64;
        }
        let cmd = Command::with_clock(name, c, Arc::new(TimePassedIn)).map_err(|e| JsValue::from_str(e.key()))?;
        let simple = Cell::new(cmd.config().v2_features() == 0);
        Ok(WasmCommand {
            cmd,
            calls: Default::default(),
            notices: RefCell::new(Vec::new()),
            listeners: Cell::new(0),
            simple,
        })
    }
}

impl WasmCommand {
    /// No listeners: nothing to hand to JS.
    #[allow(dead_code)]
    fn flush(&self) {}
}
