// Values from run and fallback; what run and fallback receive; plain values,
// promises and thenables; synchronous throws.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock } = h;

/** Records every event of `cmd` as "EVENT@ms". */
function record(cmd) {
  const seen = [];
  cmd.on("event", (event, at) => seen.push(`${event}@${at}`));
  return seen;
}

test("run's plain value is the call's value", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => 42, null, { clock, healthSnapshotIntervalMs: 0 });
  const seen = record(cmd);
  assert.equal(await cmd.execute(), 42);
  assert.deepEqual(seen, ["SUCCESS@0"]);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.SUCCESS, 1);
  assert.equal(s.health.total, 1);
  assert.equal(s.concurrent, 0);
});

test("run returning undefined, null, 0, false and objects resolves with exactly that", async () => {
  const clock = new VirtualClock();
  const obj = { a: 1 };
  for (const v of [undefined, null, 0, false, "", obj]) {
    const cmd = new Command(() => v, () => "fallback", { clock });
    assert.equal(await cmd.execute(), v);
  }
});

test("run's promise value is the call's value (settling later on the virtual clock)", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((x) => clock.sleep(30).then(() => x * 2), null, { clock });
  const seen = record(cmd);
  let value;
  const p = cmd.execute(21).then((v) => (value = v));
  await clock.advance(29);
  assert.equal(value, undefined);
  assert.equal(cmd.snapshot().concurrent, 1);
  await clock.advance(1);
  await p;
  assert.equal(value, 42);
  assert.deepEqual(seen, ["SUCCESS@30"]);
  assert.equal(cmd.snapshot().concurrent, 0);
});

test("run returning a custom thenable (fulfilled and rejected)", async () => {
  const clock = new VirtualClock();
  let thenCalls = 0;
  const ok = {
    then(resolve, _reject) {
      thenCalls++;
      resolve("from thenable");
    },
  };
  const cmd = new Command(() => ok, null, { clock });
  assert.equal(await cmd.execute(), "from thenable");
  assert.ok(thenCalls >= 1);
  assert.equal(cmd.snapshot().cumulative.SUCCESS, 1);

  const boom = new Error("thenable rejected");
  const bad = { then: (_resolve, reject) => setImmediate(() => reject(boom)) };
  let got;
  const cmd2 = new Command(() => bad, (e) => ((got = e), "fb"), { clock });
  const seen = record(cmd2);
  assert.equal(await cmd2.execute(), "fb");
  assert.equal(got, boom);
  assert.deepEqual(seen, ["FAILURE@0", "FALLBACK_SUCCESS@0"]);
});

test("a thenable whose then throws counts as a failure", async () => {
  const clock = new VirtualClock();
  const boom = new Error("then threw");
  const weird = {
    then() {
      throw boom;
    },
  };
  const cmd = new Command(() => weird, null, { clock });
  await assert.rejects(cmd.execute(), (e) => e === boom);
  assert.equal(cmd.snapshot().cumulative.FAILURE, 1);
});

test("run receives exactly the caller's arguments and fallback receives (error, ...args)", async () => {
  const clock = new VirtualClock();
  let runArgs;
  let fbArgs;
  const err = new Error("nope");
  const cmd = new Command(
    (...a) => {
      runArgs = a;
      throw err;
    },
    (...a) => {
      fbArgs = a;
      return "fb";
    },
    { clock },
  );
  const obj = { k: 1 };
  assert.equal(await cmd.execute(1, "two", obj), "fb");
  assert.equal(runArgs.length, 3);
  assert.deepEqual(runArgs, [1, "two", obj]);
  assert.equal(runArgs[2], obj);
  // The fallback gets no context, only the error and the arguments.
  assert.equal(fbArgs.length, 4);
  assert.equal(fbArgs[0], err);
  assert.deepEqual(fbArgs.slice(1), [1, "two", obj]);
  assert.equal(fbArgs[3], obj);
});

test("a run with default or optional trailing parameters gets exactly what the caller passed", async () => {
  const clock = new VirtualClock();
  const scale = new Command((b, m = 10) => b * m, null, { clock });
  assert.equal(await scale.execute(2), 20);
  assert.equal(await scale.execute(2, 3), 6);
  // `arguments.length` and rest parameters see the caller's count, on every path.
  const count = new Command(function () {
    return arguments.length;
  }, null, { clock, timeoutEnabled: false });
  assert.deepEqual(await Promise.all([count.execute(), count.execute(1), count.execute(1, 2, 3, 4, 5)]), [0, 1, 5]);
  const timed = new Command((...rest) => Promise.resolve(rest), null, { clock, timeoutMs: 100 });
  assert.deepEqual(await timed.execute("a", undefined), ["a", undefined]);
  const options = new Command((url, { method = "GET" } = {}) => `${method} ${url}`, null, { clock });
  assert.equal(await options.execute("/x"), "GET /x");
});

test("withContext: true: the run receives its attempt's ({ attempt, signal }) first, then the caller's arguments", async () => {
  const clock = new VirtualClock();
  let runArgs;
  let fbArgs;
  const cmd = new Command(
    (...a) => {
      runArgs = a;
      throw new Error("nope");
    },
    (...a) => {
      fbArgs = a;
      return "fb";
    },
    { clock, withContext: true },
  );
  assert.equal(await cmd.execute(1, "two"), "fb");
  assert.equal(runArgs.length, 3);
  const [ctx, ...rest] = runArgs;
  assert.equal(ctx.attempt, 1);
  assert.ok(ctx.signal instanceof AbortSignal);
  assert.equal(ctx.signal.aborted, false);
  assert.deepEqual(rest, [1, "two"]);
  // The fallback never gets the context.
  assert.equal(fbArgs.length, 3);
  assert.deepEqual(fbArgs.slice(1), [1, "two"]);
  // Defaults after the context work as well.
  const scale = new Command((_ctx, b, m = 10) => b * m, null, { clock, withContext: true });
  assert.equal(await scale.execute(2), 20);
});

test("run with no arguments receives none; with withContext, only its context", async () => {
  const clock = new VirtualClock();
  let n;
  const plain = new Command((...a) => ((n = a.length), "plain"), null, { clock });
  assert.equal(await plain.execute(), "plain");
  assert.equal(n, 0);
  const cmd = new Command((...a) => ((n = a.length), a[0].signal.aborted), null, { clock, withContext: true });
  assert.equal(await cmd.execute(), false);
  assert.equal(n, 1);
});

test("withContext must be a boolean, and is a command option only (not a circuit setting)", async () => {
  for (const bad of [1, "true", null, {}]) {
    assert.throws(
      () => new Command(() => 1, null, { withContext: bad }),
      (e) => e instanceof TypeError && /options\.withContext must be true or false/.test(e.message),
      `withContext: ${String(bad)}`,
    );
  }
  assert.deepEqual(await new Command((...a) => a, null, { withContext: false }).execute(7), [7]);
  const named = new Command(() => 1, null, { name: "values-withContext", withContext: true });
  // The circuit's settings never see it: configure() refuses it like any unknown option.
  assert.throws(() => named.configure({ withContext: true }), (e) => e.key === "withContext");
  assert.throws(() => h.configure("values-withContext", { withContext: true }), (e) => e.key === "withContext");
  h.removeCommand("values-withContext");
});

test("a run that throws synchronously counts as a failure and falls back", async () => {
  const clock = new VirtualClock();
  const err = new TypeError("sync");
  let fbErr;
  const cmd = new Command(
    () => {
      throw err;
    },
    (e, x) => {
      fbErr = e;
      return `fallback ${x}`;
    },
    { clock, healthSnapshotIntervalMs: 0 },
  );
  const seen = record(cmd);
  const p = cmd.execute(7);
  assert.equal(typeof p.then, "function", "execute returns a promise, never throws");
  assert.equal(await p, "fallback 7");
  assert.equal(fbErr, err);
  assert.deepEqual(seen, ["FAILURE@0", "FALLBACK_SUCCESS@0"]);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.FAILURE, 1);
  assert.equal(s.cumulative.FALLBACK_SUCCESS, 1);
  assert.deepEqual(s.health, { total: 1, errors: 1, errorPercentage: 100 });
  assert.equal(s.concurrent, 0);
});

test("a run that rejects asynchronously falls back", async () => {
  const clock = new VirtualClock();
  const err = new Error("async");
  const cmd = new Command(
    () => clock.sleep(10).then(() => Promise.reject(err)),
    async (e) => (e === err ? "same error" : "other"),
    { clock },
  );
  const seen = record(cmd);
  const p = cmd.execute();
  await clock.advance(10);
  assert.equal(await p, "same error");
  assert.deepEqual(seen, ["FAILURE@10", "FALLBACK_SUCCESS@10"]);
});

test("fallback may return a plain value, a promise or a thenable", async () => {
  const clock = new VirtualClock();
  const fail = () => {
    throw new Error("x");
  };
  assert.equal(await new Command(fail, () => "plain", { clock }).execute(), "plain");
  assert.equal(await new Command(fail, async () => "promise", { clock }).execute(), "promise");
  assert.equal(await new Command(fail, () => ({ then: (r) => r("thenable") }), { clock }).execute(), "thenable");

  const slow = new Command(fail, () => clock.sleep(25).then(() => "slow"), { clock });
  const seen = record(slow);
  const p = slow.execute();
  await clock.advance(0);
  assert.equal(slow.snapshot().fallbackConcurrent, 1);
  await clock.advance(25);
  assert.equal(await p, "slow");
  assert.deepEqual(seen, ["FAILURE@0", "FALLBACK_SUCCESS@25"]);
  assert.equal(slow.snapshot().fallbackConcurrent, 0);
});

test("fallbackEnabled: false hands back the original error (FALLBACK_DISABLED)", async () => {
  const clock = new VirtualClock();
  const err = new Error("orig");
  let called = false;
  const cmd = new Command(
    () => {
      throw err;
    },
    () => {
      called = true;
      return "fb";
    },
    { clock, fallbackEnabled: false },
  );
  const seen = record(cmd);
  await assert.rejects(cmd.execute(), (e) => e === err);
  assert.equal(called, false);
  assert.deepEqual(seen, ["FAILURE@0", "FALLBACK_DISABLED@0"]);
});

test("no fallback: FALLBACK_MISSING and the original error", async () => {
  const clock = new VirtualClock();
  const err = new Error("orig");
  for (const fb of [undefined, null]) {
    const cmd = new Command(() => Promise.reject(err), fb, { clock });
    const seen = record(cmd);
    await assert.rejects(cmd.execute(), (e) => e === err);
    assert.deepEqual(seen, ["FAILURE@0", "FALLBACK_MISSING@0"]);
  }
});

test("queue() returns a promise like execute()", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((a, b) => clock.sleep(5).then(() => a + b), null, { clock });
  const q = cmd.queue(2, 3);
  assert.ok(q instanceof Promise);
  assert.equal(cmd.snapshot().concurrent, 1, "queue() starts the call right away");
  await clock.advance(5);
  assert.equal(await q, 5);

  const err = new Error("q");
  const bad = new Command(() => {
    throw err;
  }, null, { clock });
  const qb = bad.queue();
  assert.ok(qb instanceof Promise);
  await assert.rejects(qb, (e) => e === err);
  const fb = new Command(() => {
    throw err;
  }, (e, x) => `fb ${x}`, { clock });
  assert.equal(await fb.queue("y"), "fb y");
});

test("latency and rollingMaxConcurrent are recorded on the virtual clock", async () => {
  const clock = new VirtualClock();
  const cmd = new Command((ms) => clock.sleep(ms).then(() => ms), null, { clock });
  const ps = [cmd.execute(30), cmd.execute(70)];
  await clock.advance(100);
  assert.deepEqual(await Promise.all(ps), [30, 70]);
  const s = cmd.snapshot();
  assert.equal(s.latencyRun.count, 2);
  assert.equal(s.latencyTotal.count, 2);
  assert.equal(s.latencyRun.p0, 30);
  assert.ok(s.latencyRun.p100 >= 30 && s.latencyRun.p100 <= 70);
  assert.equal(s.rollingMaxConcurrent, 2);
  assert.equal(s.timeMs, 100);
});

test("with timeouts off, every way a run can end settles the call as with them on", async () => {
  // Untimed calls chain the run's own promise (no timer can settle them
  // first); timed ones settle a promise of their own. Same outcomes.
  const bad = new h.BadRequestError("bad");
  const runs = {
    value: () => 7,
    promise: () => Promise.resolve(8),
    thenable: () => ({ then: (ok) => ok(9) }),
    throws: () => {
      throw new Error("sync");
    },
    rejects: () => Promise.reject(new Error("async")),
    badRequest: () => Promise.reject(bad),
  };
  const outcome = (p) =>
    p.then(
      (v) => ["ok", v],
      (e) => ["err", e?.message ?? e, e?.code],
    );
  for (const [name, run] of Object.entries(runs)) {
    for (const fallback of [null, (e) => `fallback for ${e.message}`, () => Promise.reject(new Error("fb"))]) {
      const results = [];
      const events = [];
      for (const timeoutEnabled of [true, false]) {
        const clock = new VirtualClock();
        const cmd = new Command(run, fallback, { clock, timeoutEnabled, healthSnapshotIntervalMs: 0 });
        const seen = record(cmd);
        results.push(await outcome(cmd.execute("arg")));
        events.push(seen);
        const s = cmd.snapshot();
        assert.equal(s.concurrent, 0, name);
        assert.equal(s.fallbackConcurrent, 0, name);
      }
      assert.deepEqual(results[1], results[0], `${name} with fallback ${fallback}`);
      assert.deepEqual(events[1], events[0], `${name} with fallback ${fallback}`);
    }
  }
});

test("a thenable whose `then` getter throws is the run failing, timed or not", async () => {
  for (const timeoutEnabled of [true, false]) {
    const clock = new VirtualClock();
    const boom = new Error("getter");
    const run = () => ({
      get then() {
        throw boom;
      },
    });
    const bare = new Command(run, undefined, { clock, timeoutEnabled });
    const p = bare.execute(); // must not throw synchronously
    assert.ok(p instanceof Promise);
    await assert.rejects(p, (e) => e === boom);
    const s = bare.snapshot();
    assert.equal(s.concurrent, 0, `permit given back (timeoutEnabled ${timeoutEnabled})`);
    assert.equal(s.rolling.FAILURE, 1);
    const withFallback = new Command(run, (e) => (e === boom ? "fb" : "wrong"), { clock, timeoutEnabled });
    assert.equal(await withFallback.execute(), "fb");
    assert.equal(withFallback.snapshot().concurrent, 0);
  }
});

test("a run returning a Promise subclass gets a native promise back, timed or not", async () => {
  class Sub extends Promise {}
  for (const timeoutEnabled of [true, false]) {
    const cmd = new Command(() => Sub.resolve(5), undefined, { clock: new VirtualClock(), timeoutEnabled });
    const p = cmd.execute();
    assert.equal(Object.getPrototypeOf(p), Promise.prototype);
    assert.equal(await p, 5);
    assert.equal(cmd.snapshot().rolling.SUCCESS, 1);
  }
});

test("a fallback returning a thenable whose `then` getter throws is the fallback failing", async () => {
  const boom = new Error("getter");
  const fallback = () => ({
    get then() {
      throw boom;
    },
  });
  for (const forceOpen of [true, false]) {
    const clock = new VirtualClock();
    const cmd = new Command(
      () => {
        throw new Error("run");
      },
      fallback,
      { clock, forceOpen },
    );
    const p = cmd.execute(); // must not throw synchronously
    assert.ok(p instanceof Promise);
    await assert.rejects(p, (e) => e instanceof h.FallbackFailedError && e.cause === boom);
    const s = cmd.snapshot();
    assert.equal(s.fallbackConcurrent, 0, `fallback slot given back (forceOpen ${forceOpen})`);
    assert.equal(s.rolling.FALLBACK_FAILURE, 1);
  }
});
