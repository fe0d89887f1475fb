// Node entry point: the wasm module loads synchronously (wasm-bindgen --target nodejs).
import { AsyncResource } from "node:async_hooks";
import wasm from "./node/hystrix_wasm.js";
import { setContextBinder } from "./clocks.mjs";
import { slot } from "./wasm-slot.mjs";

slot.WasmCommand = wasm.WasmCommand;
setContextBinder((fn) => AsyncResource.bind(fn));

export * from "./api.mjs";
