// hystrix-resilience/dashboard outside a page: what it refuses, and that
// the view it ships is the very script of the core's page (no second copy).
// The mounted dashboard itself runs in Chromium (browser/dashboard.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
// Imported before any entry point (what Node resolves "hystrix-resilience/dashboard"
// to): the command module is not loaded yet.
const dash = await import(new URL("dashboard.node.mjs", pkg).href);

test("before the package is loaded, mountDashboard says what to import", () => {
  assert.throws(() => dash.mountDashboard({ attachShadow() {} }), {
    name: "HystrixError",
    message: /^mountDashboard: hystrix is not loaded yet: import "hystrix-resilience"/,
  });
});

test("bad arguments are refused at once, naming what was wrong", async () => {
  const { Command } = await import(new URL("index.node.mjs", pkg).href);
  const element = { attachShadow() {} };
  assert.throws(() => dash.mountDashboard(null), { name: "TypeError", message: "mountDashboard: element must be a DOM element, got null" });
  assert.throws(() => dash.mountDashboard("#dashboard"), { name: "TypeError", message: 'mountDashboard: element must be a DOM element, got "#dashboard"' });
  assert.throws(() => dash.mountDashboard(element, 5), { name: "TypeError", message: "mountDashboard: options must be an object, got 5" });
  for (const bad of [0, -1, 1.5, "500", Number.NaN]) {
    assert.throws(() => dash.mountDashboard(element, { intervalMs: bad }), { name: "RangeError", message: /^mountDashboard: options\.intervalMs must be an integer ≥ 1 \(milliseconds\), got / });
  }
  assert.throws(() => dash.mountDashboard(element, { commands: "users" }), { name: "TypeError", message: "mountDashboard: options.commands must be an array of commands or names" });
  assert.throws(() => dash.mountDashboard(element, { commands: ["nobody"] }), { name: "RangeError", message: 'mountDashboard: options.commands[0]: no command is named "nobody"' });
  assert.throws(() => dash.mountDashboard(element, { commands: [new Command(() => 1), 42] }), { name: "TypeError", message: "mountDashboard: options.commands[1] must be a Command, a CommandView or a name" });
  assert.equal(dash.DEFAULT_REFRESH_MS, 500);
});

test("the shipped view is the script of the core's page, once", async () => {
  const { dashboardHtml } = await import(new URL("observe.mjs", pkg).href);
  const view = await readFile(new URL("dashboard-view.mjs", pkg), "utf8");
  const page = dashboardHtml();
  assert.equal(page.split(view).length, 2, "the page inlines dashboard-view.mjs exactly once");
  assert.ok(page.includes(`<script type="module">\n${view}`));
  assert.match(view, /^export function dashboardView\(host, stream\) \{$/m);
  assert.doesNotMatch(view, /\beval\(|new Function|innerHTML|setAttribute\("style"/);
});
