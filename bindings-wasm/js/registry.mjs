// Circuits (the shared state behind commands: the wasm command, its
// listeners and clock) and the glue's cache of the named ones. Which names
// exist, their settings, "configure before or after first use", conflicts
// and removal are decided by the core registry inside the wasm module
// (bindings-wasm/src/registry.rs); the cache only maps each registered name
// to the one Circuit wrapping its command.
import { RealClock, describe } from "./clocks.mjs";
import { HystrixError, InvalidConfigError, SettingsConflictError } from "./errors.mjs";
import { CAMEL, configError, isClock, specPatch } from "./options.mjs";
import { notLoaded, slot } from "./wasm-slot.mjs";
import { probe } from "./headroom.mjs";

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
// Registered name -> its Circuit.
/** @type {Map<string, Circuit>} */
const cache = new Map();

/** The loaded wasm class; throws unless the wasm module is loaded. */
function loaded() {
  if (slot.WasmCommand === null) throw notLoaded("creating a command");
  return slot.WasmCommand;
}

/** The shared state of a command (one per name). */
export class Circuit {
  /**
   * @param {string} name
   * @param {CommandOptions} options
   * @param {import("./web/hystrix_wasm.js").WasmCommand} [wasm] made by the registry, for a named circuit
   */
  constructor(name, options, wasm) {
    if (wasm === undefined) {
      const W = loaded();
      const p = specPatch(options);
      // The constructor is no method `fill` could guard (see headroom.mjs).
      probe();
      try {
        wasm = new W(name, p.settings, p.texts);
      } catch (e) {
        throw isMemoryExhausted(e) ? memoryExhausted() : named(configError(e, options), name);
      }
    }
    this.wasm = wasm;
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
    // Whether retry, hedge or rate-limit options were ever given (sticky).
    this.strategies = false;
    // Whether a timer's firing may run user code for any command of this
    // circuit (see `refreshGates`): its calls' timers are then gated.
    this.gates = false;
    noteOptions(this, options);
  }
}

/** Options that can give a call more attempts or timers than its one timeout (the per-call plan, semantics §9.6; rate-limit waits). */
const STRATEGY = /^(retry|hedge|rateLimit)/;

/**
 * Notes `options` applied to circuit `c` (at creation or by `configure`): a
 * retry, hedge or rate-limit option, whatever its value, marks the circuit
 * for good (the glue does not keep the settings, so it cannot tell when
 * they are back at their defaults); then recomputes `c.gates`.
 * @param {Circuit} c
 * @param {object} options
 */
export function noteOptions(c, options) {
  if (!c.strategies) for (const key of Object.keys(options)) if (STRATEGY.test(key)) c.strategies = true;
  refreshGates(c);
}

/**
 * Recomputes `c.gates`: whether, when a timer of one of `c`'s calls fires
 * (its timeout), anything beyond the glue and the core may run — event or
 * stateChange listeners (its notices), more attempts or timers (retries,
 * hedges, rate-limit waits), or any clock but the default one (its `now`). Then
 * each call's timer work is brought back into its caller's async context
 * (context.mjs); otherwise it is carried out where the timer fires, which
 * nobody can observe. Per command, a fallback or `withContext` runs (abort
 * listeners) gate too (call.mjs, `startCall`). Called on every change of
 * these: listeners (command.mjs), options and clock (here).
 * @param {Circuit} c
 */
export function refreshGates(c) {
  // Any clock but the default real one may run a caller's code when a
  // timer fires or is set (a host clock, a VirtualClock subclass or one
  // whose `now` is stubbed): gated.
  c.gates = c.strategies || c.dispatch.size !== 0 || c.clock !== defaultClock;
}

/**
 * The circuit of `name`, made with `options` on first use; anonymous if
 * `name` is undefined. One name has one set of settings (semantics §2,
 * "One command per name"): for an existing name, options that differ from
 * its settings throw SettingsConflictError (naming the command, the option
 * and both values) and change nothing — unless `reconfigure` (the
 * registry's `configure()`), which applies them. The core registry decides.
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
  const W = loaded();
  // All of it or nothing: with the headroom free, no step below runs out
  // of stack (a command made but never cached would leave its name taken).
  probe();
  const p = specPatch(options);
  let made;
  try {
    made = W.named(name, p.settings, p.texts, reconfigure);
  } catch (e) {
    throw enterError(e, options, name);
  }
  let c = cache.get(name);
  if (made !== undefined) {
    c = new Circuit(name, options, made);
    cache.set(name, c);
    return c;
  }
  if (c === undefined) throw new HystrixError(`hystrix: internal error: command ${JSON.stringify(name)} is registered but has no circuit`);
  if (reconfigure) c.wasm.refresh();
  if (options.clock) c.clock = options.clock;
  noteOptions(c, options);
  return c;
}

/**
 * The error for what the registry refused: a conflict, invalid settings, or no memory.
 * @param {unknown} e
 * @param {CommandOptions} options
 * @param {string} name
 */
function enterError(e, options, name) {
  if (isMemoryExhausted(e)) return memoryExhausted();
  if (typeof e === "string" && e.startsWith("\u0002")) {
    const [, key, existing, given] = e.split("\u0002");
    const err = /** @type {Writable<import("./index.js").SettingsConflictError>} */ (new SettingsConflictError());
    err.command = name;
    err.key = CAMEL[key] ?? key;
    err.existing = existing;
    err.given = given;
    return err;
  }
  return named(configError(e, options), name);
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
    c.wasm.configure(p.settings, p.texts);
  } catch (e) {
    throw named(configError(e, options), c.name);
  }
  noteOptions(c, options);
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
  return cache.get(name);
}

/**
 * Forgets a name (the core registry); its state is freed once no command uses it.
 * @param {string} name
 */
export function removeCommand(name) {
  cache.delete(name);
  return slot.WasmCommand !== null && slot.WasmCommand.removeNamed(name);
}

/**
 * The circuits of every registered name, in the core registry's order (for `hystrix-resilience/observe`).
 * @returns {Circuit[]}
 */
export function namedCircuits() {
  if (slot.WasmCommand === null) return [];
  return slot.WasmCommand.registeredNames().flatMap((name) => cache.get(name) ?? []);
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
  // All of it or nothing: with the headroom free, no step below runs out
  // of stack (a disposal cut short would leave the name registered).
  probe();
  c.disposed = true;
  if (cache.get(c.name) === c) cache.delete(c.name);
  c.wasm.unregister();
  if (!c.wasm.busy()) c.wasm.free();
  return true;
}
