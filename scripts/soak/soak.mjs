// The Node leg of scripts/soak.sh: CALLS calls through one command of the
// npm package (target/npm/hystrix; default settings: a quarter failing into
// a fallback, a sixteenth failing with none), then CYCLES
// create/call/dispose cycles, printing the resident set and the wasm
// memory after a warm-up tenth, halfway and at the end of each phase as
// `soak <phase> <point> <rss_kb> <wasm_bytes> <wasm_heap_bytes>
// <js_heap_kb>` (after a forced GC: run with --expose-gc); the script
// judges the growth.
//
//   node soak.mjs CALLS CYCLES
const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
const { Command } = await import(new URL("index.node.mjs", pkg).href);
// The loaded wasm class (internal): its memory and allocator's heap bytes.
const { slot } = await import(new URL("wasm-slot.mjs", pkg).href);

const [calls, cycles] = process.argv.slice(2).map((a) => (/^\d+$/.test(a) ? Number(a) : NaN));
if (process.argv.length !== 4 || !Number.isSafeInteger(calls) || !Number.isSafeInteger(cycles)) {
  console.error("usage: node soak.mjs CALLS CYCLES (two whole numbers)");
  process.exit(2);
}

/** The resident set in KiB, the wasm memory, its allocated heap bytes and V8's used heap in KiB. */
function usage() {
  const W = slot.WasmCommand;
  const { rss, heapUsed } = process.memoryUsage();
  const kib = (n) => Math.round(n / 1024);
  return `${kib(rss)} ${W.wasmMemory().buffer.byteLength} ${W.heapBytes()} ${kib(heapUsed)}`;
}

/** Runs `n` steps, reporting memory after the first tenth, halfway and at the end. */
async function phase(name, n, step) {
  const start = performance.now();
  const warm = Math.floor(n / 10);
  const report = (point) => {
    globalThis.gc?.();
    console.log(`soak ${name} ${point} ${usage()}`);
  };
  for (let i = 0; i < n; i++) {
    if (i === warm) report("start");
    else if (i === warm + Math.floor((n - warm) / 2)) report("middle");
    await step(i);
  }
  report("end");
  console.log(`soak ${name} took ${((performance.now() - start) / 1000).toFixed(1)} s for ${n}`);
}

class Boom extends Error {}
const dispatch = (fail, i) => {
  if (fail) throw new Boom(String(i));
  return i;
};

/** One call: success, failure into a fallback, or failure with none. */
async function call(plain, withFallback, i) {
  const k = i % 16;
  try {
    if (k === 0) await plain.execute(true, i);
    else if (k <= 4) await withFallback.execute(true, i);
    else await plain.execute(false, i);
  } catch (e) {
    if (!(e instanceof Boom) && e?.kind !== "short_circuited") throw e;
  }
}

const plain = new Command(dispatch);
const withFallback = new Command(dispatch, (_err, _fail, i) => -i);
await phase("calls", calls, (i) => call(plain, withFallback, i));
plain.dispose();
withFallback.dispose();
await phase("cycles", cycles, async (i) => {
  const cmd = new Command(dispatch, (_err, _fail, j) => -j);
  await cmd.execute(i % 4 === 0, i);
  cmd.dispose();
});
