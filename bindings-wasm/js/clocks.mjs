// Clocks: the real one (performance.now + one setTimeout for the earliest
// deadline, from globalThis, so Node and browsers alike) and VirtualClock
// for deterministic tests.
import { TimerQueue } from "./timers.mjs";

/** @typedef {import("./timers.mjs").Timer} Timer */
/** @typedef {{ cancel(): boolean }} TimerHandle */
/** A setTimeout handle: a number (browsers) or an object (Node: with `ref`, `unref`). @typedef {number | { ref?(): unknown, unref?(): unknown }} TimeoutHandle */
/**
 * What the clocks use of the host's globals: Node's `setImmediate` and
 * browsers' `MessageChannel` only where there is one (checked).
 * @typedef {{
 *   performance: { now(): number },
 *   setTimeout(fn: () => void, ms: number): TimeoutHandle,
 *   clearTimeout(handle: TimeoutHandle): void,
 *   setImmediate?: (fn: () => void) => unknown,
 *   MessageChannel?: typeof MessageChannel,
 * }} HostGlobals
 */

const g = /** @type {HostGlobals} */ (/** @type {unknown} */ (globalThis));
const perf = g.performance;

/** @type {(fn: () => void) => () => void} */
const identity = (fn) => fn;

/** The longest delay setTimeout honours. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Binds a user's timer callback to the async context it was armed in (Node sets this). */
let bindContext = identity;

/**
 * A `{ cancel() }` handle for a timer.
 * @param {{ cancelTimer(timer: Timer): boolean }} clock
 * @param {Timer} timer
 * @returns {TimerHandle}
 */
function handle(clock, timer) {
  return { cancel: () => clock.cancelTimer(timer) };
}

/**
 * Makes the callbacks given to `VirtualClock.arm` keep the async context of
 * whoever armed them, as setTimeout does in Node (AsyncLocalStorage works
 * across `advance`). Commands' own timers (`armTimer`) need no binding: a
 * call brings its timer work back into its own context (context.mjs).
 * @param {(fn: () => void) => () => void} binder
 */
export function setContextBinder(binder) {
  bindContext = binder;
}

/**
 * The real clock: milliseconds from `performance.now()`. One setTimeout
 * for the earliest deadline; in Node it keeps the process alive exactly
 * while a timer is armed (a pending call's timeout fires even if nothing
 * else is left to do), and not after the last one is cancelled.
 */
export class RealClock {
  constructor() {
    this._timers = new TimerQueue();
    /** @type {TimeoutHandle | null} */
    this._handle = null;
    this._handleDue = Infinity;
    // Timers armed and not yet fired or cancelled, and whether the handle
    // holds the event loop (Node: setImmediate is how a release is deferred).
    this._armed = 0;
    this._holding = false;
    this._canHold = typeof g.setImmediate === "function";
    this._releasing = false;
    this._fire = () => this._onTimer();
    this._release = () => {
      this._releasing = false;
      if (this._armed === 0 && this._holding) this._hold(false);
    };
  }

  /** Whole milliseconds from `performance.now()`. */
  now() {
    return Math.floor(perf.now());
  }

  /**
   * Arms `fn` to run at `due` (ms on this clock); returns `{ cancel() }`.
   * @param {number} due
   * @param {() => void} fn
   */
  arm(due, fn) {
    return handle(this, this.armTimer(due, { fire: fn }));
  }

  /**
   * Arms `timer.fire()` at `due` (the allocation-free form the commands use).
   * @template {Timer} T
   * @param {number} due
   * @param {T} timer
   * @returns {T}
   */
  armTimer(due, timer) {
    if (timer._bucket != null) this.cancelTimer(timer);
    this._timers.arm(due, timer);
    this._armed++;
    if (due < this._handleDue) this._schedule(due);
    else if (this._canHold && !this._holding) this._hold(true);
    return timer;
  }

  /**
   * Disarms a timer armed with `armTimer`; whether it was armed.
   * @param {Timer} timer
   */
  cancelTimer(timer) {
    if (!this._timers.cancel(timer)) return false;
    // The handle stays scheduled (cheaper than clearing it per call) but
    // stops holding the process once nothing is armed. That release waits
    // for the next turn of the event loop: back-to-back calls (each arms
    // and cancels) then toggle nothing, and an idle process still exits.
    if (--this._armed === 0 && this._holding && !this._releasing) {
      this._releasing = true;
      /** @type {(fn: () => void) => unknown} */ (g.setImmediate)(this._release); // _holding: Node's
    }
    return true;
  }

  /**
   * Makes the Node timer handle keep the event loop alive, or not (browsers have no such notion).
   * @param {boolean} on
   */
  _hold(on) {
    const h = this._handle;
    if (!this._canHold || h === null || typeof h !== "object") return;
    this._holding = on;
    if (on) {
      if (typeof h.ref === "function") h.ref();
    } else if (typeof h.unref === "function") h.unref();
  }

  /** @param {number} due */
  _schedule(due) {
    if (this._handle !== null) g.clearTimeout(this._handle);
    this._handleDue = due;
    // setTimeout takes at most 2^31 - 1 ms (larger fires at once): a later
    // deadline wakes early, finds nothing due and re-arms.
    this._handle = g.setTimeout(this._fire, Math.min(MAX_DELAY_MS, Math.max(0, due - perf.now())));
    // A new Node handle holds the event loop: a timer is armed.
    this._holding = this._canHold;
  }

  _onTimer() {
    this._handle = null;
    this._handleDue = Infinity;
    this._holding = false;
    const now = this.now();
    try {
      for (let t = this._timers.popDue(now); t !== undefined; t = this._timers.popDue(now)) {
        this._armed--;
        try {
          t.fire();
        } catch (e) {
          // Reported like a throwing setTimeout callback, without stalling the others.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    } finally {
      const next = this._timers.nextDue();
      if (next !== undefined) this._schedule(next);
    }
  }
}

/**
 * A short printable form of any value, for error messages ("got ...").
 * @param {unknown} v
 * @returns {string}
 */
export function describe(v) {
  switch (typeof v) {
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "bigint":
      return `${v}n`;
    case "string":
      return JSON.stringify(v);
    case "symbol":
      return v.toString();
    case "function":
      return "a function";
    case "object":
      if (v === null) return "null";
      try {
        const json = JSON.stringify(v);
        if (typeof json === "string" && json.length <= 80) return json;
      } catch {
        // A cycle, a throwing toJSON or a bigint inside: named by its kind.
      }
      return Array.isArray(v) ? "an array" : "an object";
    default:
      return String(v);
  }
}

/**
 * Lets every pending reaction run: a macrotask boundary.
 * @returns {Promise<void>}
 */
function tick() {
  // Each is there: checked just before (TypeScript forgets it in the callbacks).
  if (typeof g.setImmediate === "function") return new Promise((r) => /** @type {(fn: () => void) => unknown} */ (g.setImmediate)(r));
  if (typeof g.MessageChannel === "function") {
    return new Promise((/** @type {() => void} */ r) => {
      const ch = new (/** @type {typeof MessageChannel} */ (g.MessageChannel))();
      ch.port1.onmessage = () => {
        ch.port1.close();
        r();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((r) => g.setTimeout(r, 0));
}

/**
 * A virtual clock: reads `start` until advanced; its timers fire only when
 * `await clock.advance(ms)` moves past them, in order, with every reaction
 * settled after each. Time never goes back. Overlapping advances are
 * serialised: one started while another is under way (from a promise
 * reaction, another async flow, or a timer's `.then`) waits for it and
 * moves on from where it ended, so no time is lost. An advance called
 * synchronously from inside a timer callback runs at once from that
 * timer's instant; the advance that fired the timer then ends at the later
 * of its own target and where the inner one got to.
 */
export class VirtualClock {
  /** @param {number} [start] the clock's first reading (ms, a non-negative integer; default 0) */
  constructor(start = 0) {
    if (!Number.isInteger(start) || start < 0) throw new TypeError("VirtualClock start must be a non-negative integer");
    this._now = start;
    this._timers = new TimerQueue();
    // The advances queued so far (each starts when the previous one ended).
    this._queue = Promise.resolve();
    // > 0 while a timer callback runs (synchronously, inside advance).
    this._firing = 0;
  }

  /** The clock's time (ms). */
  now() {
    return this._now;
  }

  /**
   * Arms `fn` at `due` (ms on this clock), keeping the arming async context (Node); returns `{ cancel() }`.
   * @param {number} due
   * @param {() => void} fn
   */
  arm(due, fn) {
    return handle(this, this.armTimer(due, { fire: bindContext(fn) }));
  }

  /**
   * Arms `timer.fire()` at `due` (the allocation-free form the commands use).
   * @template {Timer} T
   * @param {number} due
   * @param {T} timer
   * @returns {T}
   */
  armTimer(due, timer) {
    return this._timers.arm(due, timer);
  }

  /**
   * Disarms a timer armed with `armTimer`; whether it was armed.
   * @param {Timer} timer
   */
  cancelTimer(timer) {
    return this._timers.cancel(timer);
  }

  /**
   * A promise resolved when the clock reaches now + ms (for fakes of slow work).
   * @param {number} ms
   * @param {AbortSignal} [signal]
   * @returns {Promise<void>}
   */
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      const t = this.arm(this._now + ms, () => resolve());
      if (signal) {
        const onAbort = () => {
          t.cancel();
          reject(signal.reason);
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /**
   * Moves time forward by `ms` (a non-negative integer; anything else is a
   * TypeError and changes nothing), firing due timers in order and
   * settling after each. See the class comment for overlapping advances.
   * @param {number} ms
   * @returns {Promise<void>}
   */
  advance(ms) {
    if (!Number.isInteger(ms) || ms < 0) {
      return Promise.reject(new TypeError(`advance(ms) needs a non-negative integer, got ${describe(ms)}`));
    }
    if (this._firing > 0) return this._advance(ms);
    const run = this._queue.then(() => this._advance(ms));
    // The next advance waits for this one, whether it succeeds or a timer callback throws.
    this._queue = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** @param {number} ms */
  async _advance(ms) {
    // The target is fixed from the instant the advance starts.
    const target = this._now + ms;
    await tick();
    for (let t = this._timers.popDue(target); t !== undefined; t = this._timers.popDue(target)) {
      // Never back: a nested advance may already be past this timer's due time.
      const due = /** @type {number} */ (t._due); // set when armed
      if (due > this._now) this._now = due;
      this._firing++;
      try {
        t.fire();
      } finally {
        this._firing--;
      }
      await tick();
    }
    if (target > this._now) this._now = target;
    await tick();
  }
}
