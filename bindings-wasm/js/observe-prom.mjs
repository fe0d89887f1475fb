// The prom-client bridge of `hystrix-resilience/observe` (issue #12 §3):
// every metric family the core renders becomes a metric of the user's
// prom-client (their module, so their Registry, merge and cluster
// aggregation work as for their own metrics), whose values come from a
// fresh render at scrape time. Nothing here knows a metric's name, help,
// unit or labels: all of it comes from the core's families. prom-client
// is not a dependency of this package: the user passes theirs in.
import { metricFamilies } from "./observe.mjs";

/** `labelNames` paired with `values` as prom-client's label object. */
function labelObject(labelNames, values) {
  const out = {};
  for (let i = 0; i < labelNames.length; i++) out[labelNames[i]] = values[i];
  return out;
}

/** prom-client's `values` of one family: one per series (histograms: buckets, +Inf, sum, count). */
function valuesOf(family) {
  const { name, labelNames } = family;
  if (family.type !== "histogram") {
    return family.samples.map((s) => ({ labels: labelObject(labelNames, s.labels), value: s.value }));
  }
  const out = [];
  for (const s of family.samples) {
    const labels = labelObject(labelNames, s.labels);
    family.buckets.forEach((le, i) => {
      out.push({ labels: { ...labels, le }, value: s.counts[i], metricName: `${name}_bucket` });
    });
    out.push({ labels: { ...labels, le: "+Inf" }, value: s.count, metricName: `${name}_bucket` });
    out.push({ labels, value: s.sum, metricName: `${name}_sum` });
    out.push({ labels, value: s.count, metricName: `${name}_count` });
  }
  return out;
}

/** The prom-client class a family type maps to. */
const CLASS = { counter: "Counter", gauge: "Gauge", histogram: "Histogram" };

/**
 * Registers every metric family of the commands with prom-client: one
 * prom-client metric (Counter, Gauge or Histogram of `promClient`) per
 * family, whose `get()` answers from the core's render at scrape time (one
 * render per scrape, shared by the families). `options.registers` are the
 * registries to join (default `[promClient.register]`, prom-client's
 * option name); `options.commands` as for `metricsText`. Returns
 * `{ metrics, unregister() }`; a registry that already has a metric of the
 * same name refuses it (prom-client's error).
 */
export function promClientCollector(promClient, options = {}) {
  const where = "promClientCollector";
  for (const cls of Object.values(CLASS)) {
    if (typeof promClient?.[cls] !== "function") {
      throw new TypeError(`${where}: promClient must be the prom-client module (its ${cls} class is missing)`);
    }
  }
  if (options === null || typeof options !== "object") throw new TypeError(`${where}: options must be an object`);
  const registers = options.registers ?? [promClient.register];
  if (!Array.isArray(registers) || registers.some((r) => typeof r?.registerMetric !== "function")) {
    throw new TypeError(`${where}: options.registers must be an array of prom-client registries`);
  }
  const renderOptions = { commands: options.commands };
  const first = metricFamilies(renderOptions); // Bad options fail here, not at the first scrape.

  // One render serves every family scraped in the same turn of the event
  // loop (prom-client calls each metric's get() in one synchronous pass).
  let cached = null;
  const current = () => {
    if (cached === null) {
      cached = new Map(metricFamilies(renderOptions).map((f) => [f.name, f]));
      queueMicrotask(() => (cached = null));
    }
    return cached;
  };

  const metrics = first.map((family) => {
    const Base = promClient[CLASS[family.type]];
    if (Base === undefined) throw new Error(`${where}: unknown metric type ${JSON.stringify(family.type)}`);
    const Bridged = class extends Base {
      /** The family's series now, as prom-client's metric JSON. */
      async get() {
        const now = current().get(family.name) ?? { ...family, samples: [] };
        return { name: this.name, help: this.help, type: this.type, values: valuesOf(now), aggregator: this.aggregator };
      }

      /** What the registry's text reads (prom-client's histograms define it): the same as `get()`. */
      async getForPromString() {
        return this.get();
      }
    };
    const config = { name: family.name, help: family.help, labelNames: family.labelNames, registers: [] };
    if (family.type === "histogram") config.buckets = family.buckets;
    return new Bridged(config);
  });
  const joined = [];
  try {
    for (const registry of registers) {
      for (const m of metrics) {
        registry.registerMetric(m);
        joined.push([registry, m]);
      }
    }
  } catch (e) {
    for (const [registry, m] of joined) registry.removeSingleMetric(m.name);
    throw e;
  }
  return {
    metrics,
    unregister() {
      for (const [registry, m] of joined.splice(0)) {
        if (registry.getSingleMetric(m.name) === m) registry.removeSingleMetric(m.name);
      }
    },
  };
}
