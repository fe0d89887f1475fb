// The JS face of hystrix: Command, errors, clocks, named commands, over the
// wasm `WasmCommand` that an entry point (Node, browser, bundler) loads
// into `slot` before anything is constructed.
import { RealClock, VirtualClock, describe } from "./clocks.mjs";
import { slot } from "./wasm-slot.mjs";
import {
  BadRequestError,
  CancelledError,
  CircuitOpenError,
  FallbackFailedError,
  FallbackRejectedError,
  HystrixError,
  InvalidConfigError,
  RateLimitedError,
  RejectedError,
  TimeoutError,
} from "./errors.mjs";

const RUN = 0;
const FALLBACK = 1;
const DONE = 2;
const NOTHING = 3;
/** The core's code of the timeout error kind (`lastCause()` after a run that ended past its deadline). */
const TIMEOUT_CAUSE = 2;
/** Call.late: the call's timeout has not fired, it fired, or the call was released early. */
const LIVE = 0;
const TIMED_OUT = 1;
const RELEASED = 2;
const SUCCESS = 0;
const FAILURE = 1;
const BAD_REQUEST = 2;

/** camelCase option -> SPEC key. */
const KEYS = {
  timeoutEnabled: "timeout_enabled",
  timeoutMs: "timeout_ms",
  maxConcurrentRequests: "max_concurrent_requests",
  fallbackEnabled: "fallback_enabled",
  fallbackMaxConcurrentRequests: "fallback_max_concurrent_requests",
  circuitBreakerEnabled: "circuit_breaker_enabled",
  requestVolumeThreshold: "request_volume_threshold",
  errorThresholdPercentage: "error_threshold_percentage",
  sleepWindowMs: "sleep_window_ms",
  halfOpenMaxCalls: "half_open_max_calls",
  forceOpen: "force_open",
  forceClosed: "force_closed",
  rollingWindowMs: "rolling_window_ms",
  rollingWindowBuckets: "rolling_window_buckets",
  healthSnapshotIntervalMs: "health_snapshot_interval_ms",
  // SPEC v2 (§8)
  randomSeed: "random_seed",
  retryMaxAttempts: "retry_max_attempts",
  retryOnTimeout: "retry_on_timeout",
  retryOnRejected: "retry_on_rejected",
  retryBaseDelayMs: "retry_base_delay_ms",
  retryMultiplierPermille: "retry_multiplier_permille",
  retryMaxDelayMs: "retry_max_delay_ms",
  retryJitter: "retry_jitter",
  deadlineMs: "deadline_ms",
  retryBudgetPercent: "retry_budget_percent",
  retryBudgetMinPerSec: "retry_budget_min_per_sec",
  retryBudgetWindowMs: "retry_budget_window_ms",
  retryBudgetWindowBuckets: "retry_budget_window_buckets",
  rateLimitForPeriod: "rate_limit_for_period",
  rateLimitPeriodMs: "rate_limit_period_ms",
  rateLimitBurst: "rate_limit_burst",
  rateLimitTimeoutMs: "rate_limit_timeout_ms",
  hedgeMaxAttempts: "hedge_max_attempts",
  hedgeDelayMs: "hedge_delay_ms",
  hedgeOnFailure: "hedge_on_failure",
  concurrencyLimitMode: "concurrency_limit_mode",
  adaptiveInitialLimit: "adaptive_initial_limit",
  adaptiveMinLimit: "adaptive_min_limit",
  adaptiveMaxLimit: "adaptive_max_limit",
  adaptiveWindowMs: "adaptive_window_ms",
  adaptiveWindowMinSamples: "adaptive_window_min_samples",
  adaptiveDropOnFailure: "adaptive_drop_on_failure",
  aimdBackoffPermille: "aimd_backoff_permille",
  aimdTimeoutMs: "aimd_timeout_ms",
  gradient2SmoothingPermille: "gradient2_smoothing_permille",
  gradient2QueueSize: "gradient2_queue_size",
  gradient2LongWindow: "gradient2_long_window",
  gradient2RttTolerancePermille: "gradient2_rtt_tolerance_permille",
};
const CAMEL = Object.fromEntries(Object.entries(KEYS).map(([c, s]) => [s, c]));
const OTHER_OPTIONS = new Set(["name", "clock", "isBadRequest"]);

/**
 * Option object -> SPEC JSON; unknown option -> InvalidConfigError naming it.
 * `undefined` means absent. Values JSON cannot carry (functions, symbols, bigints) are sent
 * as a description the core refuses, so the error names the key too.
 */
function specJson(options) {
  const out = {};
  for (const key of Object.keys(options)) {
    if (OTHER_OPTIONS.has(key)) continue;
    const spec = KEYS[key];
    if (spec === undefined) throw keyed(new InvalidConfigError(`invalid config: unknown option ${JSON.stringify(key)}`), key);
    const v = options[key];
    if (v === undefined) continue; // an option left undefined takes its default
    out[spec] = typeof v === "number" || typeof v === "boolean" || typeof v === "string" || v === null ? v : `<${typeof v}>`;
  }
  return JSON.stringify(out);
}

/** `error` with `.key` set to the option it names. */
function keyed(error, key) {
  error.key = key;
  return error;
}

/** SPEC integer key -> "must be an integer from A to B", asked of the core once. */
const integerRules = new Map();

/**
 * The core's range rule for integer key `spec`: it is asked to accept
 * 2^53, which is above every key's maximum, and its refusal states the
 * rule. So the glue never restates the core's ranges.
 */
function integerRule(spec) {
  let rule = integerRules.get(spec);
  if (rule === undefined) {
    rule = null;
    try {
      new slot.WasmCommand("", JSON.stringify({ [spec]: 2 ** 53 })).free();
    } catch (e) {
      const m = typeof e === "string" ? /(must be an integer from \d+ to \d+)/.exec(e) : null;
      if (m !== null) rule = m[1];
    }
    integerRules.set(spec, rule);
  }
  return rule;
}

/**
 * Turns the wasm side's "key\u0001message" into an InvalidConfigError
 * naming the camelCase option. A value of the wrong type or out of range
 * is described as the caller gave it (JSON turns NaN into null), with the
 * key's whole rule, so -1 and 0 read alike.
 */
function configError(e, options) {
  if (typeof e === "string" && e.includes("\u0001")) {
    const [key, message] = e.split("\u0001");
    const camel = CAMEL[key] ?? key;
    let text = message.replace(/[a-z][a-z0-9]*(?:_[a-z0-9]+)+/g, (k) => CAMEL[k] ?? k);
    if (options !== undefined && Object.hasOwn(options, camel)) {
      const got = describe(options[camel]);
      if (/ must be a boolean, got /.test(text)) {
        text = `invalid config: ${camel} must be a boolean (true or false), got ${got}`;
      } else if (/ must be (a non-negative integer|an integer from)/.test(text)) {
        const rule = integerRule(key) ?? "must be a non-negative integer";
        text = `invalid config: ${camel} ${rule}, got ${got}`;
      } else if (/ must be one of /.test(text)) {
        text = text.replace(/, got .*$/s, `, got ${got}`);
      }
    }
    return keyed(new InvalidConfigError(text), camel);
  }
  return e instanceof Error ? e : new HystrixError(String(e));
}

/**
 * The snapshot's keys in camelCase, like the options: the core's snake_case
 * key with the letter after each underscore capitalised (`error_percentage`
 * -> `errorPercentage`). Event-type names (`FALLBACK_SUCCESS`) and
 * percentile names (`p99_5`) have no lower-case letter after an underscore
 * and stay as they are.
 */
function camelKeys(value) {
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const key of Object.keys(value)) out[key.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase())] = camelKeys(value[key]);
  return out;
}

/**
 * `settling` (the call's own settlement) followed by the clock's error of
 * `state`: the call's books are kept, then its caller hears of the clock.
 */
function clockFailure(settling, state) {
  const fail = () => {
    throw state.clockError;
  };
  return promiseThen.call(settling, fail, fail);
}

/** What a method called without its command (`const e = cmd.execute; e()`) returns. */
function detached(method) {
  return Promise.reject(
    new TypeError(`${method}() was called without its command: call cmd.${method}(...), or pass cmd.${method}.bind(cmd)`),
  );
}

/** Whether `e` is a BadRequestError; `false` if even asking throws (a proxy trap). */
function isBadRequestError(e) {
  try {
    return e instanceof BadRequestError;
  } catch {
    return false;
  }
}

/** An error without a captured stack: refusals are frequent and their stack says nothing. */
function cheap(Cls) {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new Cls();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** `fn()` as a promise: its value, or its exception as a rejection. */
function settled(fn) {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

// A spread call (`fn(...args, x)`) costs V8 tens of nanoseconds, a tenth of
// a closed-path call: up to three arguments are passed without one.

/** `fn.call(self, ...args, last)`. */
function callRun(self, fn, args, last) {
  switch (args.length) {
    case 0:
      return fn.call(self, last);
    case 1:
      return fn.call(self, args[0], last);
    case 2:
      return fn.call(self, args[0], args[1], last);
    case 3:
      return fn.call(self, args[0], args[1], args[2], last);
    default:
      return fn.call(self, ...args, last);
  }
}

/** `fn.call(self, first, ...args)`. */
function callFallback(self, fn, first, args) {
  switch (args.length) {
    case 0:
      return fn.call(self, first);
    case 1:
      return fn.call(self, first, args[0]);
    case 2:
      return fn.call(self, first, args[0], args[1]);
    default:
      return fn.call(self, first, ...args);
  }
}

/** The intrinsic `then`: called on promises we hold, never a user's own. */
const promiseThen = Promise.prototype.then;

/**
 * What to wait for when a run or fallback returned `value`: `null` if it is
 * not a thenable; a plain native promise as it is; anything else (a foreign
 * thenable, a subclass, a promise with its own `then`) adopted by a fresh
 * native promise, so callbacks count once. `then` is read exactly once
 * (Promises/A+ 2.3.3.1). It may throw (a getter or proxy trap): callers
 * call it inside their `try`, so that is the run or fallback failing.
 */
function pendingOf(value) {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return null;
  const then = value.then;
  if (typeof then !== "function") return null;
  if (then === promiseThen && value instanceof Promise && value.constructor === Promise) return value;
  return new Promise((resolve, reject) => {
    then.call(value, resolve, reject);
  });
}

/**
 * What a run receives after its arguments: `{ signal }`, read through a
 * getter so the AbortController is created only if the run asks for it (or
 * at a timeout). It holds its call privately: whatever the run does to this
 * object (writes, `Object.freeze`) cannot reach the call's own state.
 */
class RunContext {
  #call;

  constructor(call) {
    this.#call = call;
  }

  /** Aborted when the call times out (one per call, never shared). */
  get signal() {
    return this.#call.signal;
  }
}

/** One call in flight: its execution id, timeout timer and promise. */
class Call {
  constructor(command, id, args) {
    this.command = command;
    this.id = id;
    this._ac = null;
    this.args = args;
    this.clock = null;
    this.timer = null;
    // LIVE until the timeout fires (TIMED_OUT) or the call is released early (RELEASED).
    this.late = LIVE;
    // The last instant the clock gave for this call, and its first failure (see `_now`).
    this.at = 0;
    this.clockFailed = false;
    this.clockError = undefined;
    this.resolve = null;
    this.reject = null;
    // How a run that did not return a thenable ended (see `_callRun`).
    this.ok = false;
    this.value = undefined;
    // Timer-queue links (see timers.mjs), declared here to keep one shape.
    this._bucket = null;
    this._due = 0;
    this._prev = null;
    this._next = null;
    this._wrapper = undefined;
    this.context = new RunContext(this);
  }

  /** Arms the timeout; our own clocks take this object as the timer. */
  arm(clock, due) {
    this.clock = clock;
    if (typeof clock.armTimer === "function") clock.armTimer(due, this);
    else {
      this._due = due;
      this.timer = clock.arm(due, () => this.fire());
    }
  }

  disarm() {
    if (this.clock === null) return;
    if (this.timer !== null) this.timer.cancel();
    else this.clock.cancelTimer(this);
    this.clock = null;
  }

  /** Aborted when the call times out (one per call, never shared). */
  get signal() {
    if (this._ac === null) this._ac = new AbortController();
    return this._ac.signal;
  }

  _abort(reason) {
    // Nobody asked for the signal before the timeout: hand out an aborted one.
    if (this._ac === null) this._ac = new AbortController();
    this._ac.abort(reason);
  }

  /** The timeout fired. */
  fire() {
    this.clock = null;
    // A host clock whose cancel failed may still fire after the call ended.
    if (this.late === LIVE) this.command._onTimeout(this);
  }
}

const defaultClock = new RealClock();
const registry = new Map();

/** The shared state of a command (one per name). */
class Circuit {
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

/**
 * How deep host callbacks (runs, fallbacks, classifiers, listeners) may
 * re-enter execute() from inside themselves. Unbounded, the stack would
 * overflow inside wasm, where nothing can be given back; a call refused
 * here holds nothing. Far below the ~400 listener levels Node's stack holds.
 */
const MAX_DEPTH = 64;
/** Host callbacks of commands in progress on the stack. */
let depth = 0;

/** What execute() returns when callbacks have re-entered it MAX_DEPTH deep. */
function tooDeep() {
  return Promise.reject(
    new RangeError(
      `hystrix: commands re-entered ${MAX_DEPTH} deep (a run, fallback or listener calling execute() from inside itself); this call was refused before admission`,
    ),
  );
}

/** Reports `error` the way Node reports a throwing callback: in a microtask of its own. */
function rethrowLater(error) {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * A listener of circuit `c` threw `error`: counted in the snapshot's `listenerPanics`,
 * then handed to the circuit's on("error") listeners, or, without any,
 * rethrown in a microtask (an uncaught exception, as from a callback).
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

/** Whether `clock` can drive a command: `now()` and `arm(due, fn)` (our own clocks also have `armTimer`). */
function isClock(clock) {
  return (
    clock !== null &&
    (typeof clock === "object" || typeof clock === "function") &&
    typeof clock.now === "function" &&
    (typeof clock.arm === "function" || typeof clock.armTimer === "function")
  );
}

function circuitFor(name, options) {
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

function configureCircuit(c, options) {
  const json = specJson(options);
  if (json === "{}") return;
  try {
    c.wasm.configure(json);
  } catch (e) {
    throw configError(e, options);
  }
}

/**
 * A named or anonymous circuit seen from outside: its name, snapshots,
 * settings and listeners, with no way to call through it. `getCommand`
 * returns one; every `Command` is one too.
 */
export class CommandView {
  /** (internal) A view of `circuit`. */
  constructor(circuit) {
    this._circuit = circuit;
  }

  /** The name ("" for an anonymous command). */
  get name() {
    return this._circuit.name;
  }

  /** State, health, rolling/cumulative counts, latency, concurrency, as a plain object. */
  snapshot() {
    return camelKeys(JSON.parse(this._circuit.wasm.snapshot(this._circuit.clock.now())));
  }

  /** Changes settings live (camelCase); throws InvalidConfigError and changes nothing on error. */
  configure(options) {
    if (options === null || typeof options !== "object") throw new TypeError("options must be an object");
    configureCircuit(this._circuit, options);
  }

  /**
   * `on("event", (event, atMs) => ...)`, `on("stateChange", (from, to, atMs) => ...)`
   * or `on("error", (error) => ...)`; returns a function that removes this
   * registration. An exception from an event or stateChange listener never
   * reaches the call: it is counted in the snapshot's `listenerPanics` and
   * handed to the "error" listeners or, without any, rethrown in a
   * microtask (an uncaught exception, as a throwing callback is in Node).
   */
  on(type, callback) {
    if (type !== "event" && type !== "stateChange" && type !== "error") {
      throw new TypeError('type must be "event", "stateChange" or "error"');
    }
    if (typeof callback !== "function") throw new TypeError("callback must be a function");
    const c = this._circuit;
    if (type === "error") return onError(c, callback);
    const state = type === "stateChange";
    const wasm = c.wasm;
    // Caught here, in JS: an exception never unwinds through wasm frames.
    const id = wasm.subscribe(state, (_kind, a, b, at) => {
      depth++;
      try {
        if (state) callback(a, b, at);
        else callback(a, at);
      } catch (e) {
        listenerFailed(c, e);
      } finally {
        depth--;
      }
    });
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
      removed = true;
      const list = byCallback.get(callback) ?? [];
      const at = list.indexOf(id);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) byCallback.delete(callback);
      return wasm.unsubscribe(id);
    };
  }

  /** Removes the latest registration of `callback` for `type`. */
  off(type, callback) {
    if (type === "error") return removeLast(this._circuit.errorListeners, callback);
    const byCallback = this._circuit.listeners.get(type);
    const list = byCallback?.get(callback);
    if (list === undefined || list.length === 0) return false;
    const id = list.pop();
    if (list.length === 0) byCallback.delete(callback);
    return this._circuit.wasm.unsubscribe(id);
  }
}

export class Command extends CommandView {
  /**
   * `new Command(run, fallback?, options?)`: `run(...args, { signal })` may
   * return a value, a promise or a thenable; `fallback(error, ...args)`
   * likewise. Options: the SPEC settings in camelCase, `name` (share one
   * circuit), `clock` (e.g. a VirtualClock), `isBadRequest(error)`.
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
    super(circuitFor(options.name, options));
    this._run = run;
    this._fallback = fallback ?? undefined;
    const isBad = options.isBadRequest;
    // BadRequestError always counts; isBadRequest adds more.
    // A classifier that throws cannot stop the call: the error is a failure.
    this._isBad =
      isBad === undefined
        ? isBadRequestError
        : (e) => {
            if (isBadRequestError(e)) return true;
            depth++;
            try {
              return Boolean(isBad(e));
            } catch {
              return false;
            } finally {
              depth--;
            }
          };
  }

  /** Runs through the command; resolves with the run's or the fallback's value. */
  execute(...args) {
    const c = this?._circuit;
    if (c === undefined) return detached("execute");
    if (depth >= MAX_DEPTH) return tooDeep();
    const w = c.wasm;
    let now;
    try {
      now = c.clock.now();
    } catch (e) {
      // The clock failed before admission: nothing is held.
      return Promise.reject(e);
    }
    const r = w.start(now, this._fallback !== undefined);
    if ((r & 3) === RUN) return this._startRun(r >>> 2, w.stepArg(), args, now);
    // Refused at admission: there is no run to wait for.
    const original = w.lastCause() === 3 ? cheap(CircuitOpenError) : cheap(RejectedError);
    return this._settle(r >>> 2, r, original, args, now, null);
  }

  /** The seed's Queue: starts now and returns the promise (same as execute). */
  queue(...args) {
    if (this?._circuit === undefined) return detached("queue");
    return this.execute(...args);
  }

  _startRun(id, deadline, args, now) {
    const c = this._circuit;
    // The call's state; the run receives its `context` (`{ signal }`), not this.
    const state = new Call(this, id, args);
    state.at = now;
    if (deadline < 0) return this._startUntimed(state, args);
    const promise = new Promise((resolve, reject) => {
      state.resolve = resolve;
      state.reject = reject;
    });
    // The timeout is armed before the run starts (SPEC §1).
    try {
      state.arm(c.clock, deadline);
    } catch (e) {
      // The clock cannot time the run: it is never started; its permit (or
      // probe slot) is given back unrecorded and the caller gets the error.
      state.late = RELEASED;
      c.wasm.release(id, now);
      state.reject(e);
      return promise;
    }
    const pending = this._callRun(state, args);
    if (pending === null) this._runEnded(state, state.ok, state.value);
    else
      promiseThen.call(
        pending,
        (v) => this._runEnded(state, true, v),
        (e) => this._runEnded(state, false, e),
      );
    return promise;
  }

  /**
   * Calls `run`: returns its thenable as a promise, or `null` once a value
   * or a throw is in `state.ok`/`state.value`. (Callers attach their own
   * handlers: a shared `ended` callback made every call ~5 % slower.)
   */
  _callRun(state, args) {
    let result;
    depth++;
    try {
      result = callRun(this, this._run, args, state.context);
      // Inside the `try`: a `then` getter or a proxy trap that throws is the
      // run failing, like a throw from `run` itself.
      const pending = pendingOf(result);
      if (pending !== null) return pending;
    } catch (e) {
      state.ok = false;
      state.value = e;
      return null;
    } finally {
      depth--;
    }
    state.ok = true;
    state.value = result;
    return null;
  }

  /**
   * A run with no timeout armed: nothing can settle the call before the run
   * does, so the call's promise is the run's own, chained (no promise of
   * our own to create and resolve).
   */
  _startUntimed(state, args) {
    const pending = this._callRun(state, args);
    if (pending === null) return settled(() => this._untimedEnded(state, state.ok, state.value));
    return promiseThen.call(
      pending,
      (v) => this._untimedEnded(state, true, v),
      (e) => this._untimedEnded(state, false, e),
    );
  }

  /** The untimed run ended: its value, or the fallback's or the error's promise. */
  _untimedEnded(state, ok, value) {
    const r = this._recordRun(state, ok, value);
    if (r === DONE) {
      if (state.clockFailed) throw state.clockError;
      return value;
    }
    const out = this._settle(state.id, r, value, state.args, state.at, state);
    return state.clockFailed ? clockFailure(out, state) : out;
  }

  _runEnded(state, ok, value) {
    if (state.late !== LIVE) {
      // A late outcome after a timeout: discarded; the permit is released.
      if (state.late === TIMED_OUT) this._circuit.wasm.runStopped(state.id);
      return;
    }
    try {
      state.disarm();
    } catch (e) {
      // A host clock's cancel failed: the call goes on (its timer, should
      // it fire, is ignored), and ends with that error.
      this._clockFailed(state, e);
    }
    // The run has ended: a timer that still fires (a host clock whose
    // cancel did nothing) must not time out whichever call has this id now.
    state.late = RELEASED;
    const r = this._recordRun(state, ok, value);
    if (r === DONE && !state.clockFailed) {
      // Done, resolved from the run (code 0): the hot path.
      state.resolve(value);
      return;
    }
    // The run ended at or past its deadline before its timer fired (a
    // blocked event loop): the core recorded a TIMEOUT, so what it gave is
    // discarded; the fallback, or the caller's error (a fallback refused
    // included), gets a timeout error.
    if (r !== DONE && this._circuit.wasm.lastCause() === TIMEOUT_CAUSE) value = new TimeoutError();
    const out = r === DONE ? Promise.resolve(value) : this._settle(state.id, r, value, state.args, state.at, state);
    (state.clockFailed ? clockFailure(out, state) : out).then(state.resolve, state.reject);
  }

  /**
   * The clock's time for call `state`. If the clock throws, the call goes
   * on at the last instant it had (time never goes back) and will end with
   * the clock's first error, once everything it holds is given back.
   */
  _now(state) {
    try {
      state.at = this._circuit.clock.now();
    } catch (e) {
      this._clockFailed(state, e);
    }
    return state.at;
  }

  _clockFailed(state, error) {
    if (state.clockFailed) return;
    state.clockFailed = true;
    state.clockError = error;
    // Nothing after this may fire the call's timer.
    if (state.late === LIVE) state.late = RELEASED;
  }

  /** Tells the core how the run ended; returns its packed next step. */
  _recordRun(state, ok, value) {
    const outcome = ok ? SUCCESS : this._isBad(value) ? BAD_REQUEST : FAILURE;
    return this._circuit.wasm.runFinished(state.id, this._now(state), outcome);
  }

  _onTimeout(state) {
    const c = this._circuit;
    let now;
    try {
      now = c.clock.now();
    } catch (e) {
      // The timer fired, so the deadline has passed: the timeout is
      // recorded there, and the caller gets the clock's error.
      now = Math.max(state.at, state._due);
      this._clockFailed(state, e);
    }
    state.at = now;
    const r = c.wasm.timerFired(state.id, now);
    if ((r & 3) === NOTHING) return;
    state.late = TIMED_OUT;
    const err = new TimeoutError();
    state._abort(err);
    const out = this._settle(state.id, r, err, state.args, now, state);
    (state.clockFailed ? clockFailure(out, state) : out).then(state.resolve, state.reject);
  }

  /**
   * After the run (or admission at `at`): the fallback or the error of step
   * `r`. `state` is the call's (null for a refused one), for its clock.
   */
  _settle(id, r, original, args, at, state) {
    if ((r & 3) === FALLBACK) {
      let out;
      let pending = null;
      depth++;
      try {
        out = callFallback(this, this._fallback, original, args);
        // As for the run: a throwing `then` getter is the fallback failing.
        pending = pendingOf(out);
      } catch (e) {
        return settled(() => this._fallbackEnded(id, false, e, original, at, state));
      } finally {
        depth--;
      }
      if (pending !== null) {
        return promiseThen.call(
          pending,
          (v) => this._fallbackEnded(id, true, v, original, at, state),
          (e) => this._fallbackEnded(id, false, e, original, at, state),
        );
      }
      return settled(() => this._fallbackEnded(id, true, out, original, at, state));
    }
    if (r >>> 2 === 106) return Promise.reject(new FallbackRejectedError(undefined, { cause: original }));
    return Promise.reject(original);
  }

  _fallbackEnded(id, ok, value, original, at, state) {
    const c = this._circuit;
    let now;
    if (state !== null) {
      now = this._now(state);
      if (state.clockFailed) {
        // The slot is given back at the last known instant; the caller gets the clock's error.
        c.wasm.fallbackFinished(id, now, ok);
        throw state.clockError;
      }
    } else {
      try {
        now = c.clock.now();
      } catch (e) {
        c.wasm.fallbackFinished(id, at, ok);
        throw e;
      }
    }
    c.wasm.fallbackFinished(id, now, ok);
    if (ok) return value;
    const err = new FallbackFailedError(undefined, { cause: value });
    err.original = original;
    throw err;
  }
}

/** Removes the last occurrence of `item` from `list`; whether it was there. */
function removeLast(list, item) {
  const at = list.lastIndexOf(item);
  if (at < 0) return false;
  list.splice(at, 1);
  return true;
}

/** on("error", callback) for circuit `c`: returns the function that removes it. */
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
 * Every setting in SPEC order, as the core describes it: `option` (the
 * camelCase option), `key` (the SPEC name), `type` ("bool", "int" or
 * "name"), `default`, and `min`/`max` (integers) or `values` (named
 * settings, such as `retryJitter`).
 */
export function configSchema() {
  return JSON.parse(slot.configSchema()).map(({ name, ...rest }) => ({ option: CAMEL[name] ?? null, key: name, ...rest }));
}

/** Sets options of the named command (made if needed). */
export function configure(name, options) {
  if (typeof name !== "string") throw new TypeError("name must be a string");
  circuitFor(name, options ?? {});
}

/**
 * A view of the named circuit for observing it (`snapshot`, `on`,
 * `configure`), or undefined: it has no `execute`, so it cannot record a
 * call that never ran.
 */
export function getCommand(name) {
  const c = registry.get(name);
  return c === undefined ? undefined : new CommandView(c);
}

/** Forgets a name; its state is freed once no command uses it. */
export function removeCommand(name) {
  const c = registry.get(name);
  if (c === undefined) return false;
  registry.delete(name);
  return true;
}

export {
  VirtualClock,
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
};
