// The untimed path's calls that go on past attempt 1's end (retries, a
// fallback): the caller's promise is the run's own, chained, so what the
// chain's reaction returns for such a call is adopted by the engine. Each
// call settles its caller once, with the right outcome, in its own async
// context, whether it settles before or after the engine adopted that
// return, and the caller hears of the end one microtask after the call
// settled (session 13: not two).
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, FallbackFailedError } = h;
const als = new AsyncLocalStorage();
const rid = () => als.getStore()?.id ?? "none";

/** A host clock frozen at 0 whose due timers fire in a microtask (later ones never), counting its firings. */
function microtaskClock() {
  const clock = {
    fired: 0,
    now: () => 0,
    /**
     * @param {number} due
     * @param {() => void} fn
     */
    arm(due, fn) {
      const handle = { live: true, cancel: () => void (handle.live = false) };
      if (due <= 0) {
        queueMicrotask(() => {
          if (!handle.live) return;
          handle.live = false;
          clock.fired++;
          fn();
        });
      }
      return handle;
    },
  };
  return clock;
}

/** Microtask turns until `done()` is true (at most 50). */
async function turnsUntil(done) {
  let n = 0;
  while (!done() && n < 50) {
    await null;
    n++;
  }
  return n;
}

const UNTIMED_RETRY = { timeoutEnabled: false, retryMaxAttempts: 3, retryBaseDelayMs: 0, retryJitter: "none", errorThresholdPercentage: 100 };

test("untimed retries: concurrent calls run their attempts in order, each in its own context, and settle once each", async () => {
  const clock = microtaskClock();
  /** @type {[unknown, number, unknown][]} */
  const seen = [];
  const cmd = new Command(
    ({ attempt }, id) => {
      seen.push([id, attempt, rid()]);
      return attempt < 3 ? Promise.reject(new Error(`${id} failed ${attempt}`)) : Promise.resolve(`${id}:${attempt}`);
    },
    null,
    { ...UNTIMED_RETRY, clock, withContext: true },
  );
  const settles = [];
  // The caller's continuation registered in its context: it runs there.
  const all = [1, 2, 3].map((id) =>
    als.run({ id }, () =>
      cmd.execute(id).then((v) => {
        settles.push([id, v, rid()]);
        return v;
      }),
    ),
  );
  assert.deepEqual(await Promise.all(all), ["1:3", "2:3", "3:3"]);
  // Two backoffs per call, none lost or doubled.
  assert.equal(clock.fired, 6);
  for (const id of [1, 2, 3]) {
    assert.deepEqual(
      seen.filter((s) => s[0] === id).map((s) => s[1]),
      [1, 2, 3],
      `attempts of ${id}`,
    );
  }
  for (const [id, att, ctx] of seen) assert.equal(ctx, id, `attempt ${att} of ${id} ran in ${ctx}`);
  assert.deepEqual(settles.map((s) => s[0]).sort(), [1, 2, 3]);
  for (const [id, , ctx] of settles) assert.equal(ctx, id, `the caller of ${id} continued in ${ctx}`);
});

test("untimed retries that all fail: the caller gets the last attempt's error, once", async () => {
  const clock = microtaskClock();
  let runs = 0;
  const cmd = new Command(
    () => {
      runs++;
      return Promise.reject(new Error(`failed ${runs}`));
    },
    null,
    { ...UNTIMED_RETRY, clock },
  );
  let outcomes = 0;
  await assert.rejects(
    cmd.execute().finally(() => outcomes++),
    /failed 3/,
  );
  assert.equal(runs, 3);
  assert.equal(outcomes, 1);
  assert.equal(clock.fired, 2);
});

test("untimed retries: the caller continues one microtask after the last attempt's end settles the call", async () => {
  const clock = microtaskClock();
  /** @type {((v: unknown) => void) | null} */
  let finish = null;
  const cmd = new Command(
    ({ attempt }) => (attempt < 3 ? Promise.reject(new Error("no")) : new Promise((resolve) => (finish = resolve))),
    null,
    { ...UNTIMED_RETRY, clock, withContext: true },
  );
  let out = "pending";
  cmd.execute().then((v) => (out = v));
  await turnsUntil(() => finish !== null);
  assert.notEqual(finish, null, "attempt 3 was invoked");
  /** @type {(v: unknown) => void} */ (finish)("third");
  // Attempt 3's promise settles → the run's reaction settles the call →
  // the caller's reaction: 2 turns; 3 when the caller's promise followed
  // a promise of the glue's.
  const turns = await turnsUntil(() => out !== "pending");
  assert.equal(out, "third");
  assert.equal(turns, 2);
});

test("an untimed call whose fallback settles it before the engine adopts the continuation: its value, once", async () => {
  let ran = 0;
  const cmd = new Command(
    () => Promise.reject(new Error("run failed")),
    // Already settled: its reaction comes before the engine adopts what the run's reaction returned.
    (e) => {
      ran++;
      return Promise.resolve(`fb after ${/** @type {Error} */ (e).message} in ${rid()}`);
    },
    { timeoutEnabled: false },
  );
  const got = await als.run({ id: "a" }, () => cmd.execute());
  assert.equal(got, "fb after run failed in a");
  assert.equal(ran, 1);
});

test("an untimed call whose fallback fails before the engine adopts the continuation: FallbackFailedError, once", async () => {
  const cmd = new Command(
    () => Promise.reject(new Error("run failed")),
    () => Promise.reject(new Error("fallback failed")),
    { timeoutEnabled: false },
  );
  let outcomes = 0;
  const err = await cmd.execute().then(
    () => assert.fail("resolved"),
    (e) => {
      outcomes++;
      return e;
    },
  );
  assert.ok(err instanceof FallbackFailedError, String(err));
  assert.equal(/** @type {Error} */ (err.cause).message, "fallback failed");
  assert.equal(/** @type {Error} */ (err.original).message, "run failed");
  assert.equal(outcomes, 1);
});

test("an untimed call whose fallback settles later (after the adoption): its value, in the call's context", async () => {
  const clock = microtaskClock();
  const cmd = new Command(
    () => Promise.reject(new Error("run failed")),
    async () => {
      for (let i = 0; i < 5; i++) await null;
      return `late fb in ${rid()}`;
    },
    { timeoutEnabled: false, clock },
  );
  const all = ["x", "y"].map((id) => als.run({ id }, () => cmd.execute()));
  assert.deepEqual(await Promise.all(all), ["late fb in x", "late fb in y"]);
});

test("a program that overrides Promise[Symbol.species] cannot take the caller's settlement away", async () => {
  // Such a program's promise subclass is handed what the chain's reaction
  // returns; calling its `then` a second time must not take the caller's
  // promise's resolvers (review, session 13: the caller never settled).
  const seen = [];
  class Spy extends Promise {
    /** @param {(resolve: (v: unknown) => void, reject: (e: unknown) => void) => void} executor */
    constructor(executor) {
      super((resolve, reject) =>
        executor(
          (v) => {
            seen.push(v);
            resolve(v);
          },
          (e) => reject(e),
        ),
      );
    }
  }
  const clock = microtaskClock();
  const cmd = new Command(
    ({ attempt }) => (attempt < 2 ? Promise.reject(new Error("x")) : new Promise((r) => setTimeout(() => r("ok"), 5))),
    null,
    { timeoutEnabled: false, retryMaxAttempts: 2, retryBaseDelayMs: 0, retryJitter: "none", withContext: true, clock },
  );
  assert.equal(await cmd.execute(), "ok"); // a command's first call does not take the untimed path
  const species = Object.getOwnPropertyDescriptor(Promise, Symbol.species);
  /** @type {Promise<unknown>} */
  let p;
  Object.defineProperty(Promise, Symbol.species, { configurable: true, get: () => Spy });
  try {
    p = cmd.execute();
  } finally {
    Object.defineProperty(Promise, Symbol.species, /** @type {PropertyDescriptor} */ (species));
  }
  await new Promise((r) => setTimeout(r, 1));
  const thenable = seen.find((v) => v !== null && typeof v === "object" && typeof v.then === "function" && !(v instanceof Promise));
  assert.ok(thenable, "the subclass was handed the reaction's thenable");
  let second = "not called";
  thenable.then((v) => (second = v), (e) => (second = e));
  const r = await Promise.race([p, new Promise((res) => setTimeout(() => res("the caller never settled"), 200))]);
  assert.equal(r, "ok");
  assert.equal(second, "not called", "a second then is ignored");
});
