// Interleaved timing for the JS benches: every contender of a comparison is
// timed once per round, in adjacent slots, the order reversed every other
// round, so the load of a shared machine hits them alike; ratios are taken
// per round (from adjacent slots), then summarised by median and range.
// Times are the process's CPU time (user + system, process.cpuUsage), which
// a loaded machine skews far less than wall time; HYSTRIX_BENCH_WALL=1
// measures wall time instead (what includes waiting for timers).

/** Whether slots are timed in wall time rather than CPU time. */
export const WALL = process.env.HYSTRIX_BENCH_WALL === "1";

/** Wall-clock ns per call of `n` sequential awaited calls of `fn`. */
async function wallNs(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

/** ns per call of `n` sequential awaited calls of `fn` (CPU time, or wall time with WALL). */
export async function nsPerCall(fn, n) {
  if (WALL) return wallNs(fn, n);
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

/** [min, median, max] of a non-empty list of numbers. */
export function stats(list) {
  const v = [...list].sort((a, b) => a - b);
  const m = v.length >> 1;
  const median = v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  return [v[0], median, v[v.length - 1]];
}

/**
 * Calls per slot for `fn`: doubled from 16 until a batch takes an eighth of
 * `slotMs` (wall time: a slot's length is wall time whatever is measured),
 * then scaled to fill the slot (at least `minCalls`).
 */
async function calibrate(fn, slotMs, minCalls) {
  for (let n = 16; ; n *= 2) {
    const ns = await wallNs(fn, n);
    if (ns * n >= (slotMs * 1e6) / 8) return Math.max(minCalls, Math.round((slotMs * 1e6) / ns));
  }
}

/**
 * Times `contenders` ({ name: fn }, each `fn` one awaited call) over
 * `rounds` interleaved rounds of about `slotMs` each. Returns
 * `{ name: [ns per call, one per round] }`.
 */
export async function interleaved(contenders, { rounds, slotMs, minCalls = 1 }) {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  if (!(slotMs > 0)) throw new RangeError(`slotMs must be a positive number, got ${slotMs}`);
  const entries = Object.entries(contenders);
  const calls = [];
  // A first calibration is the warm-up (the JIT, the heap): its result is thrown away.
  for (const [, fn] of entries) await calibrate(fn, slotMs, minCalls);
  for (const [, fn] of entries) calls.push(await calibrate(fn, slotMs, minCalls));
  const out = Object.fromEntries(entries.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < entries.length; j++) {
      const i = r % 2 === 0 ? j : entries.length - 1 - j;
      const [name, fn] = entries[i];
      out[name].push(await nsPerCall(fn, calls[i]));
    }
  }
  return out;
}

/** Formats ns as ns below 10 µs, else µs, right-aligned in `width`. */
function fmt(ns, width = 10) {
  const s = ns < 10_000 ? `${ns.toFixed(0)} ns` : `${(ns / 1000).toFixed(1)} µs`;
  return s.padStart(width);
}

/**
 * Prints min / median / max per contender of `runs` (from `interleaved`,
 * labelled by `labels[name]`) and, per `[num, den, target]` of `ratios`,
 * the median and range of the per-round ratios (and whether the median
 * meets `target` when one is given).
 */
export function report(title, runs, labels, ratios) {
  const what = WALL ? "wall time" : "CPU time";
  console.log(`\n== ${title}: ${what} per call, ${Object.values(runs)[0].length} interleaved rounds (min / median / max)`);
  for (const [name, list] of Object.entries(runs)) {
    const [lo, med, hi] = stats(list);
    console.log(`  ${(labels[name] ?? name).padEnd(58)} ${fmt(lo)} ${fmt(med)} ${fmt(hi)}`);
  }
  for (const [num, den, target] of ratios) {
    if (!runs[num] || !runs[den]) throw new Error(`ratio ${num} / ${den}: no such contender`);
    const [lo, med, hi] = stats(runs[num].map((x, i) => x / runs[den][i]));
    const verdict = target === undefined ? "" : `   target <= ${target}: ${med <= target ? "met" : "MISSED"}`;
    console.log(`  ${num} / ${den}: median ${med.toFixed(3)} (rounds ${lo.toFixed(3)}-${hi.toFixed(3)})${verdict}`);
  }
}
