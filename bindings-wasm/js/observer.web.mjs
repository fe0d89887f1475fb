// The observer module (the core's renderers, in their own wasm) for
// browsers and bundlers: fetched and instantiated with top-level await,
// like the browser entry's command module (its file,
// observer/hystrix_wasm_observer_bg.wasm, is found relative to the glue).
// Imported by `hystrix-resilience/dashboard` only, so that a page without
// the dashboard loads no renderer. Puts its exports into the slot.
import init, { WasmObservation, dashboardHtml } from "./observer/hystrix_wasm_observer.js";
import { slot } from "./wasm-slot.mjs";

await init();
slot.WasmObservation = WasmObservation;
slot.dashboardHtml = dashboardHtml;
