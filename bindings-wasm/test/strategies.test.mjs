// SPEC v2 strategies through the JS API, driven by the core's call
// protocol: retry with backoff, hedging, the rate limiter, the retry
// budget, caller cancellation (`executeWith({ signal })`) and the run's
// context (`{ attempt, signal }`, first with `withContext: true`), on a VirtualClock.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, CancelledError, RateLimitedError, TimeoutError } = h;

/** Records the command's events (in order) into the returned array. */
function events(cmd) {
  const seen = [];
  cmd.on("event", (e) => seen.push(e));
  return seen;
}

test("retry with exponential backoff (SPEC §11.3 example): attempts at 0, 100, 300", async () => {
  const clock = new VirtualClock();
  const starts = [];
  const attempts = [];
  const cmd = new Command(
    (ctx) => {
      starts.push(clock.now());
      attempts.push(ctx.attempt);
      throw new Error("down");
    },
    (err) => `fallback after ${err.message}`,
    { clock, retryMaxAttempts: 3, retryBaseDelayMs: 100, retryMultiplierPermille: 2000, retryJitter: "none", withContext: true },
  );
  const seen = events(cmd);
  let result;
  cmd.execute().then((v) => (result = v));
  await clock.advance(99);
  assert.deepEqual(starts, [0]);
  await clock.advance(1);
  assert.deepEqual(starts, [0, 100]);
  await clock.advance(199);
  assert.equal(result, undefined);
  await clock.advance(1);
  assert.equal(result, "fallback after down");
  assert.deepEqual(starts, [0, 100, 300]);
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.deepEqual(seen, ["FAILURE", "RETRY", "FAILURE", "RETRY", "FAILURE", "FALLBACK_SUCCESS"]);
  assert.equal(cmd.snapshot().concurrent, 0);
});

test("a retry that succeeds resolves with its value; context.attempt counts", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    async ({ attempt }, x) => {
      if (attempt < 2) throw new Error("flaky");
      return `${x}@${attempt}`;
    },
    null,
    { clock, retryMaxAttempts: 3, retryBaseDelayMs: 0, withContext: true },
  );
  const p = cmd.execute("v");
  await clock.advance(0);
  assert.equal(await p, "v@2");
});

test("hedging: the winner's value resolves, the loser's signal aborts and its permit is held until it stops", async () => {
  const clock = new VirtualClock();
  const signals = [];
  const cmd = new Command(
    ({ attempt, signal }, n) => {
      signals.push(signal);
      // Attempt 1 is slow (300 ms) and ignores nothing; attempt 2 takes 50.
      return clock.sleep(attempt === 1 ? 300 : 50, signal).then(() => `${n}:${attempt}`);
    },
    null,
    { clock, hedgeMaxAttempts: 2, hedgeDelayMs: 100, withContext: true },
  );
  const seen = events(cmd);
  let result;
  cmd.execute(7).then((v) => (result = v));
  await clock.advance(100);
  assert.equal(signals.length, 2);
  assert.equal(cmd.snapshot().concurrent, 2);
  await clock.advance(50);
  assert.equal(result, "7:2");
  assert.equal(signals[0].aborted, true);
  assert.ok(signals[0].reason instanceof CancelledError);
  assert.equal(signals[1].aborted, false);
  assert.deepEqual(seen, ["HEDGE", "SUCCESS", "CANCELLED"]);
  assert.equal(cmd.snapshot().concurrent, 0);
});

test("hedging: a loser that ignores its signal keeps its permit until it settles; its value is discarded", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((ctx) => clock.sleep(ctx.attempt === 1 ? 300 : 50).then(() => ctx.attempt), null, {
    withContext: true,
    clock,
    hedgeMaxAttempts: 2,
    hedgeDelayMs: 100,
  });
  const p = cmd.execute();
  await clock.advance(150);
  assert.equal(await p, 2);
  assert.equal(cmd.snapshot().concurrent, 1);
  await clock.advance(150);
  assert.equal(cmd.snapshot().concurrent, 0);
  assert.equal(cmd.snapshot().rolling.SUCCESS, 1);
});

test("the rate limiter refuses with RateLimitedError (no fallback) or gives the fallback one", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => "ok", null, { clock, name: "strategies-rate", rateLimitForPeriod: 2, rateLimitPeriodMs: 1000 });
  assert.equal(await cmd.execute(), "ok");
  assert.equal(await cmd.execute(), "ok");
  const e = await cmd.execute().catch((x) => x);
  assert.ok(e instanceof RateLimitedError, `got ${e}`);
  assert.equal(e.kind, "rate_limited");
  const withFallback = new Command(() => "ok", (err) => err, { clock, name: "strategies-rate" });
  assert.ok((await withFallback.execute()) instanceof RateLimitedError);
  await clock.advance(500);
  assert.equal(await cmd.execute(), "ok");
  h.removeCommand("strategies-rate");
});

test("the retry budget runs dry: RETRY_BUDGET_EXHAUSTED, no retry", async () => {
  const clock = new VirtualClock();
  let fail = false;
  const cmd = new Command(
    () => {
      if (fail) throw new Error("x");
      return "ok";
    },
    () => "fb",
    { clock, retryMaxAttempts: 2, retryBaseDelayMs: 0, retryJitter: "none", retryBudgetPercent: 20, retryBudgetMinPerSec: 0, withContext: true },
  );
  const seen = events(cmd);
  assert.equal(cmd.snapshot().budget, 0);
  for (let i = 0; i < 4; i++) assert.equal(await cmd.execute(), "ok");
  assert.equal(cmd.snapshot().budget, 80);
  fail = true;
  seen.length = 0;
  assert.equal(await cmd.execute(), "fb");
  assert.deepEqual(seen, ["FAILURE", "RETRY_BUDGET_EXHAUSTED", "FALLBACK_SUCCESS"]);
});

test("caller cancellation: the signal's abort rejects with CancelledError at once; the run's signal aborts; nothing in health", async () => {
  const clock = new VirtualClock();
  let runSignal;
  const cmd = new Command(
    (ctx, x) => {
      assert.equal(x, "arg");
      runSignal = ctx.signal;
      return clock.sleep(1000, ctx.signal);
    },
    () => "fallback never runs",
    { clock, healthSnapshotIntervalMs: 0, withContext: true },
  );
  const seen = events(cmd);
  const ac = new AbortController();
  const p = cmd.executeWith({ signal: ac.signal }, "arg");
  await clock.advance(10);
  ac.abort("user left");
  const e = await p.catch((x) => x);
  assert.ok(e instanceof CancelledError, `got ${e}`);
  assert.equal(e.kind, "cancelled");
  assert.equal(e.cause, "user left");
  assert.equal(runSignal.aborted, true);
  assert.deepEqual(seen, ["CANCELLED"]);
  const s = cmd.snapshot();
  assert.equal(s.health.total, 0);
  assert.equal(s.concurrent, 0);
  // Cancelling again, or after settlement, does nothing.
  ac.abort();
  assert.deepEqual(seen, ["CANCELLED"]);
});

test("caller cancellation: a settled call stands; an aborted signal refuses the call before it starts", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((x) => x * 2, null, { clock });
  const ac = new AbortController();
  assert.equal(await cmd.executeWith({ signal: ac.signal }, 21), 42);
  ac.abort();
  let ran = false;
  const again = new Command(() => (ran = true), null, { clock });
  const e = await again.executeWith({ signal: ac.signal }).catch((x) => x);
  assert.ok(e instanceof CancelledError);
  assert.equal(ran, false);
  assert.equal(again.snapshot().cumulative.CANCELLED ?? 0, 0);
  await assert.rejects(cmd.executeWith(null), TypeError);
  await assert.rejects(cmd.executeWith({ signal: "no" }), TypeError);
});

test("caller cancellation: a fallback in flight is not cancelled; its outcome is recorded when it ends", async () => {
  const clock = new VirtualClock();
  let fallbackDone = false;
  const cmd = new Command(
    () => {
      throw new Error("x");
    },
    () =>
      clock.sleep(100).then(() => {
        fallbackDone = true;
        return "fb";
      }),
    { clock },
  );
  const seen = events(cmd);
  const ac = new AbortController();
  const p = cmd.executeWith({ signal: ac.signal });
  await clock.advance(10);
  assert.equal(cmd.snapshot().fallbackConcurrent, 1);
  ac.abort();
  await assert.rejects(p, CancelledError);
  assert.equal(cmd.snapshot().fallbackConcurrent, 1);
  await clock.advance(90);
  assert.equal(fallbackDone, true);
  assert.deepEqual(seen, ["FAILURE", "FALLBACK_SUCCESS"]);
  assert.equal(cmd.snapshot().fallbackConcurrent, 0);
});

test("cancelling from inside the run takes effect after the reaction in progress", async () => {
  const clock = new VirtualClock();
  const ac = new AbortController();
  const cmd = new Command(
    (ctx) => {
      ac.abort();
      return clock.sleep(50, ctx.signal);
    },
    null,
    { clock, withContext: true },
  );
  await assert.rejects(cmd.executeWith({ signal: ac.signal }), CancelledError);
  assert.equal(cmd.snapshot().concurrent, 0);
});

test("a timeout aborts the attempt's signal with the TimeoutError the fallback gets; retryOnTimeout retries it", async () => {
  const clock = new VirtualClock();
  const reasons = [];
  const cmd = new Command(
    (ctx) => {
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      return clock.sleep(100, ctx.signal);
    },
    (err) => err,
    { clock, timeoutMs: 10, retryMaxAttempts: 2, retryBaseDelayMs: 5, retryJitter: "none", withContext: true },
  );
  const p = cmd.execute();
  await clock.advance(10);
  await clock.advance(5);
  await clock.advance(10);
  const got = await p;
  assert.ok(got instanceof TimeoutError);
  assert.equal(reasons.length, 2);
  assert.ok(reasons.every((r) => r instanceof TimeoutError));
});
