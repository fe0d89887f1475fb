// Bundler entry point (wasm-bindgen --target bundler): the bundler wires the wasm import.
import { WasmCommand, WasmObservation, configSchema, dashboardHtml } from "./bundler/hystrix_wasm.js";
import { slot } from "./wasm-slot.mjs";

slot.WasmCommand = WasmCommand;
slot.configSchema = configSchema;
slot.WasmObservation = WasmObservation;
slot.dashboardHtml = dashboardHtml;

export * from "./api.mjs";
