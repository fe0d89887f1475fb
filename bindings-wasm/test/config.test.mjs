// Options validation, live configure(), and named commands (configure,
// getCommand, removeCommand).
import { test } from "node:test";
import assert from "node:assert/strict";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const {
  Command,
  VirtualClock,
  configure,
  getCommand,
  removeCommand,
  HystrixError,
  InvalidConfigError,
  CircuitOpenError,
  TimeoutError,
  RejectedError,
} = h;

const INT_KEYS = {
  timeoutMs: 1,
  maxConcurrentRequests: 1,
  fallbackMaxConcurrentRequests: 1,
  requestVolumeThreshold: 0,
  errorThresholdPercentage: 0,
  sleepWindowMs: 1,
  halfOpenMaxCalls: 1,
  rollingWindowMs: 1,
  rollingWindowBuckets: 1,
  healthSnapshotIntervalMs: 0,
};
const BOOL_KEYS = ["timeoutEnabled", "fallbackEnabled", "circuitBreakerEnabled", "forceOpen", "forceClosed"];

let serial = 0;
const uniqueName = (what) => `config-test-${what}-${++serial}-${process.pid}`;

function configError(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail("expected an InvalidConfigError");
}

function assertConfigError(e, key) {
  assert.ok(e instanceof InvalidConfigError, `got ${e}`);
  assert.ok(e instanceof HystrixError);
  assert.ok(e instanceof Error);
  assert.equal(e.code, 8);
  assert.equal(e.kind, "invalid_config");
  assert.equal(e.name, "InvalidConfigError");
  assert.equal(e.key, key);
  assert.ok(e.message.includes(key), `message ${JSON.stringify(e.message)} names ${key}`);
}

test("an unknown option is refused naming it", () => {
  for (const key of ["bogus", "timeout_ms", "timeout", "TimeoutMs", "maxConcurrent"]) {
    const e = configError(() => new Command(() => 1, null, { [key]: 1 }));
    assertConfigError(e, key);
  }
});

test("names every object has (toString, constructor, __proto__, ...) are unknown options, in every path", async () => {
  // The review: the options' place table inherited them, so `{ toString: 0 }`
  // switched timeouts off without an error.
  const clock = new VirtualClock();
  for (const key of ["toString", "constructor", "valueOf", "hasOwnProperty", "__proto__", "isPrototypeOf"]) {
    for (const value of [0, false, true, "x"]) {
      const options = JSON.parse(`{${JSON.stringify(key)}: ${JSON.stringify(value)}}`);
      assertConfigError(configError(() => new Command(() => 1, null, options)), key);
      const cmd = new Command(() => new Promise(() => {}), null, { clock, timeoutMs: 10 });
      assertConfigError(configError(() => cmd.configure(options)), key);
      // Nothing changed: the command still times its calls out.
      const timedOut = assert.rejects(cmd.execute(), TimeoutError, `${key}: ${value}`);
      await clock.advance(10);
      await timedOut;
      cmd.dispose();
    }
  }
});

test("zero, negative, huge, fractional and wrong-type values are refused naming the camelCase key", () => {
  const clock = new VirtualClock();
  for (const [key, min] of Object.entries(INT_KEYS)) {
    // Above 2^53 - 1 a number is no longer exact: refused as huge.
    const bad = [-1, 1.5, 2 ** 53, 2 ** 64, 1e300, NaN, Infinity, -Infinity, "10", true, null, [10], { n: 10 }];
    if (min > 0) bad.push(0);
    if (key === "errorThresholdPercentage") bad.push(101);
    if (key === "rollingWindowBuckets") bad.push(100_001);
    for (const value of bad) {
      const e = configError(() => new Command(() => 1, null, { clock, [key]: value }));
      assertConfigError(e, key);
    }
  }
  for (const key of BOOL_KEYS) {
    for (const value of [0, 1, "true", "false", null, [], {}]) {
      const e = configError(() => new Command(() => 1, null, { clock, [key]: value }));
      assertConfigError(e, key);
    }
  }
});

test("messages describe the value as given and state the key's whole rule", () => {
  const message = (options) => configError(() => new Command(() => 1, null, options)).message;
  const rule = "invalid config: timeoutMs must be an integer from 1 to 9007199254740991, got";
  // Fixed: NaN was reported as "got null" (JSON), and -1 as "must be a non-negative integer" while 0 said "from 1".
  assert.equal(message({ timeoutMs: NaN }), `${rule} NaN`);
  assert.equal(message({ timeoutMs: -1 }), `${rule} -1`);
  assert.equal(message({ timeoutMs: 0 }), `${rule} 0`);
  assert.equal(message({ timeoutMs: 1.5 }), `${rule} 1.5`);
  assert.equal(message({ timeoutMs: Infinity }), `${rule} Infinity`);
  assert.equal(message({ timeoutMs: "10" }), `${rule} "10"`);
  assert.equal(message({ timeoutMs: null }), `${rule} null`);
  assert.equal(message({ timeoutMs: 10n }), `${rule} 10n`);
  assert.equal(
    message({ errorThresholdPercentage: -5 }),
    "invalid config: errorThresholdPercentage must be an integer from 0 to 100, got -5",
  );
  assert.equal(message({ requestVolumeThreshold: -1 }), "invalid config: requestVolumeThreshold must be an integer from 0 to 9007199254740991, got -1");
  assert.equal(message({ forceOpen: 1 }), "invalid config: forceOpen must be a boolean (true or false), got 1");
  assert.equal(message({ forceOpen: undefined, forceClosed: "yes" }), 'invalid config: forceClosed must be a boolean (true or false), got "yes"');
  // The same through configure().
  const cmd = new Command(() => 1);
  assert.equal(configError(() => cmd.configure({ sleepWindowMs: NaN })).message, "invalid config: sleepWindowMs must be an integer from 1 to 9007199254740991, got NaN");
});

test("a clock without now() and arm() is refused at once (it failed later, at the first call)", async () => {
  for (const clock of [{}, { now: () => 0 }, { arm: () => ({ cancel() {} }) }, 5, "clock", true]) {
    assert.throws(() => new Command(() => 1, null, { clock }), (e) => e instanceof TypeError && /options\.clock must have now\(\) and arm/.test(e.message), `clock ${String(clock)}`);
    assert.throws(() => configure(uniqueName("bad-clock"), { clock }), TypeError);
  }
  const name = uniqueName("clock-kept");
  const clock = new VirtualClock(7);
  try {
    configure(name, { clock });
    assert.throws(() => new Command(() => 1, null, { name, clock: {} }), TypeError);
    assert.equal(getCommand(name).snapshot().timeMs, 7, "a refused clock changes nothing");
  } finally {
    removeCommand(name);
  }
  // null and undefined mean the default; a minimal object with now() and arm() is a clock.
  assert.equal(await new Command(() => "ok", null, { clock: null }).execute(), "ok");
  const minimal = { now: () => 0, arm: () => ({ cancel() {} }) };
  assert.equal(await new Command(() => "ok", null, { clock: minimal }).execute(), "ok");
});

test("boundary values are accepted", () => {
  const clock = new VirtualClock();
  const ok = [
    { timeoutMs: 1 },
    { timeoutMs: 2 ** 31 - 1 },
    { timeoutMs: 2 ** 31 },
    { sleepWindowMs: Number.MAX_SAFE_INTEGER },
    { requestVolumeThreshold: 2 ** 32 },
    { timeoutMs: 1000.0 },
    { requestVolumeThreshold: 0 },
    { errorThresholdPercentage: 0 },
    { errorThresholdPercentage: 100 },
    { healthSnapshotIntervalMs: 0 },
    { maxConcurrentRequests: 2 ** 31 - 1 },
    { rollingWindowMs: 10_000, rollingWindowBuckets: 10_000 },
    { rollingWindowMs: 100_000, rollingWindowBuckets: 100_000 },
    { rollingWindowMs: 7, rollingWindowBuckets: 7 },
    { forceOpen: false, forceClosed: true, timeoutEnabled: false },
    { timeoutMs: undefined },
    {},
  ];
  for (const options of ok) {
    const cmd = new Command(() => 1, null, { clock, ...options });
    assert.equal(cmd.snapshot().state, "closed");
  }
});

test("rollingWindowBuckets not dividing rollingWindowMs is refused naming rollingWindowMs", () => {
  for (const options of [
    { rollingWindowMs: 1000, rollingWindowBuckets: 7 },
    { rollingWindowBuckets: 3 }, // default rollingWindowMs 10000
    { rollingWindowMs: 999 }, // default rollingWindowBuckets 10
  ]) {
    assertConfigError(
      configError(() => new Command(() => 1, null, options)),
      "rollingWindowMs",
    );
  }
});

test(
  "values JSON cannot carry (functions, symbols, bigints) are refused naming the key",
  () => {
    for (const value of [() => 5, Symbol("x"), 10n]) {
      assertConfigError(
        configError(() => new Command(() => 1, null, { timeoutMs: value })),
        "timeoutMs",
      );
      assertConfigError(
        configError(() => new Command(() => 1, null, { forceOpen: value })),
        "forceOpen",
      );
    }
  },
);

test("run, fallback and options of the wrong type are TypeErrors", () => {
  for (const run of [undefined, null, 1, "run", {}, Promise.resolve()]) {
    assert.throws(() => new Command(run), TypeError);
  }
  for (const fallback of [1, "fb", {}, true]) {
    assert.throws(() => new Command(() => 1, fallback), TypeError);
  }
  for (const options of [null, 5, "opts"]) {
    assert.throws(() => new Command(() => 1, null, options), TypeError);
  }
  assert.throws(() => new Command(() => 1, null, { name: 5 }), TypeError);
  assert.throws(() => new Command(() => 1, null, { isBadRequest: "yes" }), TypeError);
  const cmd = new Command(() => 1);
  assert.throws(() => cmd.configure(null), TypeError);
  assert.throws(() => cmd.configure(5), TypeError);
});

test("configure() with a bad value changes nothing", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(({ signal }, ms) => clock.sleep(ms, signal).then(() => ms), null, {
    withContext: true,
    clock,
    timeoutMs: 200,
    maxConcurrentRequests: 2,
  });
  // Each patch holds one good change and one bad value: neither is applied.
  for (const [patch, key] of [
    [{ timeoutMs: 50, maxConcurrentRequests: 0 }, "maxConcurrentRequests"],
    [{ maxConcurrentRequests: 0, timeoutMs: 50 }, "maxConcurrentRequests"],
    [{ timeoutMs: 50, forceOpen: "yes" }, "forceOpen"],
    [{ timeoutMs: 50, bogus: 1 }, "bogus"],
    [{ timeoutMs: 50, rollingWindowBuckets: 7 }, "rollingWindowMs"],
    [{ forceOpen: true, timeoutMs: -5 }, "timeoutMs"],
  ]) {
    assertConfigError(
      configError(() => cmd.configure(patch)),
      key,
    );
  }
  const before = cmd.snapshot();
  assert.equal(before.state, "closed", "forceOpen: true was not applied");
  // timeoutMs is still 200 (a 100 ms run succeeds) and the bulkhead still 2.
  const a = cmd.execute(100);
  const b = cmd.execute(100);
  const c = cmd.execute(100).catch((e) => e);
  await clock.advance(100);
  assert.deepEqual(await Promise.all([a, b]), [100, 100]);
  assert.ok((await c) instanceof RejectedError);
  // A run of 250 ms still times out at 200.
  const d = cmd.execute(250).catch((e) => e);
  await clock.advance(200);
  assert.ok((await d) instanceof TimeoutError);
});

test("configure() applies good settings live", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => "ran", (e) => e.kind, { clock });
  assert.equal(await cmd.execute(), "ran");
  cmd.configure({ forceOpen: true });
  assert.equal(cmd.snapshot().state, "open");
  assert.equal(await cmd.execute(), "short_circuited");
  cmd.configure({ forceOpen: false });
  assert.equal(cmd.snapshot().state, "closed");
  assert.equal(await cmd.execute(), "ran");
  cmd.configure({}); // nothing to change
  assert.equal(await cmd.execute(), "ran");
});

test("changing the rolling window shape starts a fresh, empty window", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(() => 1, null, { clock, healthSnapshotIntervalMs: 0 });
  await cmd.execute();
  assert.equal(cmd.snapshot().rolling.SUCCESS, 1);
  cmd.configure({ rollingWindowMs: 2000, rollingWindowBuckets: 4 });
  const s = cmd.snapshot();
  assert.equal(s.rolling.SUCCESS, 0);
  assert.equal(s.cumulative.SUCCESS, 1);
});

test("named commands: configure(name, opts) then new Command(..., { name }) shares it", async () => {
  const name = uniqueName("shared");
  const clock = new VirtualClock();
  try {
    assert.equal(getCommand(name), undefined);
    configure(name, { forceOpen: true, clock });
    const observer = getCommand(name);
    assert.ok(observer instanceof h.CommandView);
    assert.equal(observer.name, name);
    assert.equal(observer.snapshot().state, "open");

    let runs = 0;
    const a = new Command(() => ++runs, null, { name });
    assert.equal(a.name, name);
    await assert.rejects(a.execute(), CircuitOpenError);
    assert.equal(runs, 0);

    const events = [];
    observer.on("event", (e, at) => events.push(`${e}@${at}`));
    configure(name, { forceOpen: false });
    await clock.advance(7);
    assert.equal(await a.execute(), 1);
    const b = new Command(() => "b", null, { name });
    assert.equal(await b.execute(), "b");
    // Both commands and the observer see one circuit, on the configured clock.
    assert.deepEqual(events, ["SUCCESS@7", "SUCCESS@7"]);
    for (const cmd of [a, b, observer, getCommand(name)]) {
      const s = cmd.snapshot();
      assert.equal(s.name, name);
      assert.equal(s.cumulative.SUCCESS, 2);
      assert.equal(s.cumulative.SHORT_CIRCUITED, 1);
    }
    // configure through one command object is seen by the others.
    b.configure({ forceOpen: true });
    assert.equal(a.snapshot().state, "open");
    await assert.rejects(a.execute(), CircuitOpenError);
    // new Command(..., { name, ...other settings }) is refused (semantics §2,
    // one command per name) and changes nothing; configure() changes them.
    assert.throws(() => new Command(() => 0, null, { name, forceOpen: false }), h.SettingsConflictError);
    assert.equal(a.snapshot().state, "open");
    configure(name, { forceOpen: false });
    new Command(() => 0, null, { name, forceOpen: false });
    assert.equal(await a.execute(), 2);
  } finally {
    removeCommand(name);
  }
});

test("getCommand(name) returns a view that cannot fake a call: no execute, nothing recorded", async () => {
  const name = uniqueName("view");
  const clock = new VirtualClock();
  try {
    let runs = 0;
    const real = new Command(() => ++runs, null, { name, clock });
    const view = getCommand(name);
    assert.ok(view instanceof h.CommandView);
    assert.equal(view instanceof Command, false, "a view is not a command");
    assert.equal(real instanceof h.CommandView, true, "every command is a view too");
    assert.equal(view.execute, undefined);
    assert.equal(view.queue, undefined);
    assert.throws(() => view.execute(), TypeError);
    const s = view.snapshot();
    assert.equal(s.cumulative.SUCCESS, 0, "looking up a command records nothing");
    assert.equal(s.health.total, 0);
    // The view observes the real calls, on the circuit's clock.
    const events = [];
    view.on("event", (e) => events.push(e));
    assert.equal(await real.execute(), 1);
    assert.deepEqual(events, ["SUCCESS"]);
    assert.equal(view.snapshot().cumulative.SUCCESS, 1);
    assert.equal(runs, 1);
  } finally {
    removeCommand(name);
  }
});

test("named commands share the bulkhead", async () => {
  const name = uniqueName("bulkhead");
  const clock = new VirtualClock();
  try {
    const a = new Command(() => clock.sleep(10).then(() => "a"), null, { name, clock, maxConcurrentRequests: 1 });
    const b = new Command(() => "b", (e) => e.kind, { name });
    const pa = a.execute();
    assert.equal(await b.execute(), "rejected");
    assert.equal(getCommand(name).snapshot().concurrent, 1);
    await clock.advance(10);
    assert.equal(await pa, "a");
    assert.equal(await b.execute(), "b");
  } finally {
    removeCommand(name);
  }
});

test("removeCommand forgets the name; a new command of that name starts fresh", async () => {
  const name = uniqueName("remove");
  const clock = new VirtualClock();
  const old = new Command(() => "old", null, { name, clock });
  await old.execute();
  assert.equal(getCommand(name).snapshot().cumulative.SUCCESS, 1);
  assert.equal(removeCommand(name), true);
  assert.equal(getCommand(name), undefined);
  assert.equal(removeCommand(name), false);
  assert.equal(removeCommand(uniqueName("never-made")), false);

  const fresh = new Command(() => "fresh", null, { name, clock });
  assert.equal(fresh.snapshot().cumulative.SUCCESS, 0);
  assert.equal(await fresh.execute(), "fresh");
  assert.equal(getCommand(name).snapshot().cumulative.SUCCESS, 1);
  // The old command object keeps working on its own (forgotten) circuit.
  assert.equal(await old.execute(), "old");
  assert.equal(old.snapshot().cumulative.SUCCESS, 2);
  assert.equal(fresh.snapshot().cumulative.SUCCESS, 1);
  removeCommand(name);
});

test("anonymous commands never share state", async () => {
  const a = new Command(() => "a");
  const b = new Command(() => "b");
  assert.equal(a.name, "");
  await a.execute();
  assert.equal(a.snapshot().cumulative.SUCCESS, 1);
  assert.equal(b.snapshot().cumulative.SUCCESS, 0);
});

test("named configuration errors: nothing is created or changed", () => {
  const name = uniqueName("bad");
  assertConfigError(
    configError(() => configure(name, { timeoutMs: 0 })),
    "timeoutMs",
  );
  assert.equal(getCommand(name), undefined);
  assertConfigError(
    configError(() => new Command(() => 1, null, { name, bogus: true })),
    "bogus",
  );
  assert.equal(getCommand(name), undefined);

  configure(name, { forceOpen: true });
  assertConfigError(
    configError(() => configure(name, { forceOpen: false, sleepWindowMs: 0 })),
    "sleepWindowMs",
  );
  assert.equal(getCommand(name).snapshot().state, "open");
  assertConfigError(
    configError(() => new Command(() => 1, null, { name, forceOpen: false, halfOpenMaxCalls: 0 })),
    "halfOpenMaxCalls",
  );
  assert.equal(getCommand(name).snapshot().state, "open");
  assert.throws(() => configure(5, {}), TypeError);
  removeCommand(name);
});
