// Types for `hystrix-resilience/dashboard/init`: `hystrix-resilience/dashboard`
// without top-level await, its observer module loaded explicitly.
export * from "./dashboard.js";

/**
 * Loads the observer module (the renderers' wasm, which the dashboard
 * draws with); resolves once it can render. `source` is where its wasm is:
 * a URL or string to fetch, a `Response` (or a promise of one), the file's
 * bytes or a compiled `WebAssembly.Module` (the file is exported as
 * `hystrix-resilience/observer-wasm`); without it the package's own file is
 * fetched relative to the module. The same promise to every caller; after
 * a failure it may be called again. Mount after this and after `init()` of
 * `hystrix-resilience/init`.
 */
export function init(
  source?: string | URL | Request | Response | PromiseLike<Response> | BufferSource | WebAssembly.Module,
): Promise<void>;
