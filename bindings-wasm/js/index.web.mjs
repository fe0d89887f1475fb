// Browser entry point (wasm-bindgen --target web): fetches and instantiates the wasm with top-level await.
import init, { WasmCommand } from "./web/hystrix_wasm.js";
import { slot } from "./wasm-slot.mjs";

await init();
slot.WasmCommand = WasmCommand;

export * from "./api.mjs";
