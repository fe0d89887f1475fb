// Regressions for problems a code review found (each reproduced first).
import { test } from "node:test";
import assert from "node:assert/strict";

const { Command, VirtualClock } = await import(new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url));

test("an isBadRequest that throws makes the error a failure; the call settles and frees its permit", async () => {
  const clock = new VirtualClock();
  const isBadRequest = () => {
    throw new Error("predicate bug");
  };
  const cmd = new Command(async () => { throw new Error("boom"); }, () => "fb", { clock, maxConcurrentRequests: 1, isBadRequest });
  assert.equal(await cmd.execute(), "fb");
  const s = cmd.snapshot();
  assert.equal(s.concurrent, 0);
  assert.equal(s.cumulative.FAILURE, 1);
  const sync = new Command(() => { throw new Error("sync boom"); }, undefined, { clock, isBadRequest });
  const p = sync.execute();
  assert.ok(p instanceof Promise, "execute never throws synchronously");
  await assert.rejects(p, /sync boom/);
  assert.equal(sync.snapshot().concurrent, 0);
});
