// Every error kind: when it happens, what it carries, its code/kind/name and
// class hierarchy; a run's own rejection value handed back unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const {
  Command,
  VirtualClock,
  HystrixError,
  CircuitOpenError,
  RejectedError,
  TimeoutError,
  BadRequestError,
  FallbackRejectedError,
  FallbackFailedError,
  InvalidConfigError,
} = h;

function record(cmd) {
  const seen = [];
  cmd.on("event", (event) => seen.push(event));
  return seen;
}

/** A run that settles only when told (or rejects with the signal's reason when aborted). */
function controlled() {
  const pending = [];
  // For a command made `withContext: true`.
  const run = ({ signal }, ...args) => {
    return new Promise((resolve, reject) => {
      pending.push({ resolve, reject, args });
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  };
  return { run, pending };
}

function assertKind(e, Cls, code, kind) {
  assert.ok(e instanceof Cls, `${e} is a ${Cls.name}`);
  assert.ok(e instanceof HystrixError);
  assert.ok(e instanceof Error);
  assert.equal(e.code, code);
  assert.equal(e.kind, kind);
  assert.equal(e.name, Cls.name);
  assert.equal(typeof e.message, "string");
  assert.ok(e.message.length > 0);
}

test("codes, kinds and names of every error class", () => {
  const table = [
    [TimeoutError, 2, "timeout"],
    [CircuitOpenError, 3, "short_circuited"],
    [RejectedError, 4, "rejected"],
    [BadRequestError, 5, "bad_request"],
    [FallbackRejectedError, 6, "fallback_rejected"],
    [FallbackFailedError, 7, "fallback_failure"],
    [InvalidConfigError, 8, "invalid_config"],
  ];
  for (const [Cls, code, kind] of table) {
    const e = new Cls();
    assertKind(e, Cls, code, kind);
    assert.equal(String(e).startsWith(`${Cls.name}: `), true);
    const custom = new Cls("custom message", { cause: "why" });
    assert.equal(custom.message, "custom message");
    assert.equal(custom.cause, "why");
    assert.equal(custom.code, code);
  }
  assert.equal(new Set(table.map(([, c]) => c)).size, table.length);
  const base = new HystrixError("base");
  assert.ok(base instanceof Error);
  assert.equal(base.name, "HystrixError");
  // A user-thrown BadRequestError keeps its message and cause.
  const b = new BadRequestError("missing id", { cause: 17 });
  assert.equal(b.message, "missing id");
  assert.equal(b.cause, 17);
});

test("CircuitOpenError: forceOpen short-circuits without calling run", async () => {
  const clock = new VirtualClock();
  let runs = 0;
  const cmd = new Command(() => ++runs, null, { clock, forceOpen: true });
  const seen = record(cmd);
  const e = await cmd.execute().then(
    () => assert.fail("should reject"),
    (x) => x,
  );
  assertKind(e, CircuitOpenError, 3, "short_circuited");
  assert.equal(runs, 0);
  assert.deepEqual(seen, ["SHORT_CIRCUITED", "FALLBACK_MISSING"]);
  const s = cmd.snapshot();
  assert.equal(s.state, "open");
  assert.equal(s.cumulative.SHORT_CIRCUITED, 1);
  assert.equal(s.concurrent, 0);

  // With a fallback, the fallback gets the CircuitOpenError and the arguments.
  let fbArgs;
  const withFb = new Command(() => ++runs, (...a) => ((fbArgs = a), "fb"), { clock, forceOpen: true });
  assert.equal(await withFb.execute("x", 2), "fb");
  assert.equal(runs, 0);
  assertKind(fbArgs[0], CircuitOpenError, 3, "short_circuited");
  assert.deepEqual(fbArgs.slice(1), ["x", 2]);

  // forceOpen wins over forceClosed.
  const both = new Command(() => 1, null, { clock, forceOpen: true, forceClosed: true });
  await assert.rejects(both.execute(), CircuitOpenError);
});

test("RejectedError: the bulkhead is full while runs are pending", async () => {
  const clock = new VirtualClock();
  const { run, pending } = controlled();
  const cmd = new Command(run, null, { clock, maxConcurrentRequests: 2, timeoutEnabled: false, withContext: true });
  const seen = record(cmd);
  const p1 = cmd.execute(1);
  const p2 = cmd.execute(2);
  assert.equal(cmd.snapshot().concurrent, 2);
  const e = await cmd.execute(3).then(
    () => assert.fail("should reject"),
    (x) => x,
  );
  assertKind(e, RejectedError, 4, "rejected");
  assert.equal(pending.length, 2, "the rejected call's run was never invoked");
  assert.deepEqual(seen, ["SEMAPHORE_REJECTED", "FALLBACK_MISSING"]);

  // A fallback receives the RejectedError.
  const slow = new Command(
    (x) => clock.sleep(100).then(() => `slow ${x}`),
    (err, x) => `${err instanceof RejectedError ? err.kind : "?"}:${x}`,
    { clock, maxConcurrentRequests: 1 },
  );
  const first = slow.execute("a");
  assert.equal(await slow.execute("b"), "rejected:b");
  await clock.advance(100);
  assert.equal(await first, "slow a");

  // Once runs settle, permits come back.
  pending[0].resolve("one");
  pending[1].resolve("two");
  assert.deepEqual(await Promise.all([p1, p2]), ["one", "two"]);
  assert.equal(cmd.snapshot().concurrent, 0);
  pending.length = 0;
  const p4 = cmd.execute(4);
  assert.equal(pending.length, 1);
  pending[0].resolve("four");
  assert.equal(await p4, "four");
  const s = cmd.snapshot();
  assert.equal(s.cumulative.SEMAPHORE_REJECTED, 1);
  assert.equal(s.cumulative.SUCCESS, 3);
});

test("TimeoutError: a run still going at timeoutMs", async () => {
  const clock = new VirtualClock();
  const { run } = controlled();
  const cmd = new Command(run, null, { clock, timeoutMs: 50, withContext: true });
  const seen = record(cmd);
  let outcome = "pending";
  const p = cmd.execute().then(
    () => (outcome = "resolved"),
    (e) => (outcome = e),
  );
  await clock.advance(49);
  assert.equal(outcome, "pending");
  await clock.advance(1);
  await p;
  assertKind(outcome, TimeoutError, 2, "timeout");
  assert.deepEqual(seen, ["TIMEOUT", "FALLBACK_MISSING"]);
});

test("BadRequestError: not counted in health, fallback not called, handed back", async () => {
  const clock = new VirtualClock();
  const bad = new BadRequestError("your fault");
  let fallbackCalls = 0;
  const fallback = () => {
    fallbackCalls++;
    return "fb";
  };
  for (const run of [
    () => {
      throw bad;
    },
    () => Promise.reject(bad),
    () => clock.sleep(5).then(() => Promise.reject(bad)),
  ]) {
    const cmd = new Command(run, fallback, { clock, healthSnapshotIntervalMs: 0, requestVolumeThreshold: 1 });
    const seen = record(cmd);
    const rejected = assert.rejects(cmd.execute(), (e) => e === bad);
    await clock.advance(5);
    await rejected;
    assertKind(bad, BadRequestError, 5, "bad_request");
    assert.deepEqual(seen, ["BAD_REQUEST"]);
    const s = cmd.snapshot();
    assert.equal(s.cumulative.BAD_REQUEST, 1);
    assert.equal(s.cumulative.FAILURE, 0);
    assert.deepEqual(s.health, { total: 0, errors: 0, errorPercentage: 0 });
    assert.equal(s.state, "closed", "a bad request never trips the circuit");
    assert.equal(s.concurrent, 0);
  }
  assert.equal(fallbackCalls, 0);
});

test("isBadRequest classifies the run's own errors as bad requests", async () => {
  const clock = new VirtualClock();
  class ValidationError extends Error {}
  const verr = new ValidationError("bad id");
  const other = new Error("server down");
  let classified = [];
  let fallbackCalls = 0;
  const cmd = new Command(
    (x) => {
      throw x === "bad" ? verr : other;
    },
    () => {
      fallbackCalls++;
      return "fb";
    },
    {
      clock,
      healthSnapshotIntervalMs: 0,
      isBadRequest: (e) => {
        classified.push(e);
        return e instanceof ValidationError;
      },
    },
  );
  const seen = record(cmd);
  // The caller gets the run's own error back (as the Python binding does).
  await assert.rejects(cmd.execute("bad"), (e) => e === verr);
  assert.equal(fallbackCalls, 0);
  assert.deepEqual(seen, ["BAD_REQUEST"]);
  assert.deepEqual(cmd.snapshot().health, { total: 0, errors: 0, errorPercentage: 0 });
  assert.ok(classified.includes(verr));

  assert.equal(await cmd.execute("other"), "fb");
  assert.equal(fallbackCalls, 1);
  assert.deepEqual(seen, ["BAD_REQUEST", "FAILURE", "FALLBACK_SUCCESS"]);
  assert.deepEqual(cmd.snapshot().health, { total: 1, errors: 1, errorPercentage: 100 });

  // Successful values are never classified.
  classified = [];
  const ok = new Command(() => verr, null, { clock, isBadRequest: () => true });
  assert.equal(await ok.execute(), verr);
  assert.equal(ok.snapshot().cumulative.SUCCESS, 1);
});

test(
  "isBadRequest adds to BadRequestError (d.ts: 'adds to BadRequestError'; SPEC §3: type or classifier)",
  async () => {
    const clock = new VirtualClock();
    const bad = new BadRequestError("still bad");
    let fallbackCalls = 0;
    const cmd = new Command(
      () => {
        throw bad;
      },
      () => {
        fallbackCalls++;
        return "fb";
      },
      { clock, isBadRequest: (e) => e instanceof RangeError },
    );
    await assert.rejects(cmd.execute(), (e) => e === bad);
    assert.equal(fallbackCalls, 0);
    assert.equal(cmd.snapshot().cumulative.BAD_REQUEST, 1);
  },
);

test("FallbackRejectedError: fallbackMaxConcurrentRequests full; .cause is the original error", async () => {
  const clock = new VirtualClock();
  const errs = [new Error("e0"), new Error("e1"), new Error("e2")];
  let fallbackCalls = 0;
  const cmd = new Command(
    (i) => {
      throw errs[i];
    },
    (e, i) => {
      fallbackCalls++;
      return clock.sleep(100).then(() => `fb ${i}`);
    },
    { clock, fallbackMaxConcurrentRequests: 1, circuitBreakerEnabled: false },
  );
  const seen = record(cmd);
  const p0 = cmd.execute(0);
  await clock.advance(0);
  assert.equal(cmd.snapshot().fallbackConcurrent, 1);
  const e1 = await cmd.execute(1).then(
    () => assert.fail("should reject"),
    (x) => x,
  );
  assertKind(e1, FallbackRejectedError, 6, "fallback_rejected");
  assert.equal(e1.cause, errs[1]);
  assert.equal(fallbackCalls, 1, "the rejected fallback was never invoked");
  assert.deepEqual(seen, ["FAILURE", "FAILURE", "FALLBACK_REJECTION"]);

  await clock.advance(100);
  assert.equal(await p0, "fb 0");
  const s = cmd.snapshot();
  assert.equal(s.fallbackConcurrent, 0);
  assert.equal(s.cumulative.FALLBACK_REJECTION, 1);
  assert.equal(s.cumulative.FALLBACK_SUCCESS, 1);
  // The limiter is free again.
  const p2 = cmd.execute(2);
  await clock.advance(100);
  assert.equal(await p2, "fb 2");
});

test(
  "FallbackRejectedError after a short-circuit / bulkhead rejection; .cause is that error",
  async () => {
    const clock = new VirtualClock();
    for (const [options, Cause] of [
      [{ forceOpen: true }, CircuitOpenError],
      [{ maxConcurrentRequests: 1 }, RejectedError],
    ]) {
      const cmd = new Command(
        () => clock.sleep(100).then(() => "run"),
        () => clock.sleep(100).then(() => "fb"),
        { clock, fallbackMaxConcurrentRequests: 1, ...options },
      );
      const seen = record(cmd);
      const first = cmd.execute().catch((e) => e);
      const second = cmd.execute().catch((e) => e); // with the first, fills the run permit and the fallback slot
      const third = await cmd.execute().then(
        () => assert.fail("should reject"),
        (x) => x,
      );
      assert.equal(seen.at(-1), "FALLBACK_REJECTION");
      assertKind(third, FallbackRejectedError, 6, "fallback_rejected");
      assert.ok(third.cause instanceof Cause);
      await clock.advance(200);
      await Promise.all([first, second]);
    }
  },
);

test("FallbackFailedError: .cause is the fallback's error, .original why it was wanted", async () => {
  const clock = new VirtualClock();
  const runErr = new Error("run failed");
  const fbErr = new Error("fallback failed");
  const failing = () => {
    throw runErr;
  };
  for (const fallback of [
    () => {
      throw fbErr;
    },
    () => Promise.reject(fbErr),
    () => clock.sleep(10).then(() => Promise.reject(fbErr)),
  ]) {
    const cmd = new Command(failing, fallback, { clock });
    const seen = record(cmd);
    const p = cmd.execute().then(
      () => assert.fail("should reject"),
      (x) => x,
    );
    await clock.advance(10);
    const e = await p;
    assertKind(e, FallbackFailedError, 7, "fallback_failure");
    assert.equal(e.cause, fbErr);
    assert.equal(e.original, runErr);
    assert.deepEqual(seen, ["FAILURE", "FALLBACK_FAILURE"]);
    assert.equal(cmd.snapshot().fallbackConcurrent, 0);
  }

  // A fallback wanted because of a timeout / short-circuit: .original is that error.
  const t = new Command(
    (ctx) => new Promise((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason))),
    () => Promise.reject("fallback says no"),
    { clock, timeoutMs: 20, withContext: true },
  );
  const pt = t.execute().then(
    () => assert.fail("should reject"),
    (x) => x,
  );
  await clock.advance(20);
  const et = await pt;
  assert.ok(et instanceof FallbackFailedError);
  assert.equal(et.cause, "fallback says no");
  assertKind(et.original, TimeoutError, 2, "timeout");

  const so = new Command(() => 1, () => {
    throw fbErr;
  }, { clock, forceOpen: true });
  const es = await so.execute().then(
    () => assert.fail("should reject"),
    (x) => x,
  );
  assert.ok(es instanceof FallbackFailedError);
  assert.equal(es.cause, fbErr);
  assertKind(es.original, CircuitOpenError, 3, "short_circuited");
});

test("a run's own rejection value is handed back unchanged when there is no fallback", async () => {
  const clock = new VirtualClock();
  const values = [new Error("err"), new RangeError("range"), "a string", 42, 0, null, undefined, false, { plain: true }, Symbol("s")];
  for (const v of values) {
    for (const mode of ["sync", "promise", "later"]) {
      const run =
        mode === "sync"
          ? () => {
              throw v;
            }
          : mode === "promise"
            ? () => Promise.reject(v)
            : () => clock.sleep(3).then(() => Promise.reject(v));
      const cmd = new Command(run, undefined, { clock });
      let got = "unset";
      let resolved = false;
      const p = cmd.execute().then(
        () => (resolved = true),
        (e) => (got = e),
      );
      await clock.advance(3);
      await p;
      assert.equal(resolved, false, `${String(v)} (${mode}) rejects`);
      assert.ok(Object.is(got, v), `${String(v)} (${mode}) handed back unchanged`);
      assert.equal(cmd.snapshot().cumulative.FAILURE, 1);
    }
  }
});

test("non-Error rejection values reach the fallback unchanged", async () => {
  const clock = new VirtualClock();
  const obj = { reason: "x" };
  for (const v of ["s", 7, null, undefined, obj]) {
    let got = "unset";
    const cmd = new Command(() => Promise.reject(v), (e) => ((got = e), "fb"), { clock });
    assert.equal(await cmd.execute(), "fb");
    assert.ok(Object.is(got, v));
  }
});

test("a fallback's rejection value is the FallbackFailedError's cause, unchanged", async () => {
  const clock = new VirtualClock();
  for (const v of ["s", 7, null, undefined]) {
    const cmd = new Command(() => Promise.reject(new Error("run")), () => Promise.reject(v), { clock });
    const e = await cmd.execute().then(
      () => assert.fail("should reject"),
      (x) => x,
    );
    assert.ok(e instanceof FallbackFailedError);
    assert.ok(Object.is(e.cause, v));
  }
});

test("execute or queue called without its command rejects with a TypeError saying so", async () => {
  const cmd = new Command((x) => x);
  const { execute, queue } = cmd;
  for (const [name, fn] of [["execute", execute], ["queue", queue]]) {
    const p = fn(1);
    assert.ok(p instanceof Promise, `${name}() returns a promise even detached`);
    await assert.rejects(p, (e) => e instanceof TypeError && e.message === `${name}() was called without its command: call cmd.${name}(...), or pass cmd.${name}.bind(cmd)`);
    await assert.rejects(fn.call({}, 1), TypeError);
  }
  // Bound, it works; nothing was recorded by the detached calls.
  assert.equal(await execute.bind(cmd)(5), 5);
  assert.equal(cmd.snapshot().cumulative.SUCCESS, 1);
});

test("every core error kind has its class with the core's code (one vocabulary, drift-checked)", async () => {
  const wasm = await import(new URL("../../target/npm/hystrix/web/hystrix_wasm.js", import.meta.url).href);
  const kinds = wasm.errorCodes().split(",").map((pair) => pair.split("="));
  assert.ok(kinds.length >= 9, `the core lists ${kinds.length} kinds`);
  const classes = Object.values(h).filter((v) => typeof v === "function" && v.prototype instanceof h.HystrixError);
  for (const [name, code] of kinds) {
    // A failure is the run's own error, not a class of ours.
    if (name === "failure") continue;
    const cls = classes.find((c) => c.prototype.kind === name);
    assert.ok(cls, `no error class for the core kind ${name}`);
    assert.equal(cls.prototype.code, Number(code), `${cls.name}.code`);
  }
  assert.equal(new h.CancelledError().kind, "cancelled");
});
