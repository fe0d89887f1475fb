// What a scrape costs through the bridges, against rendering the text:
// 100 named commands with traffic, then the median of N runs of each of
// metricsText(), metricFamilies(), a prom-client registry.metrics() and an
// OpenTelemetry SDK collect(). Not a test: `node tests/observe/bridges-bench.mjs [N]`
// after scripts/build-npm.sh (numbers go to the report, not to a file).
import { performance } from "node:perf_hooks";
import promClient from "prom-client";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { hystrix, observe } from "./bridges-scenario.mjs";

const N = Number(process.argv[2] ?? 200);
const clock = new hystrix.VirtualClock();
for (let i = 0; i < 100; i++) {
  const name = `cmd-${String(i).padStart(3, "0")}`;
  for (const ms of [2, 20, 200]) await new hystrix.Command(async () => (await clock.advance(ms), 1), null, { name, clock }).execute();
}

const registry = new promClient.Registry();
observe.promClientCollector(promClient, { registers: [registry] });
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const provider = new MeterProvider({ readers: [reader] });
observe.otelInstruments(provider.getMeter("bench"));

/** Median milliseconds of `fn` over N runs (after 10 warm-up runs). */
async function median(fn) {
  for (let i = 0; i < 10; i++) await fn();
  const t = [];
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    await fn();
    t.push(performance.now() - start);
  }
  return t.sort((a, b) => a - b)[Math.floor(N / 2)];
}

const rows = [
  ["metricsText()", () => observe.metricsText()],
  ["metricFamilies()", () => observe.metricFamilies()],
  ["prom-client registry.metrics()", () => registry.metrics()],
  ["OpenTelemetry reader.collect()", () => reader.collect()],
];
const base = await median(rows[0][1]);
console.log(`100 commands, ${(observe.metricsText().length / 1024).toFixed(0)} KiB of text, median of ${N}:`);
for (const [what, fn] of rows) {
  const ms = what === rows[0][0] ? base : await median(fn);
  console.log(`  ${what.padEnd(32)} ${ms.toFixed(2).padStart(7)} ms  (${(ms / base).toFixed(1)}x the text)`);
}
await provider.shutdown();
