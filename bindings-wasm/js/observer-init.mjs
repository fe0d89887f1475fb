// The observer module (the core's renderers, in their own wasm) for
// browsers and bundlers, loaded on request with no top-level await:
// `initObserver(source?)`. observer.web.mjs awaits it at import (for
// `hystrix-resilience/dashboard`); `hystrix-resilience/dashboard/init`
// exports it as `init` for IIFE and es2020 bundles.
import initWasm, { WasmObservation, dashboardHtml } from "./observer/hystrix_wasm_observer.js";
import { loadOnce } from "./loader.mjs";
import { fillObserver, slot } from "./wasm-slot.mjs";

/**
 * Loads the observer module; resolves once the dashboard can render.
 * `source` is where its wasm is, as for `init()` of `hystrix-resilience/init`
 * (default: the package's file, observer/hystrix_wasm_observer_bg.wasm,
 * relative to the glue). The same promise to every caller; after a
 * failure it may be called again.
 * @type {typeof import("./dashboard-init.js").init}
 */
export const initObserver = loadOnce(
  /** @param {Parameters<typeof import("./dashboard-init.js").init>[0]} source */
  (source) =>
    initWasm(source === undefined ? undefined : { module_or_path: source }).then(() =>
      fillObserver(WasmObservation, dashboardHtml),
    ),
  () => slot.WasmObservation !== null,
);
