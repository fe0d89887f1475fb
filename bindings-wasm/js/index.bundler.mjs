// Bundler entry point (wasm-bindgen --target bundler): the bundler wires the wasm import.
import { WasmCommand, configSchema } from "./bundler/hystrix_wasm.js";
import { slot } from "./wasm-slot.mjs";

slot.WasmCommand = WasmCommand;
slot.configSchema = configSchema;

export * from "./api.mjs";
