// Bundler entry point (wasm-bindgen --target bundler): the bundler wires the wasm import.
import { WasmCommand } from "./bundler/hystrix_wasm.js";
import { fill } from "./wasm-slot.mjs";

fill(WasmCommand);

export * from "./api.mjs";
