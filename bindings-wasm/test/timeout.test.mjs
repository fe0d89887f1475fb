// Timeouts on the VirtualClock: the run's AbortSignal, one signal per call,
// permits held by runs that ignore cancellation, late results discarded.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, TimeoutError, RejectedError } = h;

function record(cmd) {
  const seen = [];
  cmd.on("event", (event, at) => seen.push(`${event}@${at}`));
  return seen;
}

/** The promise's outcome, observed from the start (no unhandled rejection). */
function outcome(p) {
  const o = { state: "pending", value: undefined };
  o.done = p.then(
    (v) => Object.assign(o, { state: "resolved", value: v }),
    (e) => Object.assign(o, { state: "rejected", value: e }),
  );
  return o;
}

/** A run that honours its signal: settles after `ms` on the clock or rejects with the abort reason. */
const honouring = (clock, ms, value) => (ctx) => clock.sleep(ms, ctx.signal).then(() => value);

test("on timeout the run's signal is aborted with the TimeoutError as reason", async () => {
  const clock = new VirtualClock();
  let signal;
  let abortedAt;
  const cmd = new Command(
    (ctx) => {
      signal = ctx.signal;
      signal.addEventListener("abort", () => (abortedAt = clock.now()));
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("stopped"))));
    },
    null,
    { clock, timeoutMs: 100, withContext: true },
  );
  const seen = record(cmd);
  const o = outcome(cmd.execute());
  await clock.advance(99);
  assert.equal(signal.aborted, false);
  assert.equal(o.state, "pending");
  await clock.advance(1);
  await o.done;
  assert.equal(signal.aborted, true);
  assert.equal(abortedAt, 100);
  assert.equal(o.state, "rejected");
  assert.ok(o.value instanceof TimeoutError);
  assert.equal(signal.reason, o.value, "the caller's error is the signal's reason");
  // The run's own later rejection ("stopped") is discarded.
  assert.deepEqual(seen, ["TIMEOUT@100", "FALLBACK_MISSING@100"]);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.FAILURE, 0);
  assert.equal(s.cumulative.TIMEOUT, 1);
  assert.equal(s.concurrent, 0, "a run that stops on abort frees its permit");
});

test("the fallback after a timeout receives the same TimeoutError and the arguments", async () => {
  const clock = new VirtualClock();
  let signal;
  let fbArgs;
  const cmd = new Command(
    (ctx, a, b) => {
      signal = ctx.signal;
      return clock.sleep(500, ctx.signal);
    },
    (...args) => ((fbArgs = args), "fallback"),
    { clock, timeoutMs: 30, withContext: true },
  );
  const seen = record(cmd);
  const o = outcome(cmd.execute("a", "b"));
  await clock.advance(30);
  await o.done;
  assert.equal(o.value, "fallback");
  assert.ok(fbArgs[0] instanceof TimeoutError);
  assert.equal(fbArgs[0], signal.reason);
  assert.deepEqual(fbArgs.slice(1), ["a", "b"]);
  assert.deepEqual(seen, ["TIMEOUT@30", "FALLBACK_SUCCESS@30"]);
});

test("a signal first read after the timeout is already aborted", async () => {
  const clock = new VirtualClock();
  let ctx;
  const cmd = new Command(
    (c) => {
      ctx = c; // does not touch c.signal yet
      return clock.sleep(100);
    },
    null,
    { clock, timeoutMs: 10, withContext: true },
  );
  const o = outcome(cmd.execute());
  await clock.advance(10);
  await o.done;
  assert.ok(o.value instanceof TimeoutError);
  assert.equal(ctx.signal.aborted, true);
  assert.equal(ctx.signal.reason, o.value);
  await clock.advance(90);
});

test("each call gets its own signal; only the timed-out one is aborted", async () => {
  const clock = new VirtualClock();
  const signals = [];
  const cmd = new Command(
    (ctx, ms) => {
      signals.push(ctx.signal);
      return clock.sleep(ms, ctx.signal).then(() => ms);
    },
    null,
    { clock, timeoutMs: 50, withContext: true },
  );
  const slow = outcome(cmd.execute(80)); // times out at 50
  await clock.advance(30);
  const fast = outcome(cmd.execute(25)); // started at 30, done at 55 < 80
  const quick = outcome(cmd.execute(0));
  await clock.advance(20); // t = 50
  await slow.done;
  assert.equal(signals.length, 3);
  assert.equal(new Set(signals).size, 3, "never shared");
  assert.ok(slow.value instanceof TimeoutError);
  assert.equal(signals[0].aborted, true);
  assert.equal(signals[1].aborted, false);
  assert.equal(signals[2].aborted, false);
  assert.equal(quick.value, 0);
  await clock.advance(5); // t = 55
  await fast.done;
  assert.equal(fast.value, 25);
  // A call that succeeded is never aborted later, even past its deadline.
  await clock.advance(200);
  assert.equal(signals[1].aborted, false);
  assert.equal(signals[2].aborted, false);
  assert.equal(cmd.snapshot().concurrent, 0);
});

test("a run that ignores its signal keeps its permit until it settles; its late result is discarded", async () => {
  const clock = new VirtualClock();
  let signal;
  let runs = 0;
  const cmd = new Command(
    (ctx) => {
      runs++;
      signal = ctx.signal;
      return clock.sleep(100).then(() => "late value"); // ignores the signal
    },
    null,
    { clock, timeoutMs: 40, maxConcurrentRequests: 1, healthSnapshotIntervalMs: 0, withContext: true },
  );
  const seen = record(cmd);
  const o = outcome(cmd.execute());
  await clock.advance(40);
  await o.done;
  assert.ok(o.value instanceof TimeoutError);
  assert.equal(signal.aborted, true);
  assert.equal(cmd.snapshot().concurrent, 1, "the permit is held while the run goes on");

  // The held permit really counts: the bulkhead (size 1) is full.
  await assert.rejects(cmd.execute(), RejectedError);
  assert.equal(runs, 1);

  await clock.advance(59); // t = 99
  assert.equal(cmd.snapshot().concurrent, 1);
  await clock.advance(1); // t = 100: the run settles
  const s = cmd.snapshot();
  assert.equal(s.concurrent, 0);
  assert.equal(s.cumulative.SUCCESS, 0, "the late result is not counted");
  assert.equal(s.cumulative.TIMEOUT, 1);
  assert.deepEqual(seen, ["TIMEOUT@40", "FALLBACK_MISSING@40", "SEMAPHORE_REJECTED@40", "FALLBACK_MISSING@40"]);
  assert.equal(o.value instanceof TimeoutError, true, "the caller's result is unchanged");

  // The permit is back.
  cmd.configure({ timeoutMs: 1000 });
  const again = outcome(cmd.execute());
  await clock.advance(100);
  await again.done;
  assert.equal(again.value, "late value");
});

test("a late failure after a timeout is discarded too", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => clock.sleep(60).then(() => Promise.reject(new Error("late"))), () => "fb", {
    clock,
    timeoutMs: 20,
  });
  const seen = record(cmd);
  const o = outcome(cmd.execute());
  await clock.advance(20);
  await o.done;
  assert.equal(o.value, "fb");
  assert.equal(cmd.snapshot().concurrent, 1);
  await clock.advance(40);
  const s = cmd.snapshot();
  assert.equal(s.concurrent, 0);
  assert.equal(s.cumulative.FAILURE, 0);
  assert.deepEqual(seen, ["TIMEOUT@20", "FALLBACK_SUCCESS@20"]);
});

test("a run finishing exactly at its deadline loses (timeout armed before run)", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(honouring(clock, 50, "made it"), null, { clock, timeoutMs: 50, withContext: true });
  const o = outcome(cmd.execute());
  await clock.advance(50);
  await o.done;
  assert.ok(o.value instanceof TimeoutError);
  // One ms earlier wins.
  const cmd2 = new Command(honouring(clock, 49, "made it"), null, { clock, timeoutMs: 50, withContext: true });
  const o2 = outcome(cmd2.execute());
  await clock.advance(50);
  await o2.done;
  assert.equal(o2.value, "made it");
  assert.equal(cmd2.snapshot().cumulative.TIMEOUT, 0);
});

test("timeoutEnabled: false never times out and never aborts", async () => {
  const clock = new VirtualClock();
  let signal;
  const cmd = new Command(
    (ctx) => {
      signal = ctx.signal;
      return clock.sleep(10_000).then(() => "done");
    },
    null,
    { clock, timeoutMs: 10, timeoutEnabled: false, withContext: true },
  );
  const o = outcome(cmd.execute());
  await clock.advance(10_000);
  await o.done;
  assert.equal(o.value, "done");
  assert.equal(signal.aborted, false);
});

test("a configured timeout applies to later calls", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(honouring(clock, 100, "ok"), null, { clock, timeoutMs: 50, withContext: true });
  const a = outcome(cmd.execute());
  await clock.advance(50);
  await a.done;
  assert.ok(a.value instanceof TimeoutError);
  cmd.configure({ timeoutMs: 200 });
  const b = outcome(cmd.execute());
  await clock.advance(100);
  await b.done;
  assert.equal(b.value, "ok");
});

test("a run's abort listener may start another call on the same command", async () => {
  const clock = new VirtualClock();
  let inner = null;
  const cmd = new Command(
    ({ signal }, x) => {
      if (x === "outer") {
        signal.addEventListener("abort", () => {
          inner = outcome(cmd.execute("inner"));
        });
        return new Promise(() => {}); // never settles: keeps its permit
      }
      return clock.sleep(5, signal).then(() => "inner value");
    },
    (e, x) => `fallback ${x} ${e.kind}`,
    { clock, timeoutMs: 10, withContext: true },
  );
  const seen = record(cmd);
  const outer = outcome(cmd.execute("outer"));
  await clock.advance(10);
  await outer.done;
  assert.equal(outer.value, "fallback outer timeout");
  assert.notEqual(inner, null);
  assert.equal(inner.state, "pending");
  await clock.advance(5);
  await inner.done;
  assert.equal(inner.value, "inner value");
  assert.deepEqual(seen, ["TIMEOUT@10", "FALLBACK_SUCCESS@10", "SUCCESS@15"]);
  const s = cmd.snapshot();
  assert.equal(s.fallbackConcurrent, 0);
  assert.equal(s.concurrent, 1, "the outer run never settled and still holds its permit");
});

/** A clock whose timers never fire by themselves (an event loop blocked past them). */
function lateClock() {
  const clock = { t: 0, armed: [], now: () => clock.t, arm: (due, fn) => {
    const entry = { due, fn };
    clock.armed.push(entry);
    return { cancel: () => clock.armed.splice(clock.armed.indexOf(entry), 1) };
  } };
  return clock;
}

test("a run that ends past its deadline before its late timer fires is a TIMEOUT, not a success", async () => {
  const clock = lateClock();
  const cmd = new Command(
    async () => {
      clock.t = 300; // the event loop was blocked past the 100 ms deadline
      return "stale";
    },
    (err) => (err instanceof TimeoutError ? "fallback after timeout" : `wrong cause ${err}`),
    { timeoutMs: 100, clock },
  );
  const seen = record(cmd);
  assert.equal(await cmd.execute(), "fallback after timeout");
  assert.deepEqual(seen, ["TIMEOUT@300", "FALLBACK_SUCCESS@300"]);
  assert.equal(cmd.snapshot().concurrent, 0);
  // Without a fallback the caller gets the TimeoutError.
  clock.t = 1000;
  const bare = new Command(async () => {
    clock.t = 1100;
    return "stale";
  }, undefined, { timeoutMs: 100, clock });
  await assert.rejects(bare.execute(), TimeoutError);
});

test("a stale timer of a finished call (a host cancel that did nothing) never times out another call", async () => {
  let t = 0;
  const armed = [];
  const clock = { now: () => t, arm: (due, fn) => { armed.push(fn); return { cancel() {} }; } };
  let fallbacks = 0;
  const cmd = new Command(
    (x) => (x === "slow" ? new Promise((r) => setTimeout(() => r("slow ok"), 20)) : "fast ok"),
    () => { fallbacks++; return "fallback"; },
    { clock, timeoutMs: 1000 },
  );
  assert.equal(await cmd.execute("fast"), "fast ok"); // its timer is never really cancelled
  const second = cmd.execute("slow"); // may reuse the first call's id
  t = 5;
  armed[0](); // the first call's stale timer fires
  assert.equal(await second, "slow ok");
  assert.equal(fallbacks, 0);
  assert.equal(cmd.snapshot().rolling.TIMEOUT, 0);
});

test("a run ending past its deadline whose fallback is refused: the FallbackRejectedError's cause is a TimeoutError", async () => {
  const { FallbackRejectedError } = h;
  let t = 0;
  const clock = { now: () => t, arm: () => ({ cancel() {} }) }; // late timers: never fire
  let releaseFallback;
  const name = `late-refused-${Math.random()}`;
  const blocker = new Command(
    () => Promise.reject(new Error("down")),
    () => new Promise((r) => (releaseFallback = r)),
    { name, clock, timeoutMs: 100, fallbackMaxConcurrentRequests: 1, requestVolumeThreshold: 1000 },
  );
  const first = blocker.execute(); // holds the only fallback slot
  await new Promise((r) => setImmediate(r));
  let finishRun;
  const late = new Command(() => new Promise((r) => (finishRun = r)), () => "fallback", { name, clock });
  const second = late.execute();
  t = 500;
  finishRun("discarded value");
  const err = await second.then(() => null, (e) => e);
  releaseFallback("ok");
  await first;
  assert.ok(err instanceof FallbackRejectedError);
  assert.ok(err.cause instanceof TimeoutError, `cause is ${String(err.cause)}`);
});
