// The circuit breaker on a VirtualClock: trip, short-circuit, half-open
// probe, reopen, recovery; and the event / stateChange listeners.
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, CircuitOpenError, TimeoutError } = h;

function outcome(p) {
  const o = { state: "pending", value: undefined };
  o.done = p.then(
    (v) => Object.assign(o, { state: "resolved", value: v }),
    (e) => Object.assign(o, { state: "rejected", value: e }),
  );
  return o;
}

/** A command whose run fails while `ctl.fail` is true. */
function flaky(clock, options = {}) {
  const ctl = { fail: true, runs: 0 };
  const cmd = new Command(
    (x) => {
      ctl.runs++;
      if (ctl.fail) throw new Error(`fail ${x}`);
      return `ok ${x}`;
    },
    null,
    {
      clock,
      requestVolumeThreshold: 3,
      errorThresholdPercentage: 50,
      healthSnapshotIntervalMs: 0,
      sleepWindowMs: 1000,
      ...options,
    },
  );
  return { cmd, ctl };
}

test("trip -> short-circuit -> half-open probe fails -> reopen -> probe succeeds -> closed", async () => {
  const clock = new VirtualClock();
  const { cmd, ctl } = flaky(clock);
  const events = [];
  const changes = [];
  cmd.on("event", (e, at) => events.push(`${e}@${at}`));
  cmd.on("stateChange", (from, to, at) => changes.push(`${from}->${to}@${at}`));

  // Below the volume threshold nothing trips.
  await assert.rejects(cmd.execute(1), /fail 1/);
  await assert.rejects(cmd.execute(2), /fail 2/);
  assert.equal(cmd.snapshot().state, "closed");
  assert.deepEqual(cmd.snapshot().health, { total: 2, errors: 2, errorPercentage: 100 });
  // The third failure reaches the threshold: the circuit trips after its outcome.
  await clock.advance(10);
  await assert.rejects(cmd.execute(3), /fail 3/);
  assert.equal(cmd.snapshot().state, "open");
  assert.deepEqual(changes, ["closed->open@10"]);

  // Open: short-circuited without running.
  const e = await cmd.execute(4).then(assert.fail, (x) => x);
  assert.ok(e instanceof CircuitOpenError);
  assert.equal(ctl.runs, 3);
  await clock.advance(999); // t = 1009: one ms before the sleep window ends
  await assert.rejects(cmd.execute(5), CircuitOpenError);
  assert.equal(ctl.runs, 3);
  assert.equal(cmd.snapshot().state, "open", "a snapshot never moves open to half_open");

  // t = 1010: a probe is admitted; it fails: open again with a fresh window.
  await clock.advance(1);
  await assert.rejects(cmd.execute(6), /fail 6/);
  assert.equal(ctl.runs, 4);
  assert.equal(cmd.snapshot().state, "open");
  assert.deepEqual(changes, ["closed->open@10", "open->half_open@1010", "half_open->open@1010"]);
  await clock.advance(999);
  await assert.rejects(cmd.execute(7), CircuitOpenError);

  // t = 2010: the next probe succeeds: closed, health reset, rolling kept.
  await clock.advance(1);
  ctl.fail = false;
  assert.equal(await cmd.execute(8), "ok 8");
  const s = cmd.snapshot();
  assert.equal(s.state, "closed");
  assert.deepEqual(s.health, { total: 0, errors: 0, errorPercentage: 0 });
  assert.equal(s.rolling.FAILURE, 4);
  assert.equal(s.rolling.SHORT_CIRCUITED, 3);
  assert.equal(s.rolling.SUCCESS, 1);
  assert.deepEqual(changes, [
    "closed->open@10",
    "open->half_open@1010",
    "half_open->open@1010",
    "open->half_open@2010",
    "half_open->closed@2010",
  ]);
  assert.equal(await cmd.execute(9), "ok 9");
  assert.deepEqual(cmd.snapshot().health, { total: 1, errors: 0, errorPercentage: 0 });

  assert.deepEqual(events, [
    "FAILURE@0",
    "FALLBACK_MISSING@0",
    "FAILURE@0",
    "FALLBACK_MISSING@0",
    "FAILURE@10",
    "FALLBACK_MISSING@10",
    "SHORT_CIRCUITED@10",
    "FALLBACK_MISSING@10",
    "SHORT_CIRCUITED@1009",
    "FALLBACK_MISSING@1009",
    "FAILURE@1010",
    "FALLBACK_MISSING@1010",
    "SHORT_CIRCUITED@2009",
    "FALLBACK_MISSING@2009",
    "SUCCESS@2010",
    "SUCCESS@2010",
  ]);
});

test("the error threshold: below it the circuit stays closed", async () => {
  const clock = new VirtualClock();
  let n = 0;
  const cmd = new Command(
    () => {
      if (n++ % 2 === 1) throw new Error("every second call fails");
      return "even";
    },
    () => "fb",
    { clock, requestVolumeThreshold: 4, errorThresholdPercentage: 51, healthSnapshotIntervalMs: 0 },
  );
  for (let i = 0; i < 10; i++) await cmd.execute();
  const s = cmd.snapshot();
  assert.equal(s.state, "closed");
  assert.deepEqual(s.health, { total: 10, errors: 5, errorPercentage: 50 });
  cmd.configure({ errorThresholdPercentage: 50 });
  // New thresholds apply from the next evaluation (a snapshot applies a pending trip).
  assert.equal(cmd.snapshot().state, "open");
});

test("half-open admits halfOpenMaxCalls probes; others are short-circuited while a probe runs", async () => {
  const clock = new VirtualClock();
  const ctl = { fail: true };
  const cmd = new Command(
    (ms) => (ctl.fail ? Promise.reject(new Error("down")) : clock.sleep(ms).then(() => "up")),
    (err) => (err instanceof CircuitOpenError ? "short" : "failed"),
    { clock, requestVolumeThreshold: 1, healthSnapshotIntervalMs: 0, sleepWindowMs: 100, timeoutMs: 500 },
  );
  assert.equal(await cmd.execute(0), "failed");
  assert.equal(cmd.snapshot().state, "open");
  await clock.advance(100);
  ctl.fail = false;
  const probe = outcome(cmd.execute(50));
  await clock.advance(0);
  assert.equal(cmd.snapshot().state, "half_open");
  assert.equal(await cmd.execute(0), "short", "only one probe per episode");
  await clock.advance(50);
  await probe.done;
  assert.equal(probe.value, "up");
  assert.equal(cmd.snapshot().state, "closed");
});

test("a timed-out probe reopens the circuit", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(({ signal }, ms) => clock.sleep(ms, signal).then(() => "ok"), null, {
    withContext: true,
    clock,
    requestVolumeThreshold: 1,
    healthSnapshotIntervalMs: 0,
    sleepWindowMs: 100,
    timeoutMs: 20,
  });
  const first = outcome(cmd.execute(30));
  await clock.advance(20);
  await first.done;
  assert.ok(first.value instanceof TimeoutError);
  assert.equal(cmd.snapshot().state, "open");
  await clock.advance(100); // t = 120
  const probe = outcome(cmd.execute(30));
  await clock.advance(20); // t = 140
  await probe.done;
  assert.ok(probe.value instanceof TimeoutError);
  const s = cmd.snapshot();
  assert.equal(s.state, "open");
  await assert.rejects(cmd.execute(1), CircuitOpenError);
  await clock.advance(99); // t = 239: still inside the fresh window opened at 140
  await assert.rejects(cmd.execute(1), CircuitOpenError);
});

test("forceClosed admits everything and never trips; circuitBreakerEnabled: false likewise", async () => {
  const clock = new VirtualClock();
  for (const opt of [{ forceClosed: true }, { circuitBreakerEnabled: false }]) {
    const { cmd, ctl } = flaky(clock, { requestVolumeThreshold: 1, ...opt });
    for (let i = 0; i < 5; i++) await assert.rejects(cmd.execute(i), /fail/);
    assert.equal(ctl.runs, 5);
    assert.equal(cmd.snapshot().state, "closed");
    assert.equal(cmd.snapshot().cumulative.SHORT_CIRCUITED, 0);
  }
});

test("event listeners get (event, atMs) in order; the returned function removes them", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    (x) => (x === "fail" ? Promise.reject(new Error("x")) : x),
    () => clock.sleep(15).then(() => "fb"),
    { clock },
  );
  const got = [];
  const listener = (...args) => got.push(args);
  const remove = cmd.on("event", listener);
  assert.equal(typeof remove, "function");
  await clock.advance(5);
  assert.equal(await cmd.execute("a"), "a");
  const o = outcome(cmd.execute("fail"));
  await clock.advance(15);
  await o.done;
  assert.equal(o.value, "fb");
  assert.deepEqual(got, [
    ["SUCCESS", 5],
    ["FAILURE", 5],
    ["FALLBACK_SUCCESS", 20],
  ]);
  assert.equal(remove(), true);
  assert.equal(remove(), false, "removing twice reports false");
  await cmd.execute("b");
  assert.equal(got.length, 3);
});

test("off(type, callback) removes a listener and reports whether it was there", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => 1, null, { clock });
  const a = [];
  const b = [];
  const la = (e) => a.push(e);
  const lb = (e) => b.push(e);
  cmd.on("event", la);
  cmd.on("event", lb);
  await cmd.execute();
  assert.equal(cmd.off("event", la), true);
  assert.equal(cmd.off("event", la), false);
  assert.equal(cmd.off("event", () => {}), false);
  await cmd.execute();
  assert.deepEqual(a, ["SUCCESS"]);
  assert.deepEqual(b, ["SUCCESS", "SUCCESS"]);
});

test("stateChange listeners get (from, to, atMs); removable", async () => {
  const clock = new VirtualClock();
  const { cmd, ctl } = flaky(clock, { requestVolumeThreshold: 1, sleepWindowMs: 10 });
  const changes = [];
  const remove = cmd.on("stateChange", (...args) => changes.push(args));
  await clock.advance(3);
  await assert.rejects(cmd.execute());
  assert.deepEqual(changes, [["closed", "open", 3]]);
  remove();
  await clock.advance(10);
  ctl.fail = false;
  await cmd.execute();
  assert.equal(cmd.snapshot().state, "closed");
  assert.equal(changes.length, 1);
});

test("a listener that throws does not break the call or other listeners; on(\"error\") hears it and it is counted", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    () => {
      throw new Error("run");
    },
    () => "fb",
    { clock, requestVolumeThreshold: 1, healthSnapshotIntervalMs: 0 },
  );
  const after = [];
  const heard = [];
  const boom = new Error("listener boom");
  cmd.on("event", () => {
    throw boom;
  });
  cmd.on("stateChange", () => {
    throw new Error("state listener boom");
  });
  cmd.on("event", (e) => after.push(e));
  const offError = cmd.on("error", (e) => heard.push(e));
  assert.equal(await cmd.execute(), "fb");
  assert.deepEqual(after, ["FAILURE", "FALLBACK_SUCCESS"]);
  assert.equal(cmd.snapshot().state, "open");
  // Two events and one transition, each with a throwing listener.
  assert.equal(heard.length, 3);
  assert.equal(heard[0], boom, "the listener's own exception, unchanged");
  assert.deepEqual(heard.map((e) => e.message).sort(), ["listener boom", "listener boom", "state listener boom"]);
  assert.equal(cmd.snapshot().listenerPanics, 3);
  assert.equal(await cmd.execute(), "fb");
  assert.deepEqual(after, ["FAILURE", "FALLBACK_SUCCESS", "SHORT_CIRCUITED", "FALLBACK_SUCCESS"]);
  assert.equal(cmd.snapshot().concurrent, 0);
  assert.equal(cmd.snapshot().listenerPanics, 5);
  assert.equal(heard.length, 5);
  // Removed: no longer called (a fresh one takes over, so nothing is rethrown).
  const later = [];
  cmd.on("error", (e) => later.push(e));
  assert.equal(offError(), true);
  assert.equal(offError(), false);
  assert.equal(await cmd.execute(), "fb");
  assert.equal(heard.length, 5);
  assert.equal(later.length, 2);
});

/**
 * Runs `body` (module code with `Command` in scope) in a child Node, which
 * prints the command `cmd`'s listenerPanics when it exits; resolves with
 * its exit code, stderr and that count.
 */
async function childWithListeners(body) {
  const pkg = new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href;
  const script = `
    const { Command } = await import(${JSON.stringify(pkg)});
    const cmd = new Command(() => "value");
    process.on("exit", () => console.log(JSON.stringify({ panics: cmd.snapshot().listenerPanics })));
    ${body}
  `;
  const { execFile } = await import("node:child_process");
  const r = await new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
  return { ...r, lines: r.stdout.trim().split("\n").map((l) => JSON.parse(l)) };
}

test("without an on(\"error\") listener, a listener's exception is rethrown in a microtask: uncaught, as from a callback", async () => {
  const r = await childWithListeners(`
    cmd.on("event", () => { throw new Error("listener boom"); });
    const p = cmd.execute();
    console.log(JSON.stringify({ returned: p instanceof Promise }));
    console.log(JSON.stringify({ value: await p }));
  `);
  assert.equal(r.code, 1, "the process ends with an uncaught exception");
  assert.match(r.stderr, /Error: listener boom/);
  // execute() returned normally; the rethrow, in its own microtask, ended the process before the caller went on.
  assert.deepEqual(r.lines, [{ returned: true }, { panics: 1 }]);
});

test("an on(\"error\") listener that throws is counted and its exception rethrown", async () => {
  const r = await childWithListeners(`
    cmd.on("event", () => { throw new Error("first"); });
    cmd.on("error", (e) => { console.log(JSON.stringify({ heard: e.message })); throw new Error("second"); });
    await cmd.execute();
  `);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error: second/);
  assert.doesNotMatch(r.stderr, /Error: first/);
  assert.deepEqual(r.lines, [{ heard: "first" }, { panics: 2 }]);
});

test("a listener may call cmd.snapshot() and sees the event recorded", async () => {
  const clock = new VirtualClock();
  const { cmd } = flaky(clock, { requestVolumeThreshold: 1 });
  const seen = [];
  cmd.on("event", (e) => {
    const s = cmd.snapshot();
    seen.push([e, s.cumulative[e], s.state]);
  });
  const states = [];
  cmd.on("stateChange", (from, to) => states.push([from, to, cmd.snapshot().state]));
  await assert.rejects(cmd.execute());
  await assert.rejects(cmd.execute(), CircuitOpenError);
  assert.deepEqual(
    seen.map(([e, n]) => [e, n]),
    [
      ["FAILURE", 1],
      ["FALLBACK_MISSING", 1],
      ["SHORT_CIRCUITED", 1],
      ["FALLBACK_MISSING", 2],
    ],
  );
  assert.deepEqual(states, [["closed", "open", "open"]]);
});

test("a listener may start another call on the same command", async () => {
  const clock = new VirtualClock();
  let nested = null;
  const cmd = new Command(
    (x) => {
      if (x === "outer") throw new Error("outer failed");
      return `run ${x}`;
    },
    (e, x) => `fb ${x}`,
    { clock },
  );
  cmd.on("event", (e) => {
    if (e === "FAILURE" && nested === null) nested = cmd.execute("inner");
  });
  assert.equal(await cmd.execute("outer"), "fb outer");
  assert.equal(await nested, "run inner");
  const s = cmd.snapshot();
  assert.equal(s.cumulative.SUCCESS, 1);
  assert.equal(s.cumulative.FAILURE, 1);
  assert.equal(s.concurrent, 0);
});

test("after one of two listeners is removed, the other may still start a call from inside", async () => {
  // Executions are worked on in place while no listener is subscribed; the
  // count of listeners must stay right as they come and go.
  const clock = new VirtualClock();
  const cmd = new Command((x) => (x === "bad" ? Promise.reject(new Error("bad")) : x), (e, x) => `fb ${x}`, { clock });
  const removeQuiet = cmd.on("event", () => {});
  const nested = [];
  cmd.on("event", (e) => {
    if (e === "FAILURE") nested.push(cmd.execute("inner"));
  });
  assert.equal(removeQuiet(), true);
  assert.equal(removeQuiet(), false); // a second removal changes nothing
  assert.equal(await cmd.execute("bad"), "fb bad");
  assert.equal(nested.length, 1);
  assert.equal(await nested[0], "inner");
  const off = cmd.on("stateChange", () => {});
  assert.equal(off(), true);
  assert.equal(await cmd.execute("bad"), "fb bad");
  assert.equal(await nested[1], "inner");
  assert.equal(cmd.snapshot().concurrent, 0);
});

test(
  "the same callback registered for 'event' and 'stateChange': off('event') removes only the event listener",
  async () => {
    const clock = new VirtualClock();
    const { cmd } = flaky(clock, { requestVolumeThreshold: 1 });
    const got = [];
    const cb = (...args) => got.push(args.length === 3 ? `${args[0]}->${args[1]}` : args[0]);
    cmd.on("event", cb);
    cmd.on("stateChange", cb);
    assert.equal(cmd.off("event", cb), true);
    await assert.rejects(cmd.execute());
    assert.deepEqual(got, ["closed->open"]);
  },
);

test(
  "a callback added twice stops firing once both removers ran",
  async () => {
    const clock = new VirtualClock();
    const cmd = new Command(() => 1, null, { clock });
    const got = [];
    const cb = (e) => got.push(e);
    const r1 = cmd.on("event", cb);
    const r2 = cmd.on("event", cb);
    r1();
    r2();
    await cmd.execute();
    assert.deepEqual(got, []);
  },
);

test("on() refuses unknown event types and non-function callbacks", () => {
  const cmd = new Command(() => 1);
  assert.throws(() => cmd.on("events", () => {}), TypeError);
  assert.throws(() => cmd.on("state", () => {}), TypeError);
  assert.throws(() => cmd.on("event", "nope"), TypeError);
  assert.throws(() => cmd.on("error", "nope"), TypeError);
});

test("listeners may remove themselves or add listeners while being called", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    () => {
      throw new Error("x");
    },
    () => "fb",
    { clock },
  );
  let once = 0;
  const off = cmd.on("event", () => {
    once++;
    off();
  });
  const got = [];
  let added = false;
  cmd.on("event", (e) => {
    got.push(e);
    if (!added) {
      added = true;
      cmd.on("event", (e2) => got.push(`late:${e2}`));
    }
  });
  assert.equal(await cmd.execute(), "fb");
  assert.equal(await cmd.execute(), "fb");
  assert.equal(once, 1);
  assert.deepEqual(got.slice(-4), ["FAILURE", "late:FAILURE", "FALLBACK_SUCCESS", "late:FALLBACK_SUCCESS"]);
});

test("snapshot keys are camelCase like the options; event types keep their SPEC names", async () => {
  const clock = new VirtualClock(3);
  const cmd = new Command(() => "ok", null, { clock, name: "camel-keys", healthSnapshotIntervalMs: 0 });
  await cmd.execute();
  const s = cmd.snapshot();
  h.removeCommand("camel-keys");
  assert.deepEqual(Object.keys(s), [
    "name",
    "timeMs",
    "state",
    "health",
    "rolling",
    "cumulative",
    "concurrent",
    "fallbackConcurrent",
    "rollingMaxConcurrent",
    "latencyRun",
    "latencyTotal",
    "listenerPanics",
    "limit",
    "budget",
  ]);
  assert.deepEqual(s.health, { total: 1, errors: 0, errorPercentage: 0 });
  assert.equal(s.timeMs, 3);
  assert.equal(s.rolling.SUCCESS, 1);
  assert.ok(Object.hasOwn(s.cumulative, "FALLBACK_SUCCESS"));
  assert.deepEqual(Object.keys(s.latencyRun), ["count", "mean", "p0", "p25", "p50", "p75", "p90", "p95", "p99", "p99_5", "p100"]);
  assert.equal(s.rollingMaxConcurrent, 1);
});

test("health is refreshed at most every healthSnapshotIntervalMs", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(
    () => {
      throw new Error("x");
    },
    () => "fb",
    { clock, healthSnapshotIntervalMs: 100, requestVolumeThreshold: 3 },
  );
  for (let i = 0; i < 5; i++) await cmd.execute();
  // The snapshot taken at t = 0 (before any outcome) is still in use.
  assert.deepEqual(cmd.snapshot().health, { total: 0, errors: 0, errorPercentage: 0 });
  assert.equal(cmd.snapshot().state, "closed");
  await clock.advance(99);
  assert.equal(cmd.snapshot().health.total, 0);
  await clock.advance(1);
  assert.deepEqual(cmd.snapshot().health, { total: 5, errors: 5, errorPercentage: 100 });
  assert.equal(cmd.snapshot().state, "open", "the refreshed snapshot trips the circuit");
});

test("a half-open probe's BAD_REQUEST frees its slot without deciding", async () => {
  const clock = new VirtualClock();
  const ctl = { outcome: "fail" };
  const cmd = new Command(
    () => {
      if (ctl.outcome === "fail") throw new Error("down");
      if (ctl.outcome === "bad") throw new h.BadRequestError("bad input");
      return "up";
    },
    null,
    { clock, requestVolumeThreshold: 1, healthSnapshotIntervalMs: 0, sleepWindowMs: 50 },
  );
  await assert.rejects(cmd.execute(), /down/);
  await clock.advance(50);
  ctl.outcome = "bad";
  await assert.rejects(cmd.execute(), h.BadRequestError);
  assert.equal(cmd.snapshot().state, "half_open");
  ctl.outcome = "ok";
  assert.equal(await cmd.execute(), "up", "the freed slot admits another probe");
  assert.equal(cmd.snapshot().state, "closed");
});
