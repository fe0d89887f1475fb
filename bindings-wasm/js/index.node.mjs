// Node entry point: the wasm module loads synchronously (wasm-bindgen --target nodejs).
import { AsyncResource } from "node:async_hooks";
import wasm from "./node/hystrix_wasm.js";
import { makeApi } from "./api.mjs";
import { setContextBinder } from "./clocks.mjs";

setContextBinder((fn) => AsyncResource.bind(fn));

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
