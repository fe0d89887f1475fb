// The glue's share of a retried call (retry.mjs's microtask row), measured
// in place: beside the real command, the same command whose core is
// scripted — its `begin` and `input` hand back, in order, the results and
// actions the real core gave for one call (recorded once), writing the
// actions where the glue reads them, and doing nothing else. The scripted
// call still runs every promise, gate, timer and run of the real one, so
//   real − scripted  ≈ the core's work and crossings, in place;
//   scripted − floor ≈ the glue's and the host clock's work.
// Every contender timed in the same interleaved rounds (CPU time). First,
// per contender, the promises made and the promise reactions run per call
// (V8's promise hooks; `await` resumptions count as reactions), and the
// microtasks queued: what a call waits on, beside the floor's.
//   node bindings-wasm/bench/retry-glue.mjs DIR   (a built package)
// HYSTRIX_BENCH_ROUNDS (default 15) and HYSTRIX_BENCH_SLOT_MS (default 100).
// HYSTRIX_BENCH_CLOCK=virtual: retry.mjs's VirtualClock row instead (each
// call settled by `advance(0)`, the floor on a VirtualClock too).
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promiseHooks } from "node:v8";
import { interleaved, stats } from "./interleaved.mjs";
import { MicrotaskClock, RETRY, flaky, floorLoop, floorOnVirtual, onVirtual, runCount } from "./retry-parts.mjs";

const dir = process.argv[2];
if (dir === undefined) {
  console.error("usage: node bindings-wasm/bench/retry-glue.mjs PACKAGE_DIR");
  process.exit(2);
}
const ROUNDS = Number(process.env.HYSTRIX_BENCH_ROUNDS ?? 15);
const SLOT_MS = Number(process.env.HYSTRIX_BENCH_SLOT_MS ?? 100);
const VIRTUAL = process.env.HYSTRIX_BENCH_CLOCK === "virtual";
if (!VIRTUAL && (process.env.HYSTRIX_BENCH_CLOCK ?? "") !== "") throw new RangeError("HYSTRIX_BENCH_CLOCK must be virtual or unset");
const COUNT = 0xff;
const MOVED = 1 << 12;

const h = await import(pathToFileURL(resolve(dir, "index.node.mjs")).href);
// The package's own module instance: where its glue reads the actions.
const { raw } = await import(pathToFileURL(resolve(dir, "wasm-slot.mjs")).href);

/** The action buffer now, as the glue sees it. */
const actions = () => new Float64Array(raw.wasmMemory().buffer, raw.actionsPtr());

/**
 * One call's crossings of `cmd`'s core (made by `call()`), recorded: per crossing its result and its actions (4 numbers each).
 * @param {any} cmd
 * @param {() => Promise<unknown>} call
 * @returns {Promise<{ r: number, acts: Float64Array }[]>}
 */
async function record(cmd, call) {
  const w = cmd._circuit.wasm;
  /** @type {{ r: number, acts: Float64Array }[]} */
  const seen = [];
  for (const name of ["begin", "input"]) {
    const real = w[name];
    w[name] = function (...a) {
      const r = real.apply(this, a);
      seen.push({ r, acts: actions().slice(0, 4 * (r & COUNT)) });
      return r;
    };
  }
  try {
    if ((await call()) !== 1) throw new Error("the recorded call did not return 1");
  } finally {
    delete w.begin;
    delete w.input;
  }
  return seen;
}

/**
 * A command of `opts` (RETRY plus `opts`) on a clock of its own, and how to call it.
 * @param {object} opts
 * @returns {{ cmd: any, call: () => Promise<unknown> }}
 */
function made(opts) {
  const clock = VIRTUAL ? new h.VirtualClock() : new MicrotaskClock();
  const cmd = new h.Command(flaky, undefined, { ...RETRY, clock, ...opts });
  return { cmd, call: VIRTUAL ? onVirtual(cmd, clock) : () => cmd.execute() };
}

/**
 * A command of `opts` (see `made`) and its scripted twin (one call of it recorded, replayed).
 * @param {object} opts
 */
async function pair(opts) {
  const real = made(opts);
  await real.call();
  const script = await record(real.cmd, real.call);
  // The twin: its own circuit, whose core is never asked anything.
  const twin = made(opts);
  const w = twin.cmd._circuit.wasm;
  let at = 0;
  // One view, made once (the memory does not grow meanwhile: checked per
  // step), and no MOVED bit in the results: the glue's view is current.
  const view = actions();
  const steps = script.map(({ r, acts }) => ({ r: r & ~MOVED, acts }));
  /** The next recorded crossing: its actions written where the glue reads them, its result returned. */
  const next = () => {
    const step = steps[at];
    at = (at + 1) % steps.length;
    if (view.buffer.byteLength === 0) throw new Error("the wasm memory grew: the script's view is stale");
    view.set(step.acts);
    return step.r;
  };
  w.begin = function begin() {
    if (at !== 0) throw new Error(`a scripted call began at step ${at}`);
    return next();
  };
  w.input = function input() {
    if (at === 0) throw new Error("a scripted call went past its script");
    return next();
  };
  return { real: real.call, twin: twin.call, crossings: steps.length };
}

const timed = await pair({});
const untimed = await pair({ timeoutEnabled: false });
const contenders = {
  floor: VIRTUAL ? floorOnVirtual(new h.VirtualClock()) : floorLoop(() => new Promise((r) => queueMicrotask(r))),
  hystrix: timed.real,
  "hystrix, scripted core": timed.twin,
  "untimed": untimed.real,
  "untimed, scripted core": untimed.twin,
};
for (const [name, fn] of Object.entries(contenders)) {
  const before = runCount();
  if ((await fn()) !== 1 || runCount() - before !== 3) throw new Error(`${name}: not 1 after 3 runs`);
}
/**
 * Per call of `fn` (1000 calls): promises made, reactions run, queueMicrotask jobs.
 * @param {() => Promise<unknown>} fn
 */
async function hops(fn) {
  let made = 0;
  let ran = 0;
  let queued = 0;
  const queue = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (job) => {
    queued++;
    queue(job);
  };
  const stop = promiseHooks.createHook({ init: () => made++, before: () => ran++ });
  try {
    for (let i = 0; i < 1000; i++) await fn();
  } finally {
    stop();
    globalThis.queueMicrotask = queue;
  }
  return `${made / 1000} promises, ${ran / 1000} reactions, ${queued / 1000} queueMicrotask`;
}
for (const [name, fn] of Object.entries(contenders)) console.log(`  ${name.padEnd(24)} ${await hops(fn)}`);

console.log(`node ${process.version}; ${dir}; ${VIRTUAL ? "VirtualClock" : "microtask clock"}; scripts: ${timed.crossings} crossings (timeout on), ${untimed.crossings} (off)`);
const out = await interleaved(contenders, { rounds: ROUNDS, slotMs: SLOT_MS });
console.log(`CPU ns per call, ${ROUNDS} rounds (min / median / max)`);
for (const [k, list] of Object.entries(out)) {
  const [lo, med, hi] = stats(list);
  console.log(`  ${k.padEnd(24)} ${lo.toFixed(0).padStart(7)} ${med.toFixed(0).padStart(7)} ${hi.toFixed(0).padStart(7)}`);
}
/** Median and range over the rounds of a − b (per round). */
const diff = (a, b) => stats(out[a].map((x, i) => x - out[b][i]));
for (const [a, b, what] of [
  ["hystrix", "hystrix, scripted core", "the core, in place"],
  ["hystrix, scripted core", "floor", "the glue and the host clock"],
  ["hystrix", "floor", "all above the floor"],
  ["untimed", "untimed, scripted core", "the core, timeout off"],
  ["untimed, scripted core", "floor", "the glue etc., timeout off"],
]) {
  const [lo, med, hi] = diff(a, b);
  console.log(`  ${what.padEnd(28)} median ${med.toFixed(0)} ns (rounds ${lo.toFixed(0)} to ${hi.toFixed(0)})`);
}
