// The timeout a call arms, whichever form the core's answer takes: the
// closed path's compact start (the timer's delay and the call's id packed
// into begin's result, bindings-wasm/src/call.rs) and the action buffer
// (delays of 2^23 ms or more, clock readings that are not whole
// milliseconds or from 2^52 on, calls in flight beyond 2^15). Each call's
// timer must be armed at its own deadline and time out that call alone.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, TimeoutError } = h;

/** A host clock that records what it is asked to arm: `{ due, fn, cancelled }`. */
function hostClock(start) {
  const clock = {
    t: start,
    armed: [],
    now: () => clock.t,
    arm(due, fn) {
      const timer = { due, fn, cancelled: false };
      clock.armed.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
  };
  return clock;
}

for (const [what, start, timeoutMs, due] of [
  ["a usual timeout", 1000, 50, 1050],
  ["a timeout of 2^23 ms", 1000, 2 ** 23, 1000 + 2 ** 23],
  ["a timeout just under 2^23 ms", 1000, 2 ** 23 - 1, 999 + 2 ** 23],
  ["a clock reading in fractions of a millisecond (the core counts whole ones)", 1000.75, 50, 1050],
  ["a clock reading of 2^52 ms", 2 ** 52, 50, 2 ** 52 + 50],
  ["a clock reading just under 2^52 ms", 2 ** 52 - 1, 50, 2 ** 52 + 49],
  // Past the compact form's delays by far: the buffer's form, which a
  // decoder that skipped the limits would lose (the review's mutation).
  ["a timeout of 2^40 ms", 1000, 2 ** 40, 1000 + 2 ** 40],
  // Not numbers, as the wasm reads them (the review: `now + d` joined a
  // string in the compact form's first version).
  ["a clock reading as a numeric string", "1000", 50, 1050],
  ["a clock reading as a Date", new Date(1000), 50, 1050],
]) {
  test(`${what}: the timer is armed at the deadline, and times the call out`, async () => {
    const clock = hostClock(start);
    const cmd = new Command(() => new Promise(() => {}), undefined, { clock, timeoutMs });
    const call = cmd.execute();
    assert.equal(clock.armed.length, 1);
    assert.strictEqual(clock.armed[0].due, due);
    clock.t = due;
    clock.armed[0].fn();
    await assert.rejects(call, TimeoutError);
    assert.equal(cmd.snapshot().cumulative.TIMEOUT, 1);
  });
}

test("a usual timeout ended by the run: the timer is cleared and the call resolves with the run's value", async () => {
  const clock = hostClock(1000);
  const cmd = new Command(async (x) => x + 1, undefined, { clock, timeoutMs: 50 });
  assert.equal(await cmd.execute(1), 2);
  assert.equal(clock.armed.length, 1);
  assert.equal(clock.armed[0].cancelled, true);
  assert.equal(cmd.snapshot().cumulative.SUCCESS, 1);
});

test("with more than 2^15 calls in flight each call's timer is its own", async () => {
  const n = 2 ** 15 + 40;
  const clock = hostClock(500);
  const release = [];
  const cmd = new Command((i) => new Promise((resolve) => (release[i] = resolve)), undefined, {
    clock,
    timeoutMs: 100_000,
    maxConcurrentRequests: n,
  });
  const calls = [];
  for (let i = 0; i < n; i++) {
    // Each call starts 1 ms later: its deadline says which call armed it.
    clock.t = 500 + i;
    calls.push(cmd.execute(i));
  }
  assert.equal(clock.armed.length, n);
  clock.armed.forEach((timer, i) => assert.equal(timer.due, 100_500 + i, `call ${i}`));
  // Calls at both ends of the id range, and past 2^15, time out; the rest succeed (before any deadline).
  const late = new Set([0, 2 ** 14, 2 ** 15 - 1, 2 ** 15 + 1, n - 1]);
  for (let i = 0; i < n; i++) if (!late.has(i)) release[i](i);
  await Promise.allSettled(calls.filter((_, i) => !late.has(i)));
  clock.t = 100_500 + n;
  for (const i of late) clock.armed[i].fn();
  const results = await Promise.allSettled(calls);
  results.forEach((r, i) => {
    if (late.has(i)) assert.ok(r.status === "rejected" && r.reason instanceof TimeoutError, `call ${i} timed out`);
    else assert.deepEqual(r, { status: "fulfilled", value: i }, `call ${i}`);
  });
  const s = cmd.snapshot().cumulative;
  assert.equal(s.TIMEOUT, late.size);
  assert.equal(s.SUCCESS, n - late.size);
});
