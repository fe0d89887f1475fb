// The timer queue against a model (a list searched by due time, then
// arming order): random arm/cancel/advance with re-entrant fires, due times
// already past and few distinct due times (the kept buckets' reuse).
// (Written by the review of the timer-queue change, session 12.)
import { test } from "node:test";
import assert from "node:assert/strict";
const { TimerQueue } = await import(new URL("../../target/npm/hystrix/timers.mjs", import.meta.url).href);

function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n; };
}
class Model {
  constructor() { this.armed = []; this.seq = 0; }
  arm(due, timer) { this.cancel(timer); this.armed.push({ timer, due, seq: this.seq++ }); }
  cancel(timer) { const i = this.armed.findIndex((e) => e.timer === timer); if (i < 0) return false; this.armed.splice(i, 1); return true; }
  nextDue() { return this.armed.length === 0 ? undefined : Math.min(...this.armed.map((e) => e.due)); }
  popDue(now) {
    let best = -1;
    for (let i = 0; i < this.armed.length; i++) {
      const e = this.armed[i]; if (e.due > now) continue;
      const b = this.armed[best];
      if (best < 0 || e.due < b.due || (e.due === b.due && e.seq < b.seq)) best = i;
    }
    return best < 0 ? undefined : this.armed.splice(best, 1)[0].timer;
  }
}
function invariants(q, ctx) {
  const heap = new Set(q._heap);
  for (const [due, b] of q._buckets) {
    assert.equal(b.due, due, ctx);
    if (b.head !== null) assert.ok(heap.has(due), `${ctx}: non-empty bucket ${due} not in heap`);
    if (b.head !== null) assert.ok(b.queued, `${ctx}: non-empty bucket ${due} not queued`);
  }
  for (const k of [q._last, q._lastButOne]) if (k) assert.equal(q._buckets.get(k.due), k, `${ctx}: kept bucket not in map`);
}

test("stress: model agreement with re-entrant fires, past dues, few due values", () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const r = rng(seed);
    const q = new TimerQueue();
    const m = new Model();
    const spread = 1 + (seed % 6);
    const timers = Array.from({ length: 2 + (seed % 10) }, (_, i) => ({ id: i, fire() {} }));
    let now = 0;
    const step = (s) => {
      const t = timers[r(timers.length)];
      const op = r(12);
      if (op < 5) { const due = now + r(spread) - (r(5) === 0 ? 1 : 0); q.arm(due, t); m.arm(due, t); }
      else if (op < 8) assert.equal(q.cancel(t), m.cancel(t), `seed ${seed} ${s}: cancel`);
      else if (op < 11) {
        assert.equal(q.nextDue(), m.nextDue(), `seed ${seed} ${s}: nextDue`);
        const got = q.popDue(now), exp = m.popDue(now);
        assert.equal(got, exp, `seed ${seed} ${s}: popDue(${now})`);
        // re-entrancy: "fire" arms/cancels during the drain
        if (got !== undefined && r(2) === 0) { const t2 = timers[r(timers.length)]; const d = now + r(spread); q.arm(d, t2); m.arm(d, t2); }
        if (got !== undefined && r(3) === 0) { const t2 = timers[r(timers.length)]; assert.equal(q.cancel(t2), m.cancel(t2)); }
      } else now += r(3);
      invariants(q, `seed ${seed} ${s}`);
    };
    for (let s = 0; s < 400; s++) step(s);
    for (;;) { const e = m.popDue(Infinity); assert.equal(q.popDue(Infinity), e, `seed ${seed}: drain`); if (e === undefined) break; }
    assert.equal(q._heap.length, 0);
    assert.ok(q._buckets.size <= 2);
  }
});

test("stress: heap does not grow without bound when three due times rotate and are cancelled", () => {
  const q = new TimerQueue();
  const ts = [{ fire() {} }, { fire() {} }, { fire() {} }];
  for (let i = 0; i < 100000; i++) { const t = ts[i % 3]; q.arm(1000 + (i % 3), t); q.cancel(t); }
  console.log("heap", q._heap.length, "buckets", q._buckets.size);
});
