// Which circuits to observe, and one WasmObservation of them for the core
// to render (internal): shared by `hystrix-resilience/observe` (Node) and
// `hystrix-resilience/dashboard` (browsers).
import { CommandView } from "./command.mjs";
import { HystrixError } from "./errors.mjs";
import { circuitNamed, namedCircuits } from "./registry.mjs";
import { slot } from "./wasm-slot.mjs";
import { probe } from "./headroom.mjs";

/** @typedef {import("./registry.mjs").Circuit} Circuit */

/**
 * The circuits `commands` names (views, commands or names), or every named one.
 * @param {unknown} commands
 * @param {string} where
 * @returns {Circuit[]}
 */
export function circuitsOf(commands, where) {
  if (commands === undefined) return namedCircuits();
  if (!Array.isArray(commands)) throw new TypeError(`${where}: options.commands must be an array of commands or names`);
  return commands.map((c, i) => {
    if (c instanceof CommandView) return c._circuit;
    if (typeof c === "string") {
      const circuit = circuitNamed(c);
      if (circuit === undefined) throw new RangeError(`${where}: options.commands[${i}]: no command is named ${JSON.stringify(c)}`);
      return circuit;
    }
    throw new TypeError(`${where}: options.commands[${i}] must be a Command, a CommandView or a name`);
  });
}

/**
 * Renders with `fn(observation)` the circuits of `options.commands`, each observed at its own clock's time.
 * @template R
 * @param {import("./observe.js").RenderOptions | undefined} options
 * @param {string} where
 * @param {(observation: import("./web/hystrix_wasm.js").WasmObservation) => R} fn
 * @returns {R}
 */
export function render(options, where, fn) {
  if (options !== undefined && (options === null || typeof options !== "object")) {
    throw new TypeError(`${where}: options must be an object`);
  }
  if (slot.WasmObservation === null) {
    throw new HystrixError(`${where}: hystrix is not loaded yet: import "hystrix-resilience" (or await init() of "hystrix-resilience/init") first`);
  }
  // The constructor is no method `fill` could guard (see headroom.mjs).
  probe();
  const observation = new slot.WasmObservation();
  try {
    for (const c of circuitsOf(options?.commands, where)) observation.add(c.wasm, c.clock.now(), false);
    return fn(observation);
  } finally {
    observation.free();
  }
}
