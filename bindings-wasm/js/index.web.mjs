// Browser entry point (wasm-bindgen --target web): fetches and instantiates the wasm with top-level await.
import init, { WasmCommand, WasmObservation, configSchema, dashboardHtml } from "./web/hystrix_wasm.js";
import { fill, trackShadowStack } from "./wasm-slot.mjs";

trackShadowStack(/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (await init())));
fill(WasmCommand, WasmObservation, configSchema, dashboardHtml);

export * from "./api.mjs";
