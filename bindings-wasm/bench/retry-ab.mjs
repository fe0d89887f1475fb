// Before/after of the JS glue on the retry benchmark (retry.mjs's virtual
// and microtask groups): several builds of the package in one process,
// every build's contenders timed in the same interleaved rounds, so a
// shared, loaded machine skews them alike.
//   node bindings-wasm/bench/retry-ab.mjs DIR...   (each DIR a built package,
//                                                   e.g. a copy of target/npm/hystrix)
// Per build: the floor (a bare retry loop on that build's VirtualClock),
// hystrix with its timeout on and off, cockatiel on that build's clock;
// then, on the microtask clock, hystrix (timeout on and off) per build
// beside the floor and cockatiel (which use no build). HYSTRIX_BENCH_ROUNDS (default 11) and
// HYSTRIX_BENCH_SLOT_MS (default 150) tune the rounds; CPU time.
// HYSTRIX_BENCH_ONLY=virtual or =microtask runs that group alone.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { interleaved, stats } from "./interleaved.mjs";
import {
  MicrotaskClock,
  RETRY,
  cockatielOnVirtual,
  flaky,
  floorLoop,
  floorOnVirtual,
  onVirtual,
  policy,
  routeTimeouts,
  runCount,
} from "./retry-parts.mjs";

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error("usage: node bindings-wasm/bench/retry-ab.mjs PACKAGE_DIR...");
  process.exit(2);
}
const ROUNDS = Number(process.env.HYSTRIX_BENCH_ROUNDS ?? 11);
const SLOT_MS = Number(process.env.HYSTRIX_BENCH_SLOT_MS ?? 150);
const ONLY = process.env.HYSTRIX_BENCH_ONLY ?? "";
if (!["", "virtual", "microtask"].includes(ONLY)) throw new RangeError(`HYSTRIX_BENCH_ONLY must be virtual or microtask, got ${JSON.stringify(ONLY)}`);
/** Build `i`'s tag: A, B, ... */
const tag = (i) => String.fromCharCode(65 + i);

/** @type {Record<string, () => Promise<unknown>>} */
const virtual = {};
/** @type {Record<string, () => Promise<unknown>>} */
const micro = {
  floor: floorLoop(() => new Promise((r) => queueMicrotask(r))),
  cockatiel: async () => {
    routeTimeouts((fn) => queueMicrotask(fn));
    try {
      return await policy.execute(flaky);
    } finally {
      routeTimeouts(null);
    }
  },
};
for (const [i, dir] of dirs.entries()) {
  const h = await import(pathToFileURL(resolve(dir, "index.node.mjs")).href);
  const t = tag(i);
  const vc = new h.VirtualClock();
  const vcn = new h.VirtualClock();
  virtual[`${t} floor`] = floorOnVirtual(new h.VirtualClock());
  virtual[`${t} hystrix`] = onVirtual(new h.Command(flaky, undefined, { ...RETRY, clock: vc }), vc);
  virtual[`${t} hystrix untimed`] = onVirtual(new h.Command(flaky, undefined, { ...RETRY, clock: vcn, timeoutEnabled: false }), vcn);
  virtual[`${t} cockatiel`] = cockatielOnVirtual(new h.VirtualClock());
  const mc = new h.Command(flaky, undefined, { ...RETRY, clock: new MicrotaskClock() });
  const mcn = new h.Command(flaky, undefined, { ...RETRY, clock: new MicrotaskClock(), timeoutEnabled: false });
  micro[`${t} hystrix`] = () => mc.execute();
  micro[`${t} hystrix untimed`] = () => mcn.execute();
}

// Every contender returns 1 after exactly 3 runs.
for (const [name, fn] of [...Object.entries(virtual), ...Object.entries(micro)]) {
  const before = runCount();
  const v = await fn();
  if (v !== 1 || runCount() - before !== 3) throw new Error(`${name}: got ${v} after ${runCount() - before} runs`);
}

/**
 * Prints the min / median / max per contender of `out`, and per [num, den] of `pairs` the median and range of the per-round ratios.
 * @param {string} title
 * @param {Record<string, number[]>} out
 * @param {[string, string][]} pairs
 */
function show(title, out, pairs) {
  console.log(`\n== ${title}: CPU ns per call, ${ROUNDS} rounds (min / median / max)`);
  for (const [k, list] of Object.entries(out)) {
    const [lo, med, hi] = stats(list);
    console.log(`  ${k.padEnd(22)} ${lo.toFixed(0).padStart(7)} ${med.toFixed(0).padStart(7)} ${hi.toFixed(0).padStart(7)}`);
  }
  for (const [num, den] of pairs) {
    const [lo, med, hi] = stats(out[num].map((x, i) => x / out[den][i]));
    console.log(`  ${num} / ${den}: median ${med.toFixed(3)} (${lo.toFixed(3)}-${hi.toFixed(3)})`);
  }
}
console.log(`node ${process.version}; builds: ${dirs.map((d, i) => `${tag(i)}=${d}`).join(" ")}`);
if (ONLY !== "microtask") {
  const v = await interleaved(virtual, { rounds: ROUNDS, slotMs: SLOT_MS });
  show(
    "virtual (VirtualClock, advance(0) per call)",
    v,
    dirs.flatMap((_, i) => [
      [`${tag(i)} hystrix`, `${tag(i)} cockatiel`],
      [`${tag(i)} hystrix untimed`, `${tag(i)} cockatiel`],
      [`${tag(i)} floor`, `${tag(i)} cockatiel`],
      ...(i > 0
        ? [
            [`${tag(i)} hystrix`, "A hystrix"],
            [`${tag(i)} hystrix untimed`, "A hystrix untimed"],
          ]
        : []),
    ]),
  );
}
if (ONLY !== "virtual") {
  const m = await interleaved(micro, { rounds: ROUNDS, slotMs: SLOT_MS });
  show("microtask (clock at 0, due timers in a microtask)", m, [
    ...dirs.flatMap((_, i) => [
      [`${tag(i)} hystrix`, "cockatiel"],
      [`${tag(i)} hystrix untimed`, "cockatiel"],
    ]),
    ["floor", "cockatiel"],
    ...dirs.slice(1).flatMap((_, i) => [
      [`${tag(i + 1)} hystrix`, "A hystrix"],
      [`${tag(i + 1)} hystrix untimed`, "A hystrix untimed"],
    ]),
  ]);
}
