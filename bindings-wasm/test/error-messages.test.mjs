// Every error hystrix makes names its command and the option behind it
// (semantics §3, "Error messages"), built only when `message` is read; and
// one command per name (semantics §2): a second construction with other
// options is a SettingsConflictError, configure() changes settings.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, configure, removeCommand } = h;

const never = (signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));

test("a timeout names the command and timeoutMs", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((ctx) => never(ctx.signal), null, { clock, name: "msg-payments", timeoutMs: 250, withContext: true });
  const p = cmd.execute().catch((e) => e);
  await clock.advance(250);
  const e = await p;
  assert.ok(e instanceof h.TimeoutError);
  assert.deepEqual([e.command, e.setting, e.value], ["msg-payments", "timeoutMs", 250]);
  assert.equal(e.message, "command 'msg-payments' timed out after 250 ms (timeoutMs)");
  assert.match(String(e), /^TimeoutError: command 'msg-payments' timed out after 250 ms/);
  removeCommand("msg-payments");
});

test("a deadline's timeout names deadlineMs", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((ctx) => never(ctx.signal), null, { clock, timeoutMs: 1000, deadlineMs: 40, withContext: true });
  const p = cmd.execute().catch((e) => e);
  await clock.advance(40);
  const e = await p;
  assert.equal(e.message, "an anonymous command timed out after 40 ms (deadlineMs)");
});

test("a short-circuit names sleepWindowMs (or forceOpen), with no stack captured", async () => {
  const clock = new VirtualClock();
  const opts = { clock, name: "msg-open", requestVolumeThreshold: 1, sleepWindowMs: 5000, healthSnapshotIntervalMs: 0 };
  const cmd = new Command(() => Promise.reject(new Error("down")), null, opts);
  await cmd.execute().catch(() => {});
  const e = await cmd.execute().catch((x) => x);
  assert.ok(e instanceof h.CircuitOpenError);
  assert.equal(e.message, "command 'msg-open': circuit open (sleepWindowMs 5000)");
  assert.ok(!/\n\s+at /.test(e.stack ?? ""), "the open path captures no stack frames");
  removeCommand("msg-open");
  const forced = new Command(() => 1, null, { clock, name: "msg-forced", forceOpen: true });
  assert.equal((await forced.execute().catch((x) => x)).message, "command 'msg-forced': circuit open (forceOpen)");
  removeCommand("msg-forced");
});

test("a setting too large to pack with its name (2^49 and up) is still named, with its exact value", async () => {
  const clock = new VirtualClock();
  for (const sleepWindowMs of [2 ** 49 - 1, 2 ** 49 + 1, 2 ** 52 + 2, Number.MAX_SAFE_INTEGER]) {
    const opts = { clock, requestVolumeThreshold: 1, sleepWindowMs, healthSnapshotIntervalMs: 0 };
    const cmd = new Command(() => Promise.reject(new Error("down")), null, opts);
    await cmd.execute().catch(() => {});
    const e = await cmd.execute().catch((x) => x);
    assert.ok(e instanceof h.CircuitOpenError);
    assert.deepEqual([e.setting, e.value], ["sleepWindowMs", sleepWindowMs], `sleepWindowMs ${sleepWindowMs}`);
  }
});

test("a bulkhead rejection names maxConcurrentRequests", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((ctx) => never(ctx.signal), null, { clock, name: "msg-bulk", maxConcurrentRequests: 1, timeoutMs: 100, withContext: true });
  const first = cmd.execute().catch(() => {});
  const e = await cmd.execute().catch((x) => x);
  assert.equal(e.message, "command 'msg-bulk' rejected: bulkhead full (maxConcurrentRequests 1)");
  await clock.advance(100);
  await first;
  removeCommand("msg-bulk");
});

test("a rate-limit refusal names rateLimitForPeriod", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => "ok", null, { clock, name: "msg-rate", rateLimitForPeriod: 1, rateLimitPeriodMs: 1000 });
  await cmd.execute();
  const e = await cmd.execute().catch((x) => x);
  assert.equal(e.message, "command 'msg-rate' rate limited (rateLimitForPeriod 1)");
  removeCommand("msg-rate");
});

test("fallback errors and cancellation name the command", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => Promise.reject(new Error("down")), () => Promise.reject(new Error("cache down")), {
    clock,
    name: "msg-fb",
  });
  const e = await cmd.execute().catch((x) => x);
  assert.ok(e instanceof h.FallbackFailedError);
  assert.equal(e.message, "command 'msg-fb': the fallback failed: Error: cache down (after: Error: down)");
  const ac = new AbortController();
  const slow = new Command((ctx) => never(ctx.signal), null, { clock, name: "msg-fb", timeoutMs: 1000, withContext: true });
  const p = slow.executeWith({ signal: ac.signal }).catch((x) => x);
  ac.abort();
  assert.equal((await p).message, "command 'msg-fb': cancelled by the caller");
  const before = await slow.executeWith({ signal: AbortSignal.abort() }).catch((x) => x);
  assert.equal(before.message, "command 'msg-fb': cancelled by the caller");
  removeCommand("msg-fb");
});

test("errors made by the program keep their own or the default message", () => {
  assert.equal(new h.TimeoutError().message, "the run timed out");
  assert.equal(new h.CircuitOpenError("mine").message, "mine");
  const e = new h.RejectedError();
  e.message = "assigned";
  assert.equal(e.message, "assigned");
});

test("a second construction with other options is a SettingsConflictError and changes nothing", async () => {
  const first = new Command(() => 1, null, { name: "msg-s", timeoutMs: 100 });
  assert.throws(
    () => new Command(() => 2, null, { name: "msg-s", timeoutMs: 5000 }),
    (e) =>
      e instanceof h.SettingsConflictError &&
      e.code === 11 &&
      e.kind === "settings_conflict" &&
      e.command === "msg-s" &&
      e.key === "timeoutMs" &&
      e.existing === "100" &&
      e.given === "5000" &&
      e.message === "command 'msg-s' already exists with timeoutMs=100; got timeoutMs=5000 — use configure() to change settings",
  );
  // The first command keeps its settings: the same options still share it.
  // The same options, or none: one shared circuit.
  const same = new Command(() => 3, null, { name: "msg-s", timeoutMs: 100 });
  const bare = new Command(() => 4, null, { name: "msg-s" });
  await first.execute();
  assert.equal(same.snapshot().cumulative.SUCCESS, 1);
  assert.equal(bare.snapshot().cumulative.SUCCESS, 1);
  // configure() changes settings; later constructions compare with them.
  configure("msg-s", { timeoutMs: 5000 });
  new Command(() => 5, null, { name: "msg-s", timeoutMs: 5000 });
  assert.throws(() => new Command(() => 6, null, { name: "msg-s", timeoutMs: 100 }), h.SettingsConflictError);
  // Invalid options are still an InvalidConfigError, naming the command.
  assert.throws(
    () => new Command(() => 7, null, { name: "msg-s", timeoutMs: 0 }),
    (e) => e instanceof h.InvalidConfigError && e.command === "msg-s" && /^command 'msg-s': invalid config: timeoutMs/.test(e.message),
  );
  assert.throws(
    () => new Command(() => 7, null, { name: "msg-new", timeoutMs: 0 }),
    (e) => e instanceof h.InvalidConfigError && /^command 'msg-new': invalid config: timeoutMs/.test(e.message),
  );
  removeCommand("msg-s");
});

test("a refused fallback names fallbackMaxConcurrentRequests and its original", async () => {
  const clock = new VirtualClock();
  let release;
  const cmd = new Command(() => Promise.reject(new Error("down")), () => new Promise((r) => (release = r)), {
    clock,
    name: "msg-fbfull",
    fallbackMaxConcurrentRequests: 1,
  });
  const first = cmd.execute();
  const e = await cmd.execute().catch((x) => x);
  assert.ok(e instanceof h.FallbackRejectedError);
  assert.deepEqual([e.command, e.setting, e.value], ["msg-fbfull", "fallbackMaxConcurrentRequests", 1]);
  assert.equal(e.message, "command 'msg-fbfull': fallback rejected (fallbackMaxConcurrentRequests 1) (after: Error: down)");
  release("fb");
  assert.equal(await first, "fb");
  removeCommand("msg-fbfull");
});
