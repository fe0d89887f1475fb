// Options: camelCase options <-> SPEC keys, the core's config errors as
// InvalidConfigError naming the option, the schema, snapshots in camelCase.
import { describe } from "./clocks.mjs";
import { HystrixError, InvalidConfigError } from "./errors.mjs";
import { notLoaded, slot } from "./wasm-slot.mjs";
import SCHEMA from "./schema.mjs";

/** @typedef {typeof import("./web/hystrix_wasm.js").WasmCommand} WasmCommandClass */

/**
 * camelCase option -> SPEC key: exactly the settings of index.d.ts's
 * `CommandSettings` (a missing or extra one is a type error).
 * @type {Record<keyof import("./index.js").CommandSettings, string>}
 */
const SETTINGS = {
  timeoutEnabled: "timeout_enabled",
  timeoutMs: "timeout_ms",
  maxConcurrentRequests: "max_concurrent_requests",
  fallbackEnabled: "fallback_enabled",
  fallbackMaxConcurrentRequests: "fallback_max_concurrent_requests",
  circuitBreakerEnabled: "circuit_breaker_enabled",
  requestVolumeThreshold: "request_volume_threshold",
  errorThresholdPercentage: "error_threshold_percentage",
  sleepWindowMs: "sleep_window_ms",
  halfOpenMaxCalls: "half_open_max_calls",
  forceOpen: "force_open",
  forceClosed: "force_closed",
  rollingWindowMs: "rolling_window_ms",
  rollingWindowBuckets: "rolling_window_buckets",
  healthSnapshotIntervalMs: "health_snapshot_interval_ms",
  // SPEC v2 (§8)
  randomSeed: "random_seed",
  retryMaxAttempts: "retry_max_attempts",
  retryOnTimeout: "retry_on_timeout",
  retryOnRejected: "retry_on_rejected",
  retryBaseDelayMs: "retry_base_delay_ms",
  retryMultiplierPermille: "retry_multiplier_permille",
  retryMaxDelayMs: "retry_max_delay_ms",
  retryJitter: "retry_jitter",
  deadlineMs: "deadline_ms",
  retryBudgetPercent: "retry_budget_percent",
  retryBudgetMinPerSec: "retry_budget_min_per_sec",
  retryBudgetWindowMs: "retry_budget_window_ms",
  retryBudgetWindowBuckets: "retry_budget_window_buckets",
  rateLimitForPeriod: "rate_limit_for_period",
  rateLimitPeriodMs: "rate_limit_period_ms",
  rateLimitBurst: "rate_limit_burst",
  rateLimitTimeoutMs: "rate_limit_timeout_ms",
  hedgeMaxAttempts: "hedge_max_attempts",
  hedgeDelayMs: "hedge_delay_ms",
  hedgeOnFailure: "hedge_on_failure",
  concurrencyLimitMode: "concurrency_limit_mode",
  adaptiveInitialLimit: "adaptive_initial_limit",
  adaptiveMinLimit: "adaptive_min_limit",
  adaptiveMaxLimit: "adaptive_max_limit",
  adaptiveWindowMs: "adaptive_window_ms",
  adaptiveWindowMinSamples: "adaptive_window_min_samples",
  adaptiveDropOnFailure: "adaptive_drop_on_failure",
  aimdBackoffPermille: "aimd_backoff_permille",
  aimdTimeoutMs: "aimd_timeout_ms",
  gradient2SmoothingPermille: "gradient2_smoothing_permille",
  gradient2QueueSize: "gradient2_queue_size",
  gradient2LongWindow: "gradient2_long_window",
  gradient2RttTolerancePermille: "gradient2_rtt_tolerance_permille",
};
/** The same map, looked up by any string: undefined if it is no setting. @type {Partial<Record<string, string>>} */
const KEYS = SETTINGS;
/** SPEC key -> camelCase option. @type {Partial<Record<string, string>>} */
export const CAMEL = Object.fromEntries(Object.entries(KEYS).map(([c, s]) => [s, c]));
/**
 * camelCase option -> its key's place in SPEC order, which is `SETTINGS`'s
 * order (config-v2.test.mjs: each option sets its own key and no other; a
 * key the core adds or renames fails its schema test): what the wasm takes
 * instead of the key's name. No prototype: `toString`, `constructor` or
 * `__proto__` are no options (the review: they were taken for place NaN).
 * @type {Partial<Record<string, number>>}
 */
const PLACE = Object.assign(
  Object.create(null),
  Object.fromEntries(Object.keys(KEYS).map((c, i) => [c, i])),
);
const OTHER_OPTIONS = new Set(["name", "clock", "isBadRequest"]);

/**
 * Option object -> the SPEC settings as the wasm constructor and `configure`
 * take them (it has no JSON parser and looks no key name up): `settings`,
 * two numbers per setting — its key's place in SPEC order times 4 plus its
 * kind (0 boolean, 1 number, 2 string, 3 anything else), then its value
 * (1/0, the number, or 0) — and `texts`, the strings, each followed by
 * U+0001. `size` is how many. Unknown option -> InvalidConfigError naming
 * it; `undefined` means absent. How a refused value was given is not sent:
 * `configError` words those errors from the options themselves.
 * @param {object} options
 */
export function specPatch(options) {
  let unknown;
  for (const key of Object.keys(options)) {
    if (OTHER_OPTIONS.has(key) || PLACE[key] !== undefined) continue;
    // Several unknown options: the first by code point is named, the rule
    // the core applies to SPEC keys in every other binding.
    if (unknown === undefined || codePointBefore(key, unknown)) unknown = key;
  }
  if (unknown !== undefined) {
    throw keyed(new InvalidConfigError(`invalid config: unknown option ${JSON.stringify(unknown)}`), unknown);
  }
  const settings = [];
  let texts = "";
  for (const key of Object.keys(options)) {
    if (OTHER_OPTIONS.has(key)) continue;
    const place = /** @type {number} */ (PLACE[key]) * 4; // known: checked above
    const v = /** @type {Record<string, unknown>} */ (options)[key];
    if (v === undefined) continue; // an option left undefined takes its default
    if (typeof v === "boolean") {
      settings.push(place, v ? 1 : 0);
    } else if (typeof v === "number") {
      settings.push(place + 1, v);
    } else if (typeof v === "string" && !v.includes("\u0001")) {
      settings.push(place + 2, 0);
      texts += `${v}\u0001`;
    } else {
      settings.push(place + 3, 0);
    }
  }
  return { settings: Float64Array.from(settings), texts, size: settings.length / 2 };
}

/**
 * Whether `a` sorts before `b` by code point (the order of UTF-8 bytes).
 * @param {string} a
 * @param {string} b
 */
function codePointBefore(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    // Each element is one whole code point (string iteration).
    const d = /** @type {number} */ (x[i].codePointAt(0)) - /** @type {number} */ (y[i].codePointAt(0));
    if (d !== 0) return d < 0;
  }
  return x.length < y.length;
}

/**
 * `error` with `.key` set to the option it names.
 * @template {Error & { key?: string }} E
 * @param {E} error
 * @param {string} key
 * @returns {E}
 */
export function keyed(error, key) {
  error.key = key;
  return error;
}

/** Integer option -> "must be an integer from A to B", asked of the core once. @type {Map<string, string | null>} */
const integerRules = new Map();

/**
 * The core's range rule for the integer option `camel`: it is asked to
 * accept 2^53, which is above every key's maximum, and its refusal states
 * the rule. So the glue never restates the core's ranges.
 * @param {string} camel
 */
function integerRule(camel) {
  let rule = integerRules.get(camel);
  if (rule === undefined) {
    rule = null;
    try {
      // Only reached from a command's config error: the wasm is loaded.
      const place = /** @type {number} */ (PLACE[camel]); // an integer option's
      new (/** @type {WasmCommandClass} */ (slot.WasmCommand))("", Float64Array.of(place * 4 + 1, 2 ** 53), "").free();
    } catch (e) {
      const m = typeof e === "string" ? /(must be an integer from \d+ to \d+)/.exec(e) : null;
      if (m !== null) rule = m[1];
    }
    integerRules.set(camel, rule);
  }
  return rule;
}

/**
 * Turns the wasm side's "key\u0001message" into an InvalidConfigError
 * naming the camelCase option. A value of the wrong type or out of range
 * is described as the caller gave it (JSON turns NaN into null), with the
 * key's whole rule, so -1 and 0 read alike.
 * @param {unknown} e what the wasm side threw
 * @param {object} [options] the options given
 * @returns {Error}
 */
export function configError(e, options) {
  if (typeof e === "string" && e.includes("\u0001")) {
    const [key, message] = e.split("\u0001");
    const camel = CAMEL[key] ?? key;
    let text = message.replace(/[a-z][a-z0-9]*(?:_[a-z0-9]+)+/g, (k) => CAMEL[k] ?? k);
    if (options !== undefined && Object.hasOwn(options, camel)) {
      const got = describe(/** @type {Record<string, unknown>} */ (options)[camel]);
      if (/ must be a boolean, got /.test(text)) {
        text = `invalid config: ${camel} must be a boolean (true or false), got ${got}`;
      } else if (/ must be (a non-negative integer|an integer from)/.test(text)) {
        const rule = integerRule(camel) ?? "must be a non-negative integer";
        text = `invalid config: ${camel} ${rule}, got ${got}`;
      } else if (/ must be one of /.test(text)) {
        text = text.replace(/, got .*$/s, `, got ${got}`);
      }
    }
    return keyed(new InvalidConfigError(text), camel);
  }
  return e instanceof Error ? e : new HystrixError(String(e));
}

/**
 * Whether `clock` can drive a command: `now()` and `arm(due, fn)` (our own clocks also have `armTimer`).
 * @param {any} clock anything a caller passed
 * @returns {clock is import("./index.js").Clock}
 */
export function isClock(clock) {
  return (
    clock !== null &&
    (typeof clock === "object" || typeof clock === "function") &&
    typeof clock.now === "function" &&
    (typeof clock.arm === "function" || typeof clock.armTimer === "function")
  );
}

/**
 * Every setting in SPEC order, as the core describes it: `option` (the
 * camelCase option), `key` (the SPEC name), `type` ("bool", "int" or
 * "name"), `default`, and `min`/`max` (integers) or `values` (named
 * settings, such as `retryJitter`). Before the wasm is loaded (`hystrix-resilience/init`
 * without `await init()`), a HystrixError saying so.
 * @returns {import("./index.js").ConfigSchemaEntry[]}
 */
export function configSchema() {
  // The schema is JS (schema.mjs), but the rule stays: nothing of the core before it is loaded.
  if (slot.WasmCommand === null) throw notLoaded("calling configSchema()");
  /** @type {{ name: string }[]} */
  const entries = JSON.parse(SCHEMA);
  return entries.map(({ name, ...rest }) => /** @type {import("./index.js").ConfigSchemaEntry} */ ({ option: CAMEL[name] ?? null, key: name, ...rest }));
}
