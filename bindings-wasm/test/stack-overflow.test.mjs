// A caller that has almost used up the JS stack (a recursion bug, a deep
// framework) uses hystrix with every amount of stack left, down to none:
// the stack runs out somewhere in the glue or, without the headroom check
// in front of every call into the wasm (js/headroom.mjs), inside a wasm
// frame, where it stops the Rust code mid-update. Each such call must fail
// alone (issue 11, item 1; SPEC §3): every promise settles once, nothing
// stays held, counts stay honest, no error comes out of a wasm frame of the
// core, and the wasm instance — this command and every other — keeps
// working.
//
// Fixed: a failure between admission and settlement lost the call (its run
// permit and fallback slot stayed held: the bulkhead then refused every call
// with RejectedError); an overflow inside a wasm frame left the shadow
// stack pointer, a RefCell borrow, a run permit (the untimed case),
// wasm-bindgen's borrow of the command (the retry case: dispose() then
// threw) or a core lock (with listeners) behind, in every case once V8 ran
// the code unoptimised (`--no-opt --no-sparkplug --liftoff`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

// The execute() cases: options, the value a call that did not run out of
// stack gets, and the event it records.
const calls = [
  ["timed (the default)", {}, 1, "SUCCESS"],
  ["untimed", { timeoutEnabled: false }, 1, "SUCCESS"],
  ["with retries", { retryMaxAttempts: 2 }, 1, "SUCCESS"],
  ["open, with a fallback", { forceOpen: true }, "fb", "FALLBACK_SUCCESS"],
  ["with listeners", { listen: true }, 1, "SUCCESS"],
];
const others = [
  "command creation, anonymous and named",
  "settings, snapshots, listener registration and rendering",
  "cancellation and a host clock's timeouts fired",
];
const labels = [...calls.map(([label]) => `execute(), ${label}`), ...others];
// How V8 runs the code: as it chooses; unoptimised (the glue interpreted,
// the wasm by Liftoff only: the largest wasm frames); the wasm by TurboFan
// from the start.
const modes = [
  ["", []],
  [" (unoptimised)", ["--no-opt", "--no-sparkplug", "--liftoff", "--no-wasm-tier-up"]],
  [" (wasm by TurboFan)", ["--no-liftoff"]],
];

// Each case runs in a child process of its own (this file, given the case's
// number): a fresh wasm instance, so one case's outcome cannot hide or cause
// another's.
const only = process.argv[2];
if (only === undefined) {
  for (const [i, label] of labels.entries()) {
    for (const [how, flags] of modes) {
      test(`${label} at every depth near the stack limit${how}: each call fails alone, the wasm stays usable`, () => {
        const child = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), String(i)], { encoding: "utf8", timeout: 120_000 });
        assert.equal(child.status, 0, `case ${i} (${label}${how}) failed:\n${child.stdout.slice(-2000)}${child.stderr.slice(-2000)}`);
        assert.match(child.stdout, /^case ok/m);
      });
    }
  }
} else {
  // Node reports every rejection it sees before a handler is attached, and
  // can itself run out of stack doing so: that noise says nothing here.
  process.on("unhandledRejection", () => {});
  const pkg = new URL("../../target/npm/hystrix/", import.meta.url);
  const h = await import(new URL("index.node.mjs", pkg).href);
  const { metricsText } = await import(new URL("observe.mjs", pkg).href);
  const { probe } = await import(new URL("headroom.mjs", pkg).href);
  const { Command, VirtualClock } = h;

  /**
   * Calls `call` at every stack depth near the limit: recurses until the
   * stack overflows, then on the way back calls it from each of the `levels`
   * deepest levels, padded by 0–39 extra arguments (8 bytes each), so the
   * overflow lands at every point of its path in turn. Returns the promises
   * it gave and what it threw.
   * @param {() => unknown} call
   */
  function storm(call, rounds = 3, levels = 800) {
    /** @type {unknown[]} */
    const promises = [];
    /** @type {unknown[]} */
    const thrown = [];
    let up = 0;
    function at() {
      try {
        promises.push(call());
      } catch (e) {
        thrown.push(e);
      }
    }
    function dive() {
      try {
        dive();
      } catch {
        // At the limit: calls start on the way back up.
      }
      if (++up > levels) return;
      for (let pad = 0; pad < 40; pad++) {
        try {
          at.apply(null, new Array(pad));
        } catch {
          // The padding itself did not fit.
        }
      }
    }
    for (let i = 0; i < rounds; i++) {
      up = 0;
      dive();
    }
    return { promises, thrown };
  }

  /** The module of the stack probe's frames (`wasm://wasm/<hash>`): found by running out of stack in it. */
  const probeModule = (() => {
    /** @type {any} */
    let found;
    function down() {
      try {
        probe();
      } catch (e) {
        found = e;
        return;
      }
      down();
    }
    down();
    return String(found.stack).match(/wasm:\/\/wasm\/[0-9a-f]+/)?.[0];
  })();
  assert.ok(probeModule, "the probe's frames are wasm frames");

  /**
   * Checks `e` is the engine's "out of stack" error, and that it did not
   * come out of a wasm frame of the core (only the probe may throw it there).
   * @param {any} e
   */
  function outOfStack(e) {
    assert.ok(e instanceof RangeError && /call stack/i.test(e.message), `not an out-of-stack error: ${e}`);
    const top = String(e.stack).split("\n").find((l) => /^\s+at /.test(l)) ?? "";
    const wasm = top.match(/wasm:\/\/wasm\/[0-9a-f]+/)?.[0];
    assert.ok(wasm === undefined || wasm === probeModule, `the stack ran out inside a wasm frame of the core:\n${e.stack}`);
  }

  const clock = new VirtualClock();
  const i = Number(only);
  if (i < calls.length) {
    const [, { listen, ...options }, want, event] = calls[i];
    const cmd = new Command((x) => x, () => "fb", { clock, maxConcurrentRequests: 1_000_000, fallbackMaxConcurrentRequests: 1_000_000, ...options });
    let heard = 0;
    /** @type {unknown[]} */
    const listenerErrors = [];
    if (listen) {
      cmd.on("event", (e) => {
        if (e === event) heard++;
      });
      // A listener that calls back into the wasm (from inside a wasm frame).
      cmd.on("event", () => cmd.snapshot());
      cmd.on("stateChange", () => {});
      cmd.on("error", (e) => listenerErrors.push(e));
    }
    const { promises, thrown } = storm(() => cmd.execute(1));
    const ends = await Promise.allSettled(promises);
    const fulfilled = ends.filter((e) => e.status === "fulfilled");
    const rejected = ends.filter((e) => e.status === "rejected");
    const overflows = thrown.length + rejected.length;
    assert.ok(overflows >= 50, `the stack ran out ${overflows} times`);
    for (const e of thrown) outOfStack(e);
    for (const e of rejected) outOfStack(e.reason);
    for (const e of listenerErrors) outOfStack(e);
    assert.ok(fulfilled.every((e) => e.value === want), "a call that did not run out of stack got its value");
    const s = cmd.snapshot();
    assert.equal(s.concurrent, 0, "no run permit is held");
    assert.equal(s.fallbackConcurrent, 0, "no fallback slot is held");
    // Counted once each: every value a caller got was recorded, and nothing
    // was recorded for a call whose caller got nothing.
    const recorded = s.cumulative[event];
    assert.ok(recorded >= fulfilled.length, `${event} ${recorded} < ${fulfilled.length} values given`);
    assert.ok(recorded <= fulfilled.length + rejected.length, `${event} ${recorded} > ${fulfilled.length + rejected.length} promises`);
    // Every recorded event was heard: delivery runs inside the crossing that recorded it.
    if (listen) assert.equal(heard, recorded, "the listener heard every recorded event");
    // Still usable: this command, a new one, its snapshot and listeners.
    assert.equal(await cmd.execute(7), want === 1 ? 7 : "fb");
    const other = new Command((x) => x * 2, null, { clock });
    assert.equal(await other.execute(21), 42);
    assert.equal(cmd.snapshot().concurrent, 0);
    assert.equal(other.dispose(), true);
    assert.equal(cmd.dispose(), true);
  } else if (i === calls.length) {
    // Creation: anonymous; and named, made and disposed again at every
    // depth, so a creation or a disposal is cut short at every point
    // between the core registry and the glue's cache of it.
    const anonymous = storm(() => new Command((x) => x, null, { clock }).dispose());
    /** @type {any} */
    let last = null;
    const named = storm(() => {
      if (last !== null && !last.disposed) last.dispose();
      last = new Command((x) => x + 1, null, { name: "storm", clock, timeoutMs: 500 });
      return last.name;
    });
    for (const { thrown } of [anonymous, named]) {
      for (const e of thrown) outOfStack(e);
      assert.ok(thrown.length >= 50, `the stack ran out ${thrown.length} times`);
    }
    const again = new Command((x) => x + 1, null, { name: "storm", clock, timeoutMs: 500 });
    assert.equal(await again.execute(1), 2);
    assert.equal(again.snapshot().concurrent, 0);
    again.dispose();
    const fresh = new Command((x) => x + 1, null, { name: "storm", clock, timeoutMs: 700 });
    assert.equal(await fresh.execute(2), 3);
    assert.equal(fresh.dispose(), true);
  } else if (i === calls.length + 2) {
    // Inputs fed from the caller's depth: an abort of the caller's signal,
    // and a host clock that fires its timers when told to.
    let t = 0;
    /** @type {{ fn: () => void, armed: boolean }[]} */
    const timers = [];
    const host = {
      now: () => t,
      /** @param {number} _due @param {() => void} fn */
      arm(_due, fn) {
        const timer = { fn, armed: true };
        timers.push(timer);
        return { cancel: () => void (timer.armed = false) };
      },
    };
    /** @type {(() => void)[]} */
    const runs = [];
    const cmd = new Command(() => new Promise((r) => runs.push(() => r(1))), null, { clock: host, timeoutMs: 10, maxConcurrentRequests: 1_000_000 });
    const { promises, thrown } = storm(() => {
      const ac = new AbortController();
      const cancelled = cmd.executeWith({ signal: ac.signal }, 1);
      const timed = cmd.execute(2);
      ac.abort();
      t += 20;
      fire();
      return Promise.allSettled([cancelled, timed]);
    });
    // A clock keeps a timer until its callback returned: one that threw
    // (no stack left even to enter it) fires again, from here.
    function fire() {
      while (timers.length !== 0) {
        if (timers[0].armed) timers[0].fn();
        timers.shift();
      }
    }
    fire();
    for (const e of thrown) outOfStack(e);
    assert.ok(thrown.length >= 50, `the stack ran out ${thrown.length} times`);
    const ends = (await Promise.all(promises)).flat();
    for (const e of ends) {
      if (e.status === "fulfilled") assert.fail(`a call that never ran to the end got ${e.value}`);
      else if (!(e.reason instanceof h.CancelledError || e.reason instanceof h.TimeoutError)) outOfStack(e.reason);
    }
    for (const r of runs.splice(0)) r();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(cmd.snapshot().concurrent, 0, "no run permit is held");
    const ok = new Command((x) => x, null, { clock: host });
    assert.equal(await ok.execute(3), 3);
    assert.equal(ok.dispose(), true);
    assert.equal(cmd.dispose(), true);
  } else {
    // Settings, snapshots, listener registration and rendering (they allocate).
    const cmd = new Command((x) => x, null, { name: "admin", clock });
    let k = 0;
    const done = storm(() => {
      cmd.configure({ maxConcurrentRequests: 100 + (k++ % 7) });
      cmd.snapshot();
      const off = cmd.on("event", () => {});
      off();
      return metricsText({ commands: [cmd] });
    });
    for (const e of done.thrown) outOfStack(e);
    assert.ok(done.thrown.length >= 50, `the stack ran out ${done.thrown.length} times`);
    assert.ok(done.promises.every((t) => typeof t === "string" && t.includes("admin")), "every rendering names the command");
    cmd.configure({ maxConcurrentRequests: 3 });
    assert.equal(await cmd.execute(5), 5);
    assert.match(metricsText({ commands: [cmd] }), /admin/);
    assert.equal(cmd.dispose(), true);
  }
  console.log("case ok");
}
