// Browser entry point (wasm-bindgen --target web): fetches and instantiates the wasm with top-level await.
import init, * as wasm from "./web/hystrix_wasm.js";

await init();
import { makeApi } from "./api.mjs";

const api = makeApi(wasm);
export const {
  Command,
  configure,
  getCommand,
  removeCommand,
  VirtualClock,
  HystrixError,
  CircuitOpenError,
  RejectedError,
  TimeoutError,
  BadRequestError,
  FallbackRejectedError,
  FallbackFailedError,
  InvalidConfigError,
} = api;
