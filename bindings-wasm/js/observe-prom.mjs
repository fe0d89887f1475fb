// The prom-client bridge of `hystrix-resilience/observe` (issue #12 §3):
// every metric family the core renders becomes a metric of the user's
// prom-client (their module, so their Registry, merge and cluster
// aggregation work as for their own metrics), whose values come from a
// fresh render at scrape time. Nothing here knows a metric's name, help,
// unit or labels: all of it comes from the core's families. prom-client
// is not a dependency of this package: the user passes theirs in.
import { metricFamilies } from "./observe.mjs";

/** @typedef {import("./observe.js").MetricFamily} MetricFamily */
/** @typedef {import("./observe.js").PromClientModule} PromClientModule */
/** @typedef {import("./observe.js").PromClientOptions} PromClientOptions */
/** @typedef {import("./observe.js").PromClientRegistry} PromClientRegistry */
/** @typedef {import("./observe.js").PromClientBridge} PromClientBridge */
/**
 * One value of prom-client's metric JSON.
 * @typedef {{ labels: Record<string, string | number>, value: number, metricName?: string }} PromValue
 */

/**
 * `labelNames` paired with `values` as prom-client's label object.
 * @param {string[]} labelNames
 * @param {string[]} values
 * @returns {Record<string, string>}
 */
function labelObject(labelNames, values) {
  /** @type {Record<string, string>} */
  const out = {};
  for (let i = 0; i < labelNames.length; i++) out[labelNames[i]] = values[i];
  return out;
}

/**
 * prom-client's `values` of one family: one per series (histograms: buckets, +Inf, sum, count).
 * @param {MetricFamily} family
 * @returns {PromValue[]}
 */
function valuesOf(family) {
  const { name, labelNames } = family;
  if (family.type !== "histogram") {
    return family.samples.map((s) => ({ labels: labelObject(labelNames, s.labels), value: s.value }));
  }
  /** @type {PromValue[]} */
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

/**
 * The prom-client class a family type maps to.
 * @type {Record<MetricFamily["type"], "Counter" | "Gauge" | "Histogram">}
 */
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
 * @param {PromClientModule} promClient
 * @param {PromClientOptions} [options]
 * @returns {PromClientBridge}
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
  /** @type {Map<string, MetricFamily> | null} */
  let cached = null;
  /** @returns {Map<string, MetricFamily>} */
  const current = () => {
    if (cached === null) {
      const fresh = new Map(metricFamilies(renderOptions).map((f) => [f.name, f]));
      cached = fresh;
      queueMicrotask(() => (cached = null));
      return fresh;
    }
    return cached;
  };

  const metrics = first.map((family) => {
    // prom-client's classes, subclassed: typed loosely (any), as prom-client is not a dependency.
    /** @type {any} */
    const Base = promClient[CLASS[family.type]];
    if (Base === undefined) throw new Error(`${where}: unknown metric type ${JSON.stringify(family.type)}`);
    /** @type {any} */
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
    /** @type {{ name: string, help: string, labelNames: string[], registers: PromClientRegistry[], buckets?: number[] }} */
    const config = { name: family.name, help: family.help, labelNames: family.labelNames, registers: [] };
    if (family.type === "histogram") config.buckets = family.buckets;
    return new Bridged(config);
  });
  // Kept by the name registered under: an OpenMetrics registry renames a
  // counter's metric object (`_total` dropped) when it renders.
  /** @type {[PromClientRegistry, any, string][]} */
  const joined = [];
  try {
    for (const registry of registers) {
      for (const m of metrics) {
        registry.registerMetric(m);
        joined.push([registry, m, m.name]);
      }
    }
  } catch (e) {
    for (const [registry, , name] of joined) registry.removeSingleMetric(name);
    throw e;
  }
  return {
    metrics,
    unregister() {
      for (const [registry, m, name] of joined.splice(0)) {
        if (registry.getSingleMetric(name) === m) registry.removeSingleMetric(name);
      }
    },
  };
}
