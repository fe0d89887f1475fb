// Snapshots: the numbers WasmCommand.snapshot returns (the wasm has no JSON
// serialiser) as the plain object CommandView.snapshot() gives, its keys in
// camelCase like the options.
import { slot } from "./wasm-slot.mjs";

const STATES = ["closed", "open", "half_open"];
const PERCENTILES = ["p0", "p25", "p50", "p75", "p90", "p95", "p99", "p99_5", "p100"];
/** The event types' names, in the order of the counts (asked of the wasm once). */
let events = null;

/** The snapshot of the command `name` from wasm's numbers `v` (layout: bindings-wasm/src/lib.rs). */
export function snapshotObject(name, v) {
  events ??= slot.WasmCommand.eventNames().split(",");
  let i = 0;
  const next = () => v[i++];
  const counts = () => {
    const out = {};
    for (const e of events) out[e] = next();
    return out;
  };
  const latency = () => {
    const out = { count: next(), mean: next() };
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
