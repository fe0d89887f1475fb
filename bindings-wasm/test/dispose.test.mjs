// Command.dispose() and [Symbol.dispose]: the circuit's wasm memory freed
// and reused, the registry entry removed, every later use refused with an
// error naming the command.
import { test } from "node:test";
import assert from "node:assert/strict";

const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
const h = await import(new URL("index.node.mjs", pkg).href);
// The loaded wasm class (internal): live command count and heap bytes.
const { slot } = await import(new URL("wasm-slot.mjs", pkg).href);
const { Command, HystrixError, VirtualClock, getCommand, removeCommand } = h;
const W = () => slot.WasmCommand;
// The module's one-time allocations (lazy statics) happen here, not in a test.
new Command(() => 0).dispose();

test("dispose() frees the command's wasm memory at once", () => {
  const live = W().liveCommands();
  const heap = W().heapBytes();
  const cmd = new Command(() => 1);
  assert.equal(W().liveCommands(), live + 1);
  assert.ok(W().heapBytes() > heap, "a command holds wasm memory");
  assert.equal(cmd.disposed, false);
  assert.equal(cmd.dispose(), true);
  assert.equal(cmd.disposed, true);
  assert.equal(W().liveCommands(), live);
  assert.equal(W().heapBytes(), heap);
  assert.equal(cmd.dispose(), false, "a second dispose() does nothing");
});

test("every use after dispose() is refused with an error naming the command", async () => {
  const cmd = new Command(() => 1, null, { name: "disposed-orders" });
  cmd.dispose();
  const named = /command "disposed-orders" was disposed/;
  await assert.rejects(cmd.execute(), (e) => e instanceof HystrixError && named.test(e.message));
  await assert.rejects(cmd.executeWith({}), named);
  await assert.rejects(cmd.queue(), named);
  assert.throws(() => cmd.snapshot(), named);
  assert.throws(() => cmd.configure({ timeoutMs: 5 }), named);
  assert.throws(() => cmd.on("event", () => {}), named);
  const anon = new Command(() => 1);
  anon.dispose();
  assert.throws(() => anon.snapshot(), /an anonymous command was disposed/);
});

test("dispose() removes the name from the registry; the name then starts afresh", async () => {
  const clock = new VirtualClock();
  const a = new Command(() => 1, null, { name: "disposed-fresh", clock });
  await a.execute();
  assert.ok(getCommand("disposed-fresh"));
  a.dispose();
  assert.equal(getCommand("disposed-fresh"), undefined);
  const b = new Command(() => 2, null, { name: "disposed-fresh", clock });
  assert.equal(b.snapshot().cumulative.SUCCESS ?? 0, 0, "a new circuit, not the disposed one");
  assert.equal(await b.execute(), 2);
  b.dispose();
});

test("disposing a circuit no longer registered leaves the one now registered alone", () => {
  const old = new Command(() => 1, null, { name: "disposed-replaced" });
  removeCommand("disposed-replaced");
  const now = new Command(() => 2, null, { name: "disposed-replaced" });
  old.dispose();
  assert.equal(getCommand("disposed-replaced")?.name, "disposed-replaced");
  assert.doesNotThrow(() => now.snapshot());
  now.dispose();
});

test("every Command of a name shares its circuit, so dispose() ends them all", async () => {
  const a = new Command(() => 1, null, { name: "disposed-shared" });
  const b = new Command(() => 2, null, { name: "disposed-shared" });
  a.dispose();
  assert.equal(b.disposed, true);
  await assert.rejects(b.execute(), /command "disposed-shared" was disposed/);
});

test("a call in flight at dispose() still settles; its memory goes once it is over", async () => {
  const clock = new VirtualClock();
  let finish;
  const cmd = new Command(() => new Promise((resolve) => (finish = resolve)), null, { clock });
  const live = W().liveCommands();
  const call = cmd.execute();
  assert.equal(cmd.dispose(), true);
  assert.equal(W().liveCommands(), live, "not freed under a running call");
  await assert.rejects(cmd.execute(), /was disposed/);
  finish("late");
  assert.equal(await call, "late");
});

test("[Symbol.dispose] disposes (the `using` declaration's hook)", { skip: typeof Symbol.dispose !== "symbol" }, () => {
  const cmd = new Command(() => 1);
  cmd[Symbol.dispose]();
  assert.equal(cmd.disposed, true);
});
