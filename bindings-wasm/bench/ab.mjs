// Before/after of the JS glue: the closed path (timeout on, and off) of
// several builds of the package in one process, timed round-robin, in CPU
// time (process.cpuUsage) rather than wall time, so that a shared, loaded
// machine (these VMs run other builds) skews every build alike.
//   node bindings-wasm/bench/ab.mjs DIR...     (each DIR a built package, e.g. a
//                                               copy of target/npm/hystrix)
//   ALS=1 node bindings-wasm/bench/ab.mjs DIR...   the same inside an AsyncLocalStorage
// Prints the median ns of CPU per call of each build and mode.
import { AsyncLocalStorage } from "node:async_hooks";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const N = 100_000;
const ROUNDS = 11;
const op = async (x = 1) => x + 1;

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error("usage: node bindings-wasm/bench/ab.mjs PACKAGE_DIR...");
  process.exit(2);
}

/** ns of CPU per call of `n` sequential awaited calls of `fn`. */
async function cpuTime(fn, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

/** Prints the median of ROUNDS round-robin rounds of every contender ({ label: fn }). */
async function medians(contenders) {
  const entries = Object.entries(contenders);
  for (const [, fn] of entries) await cpuTime(fn, N / 5); // warm-up
  const runs = Object.fromEntries(entries.map(([k]) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, fn] of entries) runs[k].push(await cpuTime(fn, N));
  for (const [k, list] of Object.entries(runs)) {
    console.log(`${k.padEnd(40)} ${list.sort((a, b) => a - b)[ROUNDS >> 1].toFixed(0).padStart(6)} ns`);
  }
}

const contenders = {};
for (const dir of dirs) {
  const h = await import(pathToFileURL(resolve(dir, "index.node.mjs")).href);
  const timed = new h.Command(op);
  const untimed = new h.Command(op, undefined, { timeoutEnabled: false });
  contenders[`${dir} timed`] = () => timed.execute(1);
  contenders[`${dir} untimed`] = () => untimed.execute(1);
}
console.log(`node ${process.version}; CPU ns per call, medians of ${ROUNDS} rounds${process.env.ALS ? ", inside an AsyncLocalStorage" : ""}`);
if (process.env.ALS) await new AsyncLocalStorage().run({ id: 1 }, () => medians(contenders));
else await medians(contenders);
