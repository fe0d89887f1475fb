// Types for `hystrix-resilience/init`: the same API as `hystrix-resilience`, loaded explicitly.
export * from "./index.js";

/**
 * Loads the wasm module; resolves once commands can be created (a command
 * created before that throws a HystrixError saying so). `source` is where
 * the wasm is: a URL or string to fetch, a `Response` (or a promise of
 * one), the file's bytes or a compiled `WebAssembly.Module`; without it the
 * package's own file is fetched relative to the module (browsers: Node's
 * fetch reads no files, so pass the bytes there, or use `hystrix` itself). The same promise is
 * returned to every caller; after a failure it may be called again.
 */
export function init(
  source?: string | URL | Request | Response | PromiseLike<Response> | BufferSource | WebAssembly.Module,
): Promise<void>;
