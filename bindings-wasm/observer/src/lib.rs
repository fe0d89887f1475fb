//! The npm package's observer module (issue #12): a second wasm module,
//! loaded only by `hystrix-resilience/observe` (Node) and
//! `hystrix-resilience/dashboard` (browsers), so that the module every
//! page loads carries none of the renderers. The glue gathers its
//! commands' observer snapshots from the command module (each at its own
//! clock's time, as integers: `hystrix_core::observe::wire`) into a
//! `WasmObservation`, and the core renders the `hystrix.stream` tick and
//! the Prometheus exposition here; the page is the core's bytes too. The
//! glue only serves them.

use hystrix_core::observe::{self, wire, Isolation, Observation, StreamOptions};
use wasm_bindgen::prelude::*;

/// Observer snapshots of a set of commands, rendered like the core's
/// registry (named commands only, sorted by name).
#[wasm_bindgen]
#[derive(Default)]
pub struct WasmObservation {
    inner: Observation,
}

#[wasm_bindgen]
impl WasmObservation {
    /// An empty observation.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmObservation {
        WasmObservation::default()
    }

    /// Adds the command `name` as the command module's `observed()`
    /// gave it (`words`: its observer snapshot and settings); `thread`
    /// reports thread isolation in the stream. Throws if `words` is not
    /// such a list (a command module of another version).
    pub fn add(&mut self, name: String, words: &[u64], thread: bool) -> Result<(), JsValue> {
        let (snap, config) = wire::decode(name, words).ok_or_else(|| {
            JsValue::from_str("hystrix: the observer module and the command module are of different builds")
        })?;
        let isolation = if thread { Isolation::Thread } else { Isolation::Semaphore };
        self.inner.add_observed(snap, config, StreamOptions { isolation, ..StreamOptions::default() });
        Ok(())
    }

    /// One tick of `hystrix.stream` (`data: {json}\n\n` per command) with
    /// `currentTime` = `wallClockMs`; empty without commands.
    #[wasm_bindgen(js_name = streamFrames)]
    pub fn stream_frames(&self, wall_clock_ms: f64) -> String {
        self.inner.stream_frames(wall_clock_ms as u64)
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self) -> String {
        self.inner.prometheus()
    }

    /// The metric families the exposition is written from, as the core's
    /// JSON (`hystrix_core::observe::families_json`): what the prom-client
    /// and OpenTelemetry bridges read, so they know no metric name.
    pub fn families(&self) -> String {
        self.inner.families_json()
    }
}

/// The built-in dashboard page (one self-contained HTML file).
#[wasm_bindgen(js_name = dashboardHtml)]
pub fn dashboard_html() -> String {
    observe::DASHBOARD_HTML.to_string()
}

/// The transport constants as JSON: the stream's headers, its ping, its
/// default interval and connection limit, and the content types of the
/// exposition and of the page.
#[wasm_bindgen(js_name = observeConstants)]
pub fn observe_constants() -> String {
    // Written by hand: the package's wasm carries no JSON serialiser.
    let headers: Vec<String> =
        observe::stream::HEADERS.iter().map(|(k, v)| format!("[{},{}]", json_str(k), json_str(v))).collect();
    format!(
        "{{\"streamHeaders\":[{}],\"ping\":{},\"intervalMs\":{},\"maxConnections\":{},\"prometheusContentType\":{},\"dashboardContentType\":{}}}",
        headers.join(","),
        json_str(observe::stream::PING),
        observe::stream::DEFAULT_INTERVAL_MS,
        observe::stream::DEFAULT_MAX_CONNECTIONS,
        json_str(observe::prometheus::CONTENT_TYPE),
        json_str(observe::DASHBOARD_CONTENT_TYPE),
    )
}

/// `s` as a JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
