// The real clock (performance.now + setTimeout): timeouts fire, and pending
// timeout timers never keep the process alive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const PKG = new URL("../../target/npm/hystrix/index.node.mjs", import.meta.url);
const h = await import(PKG.href);
const { Command, TimeoutError } = h;

/** Keeps the event loop alive while awaiting timers that are unref'd by design. */
async function keepingAlive(promise) {
  const keep = setInterval(() => {}, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(keep);
  }
}

test("a 20 ms timeout on the real clock rejects with TimeoutError and aborts the run", async () => {
  let signal;
  const cmd = new Command(
    (ctx) => {
      signal = ctx.signal;
      // Never settles unless aborted.
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    },
    null,
    { timeoutMs: 20 },
  );
  const started = performance.now();
  const e = await keepingAlive(cmd.execute().then(assert.fail, (x) => x));
  const elapsed = performance.now() - started;
  assert.ok(e instanceof TimeoutError, `got ${e}`);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, e);
  // Generous bounds: not early by more than the 1 ms clock granularity, and not wildly late.
  assert.ok(elapsed >= 15, `fired after ${elapsed} ms`);
  assert.ok(elapsed < 5000, `fired after ${elapsed} ms`);
  const s = cmd.snapshot();
  assert.equal(s.cumulative.TIMEOUT, 1);
  assert.equal(s.concurrent, 0);
});

test("real-clock runs that finish in time succeed; their timers are cancelled", async () => {
  // 5 ms runs against a 30 s timeout: in time however loaded the machine is.
  const cmd = new Command((x) => new Promise((r) => setTimeout(() => r(x), 5)), null, { timeoutMs: 30_000 });
  const values = await Promise.all([1, 2, 3].map((x) => cmd.execute(x)));
  assert.deepEqual(values, [1, 2, 3]);
  assert.equal(cmd.snapshot().cumulative.SUCCESS, 3);
  assert.equal(cmd.snapshot().cumulative.TIMEOUT, 0);
});

test("a pending timeout timer does not keep the process alive", async () => {
  // A child process starts calls whose runs never settle, with a 60 s timeout,
  // and then has nothing else to do: it must exit promptly on its own.
  const script = `
    const h = await import(${JSON.stringify(PKG.href)});
    const cmd = new h.Command(() => new Promise(() => {}), null, { timeoutMs: 60000 });
    cmd.execute().catch(() => {});
    const quick = new h.Command(() => "quick", null, { timeoutMs: 30000 });
    console.log(await quick.execute(), cmd.snapshot().concurrent);
  `;
  const started = Date.now();
  const { code, stdout, killed } = await new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--input-type=module", "-e", script],
      { timeout: 20_000, cwd: fileURLToPath(new URL(".", import.meta.url)) },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, killed: err?.killed ?? false, stdout, stderr }),
    );
    void child;
  });
  const elapsed = Date.now() - started;
  assert.equal(killed, false, "the child had to be killed: a timer kept it alive");
  assert.equal(code, 0);
  assert.equal(stdout.trim(), "quick 1");
  assert.ok(elapsed < 20_000);
});

test("a deadline beyond setTimeout's 2^31 - 1 ms neither fires early nor overflows the timer", async () => {
  // In a fresh process, so this deadline is the clock's earliest one.
  const script = `
    const { Command } = await import(${JSON.stringify(PKG.href)});
    const warnings = [];
    process.on("warning", (w) => warnings.push(w.name));
    const keep = setInterval(() => {}, 1000);
    const cmd = new Command(() => new Promise((r) => setTimeout(() => r("done"), 30)), null, {
      timeoutMs: Number.MAX_SAFE_INTEGER,
    });
    const value = await cmd.execute();
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(keep);
    console.log(JSON.stringify({ value, warnings }));
  `;
  const { code, stdout } = await new Promise((resolve) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000 }, (err, stdout) =>
      resolve({ code: err ? err.code : 0, stdout }),
    );
  });
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), { value: "done", warnings: [] });
});
