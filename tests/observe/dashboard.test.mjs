// Dashboards in headless Chromium against the Rust example server
// (`--demo states`: `tripped` stays open, `healthy` stays closed, `cycling`
// goes closed → open → half-open → closed):
// 1. the original Netflix Hystrix dashboard (npm hystrix-dashboard@1.0.4,
//    its webapp/ served here from Node, `/proxy.stream` piped to our
//    stream, underscore served from node_modules: no network), on the
//    stream of the Rust example and of the Node and Python hosts (hosts/:
//    each binding's observe module, the same `tripped` and `healthy`;
//    the Python host's are thread-isolated: their Thread Pools tiles too);
// 2. our built-in page at /hystrix, and the same bytes pointed at the
//    stream of another origin with `?stream=`.
import assert from "node:assert/strict";
import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { test } from "node:test";
import { HERE, chromiumMissing, get, sleep, startHost, startServer, withChromium } from "./harness.mjs";

const WEBAPP = path.join(HERE, "node_modules/hystrix-dashboard/webapp");
const UNDERSCORE = path.join(HERE, "node_modules/underscore/underscore-min.js");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".gif": "image/gif" };
const skip = chromiumMissing() ?? (existsSync(WEBAPP) ? false : `${WEBAPP} is missing: (cd tests/observe && npm ci)`);

/**
 * The dashboard's webapp/ at `/`, `/proxy.stream?origin=URL` piped from
 * URL (our server only), and `/ours` = the bytes of our page fetched from
 * our server. Resolves to its base URL.
 */
async function nodeHost(t, rust) {
  const page = (await get(`${rust.base}/hystrix`)).body;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/proxy.stream") {
      const origin = url.searchParams.get("origin") ?? "";
      if (!origin.startsWith(rust.base + "/")) {
        res.writeHead(400).end("origin must be the test's server\n");
        return;
      }
      const up = http.get(origin, (upRes) => {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
      });
      up.on("error", () => res.destroy());
      res.on("close", () => up.destroy());
      return;
    }
    if (url.pathname === "/ours") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(page);
      return;
    }
    const file = path.join(WEBAPP, path.normalize(decodeURIComponent(url.pathname)));
    if (!file.startsWith(WEBAPP) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${server.address().port}`;
}

/** A page that may only reach 127.0.0.1; the CDN underscore is served locally. */
async function localPage(context) {
  const page = await context.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(m.text()));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    if (url.hostname === "cdnjs.cloudflare.com" && url.pathname.endsWith("/underscore.js/1.8.3/underscore-min.js")) {
      return route.fulfill({ path: UNDERSCORE, contentType: "text/javascript" });
    }
    return route.abort();
  });
  return { page, logs };
}

/**
 * The Thread Pools section: Python's commands are thread-isolated, so its
 * stream has a HystrixThreadPool frame per command and the dashboard a
 * tile for each (it skips a frame missing any field it asserts, logging
 * "Failed preProcessData"); the others' commands use semaphores: no pool.
 */
async function checkThreadPools(page, kind, logs) {
  const section = "#dependencyThreadPools_0";
  if (kind !== "python") {
    assert.equal(await page.locator(`${section} .monitor`).count(), 0);
    return;
  }
  for (const name of ["tripped", "healthy"]) {
    await page
      .waitForSelector(`#THREAD_POOL_${name}_0 .monitor_data .tableRow`, { state: "attached", timeout: 20_000 })
      .catch((e) => assert.fail(`no Thread Pools tile for ${name} (${e.message})\nconsole: ${logs.join("\n")}`));
  }
  assert.equal(await page.locator(`${section} span.loading`).count(), 0, "the Loading ... placeholder is gone");
  // Header → value of each tile's table (Active, Max Active, Queued, Executions, Pool Size, Queue Size).
  const pool = (name) =>
    page.$$eval(`#THREAD_POOL_${name}_0 .monitor_data .cell`, (cells) => {
      const out = {};
      for (let i = 0; i + 1 < cells.length; i += 2) out[cells[i].textContent.trim()] = cells[i + 1].textContent.trim();
      return out;
    });
  const healthy = await pool("healthy");
  const number = (s) => Number(s.replace(/,/g, ""));
  assert.deepEqual(Object.keys(healthy), ["Active", "Max Active", "Queued", "Executions", "Pool Size", "Queue Size"]);
  assert.ok(number(healthy.Executions) > 0, `healthy pool: ${JSON.stringify(healthy)}`);
  assert.ok(number(healthy["Max Active"]) >= 1 && number(healthy["Pool Size"]) >= 1, JSON.stringify(healthy));
  assert.ok(number(healthy.Active) <= 1 && healthy["Queue Size"] === "0", JSON.stringify(healthy));
  const rate = await page.textContent("#THREAD_POOL_healthy_0 .ratePerSecond");
  assert.ok(Number(rate) > 0, `healthy pool rate: ${rate}`);
  // `tripped` stays open: its calls are short-circuited, never run on its pool.
  const tripped = await pool("tripped");
  assert.equal(tripped.Active, "0", JSON.stringify(tripped));
}

for (const kind of ["rust", "node", "python"]) {
test(`the Netflix Hystrix dashboard renders the ${kind} host's stream`, { skip, timeout: 60_000 }, async (t) => {
  const rust = await startHost(kind, ["--demo", "states", "--interval-ms", "250"], t);
  const host = await nodeHost(t, rust);
  await withChromium(async (context) => {
    const { page, logs } = await localPage(context);
    const stream = encodeURIComponent(`${rust.base}/hystrix.stream`);
    await page.goto(`${host}/monitor/monitor.html?stream=${stream}&title=${kind}`);
    await page.waitForSelector("#CIRCUIT_tripped_0 .circuitStatus", { timeout: 20_000 });
    await page.waitForSelector("#CIRCUIT_healthy_0 .circuitStatus", { timeout: 20_000 });
    if (kind === "rust") await page.waitForSelector("#CIRCUIT_cycling_0", { timeout: 20_000 });
    // A few more ticks, so every tile has been redrawn from live frames.
    await sleep(1_000);
    const tile = async (name) => ({
      status: (await page.textContent(`#CIRCUIT_${name}_0 .circuitStatus`)).replace(/\s+/g, " ").trim(),
      error: (await page.textContent(`#CIRCUIT_${name}_0 .errorPercentage .value`)).trim(),
      success: Number((await page.textContent(`#CIRCUIT_${name}_0 a.success`)).replace(/,/g, "")),
      rate: await page.textContent(`#CIRCUIT_${name}_0 .ratePerSecond`),
    });
    const tripped = await tile("tripped");
    const healthy = await tile("healthy");
    assert.equal(tripped.status, "Circuit Open");
    assert.equal(tripped.error, "100.0");
    assert.equal(healthy.status, "Circuit Closed");
    assert.equal(healthy.error, "0.0");
    assert.ok(healthy.success > 0, `healthy successes: ${healthy.success}`);
    assert.ok(Number(healthy.rate) > 0, `healthy rate: ${healthy.rate}`);
    await checkThreadPools(page, kind, logs);
    const failed = logs.filter((l) => /Failed preProcessData|pageerror/.test(l));
    assert.deepEqual(failed, [], `console: ${logs.join("\n")}`);
  });
});
}

/** Waits until `states()` goes through `want` in a row (repeats collapsed). */
async function seeSequence(states, want, ms) {
  const seen = [];
  const end = Date.now() + ms;
  while (!`,${seen.join(",")},`.includes(`,${want.join(",")},`)) {
    if (Date.now() > end) throw new Error(`saw ${seen.join(" → ")}, wanted ${want.join(" → ")}`);
    const s = await states();
    if (s !== seen[seen.length - 1]) seen.push(s);
    await sleep(50);
  }
  return seen;
}

test("our page at /hystrix shows every state, half-open included", { skip, timeout: 60_000 }, async (t) => {
  const rust = await startServer(["--demo", "states", "--interval-ms", "200"], t);
  const root = await get(`${rust.base}/`);
  assert.equal(root.status, 302);
  assert.equal(root.headers.get("location"), "/hystrix");
  await withChromium(async (context) => {
    const { page, logs } = await localPage(context);
    await page.goto(`${rust.base}/`);
    assert.equal(new URL(page.url()).pathname, "/hystrix");
    await page.waitForSelector('.tile[data-name="tripped"][data-state="open"]', { timeout: 20_000 });
    await page.waitForSelector('.tile[data-name="healthy"][data-state="closed"]', { timeout: 20_000 });
    const text = async (name, sel) => (await page.textContent(`.tile[data-name="${name}"] ${sel}`)).trim();
    assert.equal(await text("tripped", ".state"), "Open");
    assert.equal(await text("tripped", ".err"), "100 %");
    assert.equal(await text("healthy", ".state"), "Closed");
    assert.equal(await text("healthy", ".err"), "0 %");
    assert.match(await text("healthy", ".rate"), /^[1-9][\d.]* req\/s$/);
    assert.match(await text("healthy", ".lat"), /^mean\d+ms50th\d+ms90th\d+ms99th\d+ms99\.5th\d+ms$/);
    assert.match(await text("tripped", ".counts"), /failure[1-9]\d*/);
    assert.match(await text("tripped", ".counts"), /short-circ\.[1-9]\d*/);
    // The sparkline gains a point per tick: the tiles can appear after the
    // first one, so wait for a second (5 s: 25 ticks at 200 ms).
    const sel = '.tile[data-name="healthy"] .spark-rate';
    await page
      .waitForFunction((s) => (document.querySelector(s)?.getAttribute("points") ?? "").trim().split(" ").length >= 2, sel, {
        timeout: 5_000,
      })
      .catch(() => {});
    const points = await page.getAttribute(sel, "points");
    assert.ok(points.trim().split(" ").length >= 2, `sparkline: ${points}`);
    const seen = await seeSequence(
      () => page.getAttribute('.tile[data-name="cycling"]', "data-state"),
      ["closed", "open", "half-open", "closed"],
      30_000,
    );
    t.diagnostic(`cycling: ${seen.join(" → ")}`);
    assert.equal(await text("cycling", ".state"), "Closed");
    assert.deepEqual(logs.filter((l) => /error|pageerror/i.test(l)), []);
  });
});

test("our page follows a stream of another origin (?stream=)", { skip, timeout: 60_000 }, async (t) => {
  const rust = await startServer(["--demo", "states", "--interval-ms", "200", "--cors", "*"], t);
  const host = await nodeHost(t, rust);
  await withChromium(async (context) => {
    const { page } = await localPage(context);
    const stream = `${rust.base}/hystrix.stream`;
    await page.goto(`${host}/ours?stream=${encodeURIComponent(stream)}`);
    await page.waitForSelector('.tile[data-name="tripped"][data-state="open"]', { timeout: 20_000 });
    assert.equal(await page.inputValue("#stream"), stream);
    assert.match(await page.textContent("#status"), /^connected to /);
  });
});
