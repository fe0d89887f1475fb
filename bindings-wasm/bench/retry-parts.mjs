// The pieces of the JS retry benchmark (retry.mjs) that its before/after
// companion (retry-ab.mjs) shares: the failing run, setTimeout routed per
// call (for cockatiel), the timer objects and clocks, the bare retry loop
// (the floor), and hystrix's and cockatiel's retry settings.
import { ConstantBackoff, handleAll, retry } from "cockatiel";

// ----- the run: attempts 1 and 2 of every call fail, attempt 3 succeeds -----

// One error made once: a new Error (stack captured) costs ~1 µs, which
// would hide what the libraries themselves do.
const FAIL = new Error("flaky");
let runs = 0;
/** How many times the run has been called so far. */
export function runCount() {
  return runs;
}
/** Fails twice, then succeeds, for every call (calls are sequential). */
export const flaky = async () => {
  runs++;
  if (runs % 3 !== 0) throw FAIL;
  return 1;
};

// ----- setTimeout routed per call (cockatiel reads the global at each delay) -----

export const realSetTimeout = globalThis.setTimeout;
/** Where setTimeout goes now: null = the real one, else a function (fn, ms). */
let timeoutRoute = null;
/**
 * Routes setTimeout to `to` (a function (fn, ms)), or back to the real one with null.
 * @param {((fn: () => void, ms: number) => void) | null} to
 */
export function routeTimeouts(to) {
  timeoutRoute = to;
}
/** What a routed setTimeout returns: cockatiel may call `unref()` on it. */
const ROUTED_HANDLE = { unref() {}, ref() {} };
globalThis.setTimeout = function setTimeout(fn, ms, ...args) {
  if (timeoutRoute === null) return realSetTimeout(fn, ms, ...args);
  timeoutRoute(fn, ms);
  return ROUTED_HANDLE;
};

/** A VirtualClock timer object (the allocation-free `armTimer` form). */
export class RoutedTimer {
  constructor(fn) {
    this.fn = fn;
    this._bucket = null;
    this._due = 0;
    this._prev = null;
    this._next = null;
  }
  fire() {
    this.fn();
  }
}

// ----- the microtask clock: frozen at 0, due timers fire in a microtask -----

/** A host clock (the public `Clock` interface) that never moves: due timers fire in a microtask, later ones never. */
export class MicrotaskClock {
  now() {
    return 0;
  }
  arm(due, fn) {
    const h = {
      live: true,
      cancel() {
        this.live = false;
      },
    };
    if (due <= 0) {
      queueMicrotask(() => {
        if (h.live) {
          h.live = false;
          fn();
        }
      });
    }
    return h;
  }
}

// ----- the floor: the same attempts and waits with no library -----

/**
 * A bare retry loop: runs `flaky` up to 3 times, waiting on `wait0()` (a
 * promise of a 0 ms timer on the group's timer) after each failure. What
 * any library's retry costs at least on that timer: the run's three calls
 * (two rejections: ~1 µs each in Node, for every contender alike) and the
 * two timer waits; a library's own cost is its time minus this.
 */
export function floorLoop(wait0) {
  return async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await flaky();
      } catch (e) {
        if (attempt === 3) throw e;
        await wait0();
      }
    }
  };
}

/** The retry settings of hystrix. */
export const RETRY = { retryMaxAttempts: 3, retryBaseDelayMs: 0, retryJitter: "none", errorThresholdPercentage: 100 };

/** `cmd.execute()` settled by `clock.advance(0)`. */
export function onVirtual(cmd, clock) {
  return async () => {
    const p = cmd.execute();
    await clock.advance(0);
    return p;
  };
}

/** cockatiel's retry: the same plan (2 retries, 0 ms apart). */
export const policy = retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(0) });

/**
 * cockatiel's retry with its setTimeout routed to VirtualClock `clock`, each call settled by `clock.advance(0)`.
 * @param {{ now(): number, armTimer(due: number, timer: RoutedTimer): unknown, advance(ms: number): Promise<void> }} clock
 */
export function cockatielOnVirtual(clock) {
  const to = (fn, ms) => clock.armTimer(clock.now() + ms, new RoutedTimer(fn));
  return async () => {
    routeTimeouts(to);
    try {
      const p = policy.execute(flaky);
      await clock.advance(0);
      return await p;
    } finally {
      routeTimeouts(null);
    }
  };
}

/**
 * A bare retry loop (the floor) waiting on 0 ms timers of VirtualClock `clock`, each call settled by `clock.advance(0)`.
 * @param {{ now(): number, armTimer(due: number, timer: RoutedTimer): unknown, advance(ms: number): Promise<void> }} clock
 */
export function floorOnVirtual(clock) {
  return onVirtual({ execute: floorLoop(() => new Promise((resolve) => clock.armTimer(clock.now(), new RoutedTimer(resolve)))) }, clock);
}
