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
    assert.equal(q._buckets.size + q._heap.length <= 1, true, `seed ${seed}: drained queue keeps ${q._buckets.size} buckets`);
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
