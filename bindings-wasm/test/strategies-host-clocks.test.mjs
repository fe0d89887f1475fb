// Attempts beyond the first on our clocks and on host clocks: hedges (3 in
// flight), retries beyond 2, a timer's async-context gate reused across a
// call's timers, host clocks whose cancel is a no-op or that fire
// synchronously; each attempt gets its own signal and each call keeps its
// own context. (Written by the review of the timer-queue change, session 12.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock } = h;
const als = new AsyncLocalStorage();
const rid = () => als.getStore()?.id ?? "none";
const tick = () => new Promise((r) => setImmediate(r));

test("hedge 3: each attempt's signal is its own; losers aborted; contexts kept", async () => {
  const clock = new VirtualClock();
  const seen = [];
  const cmd = new Command(
    ({ attempt, signal }, id) => {
      seen.push(["run", id, attempt, rid()]);
      signal.addEventListener("abort", () => seen.push(["abort", id, attempt, rid()]));
      if (attempt === 3) return clock.sleep(3).then(() => `${id}:${attempt}`);
      return new Promise((_, rej) => signal.addEventListener("abort", () => rej(signal.reason)));
    },
    null,
    { clock, timeoutMs: 1000, hedgeMaxAttempts: 3, hedgeDelayMs: 5, withContext: true },
  );
  const all = Promise.all([1, 2, 3].map((id) => als.run({ id }, () => cmd.execute(id))));
  await als.run({ id: "clock" }, () => clock.advance(50));
  assert.deepEqual(await all, ["1:3", "2:3", "3:3"]);
  for (const [what, id, att, ctx] of seen) assert.equal(ctx, id, `${what} ${att} of ${id} in ${ctx}`);
  for (const id of [1, 2, 3]) {
    assert.deepEqual(seen.filter((s) => s[1] === id && s[0] === "abort").map((s) => s[2]).sort(), [1, 2]);
  }
});

test("retry 5 with per-attempt timeouts (some time out, some fail): contexts and attempt numbering", async () => {
  const clock = new VirtualClock();
  const seen = [];
  const cmd = new Command(
    ({ attempt, signal }, id) => {
      seen.push([id, attempt, rid()]);
      if (attempt % 2 === 0) return new Promise((_, rej) => signal.addEventListener("abort", () => rej(signal.reason)));
      if (attempt < 5) return Promise.reject(new Error(`a${attempt}`));
      return `${id}:${attempt}`;
    },
    (e, id) => `fb ${id} ${rid()}`,
    { clock, timeoutMs: 10, retryMaxAttempts: 5, retryOnTimeout: true, retryBaseDelayMs: 0, retryJitter: "none", withContext: true, requestVolumeThreshold: 1000 },
  );
  const all = Promise.all([1, 2, 3].map((id) => als.run({ id }, () => cmd.execute(id))));
  for (let i = 0; i < 10; i++) await als.run({ id: "clock" }, () => clock.advance(7));
  assert.deepEqual(await all, ["1:5", "2:5", "3:5"]);
  for (const [id, att, ctx] of seen) assert.equal(ctx, id, `attempt ${att} of ${id} in ${ctx}`);
  assert.equal(seen.length, 15);
});

for (const mode of ["noop-cancel", "sync-fire-due-now"]) {
  test(`host clock (${mode}): retries 5 with 0ms and >0 backoffs, hedges, contexts`, async () => {
    let t = 0;
    const timers = [];
    const clock = {
      now: () => t,
      arm(due, fn) {
        if (mode === "sync-fire-due-now" && due <= t) { fn(); return { cancel() {} }; }
        const e = { due, fn, live: true };
        timers.push(e);
        return { cancel() { if (mode !== "noop-cancel") e.live = false; } };
      },
    };
    const advance = async (to) => {
      while (t < to) {
        t++;
        await als.run({ id: "clock" }, async () => {
          for (;;) {
            timers.sort((a, b) => a.due - b.due);
            if (!(timers.length > 0 && timers[0].due <= t)) break;
            const e = timers.shift();
            if (e.live) e.fn();
            await tick();
          }
        });
        await tick();
      }
    };
    const seen = [];
    const cmd = new Command(
      ({ attempt }, id) => { seen.push([id, attempt, rid()]); if (attempt < 5) throw new Error("x"); return `${id}:${attempt}`; },
      null,
      { clock, timeoutMs: 3, retryMaxAttempts: 5, retryBaseDelayMs: mode === "sync-fire-due-now" ? 0 : 1, retryMultiplierPermille: 1000, retryJitter: "none", withContext: true, requestVolumeThreshold: 1000 },
    );
    const all = Promise.all([1, 2].map((id) => als.run({ id }, () => cmd.execute(id))));
    await tick();
    await advance(40);
    assert.deepEqual(await all, ["1:5", "2:5"]);
    for (const [id, att, ctx] of seen) assert.equal(ctx, id, `attempt ${att} of ${id} in ${ctx}`);
  });
}

test("host clock that fires 1 ms early (core re-arms the same tid) and whose cancel is a no-op: timeouts still time out once", async () => {
  let t = 0;
  const timers = [];
  const clock = { now: () => t, arm(due, fn) { timers.push({ due: due - 1 > t ? due - 1 : due, fn }); return { cancel() {} }; } };
  const advance = async (to) => {
    while (t < to) {
      t++;
      await als.run({ id: "clock" }, async () => {
        for (;;) { timers.sort((a, b) => a.due - b.due); if (!(timers.length && timers[0].due <= t)) break; timers.shift().fn(); await tick(); }
      });
      await tick();
    }
  };
  const seen = [];
  const cmd = new Command(
    ({ attempt, signal }, id) => { seen.push([id, attempt, rid()]); return new Promise((_, rej) => signal.addEventListener("abort", () => rej(signal.reason))); },
    (e, id) => `fb ${id} ${rid()} ${e.name}`,
    { clock, timeoutMs: 5, retryMaxAttempts: 3, retryOnTimeout: true, retryBaseDelayMs: 2, retryJitter: "none", withContext: true, requestVolumeThreshold: 1000 },
  );
  const all = Promise.all([1, 2].map((id) => als.run({ id }, () => cmd.execute(id))));
  await tick();
  await advance(60);
  assert.deepEqual(await all, ["fb 1 1 TimeoutError", "fb 2 2 TimeoutError"]);
  assert.deepEqual(seen.map((s) => s.slice(0, 2)), [[1, 1], [2, 1], [1, 2], [2, 2], [1, 3], [2, 3]]);
  for (const [id, att, ctx] of seen) assert.equal(ctx, id, `attempt ${att} of ${id} in ${ctx}`);
});

// A clock whose arm() throws mid-call gives the call up: every attempt in
// flight is aborted.
test("hedge 3: a clock that fails arming attempt 3's timers aborts attempts 1 and 2's signals", async () => {
  let t = 0;
  let arms = 0;
  const timers = [];
  const boom = new Error("clock broke");
  const clock = {
    now: () => t,
    arm(due, fn) {
      if (++arms >= 5) throw boom;
      const e = { due, fn, live: true };
      timers.push(e);
      return { cancel() { e.live = false; } };
    },
  };
  const aborted = [];
  const cmd = new Command(
    ({ attempt, signal }) => new Promise((_, rej) => signal.addEventListener("abort", () => { aborted.push(attempt); rej(signal.reason); })),
    null,
    { clock, timeoutMs: 1000, hedgeMaxAttempts: 3, hedgeDelayMs: 5, withContext: true },
  );
  const p = cmd.execute();
  p.catch(() => {});
  for (let i = 0; i < 30; i++) {
    t++;
    timers.sort((a, b) => a.due - b.due);
    while (timers.length && timers[0].due <= t) { const e = timers.shift(); if (e.live) e.fn(); }
    await tick();
  }
  await assert.rejects(p, (e) => e === boom);
  assert.ok(arms >= 5, `arms ${arms}`);
  assert.deepEqual(aborted.sort(), [1, 2]);
});
