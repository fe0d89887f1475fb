// Node entry point: the wasm module's bytes ship inside the package as a
// JS module (node/wasm.mjs), so it loads synchronously with no file to find
// at run time, and a single-file bundle of an app (esbuild, webpack,
// rollup for Node) carries it along with nothing to copy.
import { AsyncResource } from "node:async_hooks";
import { Buffer } from "node:buffer";
import { initSync, WasmCommand, WasmObservation, configSchema, dashboardHtml } from "./web/hystrix_wasm.js";
import wasmBase64 from "./node/wasm.mjs";
import { setContextBinder } from "./clocks.mjs";
import { fill, trackShadowStack } from "./wasm-slot.mjs";

trackShadowStack(/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (initSync({ module: Buffer.from(wasmBase64, "base64") }))));
fill(WasmCommand, WasmObservation, configSchema, dashboardHtml);
// Calls bring their timer work back into their caller's async context
// themselves (context.mjs); a VirtualClock's own arm() callbacks keep theirs
// through an AsyncResource (~0.2 µs; AsyncResource.bind costs ~20 µs in Node 20).
setContextBinder((fn) => {
  const scope = new AsyncResource("hystrix.VirtualClock");
  return () => scope.runInAsyncScope(fn);
});

export * from "./api.mjs";
