// Entry without top-level await (`hystrix-resilience/init`): importing it loads
// nothing; `await init()` (once) loads the wasm, then commands can be made.
// For IIFE or es2020 bundles, and for apps that host the wasm file
// themselves (it is exported as `hystrix-resilience/wasm`).
import initWeb, { WasmCommand, WasmObservation, configSchema, dashboardHtml } from "./web/hystrix_wasm.js";
import { fill, slot, trackShadowStack } from "./wasm-slot.mjs";

/** @type {Promise<void> | null} */
let loading = null;

/**
 * Loads the wasm module; resolves once commands can be created. `source`
 * is where the wasm is: a URL or string to fetch, a `Response` (or a
 * promise of one), the file's bytes (`ArrayBuffer`, typed array) or a
 * compiled `WebAssembly.Module`. Without it, the package's own file is
 * fetched relative to this module, as the browser entry does (Node's fetch
 * reads no files: there, pass the bytes, or use the main entry). Calling
 * it again returns the same promise; after a failure it may be retried.
 * @param {Parameters<typeof import("./init.js").init>[0]} [source]
 * @returns {Promise<void>}
 */
export function init(source) {
  if (slot.WasmCommand !== null) return Promise.resolve();
  if (loading === null) {
    loading = initWeb(source === undefined ? undefined : { module_or_path: source }).then(
      (exports) => {
        trackShadowStack(/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (exports)));
        fill(WasmCommand, WasmObservation, configSchema, dashboardHtml);
      },
      (e) => {
        loading = null;
        throw e;
      },
    );
  }
  return loading;
}

export * from "./api.mjs";
