// JS retry benchmark (issue 13): 3 attempts, the first two fail, 0 ms
// backoff — a hystrix Command beside cockatiel's `retry` in one Node
// process, on the same failing run, interleaved rounds.
//   node bindings-wasm/bench/retry.mjs   (after scripts/build-npm.sh and npm install here;
//                                         scripts/bench-retry-js.sh does both)
// HYSTRIX_BENCH_ROUNDS (default 9) and HYSTRIX_BENCH_SLOT_MS (default 150)
// tune the rounds; CPU time unless HYSTRIX_BENCH_WALL=1 (interleaved.mjs);
// HYSTRIX_PKG=/path/to/package/dir measures another build.
//
// What each does per attempt. cockatiel's RetryPolicy: invokes the run
// through its executor (a try/catch around an await, the error filter),
// then for a failure asks its backoff for a duration, emits onRetry and
// awaits `new Promise(r => setTimeout(r, 0))`. Hystrix (semantics §9–§11):
// admits the attempt through the circuit and the bulkhead (a permit taken
// and given back), arms and clears its timeout timer (1 s), records the
// outcome (and a RETRY marker) in the rolling window, evaluates the trip
// rule, decides the retry and arms the 0 ms backoff timer; the call's
// latency is recorded at the end. The circuit is kept closed
// (errorThresholdPercentage 100: 2 failures in 3 is 66 %), as in the Rust bench.
//
// Timers. "virtual": both on a hystrix VirtualClock that is never moved
// on — each call is `execute()` then `await clock.advance(0)`, which waits a
// macrotask (setImmediate), fires the due 0 ms timers one by one with a
// macrotask after each, and a last one; cockatiel's `setTimeout` is routed
// to such a clock for its calls (it takes no clock of its own). "real": the
// process's timers; setTimeout(…, 0) waits ≥ 1 ms in Node, so in wall time
// both take ~2 ms a call and the ratio says little (CPU time does not count
// the wait). "microtask": a host clock frozen
// at 0 whose due timers fire in a microtask (and cockatiel's 0 ms
// setTimeout as a queueMicrotask): what is left without the macrotask turns.
import { interleaved, report, stats } from "./interleaved.mjs";
import { ConstantBackoff, handleAll, retry } from "cockatiel";

const pkg = process.env.HYSTRIX_PKG
  ? new URL(`file://${process.env.HYSTRIX_PKG.replace(/\/?$/, "/")}`)
  : new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);

/** A non-negative integer from environment variable `name`, or `fallback`. */
function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}
const ROUNDS = envInt("HYSTRIX_BENCH_ROUNDS", 9);
const SLOT_MS = envInt("HYSTRIX_BENCH_SLOT_MS", 150);

// ----- the run: attempts 1 and 2 of every call fail, attempt 3 succeeds -----

// One error made once: a new Error (stack captured) costs ~1 µs, which
// would hide what the libraries themselves do.
const FAIL = new Error("flaky");
let runs = 0;
/** Fails twice, then succeeds, for every call (calls are sequential). */
const flaky = async () => {
  runs++;
  if (runs % 3 !== 0) throw FAIL;
  return 1;
};

// ----- setTimeout routed per call (cockatiel reads the global at each delay) -----

const realSetTimeout = globalThis.setTimeout;
/** Where setTimeout goes now: null = the real one, else a function (fn, ms). */
let timeoutRoute = null;
/** What a routed setTimeout returns: cockatiel may call `unref()` on it. */
const ROUTED_HANDLE = { unref() {}, ref() {} };
globalThis.setTimeout = function setTimeout(fn, ms, ...args) {
  if (timeoutRoute === null) return realSetTimeout(fn, ms, ...args);
  timeoutRoute(fn, ms);
  return ROUTED_HANDLE;
};

/** A VirtualClock timer object (the allocation-free `armTimer` form). */
class RoutedTimer {
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
class MicrotaskClock {
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
function floorLoop(wait0) {
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

// ----- contenders -----

const RETRY = { retryMaxAttempts: 3, retryBaseDelayMs: 0, retryJitter: "none", errorThresholdPercentage: 100 };

/** `cmd.execute()` settled by `clock.advance(0)`. */
function onVirtual(cmd, clock) {
  return async () => {
    const p = cmd.execute();
    await clock.advance(0);
    return p;
  };
}

const vClock = new h.VirtualClock();
const vCmd = new h.Command(flaky, undefined, { ...RETRY, clock: vClock });
const vClockNoTimeout = new h.VirtualClock();
const vCmdNoTimeout = new h.Command(flaky, undefined, { ...RETRY, clock: vClockNoTimeout, timeoutEnabled: false });
const rCmd = new h.Command(flaky, undefined, RETRY);
const mCmd = new h.Command(flaky, undefined, { ...RETRY, clock: new MicrotaskClock() });

const policy = retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(0) });
const cVClock = new h.VirtualClock();
const toVirtual = (fn, ms) => cVClock.armTimer(cVClock.now() + ms, new RoutedTimer(fn));
const toMicrotask = (fn, ms) => {
  if (ms !== 0) throw new Error(`the microtask route only takes 0 ms timers, got ${ms}`);
  queueMicrotask(fn);
};

const fVClock = new h.VirtualClock();
const floorVirtual = floorLoop(() => new Promise((resolve) => fVClock.armTimer(fVClock.now(), new RoutedTimer(resolve))));
const floorMicrotask = floorLoop(() => new Promise((resolve) => queueMicrotask(resolve)));
const floorReal = floorLoop(() => new Promise((resolve) => realSetTimeout(resolve, 0)));

const contenders = {
  virtual: {
    floor: async () => {
      const p = floorVirtual();
      await fVClock.advance(0);
      return p;
    },
    hystrix: onVirtual(vCmd, vClock),
    hystrixNoTimeout: onVirtual(vCmdNoTimeout, vClockNoTimeout),
    cockatiel: async () => {
      timeoutRoute = toVirtual;
      try {
        const p = policy.execute(flaky);
        await cVClock.advance(0);
        return await p;
      } finally {
        timeoutRoute = null;
      }
    },
  },
  microtask: {
    floor: floorMicrotask,
    hystrix: () => mCmd.execute(),
    cockatiel: async () => {
      timeoutRoute = toMicrotask;
      try {
        return await policy.execute(flaky);
      } finally {
        timeoutRoute = null;
      }
    },
  },
  real: {
    floor: floorReal,
    hystrix: () => rCmd.execute(),
    cockatiel: () => policy.execute(flaky),
  },
};

// ----- sanity: every contender returns 1 after exactly 3 runs -----

for (const [group, set] of Object.entries(contenders)) {
  for (const [name, fn] of Object.entries(set)) {
    const before = runs;
    const v = await fn();
    if (v !== 1 || runs - before !== 3) throw new Error(`${group}/${name}: got ${v} after ${runs - before} runs, expected 1 after 3`);
  }
}

console.log(`node ${process.version}; cockatiel 4.0.0 retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(0) })`);
console.log(`hystrix Command { retryMaxAttempts: 3, retryBaseDelayMs: 0, retryJitter: "none", errorThresholdPercentage: 100 }`);
const labels = {
  hystrix: "hystrix Command (timeout 1 s armed per attempt)",
  hystrixNoTimeout: "hystrix Command, timeoutEnabled: false",
  cockatiel: "cockatiel retry",
  floor: "floor: a bare retry loop on the same timer",
};

/**
 * Prints, per `[num, den]`, the median and range over the rounds of
 * (num − floor) / (den − floor): the libraries' own costs compared, with
 * what every contender pays alike (the run, the timer) taken out.
 */
function ownCosts(runs, pairs) {
  for (const [num, den] of pairs) {
    const per = runs[num].map((x, i) => (x - runs.floor[i]) / (runs[den][i] - runs.floor[i]));
    const [lo, med, hi] = stats(per);
    console.log(`  own cost (minus the floor) ${num} / ${den}: median ${med.toFixed(3)} (rounds ${lo.toFixed(3)}-${hi.toFixed(3)})`);
  }
}
const v = await interleaved(contenders.virtual, { rounds: ROUNDS, slotMs: SLOT_MS });
report("virtual timer (VirtualClock, advance(0) per call)", v, labels, [
  ["hystrix", "cockatiel", 0.5],
  ["hystrixNoTimeout", "cockatiel", 0.5],
]);
ownCosts(v, [
  ["hystrix", "cockatiel"],
  ["hystrixNoTimeout", "cockatiel"],
]);
const m = await interleaved(contenders.microtask, { rounds: ROUNDS, slotMs: SLOT_MS });
report("microtask timer (clock frozen at 0, due timers fire in a microtask)", m, labels, [["hystrix", "cockatiel", 0.5]]);
ownCosts(m, [["hystrix", "cockatiel"]]);
const r = await interleaved(contenders.real, { rounds: ROUNDS, slotMs: SLOT_MS, minCalls: 20 });
report("real timers (setTimeout 0 waits >= 1 ms in Node)", r, labels, [["hystrix", "cockatiel"]]);
if (runs % 3 !== 0) throw new Error(`the runs lost step: ${runs} runs is not 3 per call`);
