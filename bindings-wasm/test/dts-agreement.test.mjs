// index.d.ts against the running glue, where tsc --checkJs cannot see
// (make js-typecheck): the error classes get `code` and `kind` from their
// prototypes, and the snapshot's event names come from the wasm, so their
// literal types in index.d.ts are compared with the values here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const h = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url).href);
const dts = readFileSync(new URL("../js/index.d.ts", import.meta.url), "utf8");

/** The string literals of `export type NAME = "a" | "b" ...;` in index.d.ts. */
function unionOf(name) {
  const m = new RegExp(`export type ${name} =([^;]+);`).exec(dts);
  assert.ok(m, `index.d.ts has no type ${name}`);
  return m[1].split("|").map((s) => s.trim()).filter((s) => s !== "").map((s) => JSON.parse(s));
}

test("every error class's code and kind are the literals index.d.ts declares", () => {
  const declared = [...dts.matchAll(/export class (\w+) extends HystrixError \{\n(.*?)\n\}/gs)];
  assert.ok(declared.length >= 10, `found ${declared.length} error classes in index.d.ts`);
  for (const [, name, body] of declared) {
    const code = /readonly code: (\d+);/.exec(body);
    const kind = /readonly kind: ("[a-z_]+");/.exec(body);
    assert.ok(code && kind, `${name}: no code or kind literal in index.d.ts`);
    const Cls = h[name];
    assert.equal(typeof Cls, "function", `${name} is declared but not exported`);
    const e = new Cls();
    assert.deepEqual([e.code, e.kind, e.name], [Number(code[1]), JSON.parse(kind[1]), name], name);
    assert.ok(e instanceof h.HystrixError, `${name} extends HystrixError`);
  }
  const base = new h.HystrixError("x");
  assert.deepEqual([base.code, base.kind], [undefined, undefined], "HystrixError: code and kind undefined");
});

test("a snapshot's counts are keyed by exactly index.d.ts's EventType, its state a CircuitState", () => {
  const cmd = new h.Command(() => 1);
  try {
    const s = cmd.snapshot();
    const events = unionOf("EventType");
    assert.deepEqual(Object.keys(s.rolling).sort(), [...events].sort());
    assert.deepEqual(Object.keys(s.cumulative).sort(), [...events].sort());
    assert.ok(unionOf("CircuitState").includes(s.state), s.state);
    const percentiles = /export interface Percentiles \{([^}]*)\}/.exec(dts)[1].match(/\w+(?=:)/g);
    assert.deepEqual(Object.keys(s.latencyRun), percentiles);
    const snapshot = /export interface Snapshot \{\n(.*?)\n\}/s.exec(dts)[1];
    const keys = [...snapshot.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
    assert.deepEqual(Object.keys(s), keys);
  } finally {
    cmd.dispose();
  }
});
