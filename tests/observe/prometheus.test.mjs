// A real Prometheus server (Debian's `prometheus` package) scrapes the
// /metrics of three hosts every second for a few seconds: the Rust example
// server and the Node and Python servers of hosts/ (each binding's observe
// module, the same `--demo states` traffic); its HTTP API then answers, per
// host, for a counter, the circuit state, the histogram's count and a
// quantile. Skipped, with the reason, when the binary is missing.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { freePort, sleep, startHost, startServer } from "./harness.mjs";

const PROMETHEUS = spawnSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" }).stdout.trim();
const skip = PROMETHEUS ? false : "prometheus not found (apt-get install prometheus, or run scripts/setup.sh)";

/** Each host, and the median run latency its `healthy` stays under (s). */
const HOSTS = { rust: 0.005, node: 0.025, python: 0.025 };

test("a real Prometheus scrapes /metrics of the Rust, Node and Python hosts and answers queries on them", { skip, timeout: 90_000 }, async (t) => {
  const servers = {
    rust: await startServer(["--demo", "states"], t),
    node: await startHost("node", ["--demo", "states"], t),
    python: await startHost("python", ["--demo", "states"], t),
  };
  const dir = await mkdtemp(path.join(tmpdir(), "hystrix-prometheus-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, "prometheus.yml");
  await writeFile(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      ...Object.entries(servers).flatMap(([job, s]) => [
        `  - job_name: ${job}`,
        "    metrics_path: /metrics",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${s.port}"]`,
      ]),
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api/v1`;
  let log = "";
  const prom = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  prom.stderr.on("data", (d) => (log += d));
  t.after(() => prom.kill("SIGKILL"));

  /** The instant vector of `q`, as [{ metric, value }]. */
  const query = async (q) => {
    const res = await fetch(`${api}/query?query=${encodeURIComponent(q)}`);
    const body = await res.json();
    assert.equal(body.status, "success", JSON.stringify(body));
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  /** Polls until `q` has a sample that satisfies `ok`. */
  const eventually = async (q, ok, ms = 20_000) => {
    const end = Date.now() + ms;
    let last;
    for (;;) {
      try {
        last = await query(q);
        if (last.length > 0 && last.every((r) => ok(r.value))) return last;
      } catch (e) {
        last = e.message; // Not up yet.
      }
      if (Date.now() > end || prom.exitCode !== null) {
        throw new Error(`${q}: ${JSON.stringify(last)}\nprometheus log:\n${log}`);
      }
      await sleep(250);
    }
  };

  for (const job of Object.keys(servers)) await eventually(`up{job="${job}"}`, (v) => v === 1);
  // Four more scrapes, so that rate() has samples to work on.
  await sleep(4_000);
  for (const [job, bound] of Object.entries(HOSTS)) {
    const q = (expr) => expr.replaceAll("{", `{job="${job}",`);
    const success = await eventually(q('hystrix_execution_total{name="healthy",event="success"}'), (v) => v > 0);
    assert.equal(success[0].metric.group, "healthy");
    await eventually(q('hystrix_execution_total{name="tripped",event="short_circuited"}'), (v) => v > 0);
    await eventually(q('hystrix_circuitbreaker_state{name="tripped",state="open"}'), (v) => v === 1);
    await eventually(q('hystrix_circuitbreaker_state{name="healthy",state="closed"}'), (v) => v === 1);
    await eventually(q('increase(hystrix_execution_total{name="healthy",event="success"}[10s])'), (v) => v > 0);
    const count = await eventually(q('hystrix_latency_seconds_count{name="healthy",kind="run"}'), (v) => v > 0);
    // `healthy` takes 0–4 ms a call: the median is in the first buckets.
    const median = await eventually(
      q('histogram_quantile(0.5, sum by (le) (rate(hystrix_latency_seconds_bucket{name="healthy",kind="run"}[5s])))'),
      (v) => Number.isFinite(v) && v > 0 && v <= bound,
    );
    t.diagnostic(`${job}: healthy: ${count[0].value} calls, median run latency ${(median[0].value * 1000).toFixed(2)} ms`);
  }
  // Python's commands are thread-isolated: their pools are exported too.
  await eventually('hystrix_threadpool_completed_tasks_total{job="python",name="healthy"}', (v) => v > 0);
  await eventually('hystrix_threadpool_pool_size_threads{job="python",name="healthy"}', (v) => v >= 1);
  await eventually('hystrix_threadpool_pool_max_threads{job="python",name="healthy"}', (v) => v === 10);
  assert.deepEqual(await query('count(hystrix_threadpool_active_threads{job!="python"})'), [], "semaphore hosts have no pool");
});
