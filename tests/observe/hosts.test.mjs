// The same scenario (scenario/README.md: the same commands, the same
// virtual-clock inputs) through the public API of Rust, C, Node and
// Python: the four Prometheus expositions are the same bytes, and so are
// the four stream ticks but for `currentTime`. The core renders, the
// bindings only hand the bytes over; this is what shows it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { HERE, PYTHON, ROOT } from "./harness.mjs";

const SCENARIO = path.join(HERE, "scenario");
const PROGRAMS = {
  rust: [path.join(ROOT, "target/debug/examples/observe_scenario"), []],
  c: [path.join(ROOT, "target/observe/scenario-c"), []],
  node: [process.execPath, [path.join(SCENARIO, "scenario.mjs"), path.join(ROOT, "target/npm/hystrix")]],
  python: [PYTHON, [path.join(SCENARIO, "scenario.py")]],
};

/** A program's output split into { prometheus, frames (JSON objects), text }. */
function run(lang) {
  const [cmd, args] = PROGRAMS[lang];
  if (!existsSync(cmd)) throw new Error(`${cmd} is missing: tests/observe/scenario/build.sh builds it`);
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, `${lang}: exit ${r.status}: ${r.stderr}`);
  const [prometheus, stream, ...rest] = r.stdout.split("#--stream--\n");
  assert.equal(rest.length, 0, `${lang}: one separator`);
  assert.ok(stream.endsWith("\n\n"), `${lang}: the tick ends a frame`);
  const frames = stream
    .split("\n\n")
    .filter(Boolean)
    .map((f) => {
      assert.ok(f.startsWith("data: ") && !f.includes("\n"), `${lang}: a frame is one data: line: ${f.slice(0, 80)}`);
      return JSON.parse(f.slice("data: ".length));
    });
  return { prometheus, frames, stream };
}

test("Rust, C, Node and Python render the same scenario the same", { timeout: 60_000 }, () => {
  const out = Object.fromEntries(Object.keys(PROGRAMS).map((lang) => [lang, run(lang)]));
  const { rust } = out;
  // The scenario did what it says (so equal outputs are not equally empty).
  assert.deepEqual(rust.frames.map((f) => f.name), ["alpha", "beta"]);
  const [alpha, beta] = rust.frames;
  assert.equal(alpha.rollingCountSuccess, 2);
  assert.equal(alpha.rollingCountFailure, 1);
  assert.equal(alpha.rollingCountFallbackSuccess, 1);
  assert.equal(alpha.latencyExecute["50"], 5);
  assert.equal(beta.circuitState, "OPEN");
  assert.equal(beta.rollingCountShortCircuited, 1);
  assert.match(rust.prometheus, /^hystrix_circuitbreaker_state\{name="beta",group="beta",state="open"\} 1$/m);
  assert.match(rust.prometheus, /^hystrix_latency_seconds_sum\{name="alpha",group="alpha",kind="run"\} 0\.047$/m);
  assert.match(rust.prometheus, /^hystrix_circuitbreaker_transitions_total\{name="beta",group="beta",from="closed",to="open"\} 1$/m);
  for (const lang of ["c", "node", "python"]) {
    assert.equal(out[lang].prometheus, rust.prometheus, `${lang}: the exposition differs from Rust's`);
    const strip = (frames) => frames.map(({ currentTime, ...rest }) => rest);
    assert.deepEqual(strip(out[lang].frames), strip(rust.frames), `${lang}: a frame differs from Rust's`);
    // Field order and number formatting too: the same bytes once currentTime is set aside.
    const text = (s) => s.replace(/"currentTime":\d+/g, '"currentTime":0');
    assert.equal(text(out[lang].stream), text(rust.stream), `${lang}: the tick's bytes differ from Rust's`);
  }
});
