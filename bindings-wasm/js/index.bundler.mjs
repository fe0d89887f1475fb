// Bundler entry point (wasm-bindgen --target bundler): the bundler wires the wasm import.
import { WasmCommand, WasmObservation, configSchema, dashboardHtml } from "./bundler/hystrix_wasm.js";
import { fill } from "./wasm-slot.mjs";

fill(WasmCommand, WasmObservation, configSchema, dashboardHtml);

export * from "./api.mjs";
