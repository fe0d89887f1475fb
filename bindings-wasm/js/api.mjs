// The JS face of hystrix, re-exported by every entry point (Node, browser,
// bundler, init), which loads the wasm `WasmCommand` into `slot` first.
// By concern: options.mjs (options, config errors, schema), call.mjs (the
// call interpreter), command.mjs (Command, CommandView, listeners),
// registry.mjs (named commands), clocks.mjs, errors.mjs.
export { VirtualClock } from "./clocks.mjs";
export {
  HystrixError,
  CircuitOpenError,
  RejectedError,
  TimeoutError,
  BadRequestError,
  FallbackRejectedError,
  FallbackFailedError,
  InvalidConfigError,
  CancelledError,
  RateLimitedError,
  SettingsConflictError,
} from "./errors.mjs";
export { configSchema } from "./options.mjs";
export { Command, CommandView, getCommand } from "./command.mjs";
export { configure, removeCommand } from "./registry.mjs";
