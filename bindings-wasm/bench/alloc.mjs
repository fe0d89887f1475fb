// Bytes the JS heap allocates per closed-path call, by the function that
// allocated them, for several built packages (the companion of ab.mjs:
// where that one says a build got slower, this one says what it allocates
// that the other does not — garbage is most of what the timed path pays
// for beyond its work). V8's sampling heap profiler, through node:inspector,
// with the objects young collections freed counted too.
//   node bindings-wasm/bench/alloc.mjs DIR...   (each DIR a built package)
//   MODE=untimed node bindings-wasm/bench/alloc.mjs DIR...
// Prints, per build, the total and the sites that allocate most. Sampled
// (one sample per 64 bytes on average): totals agree run to run within a
// few percent, and the sampling loop itself shows as this file's lines.
import { Session } from "node:inspector/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const N = 200_000;
const TOP = 12;
const mode = process.env.MODE === "untimed" ? "untimed" : "timed";
const op = async (x = 1) => x + 1;

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error("usage: node bindings-wasm/bench/alloc.mjs PACKAGE_DIR...");
  process.exit(2);
}

/**
 * Self bytes by function (name file:line) of a sampling heap profile's tree.
 * @param {any} node
 * @param {Map<string, number>} out
 */
function collect(node, out) {
  const f = node.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
  if (node.selfSize > 0) out.set(key, (out.get(key) ?? 0) + node.selfSize);
  for (const child of node.children) collect(child, out);
}

const session = new Session();
session.connect();
await session.post("HeapProfiler.enable");
console.log(`node ${process.version}; ${mode} closed path, bytes allocated per call (sampled over ${N} calls)`);
for (const dir of dirs) {
  const h = await import(pathToFileURL(resolve(dir, "index.node.mjs")).href);
  const cmd = mode === "timed" ? new h.Command(op) : new h.Command(op, undefined, { timeoutEnabled: false });
  for (let i = 0; i < N / 2; i++) await cmd.execute(1); // warm-up: optimized code allocates less
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  for (let i = 0; i < N; i++) await cmd.execute(1);
  const { profile } = await session.post("HeapProfiler.stopSampling");
  /** @type {Map<string, number>} */
  const sites = new Map();
  collect(profile.head, sites);
  let total = 0;
  for (const v of sites.values()) total += v;
  console.log(`\n${dir}: ${(total / N).toFixed(0)} B per call`);
  for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    if (v / N >= 1) console.log(`  ${(v / N).toFixed(0).padStart(6)}  ${k}`);
  }
}
session.disconnect();
