// Commands: a run (and optional fallback) through a circuit, and views of
// circuits for observing them (snapshots, settings, listeners).
import { BadRequestError, CancelledError } from "./errors.mjs";
import { describe } from "./clocks.mjs";
import { snapshotObject } from "./snapshot.mjs";
import {
  circuitFor,
  circuitNamed,
  configureCircuit,
  disposeCircuit,
  disposedError,
  isMemoryExhausted,
  memoryExhausted,
  refreshGates,
} from "./registry.mjs";
import { MAX_DEPTH, guard, locate, startCall } from "./call.mjs";
import { repairStack, shadow } from "./wasm-slot.mjs";
import { probe } from "./headroom.mjs";

/** @typedef {import("./registry.mjs").Circuit} Circuit */
/** A listener as `on` takes it (its arguments depend on the type). @typedef {(...args: any[]) => void} Listener */

/**
 * What a method called without its command (`const e = cmd.execute; e()`) returns.
 * @param {string} method
 */
function detached(method) {
  return Promise.reject(
    new TypeError(`${method}() was called without its command: call cmd.${method}(...), or pass cmd.${method}.bind(cmd)`),
  );
}

/**
 * Whether `e` is a BadRequestError; `false` if even asking throws (a proxy trap).
 * @param {unknown} e
 */
function isBadRequestError(e) {
  try {
    return e instanceof BadRequestError;
  } catch {
    return false;
  }
}

/** What execute() returns when callbacks have re-entered it MAX_DEPTH deep. */
function tooDeep() {
  return Promise.reject(
    new RangeError(
      `hystrix: commands re-entered ${MAX_DEPTH} deep (a run, fallback or listener calling execute() from inside itself); this call was refused before admission`,
    ),
  );
}

/**
 * Reports `error` the way Node reports a throwing callback: in a microtask of its own.
 * @param {unknown} error
 */
function rethrowLater(error) {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * A listener of circuit `c` threw `error`: counted in the snapshot's `listenerPanics`,
 * then handed to the circuit's on("error") listeners, or, without any,
 * rethrown in a microtask (an uncaught exception, as from a callback).
 * @param {Circuit} c
 * @param {unknown} error
 */
function listenerFailed(c, error) {
  c.wasm.noteListenerError();
  const handlers = c.errorListeners;
  if (handlers.length === 0) {
    rethrowLater(error);
    return;
  }
  for (const handler of handlers.slice()) {
    try {
      handler(error);
    } catch (e) {
      c.wasm.noteListenerError();
      rethrowLater(e);
    }
  }
}

/**
 * A named or anonymous circuit seen from outside: its name, snapshots,
 * settings and listeners, with no way to call through it. `getCommand`
 * returns one; every `Command` is one too.
 */
export class CommandView {
  /**
   * (internal) A view of `circuit`.
   * @param {Circuit} circuit
   */
  constructor(circuit) {
    this._circuit = circuit;
  }

  /** The name ("" for an anonymous command). */
  get name() {
    return this._circuit.name;
  }

  /** Whether the command was disposed (see `Command.dispose`). */
  get disposed() {
    return this._circuit.disposed;
  }

  /** State, health, rolling/cumulative counts, latency, concurrency, as a plain object. */
  snapshot() {
    const c = live(this._circuit);
    return snapshotObject(c.name, c.wasm.snapshot(c.clock.now()));
  }

  /**
   * Changes settings live (camelCase); throws InvalidConfigError and changes nothing on error.
   * @param {import("./index.js").CommandSettings} options
   */
  configure(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    configureCircuit(live(this._circuit), options);
  }

  /**
   * `on("event", (event, atMs) => ...)`, `on("stateChange", (from, to, atMs) => ...)`
   * or `on("error", (error) => ...)`; returns a function that removes this
   * registration. An exception from an event or stateChange listener never
   * reaches the call: it is counted in the snapshot's `listenerPanics` and
   * handed to the "error" listeners or, without any, rethrown in a
   * microtask (an uncaught exception, as a throwing callback is in Node).
   * @param {"event" | "stateChange" | "error"} type
   * @param {Listener} callback
   * @returns {() => boolean}
   */
  on(type, callback) {
    if (type !== "event" && type !== "stateChange" && type !== "error") {
      throw new TypeError('type must be "event", "stateChange" or "error"');
    }
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    const c = live(this._circuit);
    if (type === "error") return onError(c, callback);
    // All of it or nothing: with the headroom free, no step below runs out
    // of stack (a subscription without its delivery would be leaked).
    probe();
    const state = type === "stateChange";
    const wasm = c.wasm;
    // What the wasm side holds must not hold the circuit or the callback:
    // it is a GC root there, and a listener that refers to its command
    // would keep both alive forever (issue 11). So it holds a weak
    // reference and the id; the circuit's own map holds the callback.
    const holder = { id: 0 };
    const id = (holder.id = wasm.subscribe(state, weakDelivery(new WeakRef(c), holder)));
    // Caught here, in JS: an exception never unwinds through wasm frames.
    c.dispatch.set(id, (a, b, at) => {
      guard.depth++;
      try {
        if (state) callback(a, b, at);
        else callback(a, at);
      } catch (e) {
        listenerFailed(c, e);
      } finally {
        guard.depth--;
      }
    });
    // A listener hears timeouts: calls armed from now on gate their timers.
    refreshGates(c);
    const registrations = this._circuit.listeners;
    const key = `${type}`;
    let byCallback = registrations.get(key);
    if (byCallback === undefined) registrations.set(key, (byCallback = new Map()));
    const ids = byCallback.get(callback) ?? [];
    ids.push(id);
    byCallback.set(callback, ids);
    let removed = false;
    return () => {
      if (removed) return false;
      probe();
      removed = true;
      const list = byCallback.get(callback) ?? [];
      const at = list.indexOf(id);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) byCallback.delete(callback);
      c.dispatch.delete(id);
      refreshGates(c);
      return !c.disposed && wasm.unsubscribe(id);
    };
  }

  /**
   * Removes the latest registration of `callback` for `type`.
   * @param {"event" | "stateChange" | "error"} type
   * @param {(...args: never[]) => void} callback
   * @returns {boolean}
   */
  off(type, callback) {
    if (type === "error") return removeLast(this._circuit.errorListeners, callback);
    if (this._circuit.disposed) return false;
    probe();
    const byCallback = this._circuit.listeners.get(type);
    const list = byCallback?.get(callback);
    if (list === undefined || list.length === 0) return false;
    // `list` came from `byCallback` and is not empty.
    const id = /** @type {number} */ (list.pop());
    if (list.length === 0) /** @type {Map<Function, number[]>} */ (byCallback).delete(callback);
    this._circuit.dispatch.delete(id);
    refreshGates(this._circuit);
    return this._circuit.wasm.unsubscribe(id);
  }
}

export class Command extends CommandView {
  /**
   * `new Command(run, fallback?, options?)`: `run(...args)` receives exactly
   * the caller's arguments and may return a value, a promise or a thenable;
   * `fallback(error, ...args)` likewise. With `withContext: true` the run
   * receives its attempt's context first: `run({ attempt, signal }, ...args)`.
   * Options: the SPEC settings in camelCase, `name` (share one circuit),
   * `clock` (e.g. a VirtualClock), `isBadRequest(error)`, `withContext`.
   * A call's later work runs in its caller's async context (context.mjs).
   * @param {(...args: any[]) => unknown} run
   * @param {((error: unknown, ...args: any[]) => unknown) | null} [fallback]
   * @param {import("./index.js").CommandOptions & { withContext?: boolean }} [options]
   */
  constructor(run, fallback, options = {}) {
    if (typeof run !== "function") throw new TypeError("run must be a function");
    if (fallback !== undefined && fallback !== null && typeof fallback !== "function") {
      throw new TypeError("fallback must be a function, null or undefined");
    }
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    if (options.isBadRequest !== undefined && typeof options.isBadRequest !== "function") {
      throw new TypeError("options.isBadRequest must be a function");
    }
    const withContext = options.withContext;
    if (withContext !== undefined && typeof withContext !== "boolean") {
      throw new TypeError(`options.withContext must be true or false, got ${describe(withContext)}`);
    }
    super(circuitFor(options.name, withContext === undefined ? options : withoutKey(options, "withContext")));
    this._run = run;
    this._withContext = withContext === true;
    this._fallback = fallback ?? undefined;
    // Whether a timeout of this command's calls runs its user code (the
    // fallback, a `withContext` run's abort listeners): see `refreshGates`.
    this._gates = this._fallback !== undefined || this._withContext;
    const isBad = options.isBadRequest;
    // BadRequestError always counts; isBadRequest adds more.
    // A classifier that throws cannot stop the call: the error is a failure.
    /** @type {(e: unknown) => boolean} */
    this._isBad =
      isBad === undefined
        ? isBadRequestError
        : (e) => {
            if (isBadRequestError(e)) return true;
            guard.depth++;
            try {
              return Boolean(isBad(e));
            } catch {
              return false;
            } finally {
              guard.depth--;
            }
          };
  }

  /**
   * Runs through the command; resolves with the run's or the fallback's value.
   * @param {...unknown} args
   * @returns {Promise<unknown>}
   */
  execute(...args) {
    const c = this?._circuit;
    if (c === undefined) return detached("execute");
    return this._call(c, args, undefined);
  }

  /**
   * `executeWith({ signal }, ...args)`: as `execute(...args)`, and the
   * caller may give up: aborting `signal` cancels the call (its promise
   * rejects with CancelledError at once; its runs' signals abort; nothing
   * is counted in health; a fallback already running is not cancelled).
   * @param {import("./index.js").CallOptions} options
   * @param {...unknown} args
   * @returns {Promise<unknown>}
   */
  executeWith(options, ...args) {
    const c = this?._circuit;
    if (c === undefined) return detached("executeWith");
    if (options === null || typeof options !== "object") return Promise.reject(new TypeError("options must be an object"));
    const signal = options.signal ?? undefined;
    if (signal !== undefined && !isSignal(signal)) {
      return Promise.reject(new TypeError("options.signal must be an AbortSignal"));
    }
    return this._call(c, args, signal);
  }

  /**
   * The seed's Queue: starts now and returns the promise (same as execute).
   * @param {...unknown} args
   * @returns {Promise<unknown>}
   */
  queue(...args) {
    if (this?._circuit === undefined) return detached("queue");
    return this.execute(...args);
  }

  /**
   * Ends the command's circuit, shared by every Command of its name: its
   * wasm memory is freed (now, or once the calls in flight have ended) and
   * reused by commands made later; the name is removed from the registry
   * if this circuit is the one registered. Afterwards every call, snapshot,
   * setting or listener change of it throws (calls reject) an error naming
   * it. Returns whether it was live until now; calling it again does nothing.
   */
  dispose() {
    return disposeCircuit(this._circuit);
  }

  /**
   * Starts a call of `args` through circuit `c`, cancelled by `signal` if given.
   * @param {Circuit} c
   * @param {unknown[]} args
   * @param {AbortSignal | undefined} signal
   * @returns {Promise<unknown>}
   */
  _call(c, args, signal) {
    if (c.disposed) return Promise.reject(disposedError(c));
    if (guard.depth >= MAX_DEPTH) return tooDeep();
    // A caller that gave up already: nothing is started, nothing recorded.
    if (signal !== undefined && signal.aborted) {
      probe(); // `locate` calls into the wasm unguarded
      return Promise.reject(locate(new CancelledError(undefined, { cause: signal.reason }), c, 9));
    }
    let now;
    try {
      now = c.clock.now();
    } catch (e) {
      // The clock failed before admission: nothing is held.
      return Promise.reject(e);
    }
    try {
      return startCall(this, c, args, now, signal);
    } catch (e) {
      // Nothing is held (`startCall` gives back what a failure after
      // admission leaves): the wasm memory ran out, or the JS stack did
      // under a deep caller; either way this call fails alone.
      repairStack();
      return Promise.reject(isMemoryExhausted(e) ? memoryExhausted() : e);
    }
  }
}

// `using cmd = new Command(...)`: dispose() at the end of the scope, where
// the runtime has explicit resource management (Symbol.dispose).
if (typeof Symbol.dispose === "symbol") {
  Object.defineProperty(Command.prototype, Symbol.dispose, {
    /** @this {Command} */
    value: function dispose() {
      this.dispose();
    },
    writable: true,
    configurable: true,
  });
}

/**
 * What a listener's wasm subscription calls: it finds the circuit through a
 * weak reference and its delivery function by id. Made here, apart from
 * `on`, so that the closure's scope holds nothing else (a closure keeps
 * every variable its enclosing function's closures capture).
 * @param {WeakRef<Circuit>} ref
 * @param {{ id: number }} holder
 * @returns {(kind: string, a: string, b: string, at: number) => void}
 */
function weakDelivery(ref, holder) {
  return (_kind, a, b, at) => {
    const deliver = ref.deref()?.dispatch.get(holder.id);
    if (deliver === undefined) return;
    // The wasm calls this from inside its frames: a call made from the
    // listener that fails there leaves the shadow stack pointer where it
    // is now (`repairStack`).
    const saved = shadow.saved;
    const depth = saved.length;
    try {
      saved[depth] = shadow.sp === null ? 0 : shadow.sp.value;
      deliver(a, b, at);
    } finally {
      saved.length = depth;
    }
  };
}

/**
 * `c`, or, once disposed, throws the error naming it.
 * @param {Circuit} c
 */
function live(c) {
  if (c.disposed) throw disposedError(c);
  return c;
}

/**
 * A copy of `options` without `key` (a Command option the circuit's settings do not take).
 * @param {import("./index.js").CommandOptions & { withContext?: boolean }} options
 * @param {"withContext"} key
 * @returns {import("./index.js").CommandOptions}
 */
function withoutKey(options, key) {
  const rest = { ...options };
  delete rest[key];
  return rest;
}

/**
 * Whether `s` looks like an AbortSignal (`aborted`, `addEventListener`).
 * @param {any} s anything a caller passed
 * @returns {s is AbortSignal}
 */
function isSignal(s) {
  return s !== null && typeof s === "object" && typeof s.aborted === "boolean" && typeof s.addEventListener === "function";
}

/**
 * Removes the last occurrence of `item` from `list`; whether it was there.
 * @param {unknown[]} list
 * @param {unknown} item
 */
function removeLast(list, item) {
  const at = list.lastIndexOf(item);
  if (at < 0) return false;
  list.splice(at, 1);
  return true;
}

/**
 * on("error", callback) for circuit `c`: returns the function that removes it.
 * @param {Circuit} c
 * @param {(error: unknown) => void} callback
 */
function onError(c, callback) {
  c.errorListeners.push(callback);
  let removed = false;
  return () => {
    if (removed) return false;
    removed = true;
    return removeLast(c.errorListeners, callback);
  };
}


/**
 * A view of the named circuit for observing it (`snapshot`, `on`,
 * `configure`), or undefined: it has no `execute`, so it cannot record a
 * call that never ran.
 * @param {string} name
 */
export function getCommand(name) {
  const c = circuitNamed(name);
  return c === undefined ? undefined : new CommandView(c);
}
