// Retry and hedging on the real clock (the Node twin of core/examples/retry_hedge.rs).
//
//   node examples/node/strategies.mjs        (after scripts/build-npm.sh; under 3 s)
//
// 1. A flaky upstream fails for a 40 ms blip while calls arrive every 5 ms
//    (open loop: callers do not wait for each other). Without retry the calls
//    made during the blip fail; with retry (exponential backoff, "equal"
//    jitter) they ride it out, as far as the retry budget allows: it caps
//    how many retries a burst of failures may cause.
// 2. An upstream with a slow tail (about 1 attempt in 20 takes 50 ms, the
//    rest 2-4 ms, drawn from a seeded PRNG), 200 calls one after another:
//    hedging after 8 ms cuts p99. The slow attempt listens to its `signal`
//    and stops as soon as the hedge wins.
// Timings are real, so the numbers vary a little from run to run: they are
// printed, not checked. Exit code 1 only on a malfunction (a call that
// should have succeeded failed, or a permit was never given back).
import { setTimeout as sleep } from "node:timers/promises";

const pkg = new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url);
const { Command } = await import(pkg.href).catch((e) => {
  console.error(`cannot load ${pkg.pathname}: run scripts/build-npm.sh first\n${e.message}`);
  process.exit(1);
});

const problems = []; // malfunctions
const base = { circuitBreakerEnabled: false, maxConcurrentRequests: 100 }; // the strategies alone

// ------------------------------------------------------------ 1. retry --
let t0 = 0; // when the current run of calls started; the blip is 60 to 100 ms after it
function flakyUpstream() {
  const t = performance.now() - t0;
  if (t >= 60 && t < 100) throw new Error("upstream blip");
  return "fresh";
}

/** 40 calls, 5 ms apart, not waiting for each other: how many succeed. */
async function blip(cmd) {
  t0 = performance.now();
  let ok = 0;
  const calls = [];
  for (let i = 0; i < 40; i++) {
    calls.push(cmd.execute().then(() => ok++, () => {})); // a failed call counts as not ok
    await sleep(5);
  }
  await Promise.all(calls);
  return ok;
}

const plain = new Command(flakyUpstream, null, base);
const retrying = new Command(flakyUpstream, null, {
  ...base,
  retryMaxAttempts: 5, // backoff 10, 20, 40, 80 ms, "equal" jitter (half fixed, half random)
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 80,
  retryJitter: "equal",
  retryBudgetPercent: 20, // each success deposits a fifth of a retry
  retryBudgetMinPerSec: 1, // plus one retry a second (10 over the 10 s window)
  randomSeed: 42,
});
const okPlain = await blip(plain);
const okRetry = await blip(retrying);
const r = retrying.snapshot();
console.log("a 40 ms blip, 40 calls 5 ms apart:");
console.log(`  no retry:   ${String(okPlain).padStart(2)}/40 succeeded`);
console.log(`  with retry: ${String(okRetry).padStart(2)}/40 succeeded (RETRY ${r.rolling.RETRY}, \
RETRY_BUDGET_EXHAUSTED ${r.rolling.RETRY_BUDGET_EXHAUSTED}; budget left ${r.budget})`);
if (r.rolling.FAILURE > 0 && r.rolling.RETRY + r.rolling.RETRY_BUDGET_EXHAUSTED === 0) {
  problems.push("the retrying command saw failures but neither retried nor reported an empty budget");
}

// ----------------------------------------------------------- 2. hedging --
/** mulberry32: a tiny seeded PRNG (one draw per attempt), the same sequence on every run. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let z = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

let draw; // reset for each run of calls
let stoppedEarly = 0; // attempts that stopped at their signal's abort (hedge losers)
async function slowTailUpstream({ attempt, signal }) {
  const x = draw();
  const ms = x < 0.05 ? 50 : 2 + Math.floor(x * 60) % 3;
  try {
    await sleep(ms, undefined, { signal }); // rejects at once when the signal aborts
  } catch (e) {
    if (signal.aborted) stoppedEarly += 1;
    throw e;
  }
  return attempt;
}

/** 200 calls, one after another; the callers' latencies (ms), sorted. */
async function tail(cmd) {
  draw = prng(7);
  stoppedEarly = 0;
  const latencies = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await cmd.execute().catch((e) => problems.push(`a slow-tail call failed: ${e}`));
    latencies.push(performance.now() - started);
  }
  return latencies.sort((a, b) => a - b);
}

const pct = (sorted, p) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
const fmt = (sorted) => `p50 ${pct(sorted, 50).toFixed(1).padStart(5)} ms, p99 ${pct(sorted, 99).toFixed(1).padStart(5)} ms`;

// `withContext: true`: the run receives its attempt's `{ attempt, signal }` first.
const unhedged = new Command(slowTailUpstream, null, { ...base, withContext: true });
const hedged = new Command(slowTailUpstream, null, { ...base, withContext: true, hedgeMaxAttempts: 2, hedgeDelayMs: 8 });
const slow = await tail(unhedged);
const fast = await tail(hedged);
await sleep(20); // let the last losers notice their abort
const h = hedged.snapshot();
console.log("a slow tail (about 1 attempt in 20 takes 50 ms, the rest 2-4 ms), 200 calls:");
console.log(`  no hedging:         ${fmt(slow)}`);
console.log(`  hedging after 8 ms: ${fmt(fast)} (HEDGE ${h.rolling.HEDGE}, losers stopped early ${stoppedEarly})`);

const held = [plain, retrying, unhedged, hedged].filter((c) => c.snapshot().concurrent !== 0);
if (held.length > 0) problems.push(`${held.length} command(s) still hold a permit after every call settled`);
for (const p of problems) console.error(`MALFUNCTION: ${p}`);
process.exitCode = problems.length === 0 ? 0 : 1;
