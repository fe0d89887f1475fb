// Clocks: the real one (performance.now + one setTimeout for the earliest
// deadline, from globalThis, so Node and browsers alike) and VirtualClock
// for deterministic tests.
import { TimerQueue } from "./timers.mjs";

const g = globalThis;
const perf = g.performance;

const identity = (fn) => fn;

/** The longest delay setTimeout honours. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Binds a timer callback to the async context it was armed in (Node sets this). */
let bindContext = identity;

/** A `{ cancel() }` handle for a timer. */
function handle(clock, timer) {
  return { cancel: () => clock.cancelTimer(timer) };
}

/**
 * Makes VirtualClock timers keep the async context of whoever armed them, as
 * setTimeout does in Node (AsyncLocalStorage works across `advance`). The
 * real clock does not bind: that costs microseconds per call in Node.
 */
export function setContextBinder(binder) {
  bindContext = binder;
}

/** The real clock: milliseconds from `performance.now()`. */
export class RealClock {
  constructor() {
    this._timers = new TimerQueue();
    this._handle = null;
    this._handleDue = Infinity;
    this._fire = () => this._onTimer();
  }

  now() {
    return Math.floor(perf.now());
  }

  /** Arms `fn` to run at `due` (ms on this clock); returns `{ cancel() }`. */
  arm(due, fn) {
    return handle(this, this.armTimer(due, { fire: fn }));
  }

  /** Arms `timer.fire()` at `due` (the allocation-free form the commands use). */
  armTimer(due, timer) {
    this._timers.arm(due, timer);
    if (due < this._handleDue) this._schedule(due);
    return timer;
  }

  /** Disarms a timer armed with `armTimer`. */
  cancelTimer(timer) {
    return this._timers.cancel(timer);
  }

  _schedule(due) {
    if (this._handle !== null) g.clearTimeout(this._handle);
    this._handleDue = due;
    // setTimeout takes at most 2^31 - 1 ms (larger fires at once): a later
    // deadline wakes early, finds nothing due and re-arms.
    this._handle = g.setTimeout(this._fire, Math.min(MAX_DELAY_MS, Math.max(0, due - perf.now())));
    // Do not keep a Node process alive just for a timeout.
    if (this._handle && typeof this._handle.unref === "function") this._handle.unref();
  }

  _onTimer() {
    this._handle = null;
    this._handleDue = Infinity;
    const now = this.now();
    try {
      for (let t = this._timers.popDue(now); t !== undefined; t = this._timers.popDue(now)) {
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

/** Lets every pending reaction run: a macrotask boundary. */
function tick() {
  if (typeof g.setImmediate === "function") return new Promise((r) => g.setImmediate(r));
  if (typeof g.MessageChannel === "function") {
    return new Promise((r) => {
      const ch = new g.MessageChannel();
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
 * settled after each one.
 */
export class VirtualClock {
  constructor(start = 0) {
    if (!Number.isInteger(start) || start < 0) throw new TypeError("VirtualClock start must be a non-negative integer");
    this._now = start;
    this._timers = new TimerQueue();
  }

  now() {
    return this._now;
  }

  /** Arms `fn` at `due` (ms on this clock); returns `{ cancel() }`. */
  arm(due, fn) {
    return handle(this, this.armTimer(due, { fire: fn }));
  }

  /** Arms `timer.fire()` at `due`, keeping the arming async context (Node). */
  armTimer(due, timer) {
    if (bindContext === identity) return this._timers.arm(due, timer);
    const wrapper = { fire: bindContext(() => timer.fire()) };
    timer._wrapper = wrapper;
    this._timers.arm(due, wrapper);
    return timer;
  }

  /** Disarms a timer armed with `armTimer`. */
  cancelTimer(timer) {
    return this._timers.cancel(timer._wrapper ?? timer);
  }

  /** A promise resolved when the clock reaches now + ms (for fakes of slow work). */
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

  /** Moves time forward, firing due timers in order and settling after each. */
  async advance(ms) {
    if (!Number.isInteger(ms) || ms < 0) throw new TypeError("advance(ms) needs a non-negative integer");
    await tick();
    const target = this._now + ms;
    for (let t = this._timers.popDue(target); t !== undefined; t = this._timers.popDue(target)) {
      this._now = Math.max(this._now, t._due);
      t.fire();
      await tick();
    }
    this._now = target;
    await tick();
  }
}
