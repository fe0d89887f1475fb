//! Observing commands from JS (issue #12): the glue gathers its registry's
//! commands into a `WasmObservation` (each at its own clock's time), and
//! the core renders the `hystrix.stream` tick and the Prometheus
//! exposition; the page is the core's bytes too. The glue only serves them.

use crate::WasmCommand;
use hystrix_core::observe::{self, Isolation, Observation, StreamOptions};
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

    /// Adds `command` observed at `now` (its clock's milliseconds); `thread`
    /// reports thread isolation in the stream. Read-only: never trips a
    /// circuit.
    pub fn add(&mut self, command: &WasmCommand, now: f64, thread: bool) {
        let isolation = if thread { Isolation::Thread } else { Isolation::Semaphore };
        self.inner.add(&command.cmd, now as u64, StreamOptions { isolation });
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
    serde_json::json!({
        "streamHeaders": observe::stream::HEADERS.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>(),
        "ping": observe::stream::PING,
        "intervalMs": observe::stream::DEFAULT_INTERVAL_MS,
        "maxConnections": observe::stream::DEFAULT_MAX_CONNECTIONS,
        "prometheusContentType": observe::prometheus::CONTENT_TYPE,
        "dashboardContentType": observe::DASHBOARD_CONTENT_TYPE,
    })
    .to_string()
}
