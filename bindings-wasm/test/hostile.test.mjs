// Hostile and unusual host values and call patterns: odd thenables, proxies,
// errors with throwing getters, odd classifiers, re-entrant listeners and
// runs, configure() while calls are in flight, many arguments. Whatever the
// run or fallback does, execute() returns a promise that settles exactly
// once, and every permit and fallback slot is given back.
// Comments marked "Fixed:" describe bugs these tests found (each failed
// against the package before its fix).
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, TimeoutError, FallbackFailedError, RejectedError, HystrixError } = h;

const EXECUTION_EVENTS = ["SUCCESS", "FAILURE", "TIMEOUT", "BAD_REQUEST", "SHORT_CIRCUITED", "SEMAPHORE_REJECTED"];
const FALLBACK_EVENTS = ["FALLBACK_SUCCESS", "FALLBACK_FAILURE", "FALLBACK_REJECTION", "FALLBACK_MISSING", "FALLBACK_DISABLED"];
const NEEDS_FALLBACK = ["FAILURE", "TIMEOUT", "SHORT_CIRCUITED", "SEMAPHORE_REJECTED"];

/** Lets every pending reaction run (a few macrotask boundaries). */
async function flush(n = 3) {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Calls `fn` (which should return execute()'s promise) and records how the
 * call ended: `sync` if it threw synchronously, else every settlement of the
 * returned value (a promise settles once; the list proves it).
 */
function track(fn) {
  const t = { sync: undefined, threw: false, isPromise: false, settlements: [] };
  let p;
  try {
    p = fn();
  } catch (e) {
    t.threw = true;
    t.sync = e;
    return t;
  }
  t.isPromise = p instanceof Promise;
  if (t.isPromise) {
    p.then(
      (v) => t.settlements.push({ ok: true, value: v }),
      (e) => t.settlements.push({ ok: false, value: e }),
    );
  }
  return t;
}

/** The call returned a promise that settled exactly once; returns that settlement. */
function settledOnce(t, what = "call") {
  assert.equal(t.threw, false, `${what}: execute() threw synchronously: ${t.threw ? String(t.sync) : ""}`);
  assert.ok(t.isPromise, `${what}: execute() returns a promise`);
  assert.equal(t.settlements.length, 1, `${what}: settled exactly once`);
  return t.settlements[0];
}

/** Every permit and fallback slot is back; `calls` calls each recorded one execution event and the right fallback events. */
function assertIdle(cmd, calls) {
  const s = cmd.snapshot();
  assert.equal(s.concurrent, 0, "every run permit is given back");
  assert.equal(s.fallbackConcurrent, 0, "every fallback slot is given back");
  if (calls !== undefined) {
    const c = s.cumulative;
    const executions = EXECUTION_EVENTS.reduce((n, k) => n + c[k], 0);
    assert.equal(executions, calls, "one execution event per call");
    const fallbacks = FALLBACK_EVENTS.reduce((n, k) => n + c[k], 0);
    const needed = NEEDS_FALLBACK.reduce((n, k) => n + c[k], 0);
    assert.equal(fallbacks, needed, "one fallback event per failure, timeout or refusal");
  }
  return s;
}

/** A printable name for any value (String() throws on some). */
function label(v) {
  try {
    return typeof v === "symbol" ? v.toString() : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const MODES = [
  ["timed", { timeoutMs: 1000 }],
  ["untimed", { timeoutEnabled: false }],
];

// ---------------------------------------------------------------- thenables

test("thenables that call back oddly: the first call decides, the call settles once", async () => {
  const nestedRejecting = { then: (_res, rej) => rej("nested-no") };
  const cases = [
    ["resolve then throw", { then: (res) => { res("first"); throw new Error("after"); } }, true, "first"],
    ["reject then resolve then reject", { then: (res, rej) => { rej("no"); res("yes"); rej("again"); } }, false, "no"],
    ["resolve twice", { then: (res) => { res(1); res(2); } }, true, 1],
    ["resolve with a thenable that rejects", { then: (res) => res(nestedRejecting) }, false, "nested-no"],
    ["throw before calling back", { then: () => { throw "thrown"; } }, false, "thrown"],
    ["reject with undefined", { then: (_res, rej) => rej(undefined) }, false, undefined],
    ["resolve with no value", { then: (res) => res() }, true, undefined],
  ];
  for (const [mode, opts] of MODES) {
    for (const [name, thenable, ok, value] of cases) {
      const clock = new VirtualClock();
      const cmd = new Command(() => thenable, undefined, { clock, ...opts });
      const t = track(() => cmd.execute());
      await clock.advance(0);
      await flush();
      const s = settledOnce(t, `${mode}: ${name}`);
      assert.equal(s.ok, ok, `${mode}: ${name}`);
      assert.ok(Object.is(s.value, value), `${mode}: ${name} value`);
      const snap = assertIdle(cmd, 1);
      assert.equal(snap.cumulative[ok ? "SUCCESS" : "FAILURE"], 1, `${mode}: ${name}`);
    }
  }
});

test("a `then` that is not a function makes the object a plain value", async () => {
  for (const [mode, opts] of MODES) {
    for (const then of [42, null, "then", { call: () => {} }, undefined]) {
      const clock = new VirtualClock();
      const value = { then };
      const cmd = new Command(() => value, () => "fb", { clock, ...opts });
      const t = track(() => cmd.execute());
      await flush();
      const s = settledOnce(t, `${mode}: then=${String(then)}`);
      assert.equal(s.ok, true);
      assert.equal(s.value, value);
      assertIdle(cmd, 1);
    }
  }
});

test("callable thenables (functions with a then) are followed", async () => {
  const clock = new VirtualClock();
  const fnThenable = Object.assign(() => {}, { then: (res) => res("from function") });
  const cmd = new Command(() => fnThenable, undefined, { clock });
  assert.equal(await cmd.execute(), "from function");
  assertIdle(cmd, 1);
});

test("a thenable that never calls back times out; its permit is held (it never stops), the caller is answered", async () => {
  const clock = new VirtualClock();
  const never = { then() {} };
  const cmd = new Command(() => never, (e) => e, { clock, timeoutMs: 50, maxConcurrentRequests: 1 });
  const t = track(() => cmd.execute());
  await clock.advance(50);
  await flush();
  const s = settledOnce(t);
  assert.ok(s.value instanceof TimeoutError);
  assert.equal(s.value.code, 2);
  const snap = cmd.snapshot();
  assert.equal(snap.cumulative.TIMEOUT, 1);
  assert.equal(snap.concurrent, 1, "SPEC §4: a run that never stops keeps its permit");
  assert.equal(snap.fallbackConcurrent, 0);
  // The bulkhead is honest: the next call is refused.
  const r = await cmd.execute();
  assert.ok(r instanceof RejectedError);
  assert.equal(r.code, 4);
});

test("a thenable whose then calls back synchronously and later again: only the first counts", async () => {
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    let later;
    const thenable = {
      then(res, rej) {
        res("now");
        later = rej;
      },
    };
    const cmd = new Command(() => thenable, () => "fb", { clock, ...opts });
    const t = track(() => cmd.execute());
    await flush();
    later(new Error("late"));
    await clock.advance(2000);
    await flush();
    const s = settledOnce(t, mode);
    assert.deepEqual(s, { ok: true, value: "now" });
    const snap = assertIdle(cmd, 1);
    assert.equal(snap.cumulative.SUCCESS, 1);
    assert.equal(snap.cumulative.FAILURE, 0);
  }
});

// Fixed: a *native* promise with an own (or otherwise overridden) `then` is
// trusted as is (Promise.resolve hands it back unchanged and the glue calls
// its `then`): a throwing `then` escapes execute() synchronously and the
// permit leaks, timed or not.
test("a native promise whose own `then` throws is the run failing, not a synchronous throw", async () => {
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    const boom = new Error("own then");
    const run = () => {
      const p = Promise.resolve(1);
      p.then = () => {
        throw boom;
      };
      return p;
    };
    const cmd = new Command(run, undefined, { clock, maxConcurrentRequests: 1, ...opts });
    const t = track(() => cmd.execute());
    await flush();
    const s = settledOnce(t, mode);
    assert.equal(s.ok, false);
    assert.equal(s.value, boom);
    assertIdle(cmd, 1);
  }
});

// Fixed: same root cause: a native promise whose `then` calls its callbacks
// twice makes the glue report a second outcome for the execution id, which
// by then belongs to another call: that call's permit is released while its
// run is still going, and its own success is then turned into a rejection.
test("a run's second callback after settling cannot touch another call", async () => {
  const clock = new VirtualClock();
  let lateReject;
  let resolveB;
  const run = (which) => {
    if (which === "a") {
      const p = Promise.resolve("a");
      p.then = function (onOk, onErr) {
        lateReject = onErr;
        return Promise.prototype.then.call(this, onOk, onErr);
      };
      return p;
    }
    return new Promise((r) => (resolveB = r));
  };
  const cmd = new Command(run, undefined, { clock, timeoutMs: 1000 });
  assert.equal(await cmd.execute("a"), "a");
  const b = track(() => cmd.execute("b"));
  await flush();
  assert.equal(cmd.snapshot().concurrent, 1);
  lateReject(new Error("late"));
  await flush();
  assert.equal(cmd.snapshot().concurrent, 1, "call b's run is still going: its permit is held");
  assert.equal(b.settlements.length, 0, "call b is not settled by call a's late callback");
  resolveB("b");
  await flush();
  const s = settledOnce(b, "b");
  assert.deepEqual(s, { ok: true, value: "b" });
  const snap = assertIdle(cmd, 2);
  assert.equal(snap.cumulative.SUCCESS, 2);
  assert.equal(snap.cumulative.FAILURE, 0);
});

// Fixed: the fallback has the same hole: a native promise with a throwing own
// `then` escapes execute() synchronously at admission, and after a timed
// run's failure the call never settles; the fallback slot leaks both times.
test("a fallback returning a native promise whose own `then` throws is the fallback failing", async () => {
  const boom = new Error("own then");
  const badFallback = () => {
    const p = Promise.resolve("fb");
    p.then = () => {
      throw boom;
    };
    return p;
  };
  const scenarios = [
    ["short-circuited", () => 1, { forceOpen: true }],
    ["timed failure", () => Promise.reject(new Error("run")), { timeoutMs: 1000 }],
    ["untimed failure", () => Promise.reject(new Error("run")), { timeoutEnabled: false }],
  ];
  for (const [name, run, opts] of scenarios) {
    const clock = new VirtualClock();
    const cmd = new Command(run, badFallback, { clock, ...opts });
    const t = track(() => cmd.execute());
    await clock.advance(0);
    await flush();
    const s = settledOnce(t, name);
    assert.equal(s.ok, false, name);
    assert.ok(s.value instanceof FallbackFailedError, name);
    assert.equal(s.value.cause, boom, name);
    assertIdle(cmd, 1);
  }
});

// Fixed: `then` is read twice (once to test for a thenable, once more by
// Promise.resolve). Promises/A+ 2.3.3.1 reads it once; a getter that answers
// differently the second time makes the call resolve with the thenable itself.
test("a thenable's `then` is read exactly once", async () => {
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    let reads = 0;
    const flip = {
      get then() {
        reads++;
        return reads === 1 ? (res) => res("resolved") : undefined;
      },
    };
    const cmd = new Command(() => flip, undefined, { clock, ...opts });
    const t = track(() => cmd.execute());
    await flush();
    assert.equal(reads, 1, `${mode}: then read once`);
    const s = settledOnce(t, mode);
    assert.deepEqual(s, { ok: true, value: "resolved" });
  }
});

// ------------------------------------------------------------------ proxies

test("proxies as run results, arguments and errors pass through untouched", async () => {
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    const touched = [];
    const target = { x: 1 };
    const proxy = new Proxy(target, {
      get(t, k, r) {
        touched.push(k);
        return Reflect.get(t, k, r);
      },
    });
    // As a value: `then` may be looked at, nothing else.
    const ok = new Command(() => proxy, undefined, { clock, ...opts });
    assert.equal(await ok.execute(), proxy);
    assert.ok(touched.every((k) => k === "then"), `${mode}: only then was read, got ${String(touched)}`);
    // As arguments, to run and fallback alike.
    let runGot;
    let fbGot;
    const args = new Command(
      (a, b) => {
        runGot = [a, b];
        throw proxy;
      },
      (e, a, b) => {
        fbGot = [e, a, b];
        return "fb";
      },
      { clock, ...opts },
    );
    assert.equal(await args.execute(proxy, target), "fb");
    assert.equal(runGot[0], proxy);
    assert.equal(runGot[1], target);
    assert.equal(fbGot[0], proxy, "the thrown proxy reaches the fallback");
    assert.equal(fbGot[1], proxy);
    // As a rejection, with no fallback: handed back unchanged.
    const rej = new Command(() => Promise.reject(proxy), undefined, { clock, ...opts });
    await assert.rejects(rej.execute(), (e) => e === proxy);
    assertIdle(ok, 1);
    assertIdle(args, 1);
    assertIdle(rej, 1);
  }
});

test("a run result whose `then` lookup throws (proxy trap) is the run failing with that error", async () => {
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    const trapErr = new Error("get trap");
    const proxy = new Proxy(
      {},
      {
        get(_t, k) {
          if (k === "then") throw trapErr;
          return undefined;
        },
      },
    );
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const [name, value, check] of [
      ["throwing get trap", proxy, (e) => e === trapErr],
      ["revoked proxy", revoked, (e) => e instanceof TypeError],
    ]) {
      const cmd = new Command(() => value, undefined, { clock, maxConcurrentRequests: 1, ...opts });
      const t = track(() => cmd.execute());
      await flush();
      const s = settledOnce(t, `${mode}: ${name}`);
      assert.equal(s.ok, false);
      assert.ok(check(s.value), `${mode}: ${name}`);
      assertIdle(cmd, 1);
    }
  }
});

// Fixed: the glue classifies the run's error with `error instanceof
// BadRequestError` outside any try: a proxy whose getPrototypeOf trap throws
// (or a revoked proxy) thrown by the run escapes execute() synchronously on a
// timed call, replaces the run's error on an untimed one, leaves an async
// rejection's call unsettled forever, and leaks the permit every time (also
// with an isBadRequest classifier, whose own try does not cover the
// instanceof check).
test("a run failing with a proxy whose getPrototypeOf trap throws still settles with that value", async () => {
  const hostile = new Proxy({}, {
    getPrototypeOf() {
      throw new Error("getPrototypeOf trap");
    },
  });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const runs = (v) => [
    ["sync throw", () => { throw v; }],
    ["async reject", () => Promise.reject(v)],
  ];
  for (const [mode, opts] of MODES) {
    for (const [vname, v] of [["trap", hostile], ["revoked", revoked]]) {
      for (const classifier of [undefined, () => false]) {
        for (const [rname, run] of runs(v)) {
          const what = `${mode} ${vname} ${rname}${classifier ? " +isBadRequest" : ""}`;
          const clock = new VirtualClock();
          const cmd = new Command(run, undefined, { clock, isBadRequest: classifier, ...opts });
          const t = track(() => cmd.execute());
          await flush();
          const s = settledOnce(t, what);
          assert.equal(s.ok, false, what);
          assert.equal(s.value, v, `${what}: the run's own rejection value`);
          assertIdle(cmd, 1);
        }
      }
    }
  }
});

// ------------------------------------------------------ odd rejection values

test("odd rejection values (undefined, null, frozen, symbols, functions) are handed back unchanged, timed or not", async () => {
  const frozen = Object.freeze({ frozen: true });
  const nullProto = Object.create(null);
  const fn = () => {};
  const values = [undefined, null, "str", 0, NaN, -0, 10n, Symbol("s"), frozen, nullProto, fn, Object.freeze(new Error("frozen err"))];
  for (const [mode, opts] of MODES) {
    for (const v of values) {
      for (const how of ["throw", "reject"]) {
        const clock = new VirtualClock();
        const run = how === "throw" ? () => { throw v; } : () => Promise.reject(v);
        const cmd = new Command(run, undefined, { clock, ...opts });
        const t = track(() => cmd.execute());
        await flush();
        const s = settledOnce(t, `${mode} ${how} ${label(v)}`);
        assert.equal(s.ok, false);
        assert.ok(Object.is(s.value, v), `${mode} ${how} ${label(v)}: unchanged`);
        assert.equal(assertIdle(cmd, 1).cumulative.FAILURE, 1);
        // The fallback sees the same value and its own odd rejection becomes the cause.
        let seen = "unset";
        const fb = new Command(run, (e) => {
          seen = e;
          return Promise.reject(v);
        }, { clock, ...opts });
        const e = await fb.execute().then(() => assert.fail("rejects"), (x) => x);
        assert.ok(Object.is(seen, v));
        assert.ok(e instanceof FallbackFailedError);
        assert.ok(e instanceof HystrixError);
        assert.equal(e.code, 7);
        assert.ok(Object.is(e.cause, v));
        assert.ok(Object.is(e.original, v));
        assertIdle(fb, 1);
      }
    }
  }
});

test("errors whose message, stack and name getters throw are never read, only passed on", async () => {
  const hostile = () =>
    Object.create(Error.prototype, {
      message: { get() { throw new Error("message getter"); } },
      stack: { get() { throw new Error("stack getter"); } },
      name: { get() { throw new Error("name getter"); } },
      code: { get() { throw new Error("code getter"); } },
    });
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    const e1 = hostile();
    const plain = new Command(() => { throw e1; }, undefined, { clock, ...opts });
    await assert.rejects(plain.execute(), (x) => x === e1);
    const e2 = hostile();
    const e3 = hostile();
    const both = new Command(() => Promise.reject(e2), () => { throw e3; }, { clock, ...opts });
    const got = await both.execute().then(() => assert.fail("rejects"), (x) => x);
    assert.ok(got instanceof FallbackFailedError);
    assert.equal(got.cause, e3);
    assert.equal(got.original, e2);
    const classified = new Command(() => Promise.reject(hostile()), () => "fb", { clock, isBadRequest: (e) => e.code === 5, ...opts });
    assert.equal(await classified.execute(), "fb", "a classifier that throws on the error: a failure");
    assertIdle(plain, 1);
    assertIdle(both, 1);
    assertIdle(classified, 1);
  }
});

// -------------------------------------------------------------- classifiers

test("isBadRequest's answer is taken by truthiness; it sees the run's own error and nothing else", async () => {
  const clock = new VirtualClock();
  const truthy = [true, 1, "yes", {}, [], Symbol("s"), () => {}, -1n];
  const falsy = [false, 0, "", null, undefined, NaN, 0n];
  for (const ret of [...truthy, ...falsy]) {
    const bad = truthy.includes(ret);
    const err = new Error("x");
    const seen = [];
    const cmd = new Command(() => { throw err; }, () => "fb", {
      clock,
      isBadRequest(e) {
        seen.push(e);
        return ret;
      },
    });
    const t = track(() => cmd.execute());
    await flush();
    const s = settledOnce(t, String(ret));
    if (bad) assert.deepEqual(s, { ok: false, value: err }, `${String(ret)}: a bad request hands back the error`);
    else assert.deepEqual(s, { ok: true, value: "fb" }, `${String(ret)}: a failure falls back`);
    assert.deepEqual(seen, [err]);
    const c = assertIdle(cmd, 1).cumulative;
    assert.equal(c.BAD_REQUEST, bad ? 1 : 0);
    assert.equal(c.FAILURE, bad ? 0 : 1);
  }
  // Never consulted for successes, timeouts, or late results after a timeout.
  const seen = [];
  const cmd = new Command((ms) => clock.sleep(ms).then(() => Promise.reject(new Error("late"))), (e) => e.code, {
    clock,
    timeoutMs: 10,
    isBadRequest: (e) => (seen.push(e), true),
  });
  const p = cmd.execute(30);
  await clock.advance(30);
  assert.equal(await p, 2, "a timeout is never a bad request");
  await flush();
  assert.deepEqual(seen, []);
  assertIdle(cmd, 1);
});

test("isBadRequest may re-enter the command (configure, snapshot, execute)", async () => {
  const clock = new VirtualClock();
  const nested = [];
  let calls = 0;
  const cmd = new Command((x) => { if (x === "fail") throw new Error("x"); return x; }, () => "fb", {
    clock,
    isBadRequest: () => {
      calls++;
      cmd.snapshot();
      nested.push(cmd.execute("nested"));
      cmd.configure({ forceOpen: true });
      return false;
    },
  });
  assert.equal(await cmd.execute("fail"), "fb");
  assert.deepEqual(await Promise.all(nested), ["nested"]);
  assert.equal(await cmd.execute("ok"), "fb", "forceOpen set from inside the classifier applies");
  assert.equal(calls, 1);
  const s = assertIdle(cmd, 3);
  assert.equal(s.state, "open");
});

// ---------------------------------------------------------------- listeners

test("listeners throwing hostile values (revoked proxies, errors with throwing getters) break nothing", async () => {
  const clock = new VirtualClock();
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const cmd = new Command((x) => { if (x) throw new Error("x"); return "ok"; }, () => "fb", { clock });
  const got = [];
  cmd.on("event", () => { throw proxy; });
  cmd.on("event", () => { throw Object.create(Error.prototype, { message: { get() { throw new Error("m"); } } }); });
  cmd.on("event", () => { throw undefined; });
  cmd.on("stateChange", () => { throw proxy; });
  cmd.on("event", (e) => got.push(e));
  const heard = [];
  cmd.on("error", (e) => heard.push(e));
  assert.equal(await cmd.execute(false), "ok");
  assert.equal(await cmd.execute(true), "fb");
  cmd.configure({ forceOpen: true });
  assert.equal(await cmd.execute(false), "fb");
  assert.deepEqual(got, ["SUCCESS", "FAILURE", "FALLBACK_SUCCESS", "SHORT_CIRCUITED", "FALLBACK_SUCCESS"]);
  // Three throwing event listeners on five events (forceOpen is no transition).
  assert.equal(heard.length, 15);
  assert.equal(heard.filter((e) => e === proxy).length, 5, "the thrown values are handed on unchanged");
  assert.equal(heard.filter((e) => e === undefined).length, 5);
  assert.equal(assertIdle(cmd, 3).listenerPanics, 15);
});

test("listeners that re-enter (configure, snapshot, execute, subscribe, unsubscribe) keep the books straight", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((x) => { if (x === "fail") throw new Error("x"); return x; }, (e, x) => `fb:${x}`, {
    clock,
    requestVolumeThreshold: 2,
    errorThresholdPercentage: 50,
    healthSnapshotIntervalMs: 0,
    sleepWindowMs: 100,
  });
  const log = [];
  const inner = [];
  let nestedOnce = false;
  cmd.on("event", (e) => {
    // Same settings each time: a no-op after the first.
    cmd.configure({ timeoutMs: 500 });
    log.push(`${e}:${cmd.snapshot().state}`);
    if (!nestedOnce && e === "FAILURE") {
      nestedOnce = true;
      inner.push(cmd.execute("inner"));
    }
  });
  let offs = [];
  cmd.on("stateChange", (from, to) => {
    log.push(`${from}->${to}:${cmd.snapshot().state}`);
    inner.push(cmd.execute("from-state-change"));
    // Subscribe and unsubscribe while being called.
    const off = cmd.on("event", () => {});
    offs.push(off);
    assert.equal(off(), true);
    assert.equal(off(), false);
  });
  for (const x of ["fail", "fail", "fail", "x"]) await cmd.execute(x);
  await clock.advance(100);
  assert.equal(await cmd.execute("probe"), "probe");
  const innerValues = await Promise.all(inner);
  assert.ok(innerValues.includes("inner"));
  assert.ok(innerValues.length >= 3);
  assert.ok(log.includes("closed->open:open"));
  assert.ok(log.includes("open->half_open:half_open"));
  assert.ok(log.includes("half_open->closed:closed"));
  assert.equal(offs.length, 3);
  assertIdle(cmd, 5 + innerValues.length);
});

test("a listener removing itself, or all others, mid-notification leaves later calls working", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => "ok", undefined, { clock });
  const offs = [];
  const got = [];
  for (let i = 0; i < 4; i++) {
    offs.push(cmd.on("event", (e) => {
      got.push(i);
      for (const off of offs) off();
    }));
  }
  assert.equal(await cmd.execute(), "ok");
  const first = got.length;
  assert.ok(first >= 1);
  assert.equal(await cmd.execute(), "ok");
  assert.equal(got.length, first, "all removed: nobody is called again");
  for (const off of offs) assert.equal(off(), false);
  assertIdle(cmd, 2);
});

// ------------------------------------------------------ calls and arguments

test("execute with 0..6 arguments: run gets them in order (after its context with withContext); fallback gets the error then them", async () => {
  for (const [mode, modeOpts] of MODES) {
    for (const withContext of [false, true]) for (let n = 0; n <= 6; n++) {
      const opts = { ...modeOpts, withContext };
      const c = withContext ? 1 : 0;
      const clock = new VirtualClock();
      const args = Array.from({ length: n }, (_, i) => (i % 2 ? { i } : i === 2 ? undefined : `a${i}`));
      let runGot;
      let fbGot;
      let runThis;
      const err = new Error("x");
      const cmd = new Command(
        function (...a) {
          runThis = this;
          runGot = a;
          throw err;
        },
        (...a) => {
          fbGot = a;
          return "fb";
        },
        { clock, ...opts },
      );
      assert.equal(await cmd.execute(...args), "fb");
      assert.equal(runGot.length, n + c, `${mode} n=${n}: run arity`);
      for (let i = 0; i < n; i++) assert.equal(runGot[i + c], args[i], `${mode} n=${n}: run arg ${i}`);
      if (withContext) assert.ok(runGot[0].signal instanceof AbortSignal, `${mode} n=${n}: context first`);
      assert.equal(runThis, cmd);
      assert.equal(fbGot.length, n + 1, `${mode} n=${n}: fallback arity`);
      assert.equal(fbGot[0], err);
      for (let i = 0; i < n; i++) assert.equal(fbGot[i + 1], args[i], `${mode} n=${n}: fallback arg ${i}`);
      // An explicit trailing undefined is an argument too.
      let got;
      const u = new Command((...a) => (got = a).length, undefined, { clock, ...opts });
      assert.equal(await u.execute(...args, undefined), n + 1 + c);
      assert.equal(got[n + c], undefined);
      assertIdle(cmd, 1);
    }
  }
});

test("a run re-entering execute synchronously is bounded by the bulkhead; everything settles", async () => {
  for (const [mode, opts] of MODES) {
    const clock = new VirtualClock();
    const inner = [];
    const cmd = new Command(
      (n) => {
        if (n > 0) inner.push(cmd.execute(n - 1).then((v) => `ok:${v}`, (e) => `err:${e.code}`));
        return n;
      },
      undefined,
      { clock, maxConcurrentRequests: 3, ...opts },
    );
    assert.equal(await cmd.execute(5), 5);
    assert.deepEqual(await Promise.all(inner), ["err:4", "ok:3", "ok:4"], mode);
    const s = assertIdle(cmd, 4);
    assert.equal(s.cumulative.SEMAPHORE_REJECTED, 1);
    assert.equal(s.rollingMaxConcurrent, 3);
  }
});

test("a run that changes settings mid-call (forceOpen, smaller bulkhead) still settles and frees everything", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    async (x) => {
      if (x === "ok") cmd.configure({ forceOpen: true, maxConcurrentRequests: 1 });
      await clock.sleep(5);
      if (x === "fail") throw new Error("x");
      return x;
    },
    (e) => `fb:${e.code}`,
    { clock, maxConcurrentRequests: 4 },
  );
  const ps = [cmd.execute("ok"), cmd.execute("fail")];
  await clock.advance(5);
  assert.deepEqual(await Promise.all(ps), ["ok", "fb:3"], "the second call was already short-circuited");
  cmd.configure({ forceOpen: false });
  const q = [cmd.execute("a"), cmd.execute("b")];
  await clock.advance(5);
  assert.deepEqual(await Promise.all(q), ["a", "fb:4"], "bulkhead of 1 applies");
  assertIdle(cmd, 4);
});

// ---------------------------------------------------- configure in flight

test("configure while calls are in flight: smaller limits apply to new calls, in-flight ones finish, counts stay right", async () => {
  const clock = new VirtualClock();
  const releases = [];
  const cmd = new Command(
    (ms) => clock.sleep(ms).then(() => {
      throw new Error("x");
    }),
    () => new Promise((r) => releases.push(r)),
    { clock, maxConcurrentRequests: 5, fallbackMaxConcurrentRequests: 5, timeoutMs: 100 },
  );
  const ps = [cmd.execute(20), cmd.execute(20), cmd.execute(20)].map((p) => p.then((v) => v, (e) => e.code));
  cmd.configure({ maxConcurrentRequests: 1, fallbackMaxConcurrentRequests: 1, timeoutMs: 10 });
  assert.equal(cmd.snapshot().concurrent, 3);
  const refused = cmd.execute(5).catch((e) => e);
  await clock.advance(0);
  // Refused by the new bulkhead of 1; its fallback takes the one fallback slot.
  assert.equal(cmd.snapshot().cumulative.SEMAPHORE_REJECTED, 1);
  assert.equal(cmd.snapshot().fallbackConcurrent, 1);
  await clock.advance(20);
  await flush();
  const s = cmd.snapshot();
  assert.equal(s.concurrent, 0, "the in-flight runs kept their 100 ms deadline and failed at 20 ms");
  assert.equal(s.cumulative.TIMEOUT, 0);
  assert.equal(s.fallbackConcurrent, 1, "only one fallback slot now");
  assert.equal(s.cumulative.FALLBACK_REJECTION, 3);
  for (const r of releases) r("fb");
  const out = await Promise.all(ps);
  assert.deepEqual(out, [6, 6, 6]);
  assert.equal(await refused, "fb");
  assertIdle(cmd, 4);
});

test("timeoutEnabled switched off while a timed call is in flight: the call still settles once", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(({ signal }, ms) => clock.sleep(ms, signal), (e) => e.code, { clock, timeoutMs: 50, withContext: true });
  const t = track(() => cmd.execute(200));
  cmd.configure({ timeoutEnabled: false });
  await clock.advance(300);
  await flush();
  const s = settledOnce(t);
  assert.ok(s.ok);
  assert.ok([2, undefined].includes(s.value));
  assertIdle(cmd, 1);
});

// ------------------------------------------------------- runs and signals

test("a run that reads its signal only after the timeout gets it aborted; one that ignores it holds its permit until done", async () => {
  {
    const clock = new VirtualClock();
    let ctxLater;
    const cmd = new Command(
      (ctx) => {
        ctxLater = ctx;
        return clock.sleep(100);
      },
      (e) => e,
      { clock, timeoutMs: 10, maxConcurrentRequests: 1, withContext: true },
    );
    const t = track(() => cmd.execute());
    await clock.advance(10);
    await flush();
    const s = settledOnce(t);
    assert.ok(s.value instanceof TimeoutError);
    const signal = ctxLater.signal;
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, s.value);
    assert.equal(ctxLater.signal, signal, "the same signal on every read");
    assert.equal(cmd.snapshot().concurrent, 1);
    // Reading the signal late cannot stop a run that never listens: it still finishes at 100.
    await clock.advance(90);
    await flush();
    assertIdle(cmd, 1);
  }
});

// Fixed: the run's context used to be the glue's internal per-call state
// object: `{ ...ctx }` copied internal fields, writing a field such as
// `ctx.id` finished another call, and freezing it made the timeout throw out
// of clock.advance(). It is now a separate object holding the call in a
// private field. `signal` stays a lazy getter (an AbortController costs ~3 µs
// here, too much to make one per call eagerly), so a spread copies nothing;
// the .d.ts says to destructure or read it instead.
test("the run's context shows nothing internal, and its signal is read through it", async () => {
  const clock = new VirtualClock();
  let spread;
  let signal;
  const cmd = new Command(
    (ctx) => {
      spread = { ...ctx };
      ({ signal } = ctx);
      return clock.sleep(50);
    },
    () => "fb",
    { clock, timeoutMs: 10, withContext: true },
  );
  const p = cmd.execute();
  await clock.advance(10);
  assert.equal(await p, "fb");
  assert.deepEqual(Object.keys(spread), []);
  assert.ok(signal instanceof AbortSignal);
  assert.equal(signal.aborted, true);
  await clock.advance(40);
  await flush();
  assertIdle(cmd, 1);
});

test("a run writing to its context cannot touch another call", async () => {
  const clock = new VirtualClock();
  let resolveB;
  const cmd = new Command(
    (ctx, which) => {
      if (which === "b") return new Promise((r) => (resolveB = r));
      ctx.id = 0;
      return clock.sleep(5).then(() => "a");
    },
    undefined,
    { clock, timeoutMs: 1000, withContext: true },
  );
  const b = track(() => cmd.execute("b"));
  const a = cmd.execute("a");
  await clock.advance(5);
  assert.equal(await a, "a");
  assert.equal(b.settlements.length, 0, "call b is untouched");
  assert.equal(cmd.snapshot().concurrent, 1);
  resolveB("b");
  await flush();
  assert.deepEqual(settledOnce(b, "b"), { ok: true, value: "b" });
  assertIdle(cmd, 2);
});

test("a run freezing its context does not stop its timeout", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((ctx) => (Object.freeze(ctx), clock.sleep(50)), (e) => e.code, { clock, timeoutMs: 10, withContext: true });
  const t = track(() => cmd.execute());
  let advanceError;
  await clock.advance(10).catch((e) => (advanceError = e));
  await flush();
  assert.equal(advanceError, undefined, "clock.advance() does not throw");
  assert.deepEqual(settledOnce(t), { ok: true, value: 2 });
  await clock.advance(40);
  assertIdle(cmd, 1);
});

// ------------------------------------------------------------ fallbacks

test("fallbacks that throw odd values, return odd thenables, or re-enter: the slot always comes back", async () => {
  const clock = new VirtualClock();
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const fallbacks = [
    ["throws undefined", () => { throw undefined; }, false],
    ["throws a revoked proxy", () => { throw revoked; }, false],
    ["returns a revoked proxy", () => revoked, false],
    ["thenable resolving twice", () => ({ then: (r) => { r(1); r(2); } }), true],
    ["thenable rejecting after resolving", () => ({ then: (r, j) => { r(1); j(2); } }), true],
    ["re-enters execute", (e, depth) => (depth > 0 ? cmd.execute(depth - 1) : "bottom"), true],
  ];
  let current;
  const cmd = new Command(() => { throw new Error("run"); }, (...a) => current(...a), { clock, fallbackMaxConcurrentRequests: 10 });
  let calls = 0;
  for (const [name, fb, ok] of fallbacks) {
    current = fb;
    const t = track(() => cmd.execute(3));
    calls += name === "re-enters execute" ? 4 : 1;
    await flush();
    const s = settledOnce(t, name);
    assert.equal(s.ok, ok, name);
    if (!ok) {
      assert.ok(s.value instanceof FallbackFailedError, name);
      assert.equal(s.value.code, 7);
    }
    assertIdle(cmd, calls);
  }
});

// ------------------------------------------------------- hostile host clocks

/**
 * A host clock over a VirtualClock whose now(), arm() or cancel() throw
 * while `ctl` says so (one error object, so tests can check it is the one
 * the caller gets).
 */
function hostileClock() {
  const clock = new VirtualClock();
  const ctl = { now: false, arm: false, cancel: false, error: new Error("the clock broke"), lateFires: [] };
  const hostile = {
    now() {
      if (ctl.now) throw ctl.error;
      return clock.now();
    },
    arm(due, fn) {
      if (ctl.arm) throw ctl.error;
      const t = clock.arm(due, fn);
      return {
        cancel() {
          if (ctl.cancel) {
            // The cancel failed: the timer stays armed and will fire.
            ctl.lateFires.push(due);
            throw ctl.error;
          }
          t.cancel();
        },
      };
    },
  };
  return { clock, hostile, ctl };
}

test("a clock whose now() throws at admission: the call rejects with that error, nothing is held", async () => {
  const { hostile, ctl } = hostileClock();
  let runs = 0;
  const cmd = new Command(() => ++runs, () => "fb", { clock: hostile, maxConcurrentRequests: 1 });
  ctl.now = true;
  const t = track(() => cmd.execute());
  await flush();
  assert.equal(settledOnce(t).value, ctl.error);
  ctl.now = false;
  assert.equal(runs, 0);
  assert.equal(await cmd.execute(), 1);
  assertIdle(cmd, 1);
});

test("a clock whose arm() throws: the run never starts, its permit comes back; a bulkhead of 1 keeps admitting", async () => {
  // Fixed: the permit leaked (a bulkhead of N then rejected forever) and execute() threw synchronously.
  const { hostile, ctl } = hostileClock();
  let runs = 0;
  const cmd = new Command(() => ++runs, () => "fb", { clock: hostile, maxConcurrentRequests: 1 });
  ctl.arm = true;
  for (let i = 0; i < 3; i++) {
    const t = track(() => cmd.execute());
    await flush();
    assert.equal(settledOnce(t, `call ${i}`).value, ctl.error);
  }
  assert.equal(runs, 0);
  assertIdle(cmd, 0);
  ctl.arm = false;
  assert.equal(await cmd.execute(), 1, "admitted, not RejectedError");
  assertIdle(cmd, 1);
});

test("a half-open probe whose clock cannot arm frees its probe slot: the next probe closes the circuit", async () => {
  // Fixed: the probe stayed admitted forever, so the circuit stayed half-open, short-circuiting everything.
  const { clock, hostile, ctl } = hostileClock();
  let fail = true;
  const cmd = new Command(
    () => {
      if (fail) throw new Error("down");
      return "up";
    },
    null,
    { clock: hostile, requestVolumeThreshold: 1, healthSnapshotIntervalMs: 0, sleepWindowMs: 100 },
  );
  await assert.rejects(cmd.execute(), /down/);
  assert.equal(cmd.snapshot().state, "open");
  await clock.advance(100);
  fail = false;
  ctl.arm = true;
  await assert.rejects(cmd.execute(), (e) => e === ctl.error);
  assert.equal(cmd.snapshot().state, "half_open");
  ctl.arm = false;
  assert.equal(await cmd.execute(), "up");
  assert.equal(cmd.snapshot().state, "closed");
  assertIdle(cmd);
});

test("a clock whose now() throws when the run ends: the outcome is recorded, the permit comes back, the caller gets the error once", async () => {
  // Fixed: the caller's promise never settled and an unhandled rejection crashed Node.
  const { hostile, ctl } = hostileClock();
  for (const timeoutEnabled of [true, false]) {
    for (const shape of ["sync", "async", "fails"]) {
      const cmd = new Command(
        () => {
          ctl.now = true;
          if (shape === "fails") throw new Error("run failed");
          return shape === "async" ? Promise.resolve("v") : "v";
        },
        shape === "fails" ? () => "fb" : null,
        { clock: hostile, timeoutEnabled, maxConcurrentRequests: 1 },
      );
      const t = track(() => cmd.execute());
      await flush();
      ctl.now = false;
      const what = `${shape}, timeoutEnabled ${timeoutEnabled}`;
      assert.equal(settledOnce(t, what).value, ctl.error, what);
      const s = assertIdle(cmd, 1);
      assert.equal(s.cumulative[shape === "fails" ? "FALLBACK_SUCCESS" : "SUCCESS"], 1, what);
    }
  }
});

test("a clock whose now() throws when the timeout fires: TIMEOUT at the deadline, fallback, permit back when the run stops", async () => {
  const { clock, hostile, ctl } = hostileClock();
  let finish;
  const cmd = new Command(() => new Promise((r) => (finish = r)), (e) => `fb:${e.kind}`, { clock: hostile, timeoutMs: 10 });
  const t = track(() => cmd.execute());
  ctl.now = true;
  await clock.advance(10);
  await flush();
  ctl.now = false;
  assert.equal(settledOnce(t).value, ctl.error);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.TIMEOUT, 1);
  assert.equal(s.cumulative.FALLBACK_SUCCESS, 1);
  assert.equal(s.concurrent, 1, "the run has not stopped: it keeps its permit (SPEC §3.4)");
  finish("late");
  await flush();
  assertIdle(cmd, 1);
});

test("a clock whose now() throws when a fallback ends (refused or after a failure, sync or async): the slot comes back, the caller gets the error", async () => {
  const { hostile, ctl } = hostileClock();
  for (const refused of [true, false]) {
    for (const asyncFallback of [false, true]) {
      let breakClock = true;
      const cmd = new Command(
        () => {
          throw new Error("run failed");
        },
        () => {
          ctl.now = breakClock;
          return asyncFallback ? Promise.resolve("fb") : "fb";
        },
        { clock: hostile, forceOpen: refused, fallbackMaxConcurrentRequests: 1 },
      );
      const what = `${refused ? "refused" : "after a failure"}, ${asyncFallback ? "async" : "sync"} fallback`;
      const t = track(() => cmd.execute());
      await flush();
      ctl.now = breakClock = false;
      assert.equal(settledOnce(t, what).value, ctl.error, what);
      assertIdle(cmd, 1);
      assert.equal(await cmd.execute(), "fb", `${what}: the one fallback slot is free again`);
      assertIdle(cmd, 2);
    }
  }
});

test("a timer whose cancel() throws: the call ends with that error, and the timer firing later changes nothing", async () => {
  const { clock, hostile, ctl } = hostileClock();
  const name = `hostile-cancel-${process.pid}`;
  const cmd = new Command((x) => x, () => "fb", { name, clock: hostile, timeoutMs: 10 });
  ctl.cancel = true;
  const t = track(() => cmd.execute("v"));
  await flush();
  ctl.cancel = false;
  assert.equal(settledOnce(t).value, ctl.error);
  assert.deepEqual(ctl.lateFires, [10]);
  // A slow call on the same circuit reuses the execution id; the stale timer (due 10) must not time it out.
  let finish;
  h.configure(name, { timeoutMs: 50 });
  const slow = new Command(() => new Promise((r) => (finish = r)), () => "fb", { name });
  const again = track(() => slow.execute());
  await clock.advance(10);
  await flush();
  assert.equal(again.settlements.length, 0, "still running after the stale timer fired");
  finish("w");
  await flush();
  assert.equal(settledOnce(again).value, "w");
  const s = assertIdle(cmd, 2);
  assert.equal(s.cumulative.SUCCESS, 2);
  assert.equal(s.cumulative.TIMEOUT, 0);
  h.removeCommand(name);
});

test("a listener that re-enters execute() from every event is cut off before the stack overflows; nothing leaks", async () => {
  // Fixed: the RangeError unwound through wasm frames and left `concurrent` leaked.
  const clock = new VirtualClock();
  const cmd = new Command(() => "ok", null, { clock, maxConcurrentRequests: 10_000 });
  const calls = [];
  cmd.on("event", () => {
    calls.push(track(() => cmd.execute()));
  });
  const first = track(() => cmd.execute());
  await flush();
  assert.equal(settledOnce(first).value, "ok");
  const ends = calls.map((t, i) => settledOnce(t, `nested call ${i}`));
  const refused = ends.filter((e) => !e.ok);
  assert.ok(calls.length >= 32, `${calls.length} nested calls`);
  assert.equal(refused.length, 1, "only the deepest call is refused");
  assert.ok(refused[0].value instanceof RangeError);
  assert.match(refused[0].value.message, /commands re-entered \d+ deep .* refused before admission/);
  assert.ok(ends.filter((e) => e.ok).every((e) => e.value === "ok"));
  assertIdle(cmd, calls.length);
});

test("a run or fallback re-entering execute() without end is refused at a bounded depth; nothing leaks", async () => {
  // Fixed: with a large bulkhead the stack overflowed inside wasm, leaving permits held.
  const clock = new VirtualClock();
  for (const timeoutEnabled of [true, false]) {
    const settlements = [];
    const runCmd = new Command(
      () => {
        const t = track(() => runCmd.execute());
        settlements.push(t);
        return "ran";
      },
      null,
      { clock, timeoutEnabled, maxConcurrentRequests: 100_000 },
    );
    const outer = track(() => runCmd.execute());
    await flush();
    assert.equal(settledOnce(outer).value, "ran");
    const ends = settlements.map((t, i) => settledOnce(t, `nested run call ${i}`));
    assert.equal(ends.filter((e) => !e.ok && e.value instanceof RangeError).length, 1, `timeoutEnabled ${timeoutEnabled}`);
    assertIdle(runCmd, settlements.length);
  }
  // A refused call's fallback that calls execute() again: each is refused, each falls back.
  const fbCalls = [];
  const fbCmd = new Command(() => "run", () => {
    fbCalls.push(track(() => fbCmd.execute()));
    return "fb";
  }, { clock, forceOpen: true, fallbackMaxConcurrentRequests: 100_000 });
  const outer = track(() => fbCmd.execute());
  await flush();
  assert.equal(settledOnce(outer).value, "fb");
  const ends = fbCalls.map((t, i) => settledOnce(t, `nested fallback call ${i}`));
  assert.equal(ends.filter((e) => !e.ok && e.value instanceof RangeError).length, 1);
  assertIdle(fbCmd, fbCalls.length);
});
