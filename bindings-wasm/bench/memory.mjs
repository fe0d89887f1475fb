// Memory and creation cost per command: hystrix's wasm memory and JS heap
// per live command, creation time, create + dispose time, and opossum's
// creation time and JS heap beside it when it is installed here
// (`npm ci` in this directory).
//   node --expose-gc bindings-wasm/bench/memory.mjs [N]   (after scripts/build-npm.sh)
//   PKG=DIR node --expose-gc bindings-wasm/bench/memory.mjs [N]   another package directory
import { pathToFileURL } from "node:url";
const pkg = process.env.PKG ? pathToFileURL(`${process.env.PKG.replace(/\/$/, "")}/`) : new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);
// The loaded wasm class (internal): heap bytes and the wasm memory.
const { slot } = await import(new URL("wasm-slot.mjs", pkg).href);
const W = slot.WasmCommand;
const memory = W.wasmMemory();

const N = Number(process.argv[2] ?? 10_000);
const ROUNDS = 7;
const run = async () => 1;
const gc = globalThis.gc ?? (() => {});

let CircuitBreaker = null;
try {
  CircuitBreaker = (await import("opossum")).default;
} catch {
  // not installed: its rows say so
}

/** Median of `xs`. */
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

/** µs per item of `make` called N times (median of ROUNDS), then `drop` of what it made. */
function timeCreate(make, drop) {
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const made = new Array(N);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) made[i] = make(i);
    times.push(Number(process.hrtime.bigint() - t0) / N / 1000);
    drop(made);
    gc();
  }
  return median(times);
}

/** JS heap bytes per item of N live items from `make` (needs --expose-gc to mean much). */
function jsHeapPer(make, drop) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const made = [];
  for (let i = 0; i < N; i++) made.push(make(i));
  gc();
  const per = (process.memoryUsage().heapUsed - before) / N;
  drop(made);
  return per;
}

const dispose = (cmds) => cmds.forEach((c) => c.dispose());
const hystrix = () => new h.Command(run);
// Four settings, one of each kind the glue sends (what settings cost to cross into the wasm).
const SETTINGS = { timeoutMs: 250, maxConcurrentRequests: 5, retryJitter: "equal", forceOpen: false };

// Wasm memory per live command: what the allocator holds, and how far the
// memory itself grew (it grows in steps, a quarter of its size at least).
hystrix().dispose();
const heap0 = W.heapBytes();
const bytes0 = memory.buffer.byteLength;
const live = [];
for (let i = 0; i < N; i++) live.push(hystrix());
const wasmHeap = (W.heapBytes() - heap0) / N;
const wasmGrown = (memory.buffer.byteLength - bytes0) / N;
dispose(live);

const rows = [
  ["hystrix: wasm heap per live command (B)", wasmHeap.toFixed(0)],
  ["hystrix: wasm memory grown per live command (B)", wasmGrown.toFixed(0)],
  ["hystrix: JS heap per live command (B)", jsHeapPer(hystrix, dispose).toFixed(0)],
  ["hystrix: creation (µs)", timeCreate(hystrix, dispose).toFixed(2)],
  [
    "hystrix: create + dispose (µs)",
    timeCreate(
      () => hystrix().dispose(),
      () => {},
    ).toFixed(2),
  ],
  ["hystrix: creation with 4 settings (µs)", timeCreate(() => new h.Command(run, null, SETTINGS), dispose).toFixed(2)],
  [
    "hystrix: named creation (µs)",
    timeCreate((i) => new h.Command(run, null, { name: `bench-${i}` }), dispose).toFixed(2),
  ],
];
if (CircuitBreaker) {
  const opossum = () => new CircuitBreaker(run);
  const shut = (bs) => bs.forEach((b) => b.shutdown());
  rows.push(["opossum: JS heap per live breaker (B)", jsHeapPer(opossum, shut).toFixed(0)]);
  rows.push(["opossum: creation (µs)", timeCreate(opossum, shut).toFixed(2)]);
} else {
  rows.push(["opossum", "not installed (npm ci in bindings-wasm/bench)"]);
}
console.log(`N = ${N} commands, median of ${ROUNDS} rounds${globalThis.gc ? "" : " (run with --expose-gc for the JS heap rows)"}`);
for (const [k, v] of rows) console.log(`${k.padEnd(52)} ${v}`);
