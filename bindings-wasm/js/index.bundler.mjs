// Bundler entry point (wasm-bindgen --target bundler): the bundler wires the wasm import.
import { WasmCommand } from "./bundler/hystrix_wasm.js";
import { slot } from "./wasm-slot.mjs";

slot.WasmCommand = WasmCommand;

export * from "./api.mjs";
