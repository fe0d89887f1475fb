// Production builds of a small app (examples/bundlers/) that imports the package by name, with
// the bundlers users use (versions pinned in package.json here), each run
// for real: esbuild, vite and webpack browser builds in headless Chromium,
// an es2020 IIFE build through the entry without top-level await, and an
// esbuild --platform=node single-file bundle in Node.
//   node --test bindings-wasm/test/bundlers/
// Needs target/npm/hystrix (scripts/build-npm.sh), `npm install` in this
// directory (scripts/setup.sh) and /usr/bin/chromium (the Node bundle runs
// without it).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumMissing, withChromium } from "../browser/chromium.mjs";
import { startServer } from "../browser/server.mjs";
import { EXPECTED } from "../../../examples/bundlers/check.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const pkg = path.join(root, "target/npm/hystrix");
const work = path.join(root, "target/bundler-test");
const app = path.join(work, "app");
const out = (name) => path.join(work, "out", name);

/** The Content-Security-Policy the README asks for: scripts from the page's origin, and wasm compilation. */
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src data:";

before(async () => {
  assert.ok(existsSync(path.join(pkg, "package.json")), `${pkg} is missing: run scripts/build-npm.sh first`);
  await rm(work, { recursive: true, force: true });
  await cp(path.join(root, "examples/bundlers"), app, { recursive: true });
  // What `npm install hystrix-resilience` gives the app (a copy, not a link: bundlers treat links differently).
  await cp(pkg, path.join(app, "node_modules/hystrix-resilience"), { recursive: true });
});

/** A page that loads `script` (a module or a classic script). */
function page(script, module) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bundle</title></head>
<body><script ${module ? 'type="module" ' : ""}src="./${script}"></script></body></html>\n`;
}

/** The package's wasm file (or, with `observer`, the observer module's), found through its `hystrix-resilience/wasm` (`/observer-wasm`) export as a build script would. */
function packageWasm(observer = false) {
  return createRequire(path.join(app, "index.html")).resolve(observer ? "hystrix-resilience/observer-wasm" : "hystrix-resilience/wasm");
}

/** Serves `dir` at the root of 127.0.0.1:port with the README's CSP; returns what the page's check resolved to. */
async function runInChromium(dir) {
  const srv = await startServer({ mounts: { "/": dir }, headers: { "content-security-policy": CSP } });
  try {
    return await withChromium(async (context) => {
      const tab = context.pages()[0] ?? (await context.newPage());
      const problems = [];
      tab.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      tab.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      tab.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
      tab.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      await tab.goto(`${srv.url}/index.html`);
      await tab.waitForFunction(() => window.hystrixCheck !== undefined, null, { timeout: 30_000 }).catch((e) => {
        throw new Error(`the app never started (${e.message}); page problems: ${problems.join(" | ") || "none"}`);
      });
      const r = await tab.evaluate(() => window.hystrixCheck);
      assert.equal(r.error, undefined, `the app failed: ${r.error}; page problems: ${problems.join(" | ") || "none"}`);
      assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
      return r.result;
    });
  } finally {
    await srv.close();
  }
}

/** A minified esbuild bundle of the app's `entry` into `outfile`. */
async function esbuildApp(entry, outfile, options) {
  const esbuild = await import("esbuild");
  await esbuild.build({ absWorkingDir: app, entryPoints: [entry], bundle: true, minify: true, outfile, logLevel: "error", ...options });
}

function skipWithoutChromium(t) {
  const missing = chromiumMissing();
  if (missing) t.skip(missing);
  return missing !== null;
}

test("esbuild: a minified production bundle for the browser runs in Chromium", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const dir = out("esbuild");
  await esbuildApp("browser.mjs", path.join(dir, "app.js"), { format: "esm", platform: "browser" });
  // What the README tells esbuild users: esbuild does not copy assets, so
  // the wasm goes next to the bundle, where the package looks for it.
  await cp(packageWasm(), path.join(dir, "hystrix_wasm_bg.wasm"));
  await writeFile(path.join(dir, "index.html"), page("app.js", true));
  assert.deepEqual(await runInChromium(dir), EXPECTED);
});

test("vite build: the production build runs in Chromium with nothing to configure", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const { build } = await import("vite");
  const dir = out("vite");
  await build({ root: app, configFile: false, logLevel: "error", build: { outDir: dir, emptyOutDir: true } });
  assert.ok((await readdir(path.join(dir, "assets"))).some((f) => f.endsWith(".wasm")), "vite emitted the wasm");
  assert.deepEqual(await runInChromium(dir), EXPECTED);
});

test("webpack 5: the production build runs in Chromium with nothing to configure", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const { default: webpack } = await import("webpack");
  const dir = out("webpack");
  const stats = await new Promise((resolve, reject) => {
    webpack(
      { mode: "production", context: app, entry: "./browser.mjs", output: { path: dir, filename: "app.js", clean: true } },
      (err, s) => (err ? reject(err) : resolve(s)),
    );
  });
  assert.equal(stats.hasErrors(), false, stats.toString("errors-only"));
  await writeFile(path.join(dir, "index.html"), page("app.js", false));
  assert.deepEqual(await runInChromium(dir), EXPECTED);
});

/** An es2020 IIFE of the app's `entry` in out(`name`), with the package's wasm beside it as hystrix.wasm; returns the directory. */
async function iifeApp(entry, name) {
  const dir = out(name);
  await esbuildApp(entry, path.join(dir, "app.js"), {
    format: "iife",
    target: "es2020",
    platform: "browser",
    // import.meta is empty in an IIFE: the app passes its init()s their URLs.
    logOverride: { "empty-import-meta": "silent" },
  });
  await cp(packageWasm(), path.join(dir, "hystrix.wasm"));
  return dir;
}

test("esbuild: an es2020 IIFE through hystrix/init (no top-level await) loads the wasm it is given", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const dir = await iifeApp("manual.mjs", "iife");
  await writeFile(path.join(dir, "index.html"), page("app.js", false));
  assert.deepEqual(await runInChromium(dir), EXPECTED);
});

test("esbuild --platform=node: a single-file bundle runs in Node", { timeout: 120_000 }, async () => {
  const dir = out("node");
  await mkdir(dir, { recursive: true });
  await esbuildApp("node.mjs", path.join(dir, "app.mjs"), { format: "esm", platform: "node" });
  assert.deepEqual(await readdir(dir), ["app.mjs"], "one file: the wasm is inside the bundle");
  // Run from elsewhere: nothing may be found relative to the working directory.
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(dir, "app.mjs")], { cwd: work, timeout: 60_000 }, (err, so, se) =>
      err ? reject(new Error(`the bundle failed: ${err.message}\n${se}`)) : resolve(so),
    );
  });
  assert.deepEqual(JSON.parse(stdout), EXPECTED);
});

/** What examples/bundlers/dashboard.mjs finds on its tile: closed, then open after two failures; gone once disposed. */
const DASHBOARD_EXPECTED = { before: "closed", after: "open", shown: "Open", left: 0 };

test("esbuild: a bundle that mounts the dashboard runs in Chromium under the CSP", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const dir = out("esbuild-dashboard");
  await esbuildApp("dashboard.mjs", path.join(dir, "app.js"), { format: "esm", platform: "browser" });
  // What the README tells esbuild users of the dashboard: both modules next to the bundle.
  await cp(packageWasm(), path.join(dir, "hystrix_wasm_bg.wasm"));
  await cp(packageWasm(true), path.join(dir, "hystrix_wasm_observer_bg.wasm"));
  await writeFile(path.join(dir, "index.html"), page("app.js", true));
  assert.deepEqual(await runInChromium(dir), DASHBOARD_EXPECTED);
});

test("esbuild: an es2020 IIFE through hystrix/init and hystrix/dashboard/init mounts the dashboard with the wasm files it is given", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const dir = await iifeApp("manual-dashboard.mjs", "iife-dashboard");
  await cp(packageWasm(true), path.join(dir, "hystrix-observer.wasm"));
  await writeFile(path.join(dir, "index.html"), page("app.js", false));
  assert.deepEqual(await runInChromium(dir), DASHBOARD_EXPECTED);
});

test("webpack 5: a production build that mounts the dashboard runs in Chromium under the CSP", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t)) return;
  const { default: webpack } = await import("webpack");
  const dir = out("webpack-dashboard");
  const stats = await new Promise((resolve, reject) => {
    webpack(
      { mode: "production", context: app, entry: "./dashboard.mjs", output: { path: dir, filename: "app.js", clean: true } },
      (err, s) => (err ? reject(err) : resolve(s)),
    );
  });
  assert.equal(stats.hasErrors(), false, stats.toString("errors-only"));
  await writeFile(path.join(dir, "index.html"), page("app.js", false));
  assert.deepEqual(await runInChromium(dir), DASHBOARD_EXPECTED);
});

test("esbuild: what mounting the dashboard adds to a minified bundle, gzipped", { timeout: 120_000 }, async (t) => {
  const { gzipSync } = await import("node:zlib");
  const { readFile } = await import("node:fs/promises");
  const base = 'import { Command } from "hystrix-resilience";\nwindow.cmd = new Command(() => 1, null, { name: "x" });\n';
  const entries = {
    "size-base.mjs": base,
    "size-dashboard.mjs": `${base}import { mountDashboard } from "hystrix-resilience/dashboard";\nwindow.dash = mountDashboard(document.body);\n`,
  };
  const sizes = {};
  const texts = {};
  for (const [entry, source] of Object.entries(entries)) {
    await writeFile(path.join(app, entry), source);
    const file = path.join(out("size"), entry.replace(".mjs", ".js"));
    await esbuildApp(entry, file, { format: "esm", platform: "browser" });
    texts[entry] = await readFile(file, "utf8");
    sizes[entry] = gzipSync(texts[entry], { level: 9 }).length;
  }
  const added = sizes["size-dashboard.mjs"] - sizes["size-base.mjs"];
  t.diagnostic(`gzipped JS: ${sizes["size-base.mjs"]} B without the dashboard, ${sizes["size-dashboard.mjs"]} B with it (+${added} B), which also loads the observer module`);
  // Without the dashboard, nothing of the observer module is bundled or fetched.
  assert.ok(!texts["size-base.mjs"].includes("hystrix_wasm_observer_bg.wasm"), "the base bundle fetches no observer module");
  assert.ok(texts["size-dashboard.mjs"].includes("hystrix_wasm_observer_bg.wasm"), "the dashboard bundle fetches the observer module");
  // The view, its feeding and the observer module's glue (the renderers and the page's style are in its wasm).
  assert.ok(added > 500 && added < 6144, `the mount adds ${added} B gzipped`);
});
