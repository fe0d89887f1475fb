// JS benchmark: hystrix beside opossum and cockatiel in one Node process, on
// the same trivial async function. Prints medians (ns per call) and ratios.
//   node bindings-wasm/bench/bench.mjs   (after scripts/build-npm.sh and npm install here)
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import CircuitBreaker from "opossum";
import { circuitBreaker, ConsecutiveBreaker, handleAll, timeout, TimeoutStrategy, wrap } from "cockatiel";

const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);

const N = 100_000;
const REPEAT = 7;
const op = async (x = 1) => x + 1;

async function median(fn) {
  for (let i = 0; i < N / 10; i++) await fn(); // warm-up
  const runs = [];
  for (let r = 0; r < REPEAT; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    runs.push(Number(process.hrtime.bigint() - t0) / N);
  }
  runs.sort((a, b) => a - b);
  return runs[REPEAT >> 1];
}

function row(name, ns) {
  console.log(`  ${name.padEnd(36)} ${ns.toFixed(0).padStart(7)} ns`);
}

const closed = new h.Command(op);
const cockatielBreaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
const cockatielTimeout = wrap(timeout(1000, TimeoutStrategy.Cooperative), cockatielBreaker);
const opossum = new CircuitBreaker(op);

console.log(`node ${process.version}; medians of ${REPEAT} runs of ${N} sequential awaited calls`);
console.log("\nclosed path");
const r = {};
r.hystrix = await median(() => closed.execute(1));
r.cockatiel = await median(() => cockatielBreaker.execute(() => op(1)));
r.cockatielTimeout = await median(() => cockatielTimeout.execute(() => op(1)));
r.opossum = await median(() => opossum.fire(1));
row("hystrix (default options, timeout on)", r.hystrix);
row("cockatiel breaker only", r.cockatiel);
row("cockatiel timeout + breaker", r.cockatielTimeout);
row("opossum (default options)", r.opossum);
console.log(`  ratio hystrix / cockatiel breaker = ${(r.hystrix / r.cockatiel).toFixed(2)} (target <= 1.0)`);
console.log(`  ratio hystrix / opossum           = ${(r.hystrix / r.opossum).toFixed(2)} (target <= 0.3)`);

console.log("\nopen path with fallback");
const openH = new h.Command(op, () => 0, { forceOpen: true });
const openO = new CircuitBreaker(op);
openO.fallback(() => 0);
openO.open();
const o = {};
o.hystrix = await median(() => openH.execute(1));
o.opossum = await median(() => openO.fire(1));
row("hystrix (forceOpen, fallback)", o.hystrix);
row("opossum (open, fallback)", o.opossum);
console.log(`  ratio hystrix / opossum = ${(o.hystrix / o.opossum).toFixed(2)} (target <= 0.2)`);

const errNs = await median(async () => new Error("x"));
console.log(`\ncreating an Error (with stack) in this process: ${errNs.toFixed(0)} ns`);

const wasm = readFileSync(new URL("web/hystrix_wasm_bg.wasm", pkg));
console.log(`wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} gzipped (target <= 100 KB)`);
opossum.shutdown();
openO.shutdown();
