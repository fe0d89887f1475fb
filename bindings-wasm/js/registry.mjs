// Circuits (the shared state behind commands: the wasm command, its
// listeners and clock) and the registry of named ones.
import { RealClock, describe } from "./clocks.mjs";
import { HystrixError } from "./errors.mjs";
import { configError, isClock, specJson } from "./options.mjs";
import { slot } from "./wasm-slot.mjs";

const defaultClock = new RealClock();
const registry = new Map();

/** The shared state of a command (one per name). */
export class Circuit {
  constructor(name, options) {
    if (slot.WasmCommand === null) {
      throw new HystrixError('hystrix is not loaded yet: with "hystrix/init", await init() before creating a command');
    }
    try {
      this.wasm = new slot.WasmCommand(name, specJson(options));
    } catch (e) {
      throw configError(e, options);
    }
    this.name = name;
    this.listeners = new Map();
    // on("error") callbacks: they hear what the other listeners throw.
    this.errorListeners = [];
    this.clock = options.clock ?? defaultClock;
  }
}

/** The circuit of `name` (made, or configured with `options`); anonymous if `name` is undefined. */
export function circuitFor(name, options) {
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
    configureCircuit(c, options);
    if (options.clock) c.clock = options.clock;
  }
  return c;
}

/** Applies the SPEC settings among `options` to circuit `c`, or throws InvalidConfigError and changes nothing. */
export function configureCircuit(c, options) {
  const json = specJson(options);
  if (json === "{}") return;
  try {
    c.wasm.configure(json);
  } catch (e) {
    throw configError(e, options);
  }
}

/** Sets options of the named command (made if needed). */
export function configure(name, options) {
  if (typeof name !== "string") throw new TypeError("name must be a string");
  circuitFor(name, options ?? {});
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

/** The circuits of every registered name (for `hystrix/observe`). */
export function namedCircuits() {
  return [...registry.values()];
}
