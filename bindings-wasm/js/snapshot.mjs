// Snapshots: the numbers WasmCommand.snapshot returns (the wasm has no JSON
// serialiser) as the plain object CommandView.snapshot() gives, its keys in
// camelCase like the options.
import { slot } from "./wasm-slot.mjs";

/** @typedef {import("./index.js").Snapshot} Snapshot */
/** @typedef {import("./index.js").Percentiles} Percentiles */
/** @typedef {import("./index.js").EventType} EventType */

/** @type {Snapshot["state"][]} */
const STATES = ["closed", "open", "half_open"];
/** @type {Exclude<keyof Percentiles, "count" | "mean">[]} */
const PERCENTILES = ["p0", "p25", "p50", "p75", "p90", "p95", "p99", "p99_5", "p100"];
/** The event types' names, in the order of the counts (asked of the wasm once). @type {EventType[] | null} */
let events = null;

/**
 * The snapshot of the command `name` from wasm's numbers `v` (layout: bindings-wasm/src/lib.rs).
 * @param {string} name
 * @param {Float64Array} v
 * @returns {Snapshot}
 */
export function snapshotObject(name, v) {
  // A command exists, so the wasm is loaded.
  const names = (events ??= /** @type {EventType[]} */ (
    /** @type {typeof import("./web/hystrix_wasm.js").WasmCommand} */ (slot.WasmCommand).eventNames().split(",")
  ));
  let i = 0;
  const next = () => v[i++];
  const counts = () => {
    const out = /** @type {Record<EventType, number>} */ ({});
    for (const e of names) out[e] = next();
    return out;
  };
  const latency = () => {
    const out = /** @type {Percentiles} */ ({ count: next(), mean: next() });
    for (const p of PERCENTILES) out[p] = next();
    return out;
  };
  const timeMs = next();
  const state = STATES[next()];
  const health = { total: next(), errors: next(), errorPercentage: next() };
  const rolling = counts();
  const cumulative = counts();
  const concurrent = next();
  const fallbackConcurrent = next();
  const rollingMaxConcurrent = next();
  const latencyRun = latency();
  const latencyTotal = latency();
  return {
    name,
    timeMs,
    state,
    health,
    rolling,
    cumulative,
    concurrent,
    fallbackConcurrent,
    rollingMaxConcurrent,
    latencyRun,
    latencyTotal,
    listenerPanics: next(),
    limit: next(),
    budget: next(),
  };
}
