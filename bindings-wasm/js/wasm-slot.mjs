// Where an entry point puts the loaded wasm module's exports (internal).
import { HystrixError } from "./errors.mjs";

/** The wasm-bindgen class of the core's commands (web and bundler builds declare it alike). @typedef {typeof import("./web/hystrix_wasm.js").WasmCommand} WasmCommandClass */

/**
 * Both null until an entry point has loaded the wasm (`hystrix-resilience/init`
 * before `await init()`); whatever can run first checks (see `notLoaded`).
 * @type {{
 *   WasmCommand: WasmCommandClass | null,
 *   configSchema: (() => string) | null,
 *   WasmObservation: typeof import("./web/hystrix_wasm.js").WasmObservation | null,
 *   dashboardHtml: (() => string) | null,
 * }}
 */
export const slot = { WasmCommand: null, configSchema: null, WasmObservation: null, dashboardHtml: null };

/**
 * The error for `doing` something before the wasm is loaded (`hystrix-resilience/init` before `await init()`).
 * @param {string} doing
 */
export function notLoaded(doing) {
  return new HystrixError(`hystrix is not loaded yet: with "hystrix-resilience/init", await init() before ${doing}`);
}
