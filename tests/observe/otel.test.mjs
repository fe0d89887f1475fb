// The OpenTelemetry bridge of the Node package (issue #12 §3) with the
// real @opentelemetry/sdk-metrics: one observable instrument per family
// (a histogram as its _bucket/_sum/_count counters), with the families'
// names, descriptions and units, and data points carrying exactly the
// series and values of our own /metrics text for the same scenario.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { hystrix, observe, parseExposition, seriesKey, traffic } from "./bridges-scenario.mjs";

/** A meter provider whose reader collects on demand. */
function provider(t) {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  t.after(() => meterProvider.shutdown());
  return { meterProvider, reader };
}

/** The metrics of one collection, by name. */
async function collect(reader) {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  // Without the SDK's own metrics (some versions have them).
  const ours = resourceMetrics.scopeMetrics.filter((s) => !s.scope.name.startsWith("@opentelemetry"));
  return new Map(ours.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
}

/** Every data point of `metrics` as a Map seriesKey -> value. */
function series(metrics) {
  const out = new Map();
  for (const [name, m] of metrics) {
    for (const p of m.dataPoints) {
      const key = seriesKey(name, p.attributes);
      assert.ok(!out.has(key), `duplicate series ${key}`);
      out.set(key, p.value);
    }
  }
  return out;
}

test("observable instruments carry the families' names, units and the values of our /metrics text", async (t) => {
  const clock = new hystrix.VirtualClock();
  await traffic(clock);
  const { meterProvider, reader } = provider(t);
  const bridge = observe.otelInstruments(meterProvider.getMeter("app"));

  let metrics = await collect(reader);
  const families = observe.metricFamilies();
  for (const f of families) {
    // A family without series (the thread pools, which no Node command has) is never collected.
    if (f.samples.length === 0) continue;
    const names = f.type === "histogram" ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name];
    for (const name of names) {
      const m = metrics.get(name);
      assert.ok(m, `${name} is exported`);
      assert.ok(m.descriptor.description.startsWith(f.help), name);
      if (f.type === "gauge") {
        assert.equal(m.dataPointType, DataPointType.GAUGE, name);
      } else {
        assert.equal(m.dataPointType, DataPointType.SUM, name);
        assert.equal(m.isMonotonic, true, name);
      }
    }
  }
  assert.equal(metrics.get("hystrix_circuitbreaker_state_seconds_total").descriptor.unit, "s");
  assert.equal(metrics.get("hystrix_latency_seconds_sum").descriptor.unit, "s");
  assert.equal(metrics.get("hystrix_latency_seconds_count").descriptor.unit, "");
  assert.equal(metrics.get("hystrix_execution_total").descriptor.unit, "");
  assert.deepEqual(series(metrics), parseExposition(observe.metricsText()));
  const open = seriesKey("hystrix_circuitbreaker_state", { name: "tripped", group: "tripped", state: "open" });
  assert.equal(series(metrics).get(open), 1);

  // Each collection observes afresh; after close() nothing new is observed.
  await traffic(clock);
  metrics = await collect(reader);
  const ok = seriesKey("hystrix_execution_total", { name: "healthy", group: "healthy", event: "success" });
  assert.equal(series(metrics).get(ok), 6);
  assert.deepEqual(series(metrics), parseExposition(observe.metricsText()));
  bridge.close();
  bridge.close();
  await traffic(clock);
  metrics = await collect(reader);
  // The SDK keeps reporting the last cumulative values; they no longer move.
  assert.equal(series(metrics).get(ok), 6);
  assert.match(observe.metricsText(), /event="success"\} 9$/m);
});

test("the @opentelemetry/api module (its global meter provider) and bad arguments", async (t) => {
  const { meterProvider, reader } = provider(t);
  api.metrics.setGlobalMeterProvider(meterProvider);
  t.after(() => api.metrics.disable());
  await new hystrix.Command(async () => 1, null, { name: "via-api" }).execute();
  const bridge = observe.otelInstruments(api, { commands: ["via-api"] });
  const got = series(await collect(reader));
  assert.equal(got.get(seriesKey("hystrix_execution_total", { name: "via-api", group: "via-api", event: "success" })), 1);
  assert.ok([...got.keys()].every((k) => k.includes('"via-api"')), "only the commands asked for");
  bridge.close();

  assert.throws(() => observe.otelInstruments({}), /expected an OpenTelemetry Meter or the @opentelemetry\/api module, got object/);
  assert.throws(() => observe.otelInstruments(meterProvider.getMeter("x"), { commands: "via-api" }), /options.commands must be an array/);
});
