// Named commands live in the core registry inside the wasm module (issue #9
// §5): its list of names is what observation shows, configure() before or
// after first use goes through it, and dispose()/removeCommand() take the
// name out of it so the name can be reused.
import { test } from "node:test";
import assert from "node:assert/strict";

const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);
const { slot } = await import(new URL("wasm-slot.mjs", pkg).href);
const { Command, SettingsConflictError, VirtualClock, configure, removeCommand } = h;
const names = () => slot.WasmCommand.registeredNames();

test("the core registry lists named commands, never anonymous ones", () => {
  const a = new Command(() => 1, null, { name: "reg-core-b" });
  const b = new Command(() => 1, null, { name: "reg-core-a" });
  const anon = new Command(() => 1);
  const mine = names().filter((n) => n.startsWith("reg-core-"));
  assert.deepEqual(mine.sort(), ["reg-core-a", "reg-core-b"], "in any order (renders sort)");
  for (const c of [a, b, anon]) c.dispose();
  assert.deepEqual(names().filter((n) => n.startsWith("reg-core-")), []);
});

test("dispose() leaves the name free: a new command of that name is a fresh one", async () => {
  const first = new Command(async () => { throw new Error("down"); }, () => "fb", { name: "reg-core-reuse", timeoutEnabled: false });
  await first.execute();
  assert.equal(first.snapshot().rolling.FAILURE, 1);
  first.dispose();
  assert.ok(!names().includes("reg-core-reuse"));
  // Other settings are no conflict: the old command is gone from the core.
  const second = new Command(() => 2, null, { name: "reg-core-reuse", timeoutMs: 77 });
  assert.equal(second.snapshot().rolling.FAILURE, 0);
  second.dispose();
});

test("removeCommand() forgets the name in the core; a command still holding it keeps working", async () => {
  const held = new Command(() => 3, null, { name: "reg-core-removed", timeoutMs: 50 });
  assert.equal(removeCommand("reg-core-removed"), true);
  assert.equal(removeCommand("reg-core-removed"), false);
  assert.ok(!names().includes("reg-core-removed"));
  assert.equal(await held.execute(), 3);
  const fresh = new Command(() => 4, null, { name: "reg-core-removed", timeoutMs: 60 });
  assert.equal(await fresh.execute(), 4);
  held.dispose();
  assert.ok(names().includes("reg-core-removed"), "disposing the removed command does not take its successor's name");
  fresh.dispose();
});

test("configure() after first use goes through the core and turns a v2 strategy on for the existing command", async () => {
  const clock = new VirtualClock();
  let attempts = 0;
  const cmd = new Command(async () => { attempts++; throw new Error("flaky"); }, () => "fb", { name: "reg-core-retry", clock, timeoutEnabled: false });
  assert.equal(await cmd.execute(), "fb");
  assert.equal(attempts, 1);
  configure("reg-core-retry", { retryMaxAttempts: 3, retryBaseDelayMs: 0 });
  attempts = 0;
  const run = cmd.execute();
  await clock.advance(10);
  assert.equal(await run, "fb");
  assert.equal(attempts, 3, "the wrapper re-read the settings the registry changed");
  // The same settings given again share; others conflict, naming the key.
  new Command(() => 0, null, { name: "reg-core-retry", retryMaxAttempts: 3 });
  assert.throws(
    () => new Command(() => 0, null, { name: "reg-core-retry", retryMaxAttempts: 2 }),
    (e) => e instanceof SettingsConflictError && e.key === "retryMaxAttempts" && e.existing === "3" && e.given === "2",
  );
  cmd.dispose();
});

test("configure() before first use: the command is made with those settings", () => {
  configure("reg-core-early", { timeoutMs: 123 });
  assert.ok(names().includes("reg-core-early"));
  const cmd = new Command(() => 1, null, { name: "reg-core-early", timeoutMs: 123 });
  assert.throws(
    () => new Command(() => 1, null, { name: "reg-core-early", timeoutMs: 100 }),
    (e) => e instanceof SettingsConflictError && e.existing === "123" && e.given === "100",
  );
  cmd.dispose();
});
