// VirtualClock: sleep() ordering (due time, then arming order), timers,
// abort, and advance()/constructor validation.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { VirtualClock, Command } = h;

test("starts at 0 (or the given start) and moves only on advance", async () => {
  const clock = new VirtualClock();
  assert.equal(clock.now(), 0);
  await clock.advance(0);
  assert.equal(clock.now(), 0);
  await clock.advance(25);
  assert.equal(clock.now(), 25);
  await clock.advance(5);
  assert.equal(clock.now(), 30);
  assert.equal(new VirtualClock(1000).now(), 1000);
});

test("sleep() resolves by due time, same due time in arming order, with now() at the due time", async () => {
  const clock = new VirtualClock();
  const order = [];
  const sleeper = (label, ms) => clock.sleep(ms).then(() => order.push(`${label}@${clock.now()}`));
  const all = [sleeper("a", 10), sleeper("b", 5), sleeper("c", 10), sleeper("d", 5), sleeper("e", 0), sleeper("f", 7)];
  await clock.advance(4);
  assert.deepEqual(order, ["e@0"]);
  await clock.advance(6);
  await Promise.all(all);
  assert.deepEqual(order, ["e@0", "b@5", "d@5", "f@7", "a@10", "c@10"]);
  assert.equal(clock.now(), 10);
});

test("timers armed while advancing fire in the same advance, in order", async () => {
  const clock = new VirtualClock();
  const order = [];
  clock.sleep(3).then(() => {
    order.push(`x@${clock.now()}`);
    clock.sleep(2).then(() => order.push(`x2@${clock.now()}`)); // due 5
    clock.sleep(20).then(() => order.push(`late@${clock.now()}`)); // due 23: after this advance
  });
  clock.sleep(5).then(() => order.push(`y@${clock.now()}`)); // due 5, armed before x2
  await clock.advance(10);
  assert.deepEqual(order, ["x@3", "y@5", "x2@5"]);
  assert.equal(clock.now(), 10);
  await clock.advance(13);
  assert.deepEqual(order, ["x@3", "y@5", "x2@5", "late@23"]);
});

test("arm() returns a cancellable timer", async () => {
  const clock = new VirtualClock();
  const fired = [];
  const t1 = clock.arm(5, () => fired.push(1));
  clock.arm(5, () => fired.push(2));
  clock.arm(3, () => fired.push(3));
  t1.cancel();
  t1.cancel(); // twice is harmless
  await clock.advance(5);
  assert.deepEqual(fired, [3, 2]);
});

test("sleep(ms, signal) rejects with the signal's reason when aborted", async () => {
  const clock = new VirtualClock();
  const ac = new AbortController();
  const reason = new Error("stop");
  const p = clock.sleep(100, ac.signal).then(
    () => "slept",
    (e) => e,
  );
  await clock.advance(10);
  ac.abort(reason);
  assert.equal(await p, reason);
  const pre = new AbortController();
  pre.abort("already");
  assert.equal(await clock.sleep(5, pre.signal).catch((e) => e), "already");
  // A signal that is never aborted does not get in the way.
  const fine = clock.sleep(5, new AbortController().signal);
  await clock.advance(100);
  assert.equal(await fine, undefined);
});

test("advance() validates its argument and leaves the clock unchanged", async () => {
  const clock = new VirtualClock(7);
  for (const bad of [-1, 1.5, NaN, Infinity, "5", undefined, null, 2n, {}]) {
    await assert.rejects(clock.advance(bad), TypeError, `advance(${String(bad)})`);
    assert.equal(clock.now(), 7);
  }
  await assert.rejects(clock.advance(-1), { message: "advance(ms) needs a non-negative integer, got -1" });
  await assert.rejects(clock.advance(NaN), { message: "advance(ms) needs a non-negative integer, got NaN" });
});

test("an advance from inside a timer callback moves on from the callback's instant; the outer one never steps back", async () => {
  // Fixed: the outer advance stored its own, smaller target last (105 -> 10).
  const simple = new VirtualClock();
  let nested;
  simple.arm(5, () => {
    nested = simple.advance(100);
  });
  await simple.advance(10);
  await nested;
  assert.equal(simple.now(), 105);

  const clock = new VirtualClock();
  const seen = [];
  let inner;
  clock.arm(5, () => {
    seen.push(`cb@${clock.now()}`);
    inner = clock.advance(100); // from 5: to 105
  });
  clock.arm(8, () => seen.push(`t8@${clock.now()}`));
  clock.arm(50, () => seen.push(`t50@${clock.now()}`));
  clock.arm(200, () => seen.push(`t200@${clock.now()}`));
  await clock.advance(10);
  const afterOuter = clock.now();
  await inner;
  assert.ok(afterOuter >= 10, `the outer advance ended at ${afterOuter}`);
  assert.equal(clock.now(), 105, "the inner advance's time is kept, not undone by the outer target (10)");
  assert.deepEqual(seen, ["cb@5", "t8@8", "t50@50"]);
  await clock.advance(95);
  assert.equal(clock.now(), 200);
  assert.deepEqual(seen, ["cb@5", "t8@8", "t50@50", "t200@200"]);
});

test("overlapping advances are serialised: the second moves on from where the first ended, nothing lost", async () => {
  const clock = new VirtualClock();
  const seen = [];
  for (const due of [3, 9, 12, 14, 16]) clock.arm(due, () => seen.push(`${due}@${clock.now()}`));
  const order = [];
  const a = clock.advance(10).then(() => order.push(`a@${clock.now()}`));
  const b = clock.advance(5).then(() => order.push(`b@${clock.now()}`));
  await Promise.all([a, b]);
  assert.deepEqual(order, ["a@10", "b@15"]);
  assert.equal(clock.now(), 15);
  assert.deepEqual(seen, ["3@3", "9@9", "12@12", "14@14"]);
  // One started from a timer's reaction (not synchronously inside it) queues behind the running one.
  let fromReaction;
  clock.sleep(2).then(() => {
    fromReaction = clock.advance(3);
  });
  await clock.advance(4); // 15 -> 19, firing 16 and the sleep at 17
  assert.equal(clock.now(), 19);
  await fromReaction;
  assert.equal(clock.now(), 22);
  assert.deepEqual(seen, ["3@3", "9@9", "12@12", "14@14", "16@16"]);
});

test("time never decreases, whatever the interleaving of advances and callbacks", async () => {
  const clock = new VirtualClock();
  let last = 0;
  let backwards = 0;
  const sample = () => {
    if (clock.now() < last) backwards++;
    last = clock.now();
  };
  const pending = [];
  for (let i = 1; i <= 30; i++) {
    clock.arm(i * 3, () => {
      sample();
      if (i % 4 === 0) pending.push(clock.advance(i)); // nested
    });
    clock.sleep(i * 2).then(() => {
      sample();
      if (i % 5 === 0) pending.push(clock.advance(1)); // queued
    });
  }
  const outer = [clock.advance(20), clock.advance(7), clock.advance(0)];
  for (const p of outer) p.then(sample);
  await Promise.all(outer);
  while (pending.length > 0) await pending.shift();
  sample();
  assert.equal(backwards, 0);
  assert.ok(clock.now() >= 27);
});

test("a timer callback that throws rejects its advance; later advances still run", async () => {
  const clock = new VirtualClock();
  const boom = new Error("timer boom");
  clock.arm(2, () => {
    throw boom;
  });
  const first = clock.advance(5);
  const second = clock.advance(5);
  await assert.rejects(first, (e) => e === boom);
  await second;
  assert.ok(clock.now() >= 5);
});

test("the constructor validates start", () => {
  for (const bad of [-1, 0.5, NaN, "0", null, Infinity]) {
    assert.throws(() => new VirtualClock(bad), TypeError, `new VirtualClock(${String(bad)})`);
  }
});

test("two commands on one clock: timers interleave by due time then arming order", async () => {
  const clock = new VirtualClock();
  const order = [];
  const mk = (label, ms, timeoutMs) =>
    new Command(() => clock.sleep(ms).then(() => label), (e) => `${label}:${e.kind}`, { clock, timeoutMs });
  const calls = [
    mk("A", 30, 30).execute(), // timeout armed at 30 before its sleep at 30: times out
    mk("B", 20, 100).execute(),
    mk("C", 30, 100).execute(), // sleep at 30 armed after A's timeout
  ].map((p) => p.then((v) => order.push(`${v}@${clock.now()}`)));
  await clock.advance(30);
  await Promise.all(calls);
  assert.deepEqual(order, ["B@20", "A:timeout@30", "C@30"]);
});

test("any object with now() and arm() works as a command's clock", async () => {
  // A minimal Clock (the d.ts `Clock` interface): no sleep(), no advance().
  let t = 100;
  const timers = [];
  const clock = {
    now: () => t,
    arm(due, fn) {
      const timer = { due, fn, live: true, cancel: () => (timer.live = false) };
      timers.push(timer);
      return timer;
    },
  };
  const fire = () => {
    for (const timer of timers.splice(0)) if (timer.live && timer.due <= t) timer.fn();
  };
  const events = [];
  const ok = new Command(() => "ok", null, { clock, timeoutMs: 50 });
  ok.on("event", (e, at) => events.push(`${e}@${at}`));
  assert.equal(await ok.execute(), "ok");
  assert.equal(timers.length, 1);
  assert.equal(timers[0].due, 150);
  assert.equal(timers[0].live, false, "a run that finished in time cancels its timeout");

  timers.length = 0;
  let signal;
  const slow = new Command(
    (ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    },
    (e) => e.kind,
    { clock, timeoutMs: 50, withContext: true },
  );
  slow.on("event", (e, at) => events.push(`${e}@${at}`));
  const p = slow.execute();
  t = 150;
  fire();
  assert.equal(await p, "timeout");
  assert.equal(signal.aborted, true);
  assert.deepEqual(events, ["SUCCESS@100", "TIMEOUT@150", "FALLBACK_SUCCESS@150"]);
});
