// Circuits (the shared state behind commands: the wasm command, its
// listeners and clock) and the registry of named ones.
import { RealClock, describe } from "./clocks.mjs";
import { HystrixError, InvalidConfigError, SettingsConflictError } from "./errors.mjs";
import { CAMEL, configError, isClock, specPatch } from "./options.mjs";
import { notLoaded, slot } from "./wasm-slot.mjs";

/** @typedef {import("./index.js").CommandOptions} CommandOptions */
/** @typedef {typeof import("./web/hystrix_wasm.js").WasmCommand} WasmCommandClass */
/**
 * A circuit's clock: the caller's (`now`, `arm`), or one of ours, which
 * also arm and cancel timer objects without a closure (call.mjs).
 * @typedef {import("./index.js").Clock & {
 *   armTimer?: <T extends import("./timers.mjs").Timer>(due: number, timer: T) => T,
 *   cancelTimer?: (timer: import("./timers.mjs").Timer) => boolean,
 * }} CircuitClock
 */
/** @template T @typedef {{ -readonly [K in keyof T]: T[K] }} Writable */

const defaultClock = new RealClock();
/** @type {Map<string, Circuit>} */
const registry = new Map();

/** The shared state of a command (one per name). */
export class Circuit {
  /**
   * @param {string} name
   * @param {CommandOptions} options
   */
  constructor(name, options) {
    if (slot.WasmCommand === null) {
      throw notLoaded("creating a command");
    }
    const p = specPatch(options);
    try {
      this.wasm = new slot.WasmCommand(name, p.keys, p.values, p.nums);
    } catch (e) {
      throw isMemoryExhausted(e) ? memoryExhausted() : named(configError(e, options), name);
    }
    this.name = name;
    // Set by dispose(): the circuit takes no more calls.
    this.disposed = false;
    /** @type {Map<string, Map<Function, number[]>>} */
    this.listeners = new Map();
    // Listener id -> its delivery function (see Command.on: the wasm side
    // holds only the id and a weak reference to this circuit).
    /** @type {Map<number, (a: string, b: string, at: number) => void>} */
    this.dispatch = new Map();
    // on("error") callbacks: they hear what the other listeners throw.
    /** @type {((error: unknown) => void)[]} */
    this.errorListeners = [];
    /** @type {CircuitClock} */
    this.clock = options.clock ?? defaultClock;
  }
}

/**
 * The circuit of `name`, made with `options` on first use; anonymous if
 * `name` is undefined. One name has one set of settings (semantics §2,
 * "One command per name"): for an existing name, options that differ from
 * its settings throw SettingsConflictError (naming the command, the option
 * and both values) and change nothing — unless `reconfigure` (the
 * registry's `configure()`), which applies them.
 * @param {string | undefined} name
 * @param {CommandOptions} options
 * @param {boolean} [reconfigure]
 */
export function circuitFor(name, options, reconfigure = false) {
  // null or undefined: the real clock (or, for a known name, the clock it has).
  if (options.clock != null && !isClock(options.clock)) {
    throw new TypeError(`options.clock must have now() and arm(due, fn) methods (a VirtualClock, or an object like it), got ${describe(options.clock)}`);
  }
  if (name === undefined) return new Circuit("", options);
  if (typeof name !== "string") throw new TypeError("options.name must be a string");
  let c = registry.get(name);
  if (c === undefined) {
    c = new Circuit(name, options);
    registry.set(name, c);
  } else {
    if (reconfigure) configureCircuit(c, options);
    else checkSameSettings(c, options);
    if (options.clock) c.clock = options.clock;
  }
  return c;
}

/**
 * Throws SettingsConflictError if `options` give a setting other than circuit `c`'s (the core compares).
 * @param {Circuit} c
 * @param {CommandOptions} options
 */
function checkSameSettings(c, options) {
  const p = specPatch(options);
  if (p.size === 0) return;
  try {
    c.wasm.checkSameSettings(p.keys, p.values, p.nums);
  } catch (e) {
    if (typeof e === "string" && e.startsWith("\u0002")) {
      const [, key, existing, given] = e.split("\u0002");
      const err = /** @type {Writable<import("./index.js").SettingsConflictError>} */ (new SettingsConflictError());
      err.command = c.name;
      err.key = CAMEL[key] ?? key;
      err.existing = existing;
      err.given = given;
      throw err;
    }
    throw named(configError(e, options), c.name);
  }
}

/**
 * Applies the SPEC settings among `options` to circuit `c`, or throws InvalidConfigError and changes nothing.
 * @param {Circuit} c
 * @param {object} options
 */
export function configureCircuit(c, options) {
  const p = specPatch(options);
  if (p.size === 0) return;
  try {
    c.wasm.configure(p.keys, p.values, p.nums);
  } catch (e) {
    throw named(configError(e, options), c.name);
  }
}

/**
 * An InvalidConfigError about the command called `name` names it (`.command`, message); anonymous: unchanged.
 * @param {Error} err
 * @param {string} name
 */
function named(err, name) {
  if (name && err instanceof InvalidConfigError) {
    err.message = `command '${name}': ${err.message}`;
    err.command = name;
  }
  return err;
}

/**
 * Sets options of the named command (made if needed).
 * @param {string} name
 * @param {CommandOptions} [options]
 */
export function configure(name, options) {
  if (typeof name !== "string") throw new TypeError("name must be a string");
  circuitFor(name, options ?? {}, true);
}

/**
 * The named circuit, or undefined.
 * @param {string} name
 */
export function circuitNamed(name) {
  return registry.get(name);
}

/**
 * Forgets a name; its state is freed once no command uses it.
 * @param {string} name
 */
export function removeCommand(name) {
  const c = registry.get(name);
  if (c === undefined) return false;
  registry.delete(name);
  return true;
}

/** The circuits of every registered name (for `hystrix-resilience/observe`). */
export function namedCircuits() {
  return [...registry.values()];
}

/** What the wasm constructor throws when the wasm memory is exhausted (see bindings-wasm/src/lib.rs). */
const MEMORY_EXHAUSTED = "\u0002memory exhausted";

/**
 * Whether `e`, thrown by wasm, means the wasm memory is exhausted: the
 * constructor's own refusal, or a trap (`unreachable`, what an allocation
 * that cannot be satisfied ends in) after the allocator reported a failure.
 * @param {unknown} e
 */
export function isMemoryExhausted(e) {
  if (e === MEMORY_EXHAUSTED) return true;
  // Thrown by wasm: it is loaded.
  return typeof WebAssembly === "object" && e instanceof WebAssembly.RuntimeError && /** @type {WasmCommandClass} */ (slot.WasmCommand).takeAllocFailure();
}

/** The error for an exhausted wasm memory: its size and how many commands hold it. */
export function memoryExhausted() {
  const W = /** @type {WasmCommandClass} */ (slot.WasmCommand); // a wasm call failed: it is loaded
  const bytes = W.wasmMemory().buffer.byteLength;
  return new HystrixError(
    `hystrix: the wasm memory is exhausted (${bytes} bytes, ${W.liveCommands()} commands live): ` +
      "call dispose() on commands no longer needed (their memory is reused)",
  );
}

/**
 * The name of circuit `c` as error messages give it.
 * @param {Circuit} c
 */
export function describeCircuit(c) {
  return c.name === "" ? "an anonymous command" : `command ${JSON.stringify(c.name)}`;
}

/**
 * The error for using circuit `c` after dispose().
 * @param {Circuit} c
 */
export function disposedError(c) {
  return new HystrixError(`hystrix: ${describeCircuit(c)} was disposed: create a new Command to use it again`);
}

/**
 * Ends circuit `c`: no more calls, snapshots or settings; removed from the
 * registry if it is the one registered under its name. Its wasm memory is
 * freed now, or, with calls still in flight, by the garbage collector once
 * they have ended. Whether it was live until now.
 * @param {Circuit} c
 */
export function disposeCircuit(c) {
  if (c.disposed) return false;
  c.disposed = true;
  if (registry.get(c.name) === c) registry.delete(c.name);
  if (!c.wasm.busy()) c.wasm.free();
  return true;
}
