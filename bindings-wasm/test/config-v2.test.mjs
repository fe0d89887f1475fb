// SPEC v2 settings (§8, §8.1) as camelCase options, the v2 vocabulary
// (RateLimitedError, the v2 events), and drift checks of the glue's option
// list and the .d.ts against the core's configSchema().
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const { Command, VirtualClock, configSchema, InvalidConfigError, RateLimitedError, HystrixError, SettingsConflictError } = h;

const camel = (key) => key.replace(/_([a-z0-9])/g, (_, ch) => ch.toUpperCase());

function configError(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvalidConfigError, `not an InvalidConfigError: ${e}`);
    return e;
  }
  assert.fail("no InvalidConfigError");
}

test("configSchema lists every core key in SPEC order, each with its camelCase option", async () => {
  // The core's Config::schema_json(), written at build time (bindings-wasm/build.rs, scripts/build-npm.sh).
  const { default: text } = await import(new URL("../../target/npm/hystrix/schema.mjs", import.meta.url).href);
  const core = JSON.parse(text);
  const schema = configSchema();
  assert.equal(schema.length, core.length);
  assert.equal(schema.length, 48);
  for (const [i, entry] of schema.entries()) {
    assert.equal(entry.key, core[i].name);
    assert.equal(entry.option, camel(entry.key), `the glue maps ${entry.key} to ${entry.option}`);
    assert.deepEqual({ ...entry, option: undefined, key: undefined, name: core[i].name }, { ...core[i], option: undefined, key: undefined });
  }
  assert.deepEqual(schema.find((e) => e.option === "retryJitter").values, ["none", "full", "equal", "decorrelated"]);
  assert.equal(schema.find((e) => e.option === "concurrencyLimitMode").default, "fixed");
});

test("each option sets its own key, and no other (the glue sends keys by their place in SPEC order)", () => {
  // A named command made with one option off its default: a second
  // construction at the default conflicts on that option, with both values.
  for (const e of configSchema()) {
    const name = `config-v2-place-${e.option}-${process.pid}`;
    const candidates = { bool: [!e.default], name: e.values, int: [e.min, e.default * 2, e.default + 1, e.max] }[e.type];
    let value;
    for (const v of candidates) {
      if (v === e.default) continue;
      try {
        new Command(() => 1, null, { [e.option]: v }).dispose();
        value = v;
        break;
      } catch (err) {
        // Refused by a rule across keys (rollingWindowMs 1 with 10 buckets): the next one.
        if (!(err instanceof InvalidConfigError)) throw err;
      }
    }
    assert.notEqual(value, undefined, `no valid value off ${e.option}'s default`);
    const made = new Command(() => 1, null, { name, [e.option]: value });
    try {
      new Command(() => 1, null, { name, [e.option]: e.default });
      assert.fail(`${e.option}=${JSON.stringify(value)} did not set ${e.key}`);
    } catch (err) {
      assert.ok(err instanceof SettingsConflictError, `${e.option}: ${err}`);
      assert.deepEqual([err.key, err.existing, err.given], [e.option, JSON.stringify(value), JSON.stringify(e.default)]);
    }
    // Every other option is still at its default.
    const others = Object.fromEntries(configSchema().filter((o) => o !== e).map((o) => [o.option, o.default]));
    new Command(() => 1, null, { name, ...others, [e.option]: value });
    made.dispose();
  }
});

test("every option is accepted at its default and at its bounds", () => {
  for (const e of configSchema()) {
    new Command(() => 1, null, { [e.option]: e.default });
    if (e.type === "bool") new Command(() => 1, null, { [e.option]: !e.default });
    if (e.type === "name") for (const v of e.values) new Command(() => 1, null, { [e.option]: v });
    if (e.type === "int" && e.min > 0) {
      const err = configError(() => new Command(() => 1, null, { [e.option]: e.min - 1 }));
      assert.equal(err.key, e.option);
    }
    if (e.type === "int") {
      const err = configError(() => new Command(() => 1, null, { [e.option]: e.max + 1 }));
      assert.equal(err.key, e.option);
      assert.match(err.message, new RegExp(`^invalid config: ${e.option} must be an integer from ${e.min} to ${e.max}, got`));
    }
  }
});

test("the .d.ts declares every option with its type", () => {
  const dts = readFileSync(new URL("../js/index.d.ts", import.meta.url), "utf8");
  const options = dts.slice(dts.indexOf("export interface CommandOptions"), dts.indexOf("export type CommandSettings"));
  for (const e of configSchema()) {
    const type = { bool: "boolean", int: "number" }[e.type];
    const m = new RegExp(`\\n  ${e.option}\\?: ([A-Za-z]+);`).exec(options);
    assert.ok(m, `CommandOptions lacks ${e.option}`);
    if (type) assert.equal(m[1], type, e.option);
    else {
      const alias = new RegExp(`export type ${m[1]} = ([^;]+);`).exec(dts);
      assert.ok(alias, `no type ${m[1]}`);
      assert.deepEqual(alias[1].split("|").map((s) => JSON.parse(s.trim())), e.values, e.option);
    }
  }
});

test("named options take exactly their lower-case names; errors name the camelCase option", () => {
  const cmd = new Command(() => 1, null, { retryJitter: "equal", concurrencyLimitMode: "gradient2", retryMaxAttempts: 3 });
  cmd.configure({ retryJitter: "none", concurrencyLimitMode: "aimd", hedgeMaxAttempts: 1 });
  let e = configError(() => new Command(() => 1, null, { retryJitter: "FULL" }));
  assert.equal(e.key, "retryJitter");
  assert.equal(e.message, 'invalid config: retryJitter must be one of "none", "full", "equal" or "decorrelated", got "FULL"');
  e = configError(() => new Command(() => 1, null, { concurrencyLimitMode: 2 }));
  assert.equal(e.key, "concurrencyLimitMode");
  assert.match(e.message, /, got 2$/);
  e = configError(() => new Command(() => 1, null, { concurrencyLimitMode: () => 1 }));
  assert.equal(e.key, "concurrencyLimitMode");
  e = configError(() => new Command(() => 1, null, { hedgeOnFailure: "yes" }));
  assert.equal(e.key, "hedgeOnFailure");
  e = configError(() => new Command(() => 1, null, { gradient2SmoothingPermille: 1001 }));
  assert.equal(e.key, "gradient2SmoothingPermille");
  assert.match(e.message, /^invalid config: gradient2SmoothingPermille must be an integer from 0 to 1000, got 1001$/);
  e = configError(() => new Command(() => 1, null, { retry_max_attempts: 2 }));
  assert.equal(e.key, "retry_max_attempts");
});

test("cross-key rules name the option SPEC §8.1 names, in camelCase", () => {
  const named = (options) => configError(() => new Command(() => 1, null, options));
  let e = named({ retryBudgetWindowBuckets: 3 });
  assert.equal(e.key, "retryBudgetWindowMs");
  assert.match(e.message, /retryBudgetWindowBuckets/);
  e = named({ retryMaxAttempts: 2, hedgeMaxAttempts: 2 });
  assert.equal(e.key, "hedgeMaxAttempts");
  assert.match(e.message, /retryMaxAttempts/);
  assert.equal(named({ adaptiveMaxLimit: 10 }).key, "adaptiveMaxLimit");
  assert.equal(named({ adaptiveInitialLimit: 201 }).key, "adaptiveInitialLimit");
  // configure() checks against the settings in force and changes nothing on error.
  const cmd = new Command(() => 1, null, { retryMaxAttempts: 2 });
  e = configError(() => cmd.configure({ hedgeMaxAttempts: 2 }));
  assert.equal(e.key, "hedgeMaxAttempts");
  cmd.configure({ hedgeMaxAttempts: 2, retryMaxAttempts: 1 });
});

test("v2 settings are accepted and change nothing yet; snapshots count every v2 event", async () => {
  const clock = new VirtualClock();
  const cmd = new Command(async () => "ok", null, { clock, randomSeed: 7, deadlineMs: 100, rateLimitForPeriod: 5 });
  assert.equal(await cmd.execute(), "ok");
  const s = cmd.snapshot();
  for (const name of ["CANCELLED", "RATE_LIMITED", "RETRY", "HEDGE", "RETRY_BUDGET_EXHAUSTED"]) {
    assert.equal(s.rolling[name], 0, name);
    assert.equal(s.cumulative[name], 0, name);
  }
  assert.equal(s.rolling.SUCCESS, 1);
});

test("RateLimitedError carries code 10 and kind rate_limited", () => {
  const e = new RateLimitedError();
  assert.ok(e instanceof HystrixError);
  assert.equal(e.code, 10);
  assert.equal(e.kind, "rate_limited");
  assert.equal(e.name, "RateLimitedError");
});
