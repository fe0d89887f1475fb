// The timer queue behind both clocks, checked against a plain reference
// model over random arm / cancel / pop sequences: timers come out by due
// time, then in arming order; cancelled ones never come out; a timer can be
// armed again after it fired or was cancelled, or while armed (it moves);
// once drained, the queue holds nothing.
import { test } from "node:test";
import assert from "node:assert/strict";

const { TimerQueue } = await import(new URL("../../target/npm/hystrix/timers.mjs", import.meta.url).href);

/** A tiny deterministic PRNG (xorshift32), so failures replay. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

class Model {
  constructor() {
    this.armed = []; // { timer, due, seq }
    this.seq = 0;
  }
  arm(due, timer) {
    this.armed.push({ timer, due, seq: this.seq++ });
  }
  cancel(timer) {
    const i = this.armed.findIndex((e) => e.timer === timer);
    if (i < 0) return false;
    this.armed.splice(i, 1);
    return true;
  }
  nextDue() {
    return this.armed.length === 0 ? undefined : Math.min(...this.armed.map((e) => e.due));
  }
  popDue(now) {
    let best = -1;
    for (let i = 0; i < this.armed.length; i++) {
      const e = this.armed[i];
      if (e.due > now) continue;
      const b = this.armed[best];
      if (best < 0 || e.due < b.due || (e.due === b.due && e.seq < b.seq)) best = i;
    }
    if (best < 0) return undefined;
    return this.armed.splice(best, 1)[0].timer;
  }
}

test("random arm/cancel/pop sequences match the reference model", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = rng(seed);
    const q = new TimerQueue();
    const m = new Model();
    const timers = Array.from({ length: 12 }, (_, i) => ({ id: i, fire() {} }));
    let now = 0;
    for (let step = 0; step < 300; step++) {
      const t = timers[r(timers.length)];
      const op = r(10);
      if (op < 4) {
        // Arming a timer armed already moves it.
        const due = now + r(4);
        q.arm(due, t);
        m.cancel(t);
        m.arm(due, t);
      } else if (op < 7) {
        assert.equal(q.cancel(t), m.cancel(t), `seed ${seed} step ${step}: cancel`);
      } else if (op < 9) {
        assert.equal(q.nextDue(), m.nextDue(), `seed ${seed} step ${step}: nextDue`);
        assert.equal(q.popDue(now), m.popDue(now), `seed ${seed} step ${step}: popDue(${now})`);
      } else {
        now += r(3);
      }
    }
    // Drain: everything left comes out in the model's order.
    for (;;) {
      const expected = m.popDue(Infinity);
      assert.equal(q.popDue(Infinity), expected, `seed ${seed}: drain`);
      if (expected === undefined) break;
    }
    assert.equal(q.nextDue(), undefined);
    // Drained: no heap entry, at most the two buckets armed last (kept, empty).
    assert.equal(q._heap.length, 0, `seed ${seed}: drained queue keeps heap entries`);
    assert.equal(q._buckets.size <= 2, true, `seed ${seed}: drained queue keeps ${q._buckets.size} buckets`);
  }
});

test("a timer armed on one queue cannot be cancelled through another", () => {
  const a = new TimerQueue();
  const b = new TimerQueue();
  const t = { fire() {} };
  const u = { fire() {} };
  a.arm(5, t);
  b.arm(5, u);
  assert.equal(b.cancel(t), false);
  assert.equal(b.popDue(5), u);
  assert.equal(a.popDue(5), t);
});

test("a bucket emptied by cancels still fires timers armed into it later", () => {
  const q = new TimerQueue();
  const a = { fire() {} };
  const b = { fire() {} };
  q.arm(5, a);
  q.cancel(a);
  assert.equal(q.nextDue(), undefined);
  q.arm(5, b);
  assert.equal(q.nextDue(), 5);
  assert.equal(q.popDue(5), b);
  assert.equal(q.popDue(5), undefined);
});

test("a retried call's pattern (timeout armed and cleared, 0 ms backoff fired) keeps two buckets and loses nothing", () => {
  const q = new TimerQueue();
  const timeout = { fire() {} };
  const backoff = { fire() {} };
  for (let i = 0; i < 100; i++) {
    q.arm(1000, timeout);
    assert.equal(q.cancel(timeout), true);
    q.arm(0, backoff);
    assert.equal(q.nextDue(), 0);
    assert.equal(q.popDue(0), backoff);
    assert.equal(q.popDue(0), undefined);
    assert.equal(q._buckets.size <= 2, true, `round ${i}: ${q._buckets.size} buckets`);
    assert.equal(q._heap.length, 0, `round ${i}: ${q._heap.length} heap entries`);
  }
  // Both kept buckets are empty and out of the heap now: arming into them queues them again.
  const [a, b, c] = [{ fire() {} }, { fire() {} }, { fire() {} }];
  q.arm(1000, a);
  q.arm(0, b);
  q.arm(1000, c);
  assert.equal(q.nextDue(), 0);
  assert.deepEqual([q.popDue(1000), q.popDue(1000), q.popDue(1000), q.popDue(1000)], [b, a, c, undefined]);
});

test("timers keep their order across the kept buckets and a bucket that leaves them", () => {
  const q = new TimerQueue();
  const t = Array.from({ length: 7 }, (_, id) => ({ id, fire() {} }));
  // Due 5 and 7 alternate (both kept); due 3 then pushes 5 out while it holds timers.
  q.arm(5, t[0]);
  q.arm(7, t[1]);
  q.arm(5, t[2]);
  q.arm(7, t[3]);
  q.arm(3, t[4]);
  q.arm(5, t[5]);
  // A kept bucket emptied by a cancel, left, and armed into again.
  q.arm(9, t[6]);
  q.cancel(t[6]);
  q.arm(1, t[6]);
  q.arm(9, t[6]);
  const order = [];
  for (let x = q.popDue(Infinity); x !== undefined; x = q.popDue(Infinity)) order.push(x.id);
  assert.deepEqual(order, [4, 0, 2, 5, 1, 3, 6]);
  assert.equal(q._buckets.size <= 2, true);
});

test("timeouts armed and cancelled at a new due time each millisecond (a real clock's closed path) leave no buckets behind", () => {
  const q = new TimerQueue();
  const t = { fire() {} };
  for (let now = 0; now < 2000; now++) {
    q.arm(now + 1000, t);
    assert.equal(q.cancel(t), true);
  }
  // Only the two kept (empty); their stale heap entries go when they reach the top.
  assert.equal(q._buckets.size <= 2, true, `${q._buckets.size} buckets kept`);
  assert.equal(q.nextDue(), undefined);
  assert.equal(q._heap.length, 0);
});
