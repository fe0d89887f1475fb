// Many calls at once: every call settles with its own value, the snapshot's
// counts add up, and the bulkhead's permits all come back.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, RejectedError } = h;

test("1000 concurrent calls with maxConcurrentRequests 1000", async () => {
  const clock = new VirtualClock();
  const signals = new Set();
  const cmd = new Command(
    ({ signal }, i) => {
      signals.add(signal);
      return clock.sleep(1 + (i % 50), signal).then(() => i * 2);
    },
    null,
    { clock, maxConcurrentRequests: 1000, timeoutMs: 100, withContext: true },
  );
  const calls = [];
  for (let i = 0; i < 1000; i++) calls.push(cmd.execute(i));
  let s = cmd.snapshot();
  assert.equal(s.concurrent, 1000);
  assert.equal(signals.size, 1000, "one signal per call");
  // The 1001st is refused while all permits are held.
  await assert.rejects(cmd.execute(-1), RejectedError);

  await clock.advance(50);
  const values = await Promise.all(calls);
  assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i * 2));
  s = cmd.snapshot();
  assert.equal(s.concurrent, 0);
  assert.equal(s.cumulative.SUCCESS, 1000);
  assert.equal(s.cumulative.SEMAPHORE_REJECTED, 1);
  assert.equal(s.cumulative.FALLBACK_MISSING, 1);
  assert.equal(s.cumulative.TIMEOUT, 0);
  assert.equal(s.rollingMaxConcurrent, 1000);
  assert.equal(s.latencyRun.count, 1000);
  for (const sig of signals) assert.equal(sig.aborted, false);
});

test("1000 concurrent mixed outcomes: the cumulative counts add up", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    ({ signal }, i) => {
      if (i % 4 === 1) throw new Error(`sync ${i}`);
      return clock.sleep(i % 4 === 3 ? 500 : 10, signal).then(() => {
        if (i % 4 === 2) throw new Error(`async ${i}`);
        return `ok ${i}`;
      });
    },
    (e, i) => (i % 8 === 2 ? Promise.reject(new Error("fb")) : `fb ${i}`),
    { clock, maxConcurrentRequests: 1000, fallbackMaxConcurrentRequests: 1000, timeoutMs: 100, circuitBreakerEnabled: false, withContext: true },
  );
  const results = Array.from({ length: 1000 }, (_, i) =>
    cmd.execute(i).then(
      (v) => ({ ok: true, v }),
      (e) => ({ ok: false, e }),
    ),
  );
  await clock.advance(100);
  const out = await Promise.all(results);
  let success = 0;
  let fallback = 0;
  let failed = 0;
  out.forEach((r, i) => {
    if (i % 4 === 0) {
      assert.deepEqual(r, { ok: true, v: `ok ${i}` });
      success++;
    } else if (i % 8 === 2) {
      assert.equal(r.ok, false);
      assert.equal(r.e.kind, "fallback_failure");
      assert.equal(r.e.original.message, `async ${i}`);
      failed++;
    } else {
      assert.deepEqual(r, { ok: true, v: `fb ${i}` });
      fallback++;
    }
  });
  assert.equal(success + fallback + failed, 1000);
  const s = cmd.snapshot();
  const c = s.cumulative;
  assert.equal(c.SUCCESS, 250);
  assert.equal(c.FAILURE, 500); // 250 sync + 250 async
  assert.equal(c.TIMEOUT, 250);
  assert.equal(c.SUCCESS + c.FAILURE + c.TIMEOUT, 1000);
  assert.equal(c.FALLBACK_SUCCESS, fallback);
  assert.equal(c.FALLBACK_FAILURE, failed);
  assert.equal(c.FALLBACK_SUCCESS + c.FALLBACK_FAILURE, c.FAILURE + c.TIMEOUT);
  assert.equal(s.concurrent, 0, "timed-out runs honoured their signal");
  assert.equal(s.fallbackConcurrent, 0);
});

test("sequential calls reuse resources without leaking", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((i) => (i % 2 ? Promise.reject(new Error("x")) : i), () => "fb", {
    clock,
    circuitBreakerEnabled: false,
    maxConcurrentRequests: 1,
    fallbackMaxConcurrentRequests: 1,
  });
  for (let i = 0; i < 3000; i++) assert.equal(await cmd.execute(i), i % 2 ? "fb" : i);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.SUCCESS, 1500);
  assert.equal(s.cumulative.FAILURE, 1500);
  assert.equal(s.cumulative.FALLBACK_SUCCESS, 1500);
  assert.equal(s.concurrent, 0);
  assert.equal(s.fallbackConcurrent, 0);
});

test("20000 calls in flight on one command (call ids beyond 2^13), on both call paths", async () => {
  const clock = new VirtualClock();
  for (const options of [{}, { retryMaxAttempts: 2 }]) {
    const cmd = new Command((i) => clock.sleep(5).then(() => i), null, { clock, maxConcurrentRequests: 20000, timeoutMs: 100, ...options });
    const calls = Array.from({ length: 20000 }, (_, i) => cmd.execute(i));
    assert.equal(cmd.snapshot().concurrent, 20000);
    await clock.advance(5);
    const values = await Promise.all(calls);
    assert.ok(values.every((v, i) => v === i));
    assert.equal(cmd.snapshot().concurrent, 0);
  }
});
