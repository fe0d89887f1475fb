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
import {
  MicrotaskClock,
  RETRY,
  cockatielOnVirtual,
  flaky,
  floorLoop,
  floorOnVirtual,
  onVirtual,
  policy,
  realSetTimeout,
  routeTimeouts,
  runCount,
} from "./retry-parts.mjs";

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

const vClock = new h.VirtualClock();
const vCmd = new h.Command(flaky, undefined, { ...RETRY, clock: vClock });
const vClockNoTimeout = new h.VirtualClock();
const vCmdNoTimeout = new h.Command(flaky, undefined, { ...RETRY, clock: vClockNoTimeout, timeoutEnabled: false });
const rCmd = new h.Command(flaky, undefined, RETRY);
const mCmd = new h.Command(flaky, undefined, { ...RETRY, clock: new MicrotaskClock() });

const toMicrotask = (fn, ms) => {
  if (ms !== 0) throw new Error(`the microtask route only takes 0 ms timers, got ${ms}`);
  queueMicrotask(fn);
};

const floorMicrotask = floorLoop(() => new Promise((resolve) => queueMicrotask(resolve)));
const floorReal = floorLoop(() => new Promise((resolve) => realSetTimeout(resolve, 0)));

const contenders = {
  virtual: {
    floor: floorOnVirtual(new h.VirtualClock()),
    hystrix: onVirtual(vCmd, vClock),
    hystrixNoTimeout: onVirtual(vCmdNoTimeout, vClockNoTimeout),
    cockatiel: cockatielOnVirtual(new h.VirtualClock()),
  },
  microtask: {
    floor: floorMicrotask,
    hystrix: () => mCmd.execute(),
    cockatiel: async () => {
      routeTimeouts(toMicrotask);
      try {
        return await policy.execute(flaky);
      } finally {
        routeTimeouts(null);
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
    const before = runCount();
    const v = await fn();
    if (v !== 1 || runCount() - before !== 3) throw new Error(`${group}/${name}: got ${v} after ${runCount() - before} runs, expected 1 after 3`);
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
if (runCount() % 3 !== 0) throw new Error(`the runs lost step: ${runCount()} runs is not 3 per call`);
