// JS benchmark: hystrix beside opossum and cockatiel in one Node process, on
// the same trivial async function. Prints medians (ns per call) and ratios.
//   node bindings-wasm/bench/bench.mjs   (after scripts/build-npm.sh and npm install here)
// HYSTRIX_PKG=/path/to/package/dir measures another build of the package
// (e.g. a copy of target/npm/hystrix with other glue) for before/after runs.
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import CircuitBreaker from "opossum";
import { circuitBreaker, ConsecutiveBreaker, handleAll, timeout, TimeoutStrategy, wrap } from "cockatiel";

const pkg = process.env.HYSTRIX_PKG
  ? new URL(`file://${process.env.HYSTRIX_PKG.replace(/\/?$/, "/")}`)
  : new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);
// The loaded wasm class, for the floor rows below (internal, not the API).
const { slot } = await import(new URL("wasm-slot.mjs", pkg).href);

const N = 100_000;
const ROUNDS = 11;
const op = async (x = 1) => x + 1;

/** ns per call of `n` sequential awaited calls of `fn`. */
async function time(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

/**
 * Medians (ns per call) of `contenders` ({ name: fn }), measured round-robin:
 * each round times every contender once, so machine noise (these are shared
 * 2-core VMs) hits them all alike and the ratios stay meaningful.
 */
async function medians(contenders) {
  const entries = Object.entries(contenders);
  for (const [, fn] of entries) await time(fn, N / 5); // warm-up
  const runs = Object.fromEntries(entries.map(([k]) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, fn] of entries) runs[k].push(await time(fn, N));
  const out = {};
  for (const [k, list] of Object.entries(runs)) out[k] = list.sort((a, b) => a - b)[ROUNDS >> 1];
  return out;
}

function row(name, ns) {
  console.log(`  ${name.padEnd(36)} ${ns.toFixed(0).padStart(7)} ns`);
}

const closed = new h.Command(op);
// Like cockatiel's breaker-only policy: no timeout armed.
const closedNoTimeout = new h.Command(op, undefined, { timeoutEnabled: false });
const cockatielBreaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
const cockatielTimeout = wrap(timeout(1000, TimeoutStrategy.Cooperative), cockatielBreaker);
const opossum = new CircuitBreaker(op);

// Floors (not libraries): what any implementation of SPEC v1 must do per
// closed-path call — read the clock at the start (deadline, latency) and
// when the run settles (outcome's bucket, latency), awaiting the run's
// promise once — and that plus the core's own admission and recording in
// wasm, which is what a call costs before the glue and the timeout.
const perf = globalThis.performance;
const floorClock = (x) => {
  const start = Math.floor(perf.now());
  return op(x).then((v) => {
    floorSink += Math.floor(perf.now()) - start;
    return v;
  });
};
let floorSink = 0;
// The floor of a call with its timeout armed: the same two clock reads and
// await, plus what a timeout needs whatever the library — a promise the
// timeout can settle before the run does (the run's own cannot be settled
// from outside) and a timer armed and cancelled (on the package's own cheap
// timer queue) — and nothing else: no circuit, no counts.
const { RealClock } = await import(new URL("clocks.mjs", pkg).href);
const floorTimerClock = new RealClock();
class FloorTimer {
  constructor() {
    this.resolve = null;
    this.reject = null;
    this._bucket = null;
    this._due = 0;
    this._prev = null;
    this._next = null;
  }
  fire() {
    this.reject(new Error("timed out"));
  }
}
const floorTimed = (x) => {
  const start = Math.floor(perf.now());
  const t = new FloorTimer();
  const p = new Promise((resolve, reject) => {
    t.resolve = resolve;
    t.reject = reject;
  });
  floorTimerClock.armTimer(start + 1000, t);
  op(x).then(
    (v) => {
      floorTimerClock.cancelTimer(t);
      floorSink += Math.floor(perf.now()) - start;
      t.resolve(v);
    },
    (e) => t.reject(e),
  );
  return p;
};
// Settings as js/options.mjs's specPatch sends them: keys, kind-tagged values, numbers.
const floorWasm = new slot.WasmCommand("", "timeout_enabled", "bfalse", new Float64Array([0]));
const floorCore = (x) => {
  // begin(now, hasFallback, general) and input(id, now, ENDED_SUCCESS, attempt 1): see bindings-wasm/src/call.rs.
  const r = floorWasm.begin(Math.floor(perf.now()), false, false);
  return op(x).then((v) => {
    floorWasm.input((r - (r & 16383)) / 16384, Math.floor(perf.now()), 0, 1);
    return v;
  });
};

console.log(`node ${process.version}; medians of ${ROUNDS} round-robin rounds of ${N} sequential awaited calls`);
console.log("\nclosed path");
// Contenders that make a lot of garbage are timed in groups of their own:
// their garbage lands on whoever runs next, and in one group with opossum
// cockatiel measured ~300 ns a call instead of ~225 (hystrix ~350 vs ~330),
// which flattered the hystrix / cockatiel ratio (1.12 vs 1.47).
const r = await medians({
  hystrix: () => closed.execute(1),
  hystrixNoTimeout: () => closedNoTimeout.execute(1),
  cockatiel: () => cockatielBreaker.execute(() => op(1)),
  floorClock: () => floorClock(1),
  floorTimed: () => floorTimed(1),
  floorCore: () => floorCore(1),
});
// Not a target and ~40x slower (an AbortController per call).
r.cockatielTimeout = (await medians({ t: () => cockatielTimeout.execute(() => op(1)) })).t;
// opossum beside hystrix: its ratio comes from this pair.
const withOpossum = await medians({ hystrix: () => closed.execute(1), opossum: () => opossum.fire(1) });
r.opossum = withOpossum.opossum;
r.hystrixBesideOpossum = withOpossum.hystrix;
row("hystrix (default options, timeout on)", r.hystrix);
row("hystrix (timeoutEnabled: false)", r.hystrixNoTimeout);
row("cockatiel breaker only", r.cockatiel);
row("cockatiel timeout + breaker", r.cockatielTimeout);
row("opossum (default options)", r.opossum);
console.log(`  ratio hystrix / cockatiel breaker = ${(r.hystrix / r.cockatiel).toFixed(2)} (target <= 1.0)`);
console.log(`  ratio hystrix without timeout / cockatiel breaker = ${(r.hystrixNoTimeout / r.cockatiel).toFixed(2)}`);
row("hystrix, timed beside opossum", r.hystrixBesideOpossum);
console.log(`  ratio hystrix / opossum           = ${(r.hystrixBesideOpossum / r.opossum).toFixed(2)} (target <= 0.3)`);
row("floor: 2 clock reads + awaiting the run", r.floorClock);
row("floor with a timeout armed", r.floorTimed);
row("floor + core admit/record in wasm", r.floorCore);
console.log(`  ratio floor / cockatiel breaker   = ${(r.floorClock / r.cockatiel).toFixed(2)}`);
console.log(`  ratio timed floor / cockatiel     = ${(r.floorTimed / r.cockatiel).toFixed(2)}`);
console.log(`  ratio floor + core / cockatiel    = ${(r.floorCore / r.cockatiel).toFixed(2)}`);

console.log("\nopen path with fallback");
const openH = new h.Command(op, () => 0, { forceOpen: true });
const openO = new CircuitBreaker(op);
openO.fallback(() => 0);
openO.open();
const o = await medians({ hystrix: () => openH.execute(1), opossum: () => openO.fire(1) });
row("hystrix (forceOpen, fallback)", o.hystrix);
row("opossum (open, fallback)", o.opossum);
console.log(`  ratio hystrix / opossum = ${(o.hystrix / o.opossum).toFixed(2)} (target <= 0.2)`);

const { errNs } = await medians({ errNs: async () => new Error("x") });
console.log(`\ncreating an Error (with stack) in this process: ${errNs.toFixed(0)} ns`);

const wasm = readFileSync(new URL("web/hystrix_wasm_bg.wasm", pkg));
console.log(`wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} gzipped (target <= 100 KB)`);
opossum.shutdown();
openO.shutdown();
