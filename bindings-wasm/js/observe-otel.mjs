// The OpenTelemetry bridge of `hystrix-resilience/observe` (issue #12 §3):
// observable instruments on the user's meter (`@opentelemetry/api`, not a
// dependency of this package), with the names, descriptions and units
// (UCUM: `s`) of the core's metric families, observed from one render per
// collection. Nothing here knows a metric's name or labels.
//
// Counters become ObservableCounters (cumulative values), gauges
// ObservableGauges. OpenTelemetry has no observable histogram, so a
// histogram family is exported as Prometheus exports it: the
// ObservableCounters `<name>_bucket` (cumulative count per bound, attribute
// `le`, `+Inf` last), `<name>_sum` (in the family's unit) and `<name>_count`.
import { metricFamilies } from "./observe.mjs";

/** @typedef {import("./observe.js").MetricFamily} MetricFamily */
/** @typedef {import("./observe.js").OtelMeter} OtelMeter */
/** @typedef {import("./observe.js").OtelApi} OtelApi */
/** @typedef {import("./observe.js").OtelBridge} OtelBridge */
/** @typedef {import("./observe.js").RenderOptions} RenderOptions */
/**
 * Observes one family's series into a batch observable result.
 * @typedef {(result: any, family: MetricFamily) => void} Observe
 */

/**
 * The meter of `meterOrApi`: a Meter, or the `@opentelemetry/api` module (its global meter provider).
 * @param {any} meterOrApi what the caller passed (checked here)
 * @param {string} where
 * @returns {OtelMeter}
 */
function meterOf(meterOrApi, where) {
  if (typeof meterOrApi?.createObservableCounter === "function") return meterOrApi;
  if (typeof meterOrApi?.metrics?.getMeter === "function") return meterOrApi.metrics.getMeter("hystrix-resilience");
  throw new TypeError(`${where}: expected an OpenTelemetry Meter or the @opentelemetry/api module, got ${typeof meterOrApi}`);
}

/**
 * `labelNames` paired with `values` as OpenTelemetry attributes.
 * @param {string[]} labelNames
 * @param {string[]} values
 * @returns {Record<string, string>}
 */
function attributes(labelNames, values) {
  /** @type {Record<string, string>} */
  const out = {};
  for (let i = 0; i < labelNames.length; i++) out[labelNames[i]] = values[i];
  return out;
}

/**
 * The instruments of one family and a function observing its series:
 * `[instruments, observe(result, family)]`.
 * @param {OtelMeter} meter
 * @param {MetricFamily} family
 * @returns {[unknown[], Observe]}
 */
function instrumentsOf(meter, family) {
  const { name, help: description, otelUnit: unit, labelNames } = family;
  if (family.type === "counter" || family.type === "gauge") {
    const make = family.type === "counter" ? "createObservableCounter" : "createObservableGauge";
    const instrument = meter[make](name, { description, unit });
    /** @type {Observe} */
    const observe = (result, f) => {
      if (f.type === "histogram") return;
      for (const s of f.samples) result.observe(instrument, s.value, attributes(labelNames, s.labels));
    };
    return [[instrument], observe];
  }
  if (family.type !== "histogram") throw new Error(`otelInstruments: unknown metric type ${JSON.stringify(family.type)}`);
  const bucket = meter.createObservableCounter(`${name}_bucket`, { description: `${description} (cumulative count per upper bound le)` });
  const sum = meter.createObservableCounter(`${name}_sum`, { description: `${description} (sum)`, unit });
  const count = meter.createObservableCounter(`${name}_count`, { description: `${description} (count)` });
  /** @type {Observe} */
  const observe = (result, f) => {
    if (f.type !== "histogram") return;
    for (const s of f.samples) {
      const attrs = attributes(labelNames, s.labels);
      f.le.forEach((le, i) => result.observe(bucket, s.counts[i], { ...attrs, le }));
      result.observe(bucket, s.count, { ...attrs, le: "+Inf" });
      result.observe(sum, s.sum, attrs);
      result.observe(count, s.count, attrs);
    }
  };
  return [[bucket, sum, count], observe];
}

/**
 * Registers observable instruments for every metric family of the
 * commands on `meterOrApi` (a Meter, or the `@opentelemetry/api` module:
 * then its global meter `hystrix-resilience`). One batch callback renders
 * once per collection. `options.commands` as for `metricsText`. Returns
 * `{ instruments, close() }`; `close()` removes the callback.
 * @param {OtelMeter | OtelApi} meterOrApi
 * @param {RenderOptions} [options]
 * @returns {OtelBridge}
 */
export function otelInstruments(meterOrApi, options = {}) {
  const where = "otelInstruments";
  const meter = meterOf(meterOrApi, where);
  if (typeof meter.addBatchObservableCallback !== "function") {
    throw new TypeError(`${where}: the meter has no addBatchObservableCallback (needs @opentelemetry/api ≥ 1.3)`);
  }
  if (options === null || typeof options !== "object") throw new TypeError(`${where}: options must be an object`);
  const renderOptions = { commands: options.commands };
  /** @type {[string, [unknown[], Observe]][]} */
  const parts = metricFamilies(renderOptions).map((f) => [f.name, instrumentsOf(meter, f)]);
  const byName = new Map(parts);
  const instruments = parts.flatMap(([, [list]]) => list);
  /** @param {any} result the SDK's batch observable result */
  const callback = (result) => {
    for (const family of metricFamilies(renderOptions)) byName.get(family.name)?.[1](result, family);
  };
  meter.addBatchObservableCallback(callback, instruments);
  let open = true;
  return {
    instruments,
    close() {
      if (open) meter.removeBatchObservableCallback(callback, instruments);
      open = false;
    },
  };
}
