// The core's share of a retried call (retry.mjs's microtask row): the
// crossings into the wasm that one call makes — `begin` and the inputs the
// glue feeds it (attempt ends, timer firings) — recorded once from a real
// call, then replayed back to back with no glue, no promise and no timer,
// per build. What is left of the call's time above the floor once this is
// taken out is the glue's (and the host clock's) work.
//   node bindings-wasm/bench/retry-core.mjs DIR...   (each DIR a built package)
// HYSTRIX_BENCH_ROUNDS (default 9) tunes the repeats; CPU time, median and
// range over the repeats of 100,000 replayed calls each.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { stats } from "./interleaved.mjs";
import { MicrotaskClock, RETRY, flaky } from "./retry-parts.mjs";

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error("usage: node bindings-wasm/bench/retry-core.mjs PACKAGE_DIR...");
  process.exit(2);
}
const ROUNDS = Number(process.env.HYSTRIX_BENCH_ROUNDS ?? 9);
const N = 100_000;
// Result bits of begin/input (call.mjs): the call ended; begin's id above ID_UNIT.
const FINISHED = 1 << 11;
const ID_UNIT = 16384;

/**
 * The inputs (`[kind, arg]` pairs, call id left out) one call of `cmd` feeds the wasm, recorded from a real call.
 * @param {any} cmd
 * @returns {Promise<[number, number][]>}
 */
async function record(cmd) {
  const w = cmd._circuit.wasm;
  const input = w.input;
  /** @type {[number, number][]} */
  const seen = [];
  w.input = function (id, now, kind, arg) {
    seen.push([kind, arg]);
    return input.call(this, id, now, kind, arg);
  };
  try {
    if ((await cmd.execute()) !== 1) throw new Error("the recorded call did not return 1");
  } finally {
    delete w.input; // the prototype's method again
  }
  return seen;
}

/**
 * CPU ns per replayed call: `begin`, then `inputs` for the call's id; each call must end.
 * @param {any} w the circuit's wasm object
 * @param {[number, number][]} inputs
 */
function replay(w, inputs) {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const r = w.begin(0, false, false);
    const id = (r - (r % ID_UNIT)) / ID_UNIT;
    let last = 0;
    for (const [kind, arg] of inputs) last = w.input(id, 0, kind, arg);
    if ((last & FINISHED) === 0) throw new Error("a replayed call did not end");
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / N;
}

console.log(`node ${process.version}; a retried call's crossings replayed without the glue (CPU ns per call, ${ROUNDS} x ${N} calls)`);
for (const dir of dirs) {
  const h = await import(pathToFileURL(resolve(dir, "index.node.mjs")).href);
  const cmd = new h.Command(flaky, undefined, { ...RETRY, clock: new MicrotaskClock() });
  await cmd.execute(); // warm: the recorded call is a steady one
  const inputs = await record(cmd);
  const w = cmd._circuit.wasm;
  replay(w, inputs); // warm-up
  const per = Array.from({ length: ROUNDS }, () => replay(w, inputs));
  const [lo, med, hi] = stats(per);
  console.log(`${dir}: begin + ${inputs.length} inputs ${inputs.map(([k, a]) => `(${k},${a})`).join(" ")}: median ${med.toFixed(0)} ns (${lo.toFixed(0)}-${hi.toFixed(0)})`);
  // The call still works after the replays (they ended every call they began).
  if ((await cmd.execute()) !== 1) throw new Error(`${dir}: the command no longer returns 1 after the replay`);
}
