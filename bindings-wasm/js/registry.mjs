// Circuits (the shared state behind commands: the wasm command, its
// listeners and clock) and the registry of named ones.
import { RealClock, describe } from "./clocks.mjs";
import { HystrixError, InvalidConfigError, SettingsConflictError } from "./errors.mjs";
import { CAMEL, configError, isClock, specJson } from "./options.mjs";
import { slot } from "./wasm-slot.mjs";

const defaultClock = new RealClock();
const registry = new Map();

/** The shared state of a command (one per name). */
export class Circuit {
  constructor(name, options) {
    if (slot.WasmCommand === null) {
      throw new HystrixError('hystrix is not loaded yet: with "hystrix-resilience/init", await init() before creating a command');
    }
    try {
      this.wasm = new slot.WasmCommand(name, specJson(options));
    } catch (e) {
      throw named(configError(e, options), name);
    }
    this.name = name;
    this.listeners = new Map();
    // on("error") callbacks: they hear what the other listeners throw.
    this.errorListeners = [];
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

/** Throws SettingsConflictError if `options` give a setting other than circuit `c`'s (the core compares). */
function checkSameSettings(c, options) {
  const json = specJson(options);
  if (json === "{}") return;
  try {
    c.wasm.checkSameSettings(json);
  } catch (e) {
    if (typeof e === "string" && e.startsWith("\u0002")) {
      const [, key, existing, given] = e.split("\u0002");
      const err = new SettingsConflictError();
      err.command = c.name;
      err.key = CAMEL[key] ?? key;
      err.existing = existing;
      err.given = given;
      throw err;
    }
    throw named(configError(e, options), c.name);
  }
}

/** Applies the SPEC settings among `options` to circuit `c`, or throws InvalidConfigError and changes nothing. */
export function configureCircuit(c, options) {
  const json = specJson(options);
  if (json === "{}") return;
  try {
    c.wasm.configure(json);
  } catch (e) {
    throw named(configError(e, options), c.name);
  }
}

/** An InvalidConfigError about the command called `name` names it (`.command`, message); anonymous: unchanged. */
function named(err, name) {
  if (name && err instanceof InvalidConfigError) {
    err.message = `command '${name}': ${err.message}`;
    err.command = name;
  }
  return err;
}

/** Sets options of the named command (made if needed). */
export function configure(name, options) {
  if (typeof name !== "string") throw new TypeError("name must be a string");
  circuitFor(name, options ?? {}, true);
}

/** The named circuit, or undefined. */
export function circuitNamed(name) {
  return registry.get(name);
}

/** Forgets a name; its state is freed once no command uses it. */
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
