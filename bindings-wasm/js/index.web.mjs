// Browser entry point (wasm-bindgen --target web): fetches and instantiates the wasm with top-level await.
import init, { WasmCommand, configSchema } from "./web/hystrix_wasm.js";
import { slot } from "./wasm-slot.mjs";

await init();
slot.WasmCommand = WasmCommand;
slot.configSchema = configSchema;

export * from "./api.mjs";
