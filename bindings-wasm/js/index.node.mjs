// Node entry point: the wasm module's bytes ship inside the package as a
// JS module (node/wasm.mjs), so it loads synchronously with no file to find
// at run time, and a single-file bundle of an app (esbuild, webpack,
// rollup for Node) carries it along with nothing to copy.
import { AsyncResource } from "node:async_hooks";
import { Buffer } from "node:buffer";
import { initSync, WasmCommand, configSchema } from "./web/hystrix_wasm.js";
import wasmBase64 from "./node/wasm.mjs";
import { setContextBinder } from "./clocks.mjs";
import { slot } from "./wasm-slot.mjs";

initSync({ module: Buffer.from(wasmBase64, "base64") });
slot.WasmCommand = WasmCommand;
slot.configSchema = configSchema;
setContextBinder((fn) => AsyncResource.bind(fn));

export * from "./api.mjs";
