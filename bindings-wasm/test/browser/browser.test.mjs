// The browser build in real (Debian) Chromium, through playwright-core:
//   node --test bindings-wasm/test/browser/
// Needs target/npm/hystrix (scripts/build-npm.sh), /usr/bin/chromium and
// `npm install` in this directory. Skips only when Chromium is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromiumMissing, withChromium } from "./chromium.mjs";
import { startServer } from "./server.mjs";

const pkgEntry = fileURLToPath(new URL("../../../target/npm/hystrix/index.web.mjs", import.meta.url));

test("browser build: live example and VirtualClock self-check in Chromium", { timeout: 90_000 }, async (t) => {
  const missing = chromiumMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  assert.ok(existsSync(pkgEntry), `${pkgEntry} is missing: run scripts/build-npm.sh first`);
  const srv = await startServer();
  try {
    await withChromium((context) => checkPage(context, srv.url));
  } finally {
    await srv.close();
  }
});

async function checkPage(context, base) {
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // A 503 from /flaky is logged by Chromium as a failed resource: expected.
    const from = m.location()?.url ?? "";
    if (m.type() === "error" && !from.includes("/flaky")) problems.push(`console: ${m.text()} (${from})`);
  });
  page.on("requestfailed", (r) => {
    // Aborted /flaky fetches (timeouts) are expected; anything else is not.
    if (!new URL(r.url()).pathname.startsWith("/flaky")) problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });

  const wasmTypes = [];
  page.on("response", (r) => {
    if (r.url().endsWith(".wasm")) wasmTypes.push([r.url().split("/").pop(), r.headers()["content-type"]]);
  });

  await page.goto(`${base}/example/index.html`);
  await page
    .waitForFunction(() => typeof window.hystrixSelfCheck === "function", null, { timeout: 20_000 })
    .catch((e) => {
      throw new Error(`the page never defined hystrixSelfCheck (${e.message}); page problems: ${problems.join(" | ") || "none"}`);
    });
  // The command module, and the observer module for the dashboard the example mounts.
  assert.deepEqual(
    wasmTypes.sort(),
    [
      ["hystrix_wasm_bg.wasm", "application/wasm"],
      ["hystrix_wasm_observer_bg.wasm", "application/wasm"],
    ],
    "each wasm module is fetched once, as application/wasm",
  );

  const r = await page.evaluate(() => window.hystrixSelfCheck());

  // Timed out: the run's signal aborted, the fallback got a TimeoutError.
  assert.equal(r.timeout.name, "TimeoutError");
  assert.equal(r.timeout.kind, "timeout");
  assert.equal(r.timeout.code, 2);
  assert.equal(r.timeout.isTimeoutError, true);
  assert.equal(r.timeout.servedByFallback, true);
  assert.equal(r.timeout.signalAbortedWith, "TimeoutError");
  assert.equal(r.timeout.state, "closed");
  // Without a fallback the caller gets the TimeoutError itself.
  assert.equal(r.timeoutWithoutFallback.rejected, true);
  assert.equal(r.timeoutWithoutFallback.name, "TimeoutError");
  assert.equal(r.timeoutWithoutFallback.isTimeoutError, true);
  // Tripped.
  assert.equal(r.trip.state, "open");
  assert.equal(r.trip.servedByFallback, true);
  // Short-circuited, served by the fallback, run not called.
  assert.equal(r.shortCircuit.kind, "short_circuited");
  assert.equal(r.shortCircuit.name, "CircuitOpenError");
  assert.equal(r.shortCircuit.isCircuitOpenError, true);
  assert.equal(r.shortCircuit.servedByFallback, true);
  assert.equal(r.shortCircuit.runCalled, false);
  // Recovered after the sleep window.
  assert.equal(r.recovery.value, "ok:probe");
  assert.equal(r.recovery.state, "closed");
  assert.deepEqual(
    r.transitions.map((x) => `${x.from}->${x.to}`),
    ["closed->open", "open->half_open", "half_open->closed"],
  );
  assert.equal(r.rolling.TIMEOUT, 1);
  assert.equal(r.rolling.SHORT_CIRCUITED, 1);
  assert.equal(r.ok, true);
  assert.equal(await page.textContent("#selfcheck").then((s) => s.startsWith("PASS")), true);

  // The live demo shows a circuit state and counts from real /flaky calls.
  await page.waitForFunction(
    () => {
      const n = (k) => Number(document.querySelector(`#counts tr[data-event="${k}"] td.n`)?.textContent ?? 0);
      return n("SUCCESS") + n("FAILURE") + n("TIMEOUT") + n("SHORT_CIRCUITED") > 0;
    },
    null,
    { timeout: 15_000 },
  );
  const shown = await page.textContent("#state");
  assert.match(shown, /^(closed|open|half_open)$/);
  assert.equal(await page.getAttribute("#state", "data-state"), shown);
  assert.ok((await page.locator("#log li").count()) > 0, "the timeline has entries");

  // The mounted dashboard has a tile for the live command, in one of its states.
  const tile = '#dashboard [data-hystrix-dashboard] .tile[data-name="live-flaky"]';
  await page.waitForSelector(tile, { timeout: 5_000 });
  assert.match(await page.getAttribute(tile, "data-state"), /^(closed|open|half-open)$/);
  assert.match(await page.textContent(`${tile} .state`), /^(Closed|Open|Half-open)$/);

  assert.deepEqual(problems, [], "no page errors");
}
