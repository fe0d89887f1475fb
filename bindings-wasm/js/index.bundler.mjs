// Bundler entry point (wasm-bindgen --target bundler): the bundler wires the wasm import.
import * as wasm from "./bundler/hystrix_wasm.js";
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
