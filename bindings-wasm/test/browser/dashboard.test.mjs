// `hystrix-resilience/dashboard` in headless Chromium: a page (dashboard/)
// mounts the built-in dashboard, fed by its own command on a VirtualClock,
// under a strict Content-Security-Policy (no inline script or style, no
// eval), and drives it closed → open → half-open → closed; and stop()
// ends the feeding and the timers.
//   node --test bindings-wasm/test/browser/dashboard.test.mjs
// Needs target/npm/hystrix (scripts/build-npm.sh) and /usr/bin/chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromiumMissing, withChromium } from "./chromium.mjs";
import { startServer } from "./server.mjs";

const pkg = fileURLToPath(new URL("../../../target/npm/hystrix", import.meta.url));
const fixture = fileURLToPath(new URL("./dashboard", import.meta.url));
/** What the bundler tests serve too: scripts from the origin, wasm compilation; styles from the origin only. */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src data:";

/** Opens the test page; runs `fn(page, problems)`; no page error, console message of level error/warning or failed request may happen. */
async function onPage(t, fn) {
  const missing = chromiumMissing();
  if (missing) return t.skip(missing);
  assert.ok(existsSync(`${pkg}/dashboard.mjs`), `${pkg}/dashboard.mjs is missing: run scripts/build-npm.sh first`);
  const srv = await startServer({ mounts: { "/pkg/": pkg, "/fixture/": fixture }, headers: { "content-security-policy": CSP } });
  try {
    await withChromium(async (context) => {
      const page = context.pages()[0] ?? (await context.newPage());
      const problems = [];
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      await page.goto(`${srv.url}/fixture/index.html`);
      await page.waitForFunction(() => window.dashScenario !== undefined, null, { timeout: 20_000 }).catch((e) => {
        throw new Error(`the page never started (${e.message}); page problems: ${problems.join(" | ") || "none"}`);
      });
      await fn(page);
      assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
    });
  } finally {
    await srv.close();
  }
}

/** What the tile of command `name` in the dashboard mounted in `#where` shows (playwright's CSS pierces the open shadow root). */
async function tile(page, where, name) {
  const sel = `${where} [data-hystrix-dashboard] .tile[data-name="${name}"]`;
  const text = async (part) => (await page.textContent(`${sel} ${part}`)).replace(/\s+/g, " ").trim();
  return {
    dataState: await page.getAttribute(sel, "data-state"),
    state: await text(".state"),
    err: await text(".err"),
    counts: await text(".counts"),
  };
}

/** "success1failure3…" → { success: 1, failure: 3, … } from a tile's counts text. */
function counts(text) {
  return Object.fromEntries([...text.matchAll(/([a-z. -]+?)\s*(\d+)/g)].map((m) => [m[1].trim(), Number(m[2])]));
}

test("the mounted dashboard shows closed → open → half-open → closed as the page's command goes through them", { timeout: 90_000 }, async (t) => {
  await onPage(t, async (page) => {
    // Mounted and fed at once: the command, closed, no traffic.
    let shown = await tile(page, "#dashboard", "checkout");
    assert.deepEqual([shown.dataState, shown.state, shown.err], ["closed", "Closed", "0 %"]);
    assert.equal(counts(shown.counts).failure, 0);
    assert.equal(await page.locator('#dashboard [data-hystrix-dashboard] .tile').count(), 1, "only the commands given");

    // Three failures trip it; the dashboard's own timer (50 ms) shows it.
    assert.equal(await page.evaluate(() => window.dashScenario.fail(3)), "open");
    await page.waitForSelector('#dashboard [data-hystrix-dashboard] .tile[data-name="checkout"][data-state="open"]', { timeout: 5_000 });
    shown = await tile(page, "#dashboard", "checkout");
    assert.equal(shown.state, "Open");
    assert.equal(shown.err, "100 %");
    assert.equal(counts(shown.counts).failure, 3);
    // The page's style reached the shadow root under the CSP: an open tile's red edge.
    const edge = await page.$eval('#dashboard [data-hystrix-dashboard] .tile[data-name="checkout"]', (e) => getComputedStyle(e).borderLeftColor);
    assert.equal(edge, "rgb(198, 40, 40)");

    // Open: a call is short-circuited.
    assert.equal(await page.evaluate(() => window.dashScenario.shortCircuit()), "open");
    await page.evaluate(() => window.dashScenario.refresh());
    assert.equal(counts((await tile(page, "#dashboard", "checkout")).counts)["short-circ."], 1);

    // Past the sleep window, still open until a probe is let through.
    assert.equal(await page.evaluate(() => window.dashScenario.passSleepWindow()), "open");
    assert.equal((await tile(page, "#dashboard", "checkout")).state, "Open");

    // The probe in flight: half-open (the frame's circuitState is HALF_OPEN).
    assert.equal(await page.evaluate(() => window.dashScenario.startProbe()), "half_open");
    shown = await tile(page, "#dashboard", "checkout");
    assert.deepEqual([shown.dataState, shown.state], ["half-open", "Half-open"]);

    // The probe succeeds: closed again.
    assert.deepEqual(await page.evaluate(() => window.dashScenario.finishProbe()), { value: "ok", state: "closed" });
    shown = await tile(page, "#dashboard", "checkout");
    assert.deepEqual([shown.dataState, shown.state], ["closed", "Closed"]);
    assert.match(await page.textContent("#dashboard [data-hystrix-dashboard] .status"), /^this page's commands \(1\), every 50 ms$/);
  });
});

test("stop() ends the feeding and the dashboard's timers; dispose() removes it; by default every named command is shown", { timeout: 90_000 }, async (t) => {
  await onPage(t, async (page) => {
    const before = await page.evaluate(() => window.dashScenario.liveIntervals());
    assert.equal(await page.evaluate(() => window.dashScenario.mountSecond()), true);
    // Two timers: the feed and the view's (it drops tiles of vanished commands).
    assert.equal(await page.evaluate(() => window.dashScenario.liveIntervals()), before + 2);
    await page.evaluate(() => window.dashScenario.callSearch(2));
    await page.waitForFunction(
      () => {
        const shadow = document.querySelector("#second [data-hystrix-dashboard]").shadowRoot;
        return /success\s*2/.test(shadow.querySelector('.tile[data-name="search"] .counts')?.textContent ?? "");
      },
      null,
      { timeout: 5_000 },
    );
    assert.equal(counts((await tile(page, "#second", "search")).counts).success, 2);

    // Stopped (twice: idempotent): no timers left, no refresh, the last tick stays.
    assert.deepEqual(await page.evaluate(() => window.dashScenario.stopSecond()), { running: false, refreshed: false });
    assert.equal(await page.evaluate(() => window.dashScenario.liveIntervals()), before);
    await page.evaluate(() => window.dashScenario.callSearch(3));
    await page.waitForTimeout(200); // 10 of its intervals
    assert.equal(counts((await tile(page, "#second", "search")).counts).success, 2, "no longer fed");

    // dispose() takes it out of the page; the first dashboard stays.
    assert.equal(await page.evaluate(() => window.dashScenario.disposeSecond()), 1);
    assert.equal(await page.locator("#second *").count(), 0);

    // Without options: every named command of the page, sorted by name.
    assert.deepEqual(await page.evaluate(() => window.dashScenario.mountAll()), ["checkout", "search"]);
    assert.equal(await page.locator("#second *").count(), 0);
  });
});

test("commands named like Object.prototype's properties get their tiles", { timeout: 90_000 }, async (t) => {
  await onPage(t, async (page) => {
    const { shown, status } = await page.evaluate(() => window.dashScenario.oddNames());
    assert.deepEqual(shown, ["__proto__", "constructor", "hasOwnProperty", "toString"]);
    assert.match(status, /^this page's commands \(4\), every 1000 ms$/);
  });
});
