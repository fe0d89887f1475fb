// Async context (AsyncLocalStorage) per call: whatever the call does later
// — its timeout, the fallback that follows, retries after a backoff,
// hedges, rate-limit waits, the abort of its runs' signals, its
// settlement — runs in the async context of the caller who started it,
// never in that of another call that happened to arm the clock's shared
// timer. On the real clock (one setTimeout for every call) and on a
// VirtualClock alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock } = h;

const als = new AsyncLocalStorage();
/** The request id of the current async context, or "none". */
const rid = () => als.getStore()?.id ?? "none";

/** Starts `start()` for each id in `ids`, each inside its own als.run({ id }), and awaits them all. */
function perRequest(ids, start) {
  return Promise.all(ids.map((id) => als.run({ id }, () => start(id))));
}

/** A run that never settles unless its signal aborts (then it rejects with the reason). */
function hang(signal) {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
}

test("real clock: concurrent timed-out calls run their fallbacks, abort listeners and continuations in their own context", async () => {
  const seen = [];
  const cmd = new Command(
    ({ signal }, id) => {
      signal.addEventListener("abort", () => seen.push(["abort", id, rid()]));
      return hang(signal);
    },
    (_error, id) => {
      seen.push(["fallback", id, rid()]);
      return `fallback ${id} in ${rid()}`;
    },
    { timeoutMs: 15, withContext: true },
  );
  const out = await perRequest([1, 2, 3], async (id) => {
    const v = await cmd.execute(id);
    // The caller's own continuation, after settlement.
    seen.push(["after", id, rid()]);
    return v;
  });
  assert.deepEqual(out, ["fallback 1 in 1", "fallback 2 in 2", "fallback 3 in 3"]);
  assert.equal(seen.length, 9);
  for (const [what, id, ctx] of seen) assert.equal(ctx, id, `${what} of call ${id} ran in the context of ${ctx}`);
  assert.equal(cmd.snapshot().cumulative.TIMEOUT, 3);
});

test("real clock: a call started outside any context does not see another call's store on timeout", async () => {
  const seen = [];
  const cmd = new Command(
    ({ signal }) => hang(signal),
    (_e, id) => seen.push([id, rid()]),
    { timeoutMs: 10, withContext: true },
  );
  // The store-bearing call arms the clock's setTimeout first.
  await Promise.all([als.run({ id: 1 }, () => cmd.execute(1)), cmd.execute("none")]);
  assert.deepEqual(seen.sort(), [
    [1, 1],
    ["none", "none"],
  ]);
});

test("real clock: retries after a backoff run in their call's context", async () => {
  const seen = [];
  const cmd = new Command(
    ({ attempt }, id) => {
      seen.push([id, attempt, rid()]);
      if (attempt < 3) throw new Error(`flaky ${id}`);
      return `${id}@${attempt}`;
    },
    null,
    { retryMaxAttempts: 3, retryBaseDelayMs: 5, retryJitter: "none", withContext: true },
  );
  const out = await perRequest([1, 2, 3], (id) => cmd.execute(id));
  assert.deepEqual(out, ["1@3", "2@3", "3@3"]);
  assert.equal(seen.length, 9);
  for (const [id, attempt, ctx] of seen) assert.equal(ctx, id, `attempt ${attempt} of call ${id} ran in the context of ${ctx}`);
});

test("real clock: retries after a timeout, then the fallback, keep the call's context", async () => {
  const seen = [];
  const cmd = new Command(
    ({ attempt, signal }, id) => {
      seen.push(["run", id, attempt, rid()]);
      return hang(signal);
    },
    (_e, id) => {
      seen.push(["fallback", id, 0, rid()]);
      return id;
    },
    { timeoutMs: 10, retryMaxAttempts: 2, retryBaseDelayMs: 3, retryJitter: "none", withContext: true },
  );
  assert.deepEqual(await perRequest([1, 2], (id) => cmd.execute(id)), [1, 2]);
  assert.equal(seen.length, 6);
  for (const [what, id, attempt, ctx] of seen) assert.equal(ctx, id, `${what} ${attempt} of call ${id} ran in ${ctx}`);
});

test("real clock: hedges start in their call's context, and losers are aborted in it", async () => {
  const seen = [];
  const cmd = new Command(
    ({ attempt, signal }, id) => {
      seen.push(["run", id, attempt, rid()]);
      signal.addEventListener("abort", () => seen.push(["abort", id, attempt, rid()]));
      // The primary hangs; the hedge answers.
      return attempt === 1 ? hang(signal) : new Promise((r) => setTimeout(r, 2, `${id}@${attempt}`));
    },
    null,
    { hedgeMaxAttempts: 2, hedgeDelayMs: 5, timeoutMs: 5000, withContext: true },
  );
  const out = await perRequest([1, 2, 3], (id) => cmd.execute(id));
  assert.deepEqual(out, ["1@2", "2@2", "3@2"]);
  assert.equal(seen.filter(([w]) => w === "run").length, 6);
  assert.equal(seen.filter(([w]) => w === "abort").length, 3);
  for (const [what, id, attempt, ctx] of seen) assert.equal(ctx, id, `${what} ${attempt} of call ${id} ran in ${ctx}`);
});

test("real clock: calls waiting for the rate limiter start in their own context", async () => {
  const seen = [];
  const cmd = new Command(
    (id) => {
      seen.push([id, rid()]);
      return id;
    },
    null,
    { rateLimitForPeriod: 1, rateLimitPeriodMs: 10, rateLimitTimeoutMs: 1000 },
  );
  assert.deepEqual(await perRequest([1, 2, 3], (id) => cmd.execute(id)), [1, 2, 3]);
  assert.deepEqual(seen, [
    [1, 1],
    [2, 2],
    [3, 3],
  ]);
});

test("virtual clock: timeouts, fallbacks and retries keep each call's context", async () => {
  const clock = new VirtualClock();
  const seen = [];
  const cmd = new Command(
    ({ attempt, signal }, id) => {
      seen.push(["run", id, attempt, rid()]);
      return clock.sleep(100, signal);
    },
    (_e, id) => {
      seen.push(["fallback", id, 0, rid()]);
      return id;
    },
    { clock, timeoutMs: 10, retryMaxAttempts: 2, retryBaseDelayMs: 5, retryJitter: "none", withContext: true },
  );
  const all = perRequest([1, 2, 3], (id) => cmd.execute(id));
  await clock.advance(100);
  assert.deepEqual(await all, [1, 2, 3]);
  assert.equal(seen.length, 9);
  for (const [what, id, attempt, ctx] of seen) assert.equal(ctx, id, `${what} ${attempt} of call ${id} ran in ${ctx}`);
});

test("virtual clock: retries after a cleared timeout (its unopened gate reused for the backoff) keep each call's context", async () => {
  const clock = new VirtualClock();
  const seen = [];
  const cmd = new Command(
    async ({ attempt }, id) => {
      seen.push([id, attempt, rid()]);
      if (attempt < 3) throw new Error(`attempt ${attempt} of ${id}`);
      return id;
    },
    null,
    { clock, timeoutMs: 1000, retryMaxAttempts: 3, retryBaseDelayMs: 5, retryJitter: "none", withContext: true },
  );
  const all = perRequest([1, 2, 3], (id) => cmd.execute(id));
  // Moved on from a context of its own (past both backoffs).
  await als.run({ id: "clock" }, () => clock.advance(100));
  assert.deepEqual(await all, [1, 2, 3]);
  assert.equal(seen.length, 9);
  for (const [id, attempt, ctx] of seen) assert.equal(ctx, id, `attempt ${attempt} of call ${id} ran in ${ctx}`);
});

test("a host clock whose cancel does not stop a timer: a backoff armed after the cleared timeout still fires its retry", async () => {
  // cancel() is a no-op: the cleared timeout fires anyway, before the backoff
  // (due 5 against 20); the core ignores it, and its gate must not be the backoff's.
  const timers = [];
  let t = 0;
  const clock = {
    now: () => t,
    arm: (due, fn) => {
      timers.push({ due, fn });
      return { cancel() {} };
    },
  };
  /** Moves the clock to `to`, firing due timers in due order from a context of its own. */
  const advance = (to) =>
    als.run({ id: "clock" }, () => {
      t = to;
      timers.sort((a, b) => a.due - b.due);
      while (timers.length > 0 && timers[0].due <= t) timers.shift().fn();
    });
  const seen = [];
  const cmd = new Command(
    async ({ attempt }, id) => {
      seen.push([id, attempt, rid()]);
      if (attempt === 1) throw new Error("first");
      return id;
    },
    null,
    { clock, timeoutMs: 5, retryMaxAttempts: 2, retryBaseDelayMs: 20, retryJitter: "none", withContext: true },
  );
  const p = als.run({ id: 7 }, () => cmd.execute(7));
  await new Promise((r) => setImmediate(r));
  advance(5); // the cleared timeout of attempt 1
  await new Promise((r) => setImmediate(r));
  advance(20); // the backoff: attempt 2
  await new Promise((r) => setImmediate(r));
  advance(25); // attempt 2's cleared timeout, if it armed one
  assert.equal(await p, 7);
  assert.deepEqual(seen, [
    [7, 1, 7],
    [7, 2, 7],
  ]);
});

test("a host clock's timer callbacks run the call's work in the call's context", async () => {
  // A clock that fires its timers from a context of its own (one setInterval).
  const timers = [];
  let t = 0;
  const clock = {
    now: () => t,
    arm: (due, fn) => {
      const timer = { due, fn, live: true };
      timers.push(timer);
      return { cancel: () => (timer.live = false) };
    },
  };
  const seen = [];
  const cmd = new Command(
    ({ signal }) => hang(signal),
    (_e, id) => seen.push([id, rid()]),
    { clock, timeoutMs: 10, withContext: true },
  );
  const all = perRequest([1, 2], (id) => cmd.execute(id));
  als.run({ id: "host" }, () => {
    t = 10;
    for (const timer of timers.splice(0)) if (timer.live && timer.due <= t) timer.fn();
  });
  await all;
  assert.deepEqual(seen, [
    [1, 1],
    [2, 2],
  ]);
});

// A timeout gates its work back into the caller's context only where that
// work can run user code (call.mjs `startCall`, registry.mjs
// `refreshGates`): a fallback, `withContext` runs, listeners, a plan of
// more attempts, a caller's clock. Each such case alone, and the case with
// none, where only the settlement is left (a promise's reactions run in
// their own context).

/** A run that never settles (it ignores the timeout; its permit is held until then). */
const never = () => new Promise(() => {});

test("a timeout with none of them: each caller's continuation sees its own store", async () => {
  const cmd = new Command(never, null, { timeoutMs: 10 });
  const seen = [];
  await Promise.all([
    ...[1, 2, 3].map((id) =>
      als.run({ id }, () =>
        cmd.execute().catch((e) => {
          seen.push([id, rid(), e.name]);
        }),
      ),
    ),
    cmd.execute().catch((e) => {
      seen.push(["none", rid(), e.name]);
    }),
  ]);
  assert.deepEqual(
    seen.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    [
      [1, 1, "TimeoutError"],
      [2, 2, "TimeoutError"],
      [3, 3, "TimeoutError"],
      ["none", "none", "TimeoutError"],
    ],
  );
});

test("a plain timed call makes no gate; one with a fallback does (promises counted at their creation)", async () => {
  const { createHook } = await import("node:async_hooks");
  const run = async (x) => x;
  /** Promises created while `cmd.execute(1)` starts (its synchronous part). */
  const made = (cmd) => {
    let n = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === "PROMISE") n++;
      },
    }).enable();
    const p = cmd.execute(1);
    hook.disable();
    return p.then(() => n);
  };
  const plain = new Command(run, null, { timeoutMs: 1000 });
  const withFallback = new Command(run, () => 0, { timeoutMs: 1000 });
  await plain.execute(1);
  await withFallback.execute(1);
  const [a, b] = [await made(plain), await made(withFallback)];
  // The gate is a promise and its reaction's: at least one more.
  assert.ok(b > a, `a plain call made ${a} promises, one with a fallback ${b}`);
});

test("a timeout's fallback alone (no withContext) runs in its call's context", async () => {
  const seen = [];
  const cmd = new Command(never, (_e, id) => {
    seen.push([id, rid()]);
    return id;
  }, { timeoutMs: 10 });
  // The store-less call arms the clock's setTimeout first.
  const out = await Promise.all([cmd.execute("none"), ...[1, 2].map((id) => als.run({ id }, () => cmd.execute(id)))]);
  assert.deepEqual(out, ["none", 1, 2]);
  assert.deepEqual(seen.sort(), [
    [1, 1],
    [2, 2],
    ["none", "none"],
  ]);
});

test("a listener's notices of a timeout (and the trip it causes) come in the call's context", async () => {
  const cmd = new Command(never, null, {
    timeoutMs: 10,
    requestVolumeThreshold: 1,
    errorThresholdPercentage: 1,
    healthSnapshotIntervalMs: 0,
  });
  const heard = [];
  cmd.on("event", (event) => heard.push([event, rid()]));
  cmd.on("stateChange", (_from, to) => heard.push([to, rid()]));
  await Promise.all([cmd.execute().catch(() => {}), als.run({ id: 7 }, () => cmd.execute().catch(() => {}))]);
  const timeouts = heard.filter(([what]) => what === "TIMEOUT").map(([, ctx]) => ctx);
  assert.deepEqual(timeouts.sort(), [7, "none"]);
  const opened = heard.filter(([what]) => what === "open");
  assert.equal(opened.length, 1);
  // The first call to time out trips the circuit: the one that armed first (no store).
  assert.deepEqual(opened[0], ["open", "none"]);
});

test("a listener registered after a call started: calls started afterwards gate their timeouts", async () => {
  const cmd = new Command(never, null, { timeoutMs: 10 });
  const heard = [];
  const first = als.run({ id: 1 }, () => cmd.execute().catch(() => {}));
  cmd.on("event", (event) => {
    if (event === "TIMEOUT") heard.push(rid());
  });
  const second = als.run({ id: 2 }, () => cmd.execute().catch(() => {}));
  await Promise.all([first, second]);
  // Call 1's timer was armed before the listener existed (the documented
  // rule: its notice may come in the context of the clock's timer); call 2's is gated.
  assert.equal(heard.length, 2);
  assert.ok(heard.includes(2), `heard ${heard}`);
});

/**
 * Two calls (one with no store) of a plain run whose first attempts hang
 * and whose retries answer, on a command made with `options` and then
 * configured with `later` (settings, or a function that configures it):
 * each attempt must see its own call's store.
 */
async function retriedInTheirContext(options, later) {
  const seen = [];
  let calls = 0;
  const cmd = new Command(
    (id) => {
      seen.push([id, rid()]);
      // Each call's first attempt hangs; its retry answers.
      return ++calls <= 2 ? never() : id;
    },
    null,
    options,
  );
  if (typeof later === "function") later();
  else cmd.configure(later);
  const out = await Promise.all([cmd.execute("none"), als.run({ id: 1 }, () => cmd.execute(1))]);
  assert.deepEqual(out, ["none", 1]);
  assert.deepEqual(seen.sort(), [
    [1, 1],
    [1, 1],
    ["none", "none"],
    ["none", "none"],
  ]);
}

const RETRY = { retryMaxAttempts: 2, retryBaseDelayMs: 1, retryJitter: "none" };

test("retries after a timeout (a plain run, no fallback) start in their call's context", async () => {
  await retriedInTheirContext({ timeoutMs: 10, ...RETRY }, {});
});

test("retry options given by configure() later gate the calls started after", async () => {
  await retriedInTheirContext({ timeoutMs: 10 }, RETRY);
});

/**
 * A host clock at 0 that records the context of each `now()` in `asked`;
 * `fireAt(t)` moves it to `t` and fires the timers due.
 * @param {unknown[]} asked
 */
function hostClock(asked) {
  /** @type {{ due: number, fn: () => void, live: boolean }[]} */
  const timers = [];
  let t = 0;
  const clock = {
    now: () => {
      asked.push(rid());
      return t;
    },
    /** @param {number} due @param {() => void} fn */
    arm: (due, fn) => {
      const timer = { due, fn, live: true };
      timers.push(timer);
      return { cancel: () => (timer.live = false) };
    },
  };
  /** @param {number} to */
  const fireAt = (to) => {
    t = to;
    for (const timer of timers.splice(0)) if (timer.live && timer.due <= t) timer.fn();
  };
  return { clock, fireAt };
}

/**
 * Two calls of `cmd` (a run that never ends, a 10 ms timeout), each in its
 * own context; then `fire()` in a third, which times them out: each must
 * time out in its own context, and the clock's `now()` (its calls recorded
 * in `asked`) never be asked in the third.
 * @param {InstanceType<typeof Command>} cmd
 * @param {unknown[]} asked
 * @param {() => unknown} fire
 */
async function timeoutsAskTheClockInTheirContext(cmd, asked, fire) {
  const all = Promise.all([1, 2].map((id) => als.run({ id }, () => cmd.execute().catch((e) => [id, rid(), e.name]))));
  asked.length = 0;
  await als.run({ id: "host" }, fire);
  assert.deepEqual(await all, [
    [1, 1, "TimeoutError"],
    [2, 2, "TimeoutError"],
  ]);
  assert.ok(asked.length >= 2 && !asked.includes("host"), `now() was called in ${asked}`);
}

test("a caller's clock: its now() at a timeout is called in the call's context", async () => {
  const asked = [];
  const { clock, fireAt } = hostClock(asked);
  const cmd = new Command(never, null, { clock, timeoutMs: 10 });
  await timeoutsAskTheClockInTheirContext(cmd, asked, () => fireAt(10));
});

// Review findings on the gate rule (each failed before its fix or had no test).

test("a withContext run alone (no fallback): its abort listeners run in its call's context", async () => {
  const seen = [];
  const cmd = new Command(
    ({ signal }) => {
      signal.addEventListener("abort", () => seen.push(["abort", rid()]));
      return never();
    },
    null,
    { timeoutMs: 10, withContext: true },
  );
  await Promise.all([cmd.execute().catch(() => {}), als.run({ id: 1 }, () => cmd.execute().catch(() => {}))]);
  assert.deepEqual(
    seen.sort(),
    [
      ["abort", 1],
      ["abort", "none"],
    ].sort(),
  );
});

test("retry options given by configure(name) to an existing name gate its calls", async () => {
  await retriedInTheirContext({ name: "asynccontext-configure-name", timeoutMs: 10 }, () =>
    h.configure("asynccontext-configure-name", RETRY),
  );
});

test("a host clock given by a second Command of the name: its now() at a timeout is called in the call's context", async () => {
  const asked = [];
  const { clock, fireAt } = hostClock(asked);
  const cmd = new Command(never, null, { name: "asynccontext-second-clock", timeoutMs: 10 });
  new Command(never, null, { name: "asynccontext-second-clock", clock });
  await timeoutsAskTheClockInTheirContext(cmd, asked, () => fireAt(10));
});

for (const [what, make] of [
  [
    "a VirtualClock subclass overriding now()",
    (asked) =>
      new (class extends VirtualClock {
        now() {
          asked.push(rid());
          return super.now();
        }
      })(),
  ],
  [
    "a VirtualClock whose now() is stubbed on the instance",
    (asked) => {
      const clock = new VirtualClock();
      const realNow = clock.now.bind(clock);
      clock.now = () => {
        asked.push(rid());
        return realNow();
      };
      return clock;
    },
  ],
]) {
  test(`${what}: its now() at a timeout is called in the call's context`, async () => {
    const asked = [];
    const clock = make(asked);
    const cmd = new Command(never, null, { timeoutMs: 10, clock });
    await timeoutsAskTheClockInTheirContext(cmd, asked, () => clock.advance(10));
  });
}

test("the browser, bundler and init entries import nothing from node: (browsers have no async_hooks)", async () => {
  const { readFileSync } = await import("node:fs");
  const dir = new URL("../../target/npm/hystrix/", import.meta.url);
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(new URL(file, dir), "utf8");
    for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\s+"([^"]+)"/g)) {
      const spec = m[1] ?? m[2];
      assert.ok(!spec.startsWith("node:"), `${file} imports ${spec}`);
      if (spec.startsWith("./") && spec.endsWith(".mjs")) visit(spec.slice(2));
    }
  };
  for (const entry of ["index.web.mjs", "index.bundler.mjs", "init.mjs"]) visit(entry);
  assert.ok(seen.has("context.mjs") && seen.has("call.mjs"), `visited ${[...seen]}`);
  // The Node entry is the one that does.
  assert.match(readFileSync(new URL("index.node.mjs", dir), "utf8"), /from "node:async_hooks"/);
});
