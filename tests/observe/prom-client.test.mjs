// The prom-client bridge (issue #12 §3) with the real prom-client: the
// families join a user's registry next to their own metrics, pass
// `promtool check metrics`, and carry exactly the lines of our own
// /metrics text for the same scenario, at every scrape.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import promClient from "prom-client";
import { WEIRD, hystrix, observe, traffic } from "./bridges-scenario.mjs";

const PROMTOOL = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).stdout.trim();

/** The non-empty lines of `text` that are not the user's own metric. */
const ours = (text) => text.split("\n").filter((l) => l !== "" && !l.includes("app_requests_total"));

test("the families join a user's prom-client registry with the values of our own /metrics text", async () => {
  const clock = new hystrix.VirtualClock();
  await traffic(clock);
  const registry = new promClient.Registry();
  const mine = new promClient.Counter({ name: "app_requests_total", help: "The app's own counter.", registers: [registry] });
  mine.inc(3);
  const bridge = observe.promClientCollector(promClient, { registers: [registry] });
  assert.equal(bridge.metrics.length, observe.metricFamilies().length);

  let scraped = await registry.metrics();
  assert.match(scraped, /^app_requests_total 3$/m, "the user's counter is still there");
  assert.deepEqual(ours(scraped), ours(observe.metricsText()), "the same lines as our own exposition");
  assert.match(scraped, /^hystrix_circuitbreaker_state\{name="tripped",group="tripped",state="open"\} 1$/m);
  assert.ok(scraped.includes(`hystrix_execution_total{name="we\\"ird\\\\n\\nnamé",group="we\\"ird\\\\n\\nnamé",event="success"} 3`));
  assert.match(scraped, /^hystrix_latency_seconds_bucket\{name="healthy",group="healthy",kind="run",le="0.005"\} 1$/m);

  if (PROMTOOL) {
    const check = spawnSync(PROMTOOL, ["check", "metrics"], { input: scraped, encoding: "utf8" });
    assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  } else {
    console.log("# promtool not found (apt-get install prometheus): lint skipped");
  }

  // Every scrape renders afresh.
  await traffic(clock);
  scraped = await registry.metrics();
  assert.match(scraped, new RegExp(`^hystrix_execution_total\\{name="healthy",group="healthy",event="success"\\} 6$`, "m"));
  assert.deepEqual(ours(scraped), ours(observe.metricsText()));
  // prom-client's JSON carries the same values (its histogram JSON too).
  const json = await registry.getMetricsAsJSON();
  const latency = json.find((m) => m.name === "hystrix_latency_seconds");
  assert.equal(latency.type, "histogram");
  const count = latency.values.find((v) => v.metricName === "hystrix_latency_seconds_count" && v.labels.name === WEIRD && v.labels.kind === "run");
  assert.equal(count.value, 6);

  bridge.unregister();
  assert.deepEqual((await registry.metrics()).trim().split("\n"), ["# HELP app_requests_total The app's own counter.", "# TYPE app_requests_total counter", "app_requests_total 3"]);
});

test("the default registry, a clash with an existing metric and bad arguments", async () => {
  const bridge = observe.promClientCollector(promClient);
  assert.ok((await promClient.register.metrics()).includes("# TYPE hystrix_execution_total counter"));
  // A second bridge clashes on the first name; nothing of it stays registered.
  assert.throws(() => observe.promClientCollector(promClient), /hystrix_circuitbreaker_state has already been registered/);
  bridge.unregister();
  assert.equal(await promClient.register.metrics(), "\n");

  // An OpenMetrics registry: prom-client's counter naming, # EOF; unregister still removes all.
  const om = new promClient.Registry(promClient.Registry.OPENMETRICS_CONTENT_TYPE);
  const omBridge = observe.promClientCollector(promClient, { registers: [om] });
  await new hystrix.Command(async () => 1, null, { name: "openmetrics" }).execute();
  const omText = await om.metrics();
  assert.match(omText, /^# TYPE hystrix_execution counter$/m);
  assert.match(omText, /^hystrix_execution_total\{name="openmetrics",group="openmetrics",event="success"\} 1$/m);
  assert.match(omText, /^# EOF\n$/m);
  omBridge.unregister();
  assert.equal(await om.metrics(), "\n# EOF\n");

  assert.throws(() => observe.promClientCollector({}), /promClient must be the prom-client module \(its Counter class is missing\)/);
  assert.throws(() => observe.promClientCollector(promClient, { registers: [{}] }), /options.registers must be an array of prom-client registries/);
  assert.throws(() => observe.promClientCollector(promClient, { commands: ["nobody"] }), /no command is named "nobody"/);
});
