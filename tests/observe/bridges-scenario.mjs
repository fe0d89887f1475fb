// Shared by the prom-client and OpenTelemetry bridge tests: the npm
// package built from this tree, traffic on a virtual clock (a tripped
// command, a healthy one with latencies in several buckets, a name that
// needs escaping), and a parser of the text exposition to compare with.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./harness.mjs";

const pkg = pathToFileURL(path.join(ROOT, "target/npm/hystrix") + "/");
/** The package's main module and its `observe` module. */
export const hystrix = await import(new URL("index.node.mjs", pkg).href);
export const observe = await import(new URL("observe.mjs", pkg).href);

/** A weird name: quote, backslash, line feed, non-ASCII. */
export const WEIRD = 'we"ird\\n\nnamé';

/**
 * Runs the scenario's calls on `clock` (a VirtualClock): `healthy` and
 * WEIRD succeed in 3, 30 and 300 ms, `tripped` fails until its circuit
 * opens, then is short-circuited. Call again for more of the same.
 */
export async function traffic(clock) {
  const { Command, configure } = hystrix;
  configure("tripped", { requestVolumeThreshold: 2, healthSnapshotIntervalMs: 0 });
  for (const name of ["healthy", WEIRD]) {
    for (const ms of [3, 30, 300]) {
      await new Command(async () => (await clock.advance(ms), 1), null, { name, clock }).execute();
    }
  }
  for (let i = 0; i < 3; i++) {
    const down = async () => {
      throw new Error("down");
    };
    await new Command(down, () => 0, { name: "tripped", clock }).execute();
  }
  await clock.advance(1_250);
}

/** Unescapes a label value of the text format. */
const unescape = (v) => v.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));

/** The key of a series: its metric name and its labels sorted by name. */
export function seriesKey(metric, labels) {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${metric}${JSON.stringify(pairs)}`;
}

/** Every sample of a text exposition as a Map seriesKey -> value. */
export function parseExposition(text) {
  const out = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = unescape(v);
    out.set(seriesKey(m[1], labels), m[3] === "+Inf" ? Infinity : Number(m[3]));
  }
  return out;
}
