// Replays SPEC scenario files through the npm package's public API:
// `Command.execute()` with promise-returning runs and fallbacks that honour
// (or ignore) their AbortSignal, on a `VirtualClock`. Events are attributed
// to calls with AsyncLocalStorage (virtual timers keep the arming context).
//   node runner.mjs PACKAGE_DIR PATH...   ->  "js: N passed, M failed"
import { AsyncLocalStorage } from "node:async_hooks";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pkgDir, ...paths] = process.argv.slice(2);
const h = await import(pathToFileURL(resolve(pkgDir, "index.node.mjs")).href);
const als = new AsyncLocalStorage();
const RUN = Symbol("run");
const FALLBACK = Symbol("fallback");

const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
/** The SPEC's keys (§2, §8); the JS API takes them in camelCase. */
const SPEC_KEYS = new Set([
  "timeout_enabled", "timeout_ms", "max_concurrent_requests", "fallback_enabled",
  "fallback_max_concurrent_requests", "circuit_breaker_enabled", "request_volume_threshold",
  "error_threshold_percentage", "sleep_window_ms", "half_open_max_calls", "force_open", "force_closed",
  "rolling_window_ms", "rolling_window_buckets", "health_snapshot_interval_ms",
  // v2 (§8)
  "random_seed", "retry_max_attempts", "retry_on_timeout", "retry_on_rejected", "retry_base_delay_ms",
  "retry_multiplier_permille", "retry_max_delay_ms", "retry_jitter", "deadline_ms", "retry_budget_percent",
  "retry_budget_min_per_sec", "retry_budget_window_ms", "retry_budget_window_buckets", "rate_limit_for_period",
  "rate_limit_period_ms", "rate_limit_burst", "rate_limit_timeout_ms", "hedge_max_attempts", "hedge_delay_ms",
  "hedge_on_failure", "concurrency_limit_mode", "adaptive_initial_limit", "adaptive_min_limit",
  "adaptive_max_limit", "adaptive_window_ms", "adaptive_window_min_samples", "adaptive_drop_on_failure",
  "aimd_backoff_permille", "aimd_timeout_ms", "gradient2_smoothing_permille", "gradient2_queue_size",
  "gradient2_long_window", "gradient2_rtt_tolerance_permille",
]);
/** Names the JS API itself gives meaning to: a scenario's unknown key must not become one of them. */
const JS_NAMES = new Set([...[...SPEC_KEYS].map(camel), "name", "clock", "isBadRequest"]);
/** Marks an unknown SPEC key that would otherwise read as a JS option (e.g. "timeoutMs"). */
const UNKNOWN = " (unknown to the SPEC)";
const jsKey = (k) => (SPEC_KEYS.has(k) ? camel(k) : JS_NAMES.has(camel(k)) ? k + UNKNOWN : camel(k));
const options = (config) => Object.fromEntries(Object.entries(config).map(([k, v]) => [jsKey(k), v]));

/** A scenario file that breaks the format (SPEC §7); read as every runner reads it. */
class ScenarioError extends Error {}

/** An optional field: absent and null both give `dflt`. */
const opt = (obj, key, dflt = undefined) => obj[key] ?? dflt;

/** A whole, non-negative number below 2^53 (`5.0` is `5`). */
function uint(v, what) {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER) return v;
  throw new ScenarioError(`${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A run's or fallback's outcome, one of `allowed`. */
function outcomeOf(spec, what, allowed) {
  if (!isObject(spec)) throw new ScenarioError(`${what} must be an object`);
  if (typeof spec.outcome !== "string") throw new ScenarioError(`${what}.outcome must be a string`);
  if (!allowed.includes(spec.outcome)) throw new ScenarioError(`${what}: unknown outcome ${JSON.stringify(spec.outcome)}`);
  return spec.outcome;
}

function flag(spec, key, what) {
  const v = opt(spec, key, false);
  if (typeof v !== "boolean") throw new ScenarioError(`${what}.${key} must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

/** An expectation, checked for its types (a non-object expects nothing in particular). */
function readExpect(spec) {
  const want = isObject(spec) ? spec : {};
  const text = (k) => {
    const v = opt(want, k);
    if (v !== undefined && typeof v !== "string") throw new ScenarioError(`expect.${k} must be a string`);
    return v;
  };
  const events = opt(want, "events");
  if (events !== undefined && !(Array.isArray(events) && events.every((e) => typeof e === "string"))) {
    throw new ScenarioError("expect.events must be an array of strings");
  }
  const whole = (k) => {
    const v = opt(want, k);
    return v === undefined ? undefined : uint(v, `expect.${k}`);
  };
  let runStarts = opt(want, "run_starts");
  if (runStarts !== undefined) {
    if (!Array.isArray(runStarts)) throw new ScenarioError("expect.run_starts must be an array");
    runStarts = runStarts.map((t) => uint(t, "expect.run_starts[]"));
  }
  return { result: text("result"), error: text("error"), events, attempts: whole("attempts"), settledAt: whole("settled_at"), runStarts };
}

/** §17: the events that are attempt outcomes. */
const ATTEMPT_EVENTS = new Set(["SUCCESS", "FAILURE", "TIMEOUT", "BAD_REQUEST", "SHORT_CIRCUITED", "SEMAPHORE_REJECTED", "CANCELLED"]);

function table(want, key) {
  const v = opt(want, key, {});
  if (!isObject(v)) throw new ScenarioError(`check.${key} must be an object`);
  return v;
}

/** A check's expected count: never matches unless it is a whole number. */
const count = (v) => (typeof v === "number" ? v : NaN);

/** §17: `run` is one RUN or a non-empty array of them; the k-th run a call invokes behaves as entry k (or the last). */
function makeRuns(clock, spec) {
  const list = Array.isArray(spec) ? spec : [spec];
  if (list.length === 0) throw new ScenarioError("run must not be an empty array");
  const runs = list.map((r) => makeRun(clock, r));
  return (call) => (ctx) => {
    const k = call.runStarts.length;
    call.runStarts.push(clock.now());
    return runs[Math.min(k, runs.length - 1)](ctx);
  };
}

function makeRun(clock, spec) {
  const outcome = outcomeOf(spec, "run", ["success", "failure", "bad_request"]);
  const after = uint(opt(spec, "after_ms", 0), "run.after_ms");
  const ignoresCancel = flag(spec, "ignores_cancel", "run");
  const finish = () => {
    if (outcome === "success") return RUN;
    if (outcome === "bad_request") throw new h.BadRequestError();
    throw new Error("run failed");
  };
  return (ctx) => {
    if (!after) return Promise.resolve().then(finish);
    return clock.sleep(after, ignoresCancel ? undefined : ctx.signal).then(finish);
  };
}

function makeFallback(clock, spec) {
  if (spec === undefined || spec === null) return undefined;
  const outcome = outcomeOf(spec, "fallback", ["success", "failure"]);
  const after = uint(opt(spec, "after_ms", 0), "fallback.after_ms");
  const finish = () => {
    if (outcome === "success") return FALLBACK;
    throw new Error("fallback failed");
  };
  return () => (after ? clock.sleep(after).then(finish) : finish());
}

function kindOf(e) {
  return e instanceof h.HystrixError ? e.kind : "failure";
}

function compare(call, result, error) {
  const want = call.expect;
  // Fields given as null are not checked (as if absent).
  if (want == null) return null;
  if (want.result != null && want.result !== result) return `result ${JSON.stringify(result)}, expected ${JSON.stringify(want.result)}`;
  if (want.error != null && want.error !== error) return `error ${JSON.stringify(error)}, expected ${JSON.stringify(want.error)}`;
  if (want.events != null && JSON.stringify(want.events) !== JSON.stringify(call.events)) {
    return `events ${JSON.stringify(call.events)}, expected ${JSON.stringify(want.events)}`;
  }
  const attempts = call.events.filter((e) => ATTEMPT_EVENTS.has(e)).length;
  if (want.attempts != null && want.attempts !== attempts) return `attempts ${attempts}, expected ${want.attempts}`;
  if (want.settledAt != null && want.settledAt !== call.settledAt) return `settled at ${call.settledAt}, expected ${want.settledAt}`;
  if (want.runStarts != null && JSON.stringify(want.runStarts) !== JSON.stringify(call.runStarts)) {
    return `runs started at ${JSON.stringify(call.runStarts)}, expected ${JSON.stringify(want.runStarts)}`;
  }
  return null;
}

/** A check's SPEC names (§7) -> the JS snapshot's camelCase keys; any other health name is unknown. */
const HEALTH_KEYS = { total: "total", errors: "errors", error_percentage: "errorPercentage" };
const COUNT_KEYS = { concurrent: "concurrent", fallback_concurrent: "fallbackConcurrent", limit: "limit" };

function check(i, clock, cmd, want) {
  const s = cmd.snapshot();
  const where = `step ${i} check at t=${clock.now()}`;
  if (want.state != null && s.state !== want.state) return `${where}: state is ${s.state}, expected ${want.state}`;
  for (const [k, v] of Object.entries(table(want, "health"))) {
    const got = Object.hasOwn(HEALTH_KEYS, k) ? s.health[HEALTH_KEYS[k]] : undefined;
    if (v != null && got !== count(v)) return `${where}: health.${k} is ${got}, expected ${v}`;
  }
  for (const [k, v] of Object.entries(table(want, "rolling"))) if (v != null && s.rolling[k] !== count(v)) return `${where}: rolling.${k} is ${s.rolling[k]}, expected ${v}`;
  for (const [k, js] of Object.entries(COUNT_KEYS)) {
    if (want[k] != null && s[js] !== count(want[k])) return `${where}: ${k} is ${s[js]}, expected ${want[k]}`;
  }
  // §17: the budget may be negative (magnitude at most 2^53 - 1).
  const b = want.budget;
  const budget = typeof b === "number" && Number.isInteger(b) && Math.abs(b) <= Number.MAX_SAFE_INTEGER ? b : NaN;
  if (b != null && s.budget !== budget) return `${where}: budget is ${s.budget}, expected ${b}`;
  return null;
}

let serial = 0;

async function replay(sc) {
  if (!isObject(sc)) throw new ScenarioError("a scenario must be a JSON object");
  const clock = new h.VirtualClock();
  const config = opt(sc, "config", {});
  if (!isObject(config)) throw new ScenarioError("config must be a JSON object");
  const steps = opt(sc, "steps", []);
  if (!Array.isArray(steps)) throw new ScenarioError("steps must be an array");
  if (opt(sc, "expect_config_error") !== undefined) {
    const want = jsKey(sc.expect_config_error);
    try {
      new h.Command(() => 0, undefined, { clock, ...options(config) });
    } catch (e) {
      if (!(e instanceof h.InvalidConfigError)) return `threw ${e}, expected InvalidConfigError`;
      return e.key === want ? null : `config error names ${JSON.stringify(e.key)}, expected ${JSON.stringify(want)}`;
    }
    return `config was accepted, expected invalid_config naming ${JSON.stringify(want)}`;
  }
  const name = `conformance-${++serial}`;
  const cmd = new h.Command(() => 0, undefined, { name, clock, ...options(config) });
  cmd.on("event", (event) => als.getStore()?.events.push(event));
  const calls = [];
  try {
    for (const [i, step] of steps.entries()) {
      if (!isObject(step) || typeof step.op !== "string") throw new ScenarioError(`step ${i}: missing op`);
      if (step.op === "call") {
        if (!("run" in step)) throw new ScenarioError(`step ${i}: call without run`);
        const run = makeRuns(clock, step.run);
        const fallback = makeFallback(clock, step.fallback);
        const repeat = uint(opt(step, "repeat", 1), "repeat");
        const cancelAfter = opt(step, "cancel_after_ms") === undefined ? undefined : uint(step.cancel_after_ms, "cancel_after_ms");
        const expect = opt(step, "expect") === undefined ? undefined : readExpect(step.expect);
        for (let k = 0; k < repeat; k++) {
          const call = { label: `step ${i} call ${k + 1}`, expect, events: [], runStarts: [], settled: false, settledAt: -1, diff: null };
          calls.push(call);
          // One Command per call (the same named circuit): its run counts this call's invocations.
          const command = new h.Command(run(call), fallback, { name, clock, withContext: true });
          als.run(call, () => {
            let signal;
            if (cancelAfter !== undefined) {
              // §18.2: the cancel timer is armed at the very start of the call, before anything the call arms.
              const ac = new AbortController();
              clock.arm(clock.now() + cancelAfter, () => ac.abort());
              signal = ac.signal;
            }
            const settle = (result, error) => {
              call.settled = true;
              call.settledAt = clock.now();
              call.events = call.events.slice();
              call.diff = compare(call, result, error);
              // Events recorded after settling (a fallback outliving a cancellation) are not the call's.
              call.events = [];
            };
            (signal === undefined ? command.execute() : command.executeWith({ signal })).then(
              (v) => settle(v === RUN ? "run" : "fallback", undefined),
              (e) => settle("error", kindOf(e)),
            );
          });
          await clock.advance(0);
        }
      } else if (step.op === "advance") {
        await clock.advance(uint(step.ms, "advance.ms"));
      } else if (step.op === "check") {
        const d = check(i, clock, cmd, step);
        if (d) return d;
      } else if (step.op === "configure") {
        if (!isObject(step.config)) throw new ScenarioError(`step ${i}: configure needs a config object`);
        cmd.configure(options(step.config));
      } else {
        return `step ${i}: unknown op ${JSON.stringify(step.op)}`;
      }
      const bad = calls.find((c) => c.diff);
      if (bad) return `${bad.label}: ${bad.diff}`;
    }
    const open = calls.find((c) => c.expect !== undefined && !c.settled);
    return open ? `${open.label} never settled` : null;
  } finally {
    h.removeCommand(name);
  }
}

function collect(p) {
  if (statSync(p).isDirectory()) return readdirSync(p).sort().flatMap((e) => collect(join(p, e)));
  return p.endsWith(".json") ? [p] : [];
}

let passed = 0;
let failed = 0;
for (const file of paths.flatMap(collect)) {
  let sc = { name: "(unreadable)" };
  let diff;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8"));
    if (isObject(parsed)) sc = parsed;
    diff = await replay(parsed);
  } catch (e) {
    diff = `runner error: ${e?.stack ?? e}`;
  }
  if (diff === null) {
    passed++;
    console.log(`ok   ${file}: ${sc.name}`);
  } else {
    failed++;
    console.log(`FAIL ${file}: ${sc.name}: ${diff}`);
  }
}
console.log(`js: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
